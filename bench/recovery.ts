// Recovery benchmark (run by bench/recovery.sh): end-to-end time from an empty data
// volume to a server accepting connections, through the postgres container's
// rendered bootstrap entrypoint (pgbackrest restore + private WAL replay + promote +
// clean shutdown + hand-over) and the server's start, for a pgbench database
// (default scale 50) with a full backup plus WAL written after it (a pgbench run),
// next to the full-backup time. RUNS times (default 3); median and spread.
// Prints numbers; asserts nothing.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderPostgresEntrypoint } from "../components/server/entrypoint";
import { parseRestoreTarget } from "../components/lib/restore-target";
import { freePort, pgBin, pgBinDir, run, runOk, tempDir, writeFile } from "../test/integration/harness";
import { archiveCurrentWal, startBackupFixture } from "../test/integration/backup/fixture";

const SCALE = Number(process.env.SCALE ?? 50);
const RUNS = Number(process.env.RUNS ?? 3);
const TX_SECONDS = Number(process.env.TX_SECONDS ?? 20);

const secs = (ms: number) => (ms / 1000).toFixed(1);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function ok(p: Promise<{ code: number; stdout: string; stderr: string }>, what: string): Promise<string> {
  const r = await p;
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

async function main(): Promise<void> {
  const cpu = os.cpus();
  console.log(`machine: ${cpu.length} cores (${cpu[0]?.model ?? "?"}), load ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}; pgbench scale ${SCALE}; ${RUNS} runs`);
  const f = await startBackupFixture({ processMax: 2, archiveTimeout: 60 });
  const work = tempDir("bench-recovery");
  try {
    const pgenv = { PGPASSWORD: f.pg.superPassword };
    const conn = ["-h", "127.0.0.1", "-p", String(f.pg.port), "-U", "postgres"];
    process.stderr.write(`pgbench -i -s ${SCALE} ...\n`);
    await runOk(pgBin("pgbench"), ["-i", "-q", "-s", String(SCALE), ...conn, "postgres"], { env: pgenv, timeoutMs: 1_800_000 });
    await ok(f.script(["init"]), "init");
    await f.pg.sql("checkpoint");
    const backups: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = Date.now();
      await ok(f.pgbackrest(["--type=full", "backup"]), "full backup");
      backups.push(Date.now() - t);
    }
    process.stderr.write(`pgbench -T ${TX_SECONDS}: WAL after the last backup, to replay ...\n`);
    await runOk(pgBin("pgbench"), ["-T", String(TX_SECONDS), "-c", "2", ...conn, "postgres"], { env: pgenv, timeoutMs: 600_000 });
    await archiveCurrentWal(f.pg, 300_000);
    const walMb = Number((await (async () => {
      const c = await f.pg.connect();
      try {
        return (await c.query("select pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0') / 1048576 as mb")).rows[0].mb;
      } finally {
        await c.end();
      }
    })()));
    await f.pg.stop();
    const dataDir = f.pg.dataDir;
    writeFile(path.join(work, "next.sh"), "#!/usr/bin/env bash\nexit 0\n", 0o755);
    writeFile(path.join(work, "password"), f.pg.superPassword, 0o600);
    const recoveries: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      fs.rmSync(dataDir, { recursive: true, force: true });
      fs.rmSync(`${dataDir}.hlpg-bootstrap`, { force: true });
      const script = path.join(work, `entrypoint-${i}.sh`);
      writeFile(script, renderPostgresEntrypoint({
        configFile: path.join(f.pg.confDir, "postgresql.conf"), next: path.join(work, "next.sh"),
        bootstrap: { pgbackrestConf: f.secretsConfFile, stanza: f.stanza, target: parseRestoreTarget("latest")!, privatePort: await freePort() },
      }), 0o755);
      process.stderr.write(`recovery ${i + 1}/${RUNS} ...\n`);
      const t = Date.now();
      await ok(run("bash", [script, "postgres"], {
        env: { PATH: `${pgBinDir()}:${process.env.PATH ?? ""}`, PGDATA: dataDir, POSTGRES_PASSWORD_FILE: path.join(work, "password"), TZ: "UTC" }, timeoutMs: 3_600_000,
      }), "bootstrap entrypoint");
      const pg = await f.startPostgres(dataDir); // returns once it accepts connections
      recoveries.push(Date.now() - t);
      await pg.stop();
    }
    const spread = (xs: number[]) => `${secs(Math.min(...xs))}–${secs(Math.max(...xs))}`;
    console.log(`\nfull backup (pgbackrest --type=full, zst, process-max 2, s3rver over HTTPS): median ${secs(median(backups))} s, spread ${spread(backups)} s (runs: ${backups.map(secs).join(", ")})`);
    console.log(`recovery, empty volume -> accepting server (bootstrap target latest, ~${walMb.toFixed(0)} MB WAL written in total): median ${secs(median(recoveries))} s, spread ${spread(recoveries)} s (runs: ${recoveries.map(secs).join(", ")})`);
  } finally {
    await f.destroy().catch(() => undefined);
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(0);
});
