// Backup benchmark (run by bench/backup.sh): for a pgbench database at each
// scale, a full pgBackRest backup per compression type through the rendered
// config into an encrypted S3 repository on loopback (s3rver over HTTPS, the
// integration tests' endpoint), its size in the repository, and the time to
// restore it; then the recovery point objective the rendered archive_timeout
// gives on a quiet database. Prints tables; asserts nothing.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Compression } from "../components/config";
import { chownTree, pgBin, run, runOk, tempDir } from "../test/integration/harness";
import { BackupFixture, archiveCurrentWal, startBackupFixture } from "../test/integration/backup/fixture";

const SCALES = (process.env.SCALES ?? "10 50").split(/\s+/).filter(Boolean).map(Number);
const COMPRESSIONS = (process.env.COMPRESSIONS ?? "lz4 zst gz").split(/\s+/).filter(Boolean) as Compression[];
const PROCESS_MAX = Number(process.env.PROCESS_MAX ?? 2);
const ARCHIVE_TIMEOUT = Number(process.env.ARCHIVE_TIMEOUT ?? 60);
const RPO_SAMPLES = Number(process.env.RPO_SAMPLES ?? 2);

interface BackupJson {
  label: string;
  info: { size: number; repository: { delta: number; size: number } };
}

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
const secs = (ms: number) => (ms / 1000).toFixed(1);

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = Date.now();
  const r = await fn();
  return [r, Date.now() - t];
}

async function ok(p: Promise<{ code: number; stdout: string; stderr: string }>, what: string): Promise<string> {
  const r = await p;
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

async function benchScale(scale: number): Promise<string[]> {
  const rows: string[] = [];
  const f = await startBackupFixture({ processMax: PROCESS_MAX, retentionFull: 10, archiveTimeout: ARCHIVE_TIMEOUT });
  try {
    process.stderr.write(`scale ${scale}: pgbench -i ...\n`);
    await runOk(pgBin("pgbench"), ["-i", "-q", "-s", String(scale), "-h", "127.0.0.1", "-p", String(f.pg.port), "-U", "postgres", "postgres"], {
      env: { PGPASSWORD: f.pg.superPassword }, timeoutMs: 1_800_000,
    });
    await ok(f.script(["init"]), "init");
    // flush pgbench's dirty pages now, or the first backup's start-fast checkpoint pays for them
    await f.pg.sql("checkpoint");
    for (const compression of COMPRESSIONS) {
      f.writeConf(compression);
      process.stderr.write(`scale ${scale}: full backup, compress-type=${compression} ...\n`);
      const [, backupMs] = await timed(() => ok(f.pgbackrest(["--type=full", "backup"]), "backup"));
      const info = JSON.parse(await ok(f.pgbackrest(["--output=json", "info"]), "info")) as { backup: BackupJson[] }[];
      const last = info[0].backup[info[0].backup.length - 1];
      const dir = tempDir("bench-restore");
      const dataDir = path.join(dir, "data");
      fs.mkdirSync(dataDir, { mode: 0o700 });
      chownTree(dataDir);
      process.stderr.write(`scale ${scale}: restore ${last.label} ...\n`);
      const [, restoreMs] = await timed(() => ok(f.pgbackrest([`--set=${last.label}`, `--pg1-path=${dataDir}`, "--type=immediate", "restore"]), "restore"));
      fs.rmSync(dir, { recursive: true, force: true });
      rows.push([
        String(scale).padStart(5), mb(last.info.size).padStart(9), compression.padEnd(4), secs(backupMs).padStart(8),
        mb(last.info.repository.size).padStart(10), (last.info.size / last.info.repository.size).toFixed(1).padStart(6), secs(restoreMs).padStart(9),
      ].join("  "));
    }
  } finally {
    await f.destroy();
  }
  return rows;
}

/** Commit on a quiet server; how long until the WAL holding it is in the repository. */
async function rpo(): Promise<{ samples: number[]; switchMs: number }> {
  const f: BackupFixture = await startBackupFixture({ archiveTimeout: ARCHIVE_TIMEOUT });
  try {
    await ok(f.script(["init"]), "init");
    await f.pg.sql("create table rpo (id serial primary key, at timestamptz default clock_timestamp())");
    const [, switchMs] = await timed(() => archiveCurrentWal(f.pg));
    const samples: number[] = [];
    const c = await f.pg.connect();
    try {
      for (let i = 0; i < RPO_SAMPLES; i++) {
        // start each sample just after a segment switch: the worst case for a quiet database
        await archiveCurrentWal(f.pg);
        const { rows } = await c.query("insert into rpo default values returning pg_walfile_name(pg_current_wal_insert_lsn()) as wal, extract(epoch from clock_timestamp()) as t");
        const wal = rows[0].wal as string;
        const committed = Number(rows[0].t);
        for (;;) {
          const s = await c.query("select last_archived_wal, extract(epoch from last_archived_time) as at from pg_stat_archiver");
          if (s.rows[0].last_archived_wal !== null && s.rows[0].last_archived_wal >= wal) {
            samples.push(Number(s.rows[0].at) - committed);
            break;
          }
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    } finally {
      await c.end();
    }
    return { samples, switchMs };
  } finally {
    await f.destroy();
  }
}

async function main(): Promise<void> {
  const version = (await run("/usr/bin/pgbackrest", ["version"])).stdout.trim();
  const cpu = os.cpus();
  console.log(`machine: ${cpu.length} cores (${cpu[0]?.model ?? "?"}), ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM; ${version}; PostgreSQL 15; process-max=${PROCESS_MAX}`);
  console.log("repository: s3rver 3.7 over HTTPS on loopback, repo1-cipher-type=aes-256-cbc, repo1-bundle=y\n");
  console.log("scale  db size MB  comp  backup s  repo MB     ratio  restore s");
  for (const scale of SCALES) {
    for (const row of await benchScale(scale)) console.log(row);
  }
  process.stderr.write(`RPO: ${RPO_SAMPLES} samples at archive_timeout=${ARCHIVE_TIMEOUT}s ...\n`);
  const r = await rpo();
  console.log(`\nRPO with archive_timeout=${ARCHIVE_TIMEOUT}s on a quiet database (commit -> WAL in the repository):`);
  console.log(`  samples: ${r.samples.map((s) => `${s.toFixed(1)} s`).join(", ")}; max ${Math.max(...r.samples).toFixed(1)} s`);
  console.log(`  push latency after a forced switch (pg_switch_wal -> archived): ${secs(r.switchMs)} s`);
  console.log(`  bound: archive_timeout + push latency ~ ${(ARCHIVE_TIMEOUT + r.switchMs / 1000).toFixed(1)} s; a busy database fills 16 MB segments sooner`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(0); // a benchmark reports; it does not gate
  },
);
