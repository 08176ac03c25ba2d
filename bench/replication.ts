// Replication-lag benchmark (run by bench/replication.sh): the standby's replay lag
// under a pgbench write load, with the program's rendered files on two PostgreSQL 15
// clusters on loopback (the same set-up as test/integration/replica/standby.test.ts).
// Prints numbers; asserts nothing.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderPostgresEntrypoint } from "../components/server/entrypoint";
import { renderPgpass } from "../components/server/standby-conf";
import { REPLICATOR, STANDBY_APPLICATION_NAME, defaultSlotName, standbyConf } from "../components/replica/model";
import { pgBinDir, runOk, startPostgres, tempDir, waitFor, writeFile } from "../test/integration/harness";

const SCALE = Number(process.env.SCALE ?? 10);
const RUNS = Number(process.env.RUNS ?? 3);
const TX_SECONDS = Number(process.env.TX_SECONDS ?? 20);
const CLIENTS = Number(process.env.CLIENTS ?? 4);
const HOST = "127.0.0.1";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (s: number) => `${(s * 1000).toFixed(1)} ms`;

async function oneRun(): Promise<{ medianLag: number; maxLag: number; maxBytes: number; tps: string }> {
  const work = tempDir("bench-repl");
  execFileSync("/usr/bin/openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=postgres",
    "-keyout", path.join(work, "server.key"), "-out", path.join(work, "server.crt")], { stdio: "ignore" });
  const tlsFiles = { "tls/server.crt": fs.readFileSync(path.join(work, "server.crt"), "utf8"), "tls/server.key": fs.readFileSync(path.join(work, "server.key"), "utf8") };
  const tlsConf = { tls: { certFile: "tls/server.crt", keyFile: "tls/server.key" } };
  const hbaReplication = { user: REPLICATOR.name, address: HOST };
  const primary = await startPostgres({ extraFiles: tlsFiles, conf: tlsConf, hbaReplication });
  let standby: Awaited<ReturnType<typeof startPostgres>> | undefined;
  try {
    const password = `bench-${Math.random().toString(36).slice(2)}`;
    await primary.sql(`CREATE ROLE ${REPLICATOR.name} WITH LOGIN REPLICATION NOINHERIT CONNECTION LIMIT ${REPLICATOR.connectionLimit} PASSWORD '${password}'`);
    const slot = defaultSlotName("bench");
    await primary.sql(`SELECT FROM pg_create_physical_replication_slot('${slot}')`);
    const pgEnv = { PGPASSWORD: primary.superPassword };
    const target = ["-h", HOST, "-p", String(primary.port), "-U", "postgres", "postgres"];
    await runOk(path.join(pgBinDir(), "pgbench"), ["-i", "-s", String(SCALE), "-q", ...target], { env: pgEnv, timeoutMs: 600_000 });

    const passfile = path.join(work, "replication.pgpass");
    writeFile(passfile, renderPgpass([{ host: HOST, port: primary.port, database: "replication", user: REPLICATOR.name, password }]), 0o600);
    const conf = standbyConf({ primary: { host: HOST, port: primary.port }, slot, sslmode: "require", passfile });
    const pgdata = path.join(tempDir("bench-standby"), "pgdata");
    writeFile(path.join(work, "next.sh"), "#!/usr/bin/env bash\n", 0o755);
    writeFile(path.join(work, "pw"), primary.superPassword, 0o600);
    writeFile(path.join(work, "entrypoint.sh"), renderPostgresEntrypoint({ configFile: path.join(work, "unused.conf"), next: path.join(work, "next.sh"), standby: { from: "basebackup", conf } }), 0o755);
    await runOk("bash", [path.join(work, "entrypoint.sh"), "postgres"], { env: { PATH: `${pgBinDir()}:${process.env.PATH ?? ""}`, PGDATA: pgdata, POSTGRES_PASSWORD_FILE: path.join(work, "pw") }, timeoutMs: 600_000 });
    standby = await startPostgres({ existingDataDir: pgdata, superPassword: primary.superPassword, extraFiles: tlsFiles, hbaReplication, conf: { ...tlsConf, standby: conf } });
    const c = await primary.connect();
    await waitFor("streaming", async () => (await c.query("select 1 from pg_stat_replication where state = 'streaming'")).rowCount === 1, 60_000);

    const lags: number[] = [];
    const bytes: number[] = [];
    let done = false;
    const bench = runOk(path.join(pgBinDir(), "pgbench"), ["-c", String(CLIENTS), "-j", "2", "-T", String(TX_SECONDS), "-N", ...target], { env: pgEnv, timeoutMs: (TX_SECONDS + 120) * 1000 })
      .finally(() => (done = true));
    while (!done) {
      const { rows } = await c.query(
        "select coalesce(extract(epoch from replay_lag), 0)::float8 as lag, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float8 as behind from pg_stat_replication where application_name = $1",
        [STANDBY_APPLICATION_NAME]);
      if (rows[0]) {
        lags.push(Number(rows[0].lag));
        bytes.push(Number(rows[0].behind));
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const out = await bench;
    await c.end();
    const tps = /tps = ([\d.]+)/.exec(out.stdout)?.[1] ?? "?";
    return { medianLag: median(lags), maxLag: Math.max(...lags), maxBytes: Math.max(...bytes), tps };
  } finally {
    await standby?.destroy();
    await primary.destroy();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(`replication lag: pgbench scale ${SCALE}, ${CLIENTS} clients, ${TX_SECONDS} s of -N writes, ${RUNS} runs; ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(1)}`);
  const results = [];
  for (let i = 1; i <= RUNS; i++) {
    const r = await oneRun();
    results.push(r);
    console.log(`run ${i}: replay lag median ${ms(r.medianLag)}, max ${ms(r.maxLag)}; max ${(r.maxBytes / 1024).toFixed(0)} KiB behind; ${r.tps} tps`);
  }
  const med = results.map((r) => r.medianLag);
  const max = results.map((r) => r.maxLag);
  console.log(`replay lag across runs: median of medians ${ms(median(med))} (spread ${ms(Math.min(...med))}–${ms(Math.max(...med))}); median of maxima ${ms(median(max))} (spread ${ms(Math.min(...max))}–${ms(Math.max(...max))})`);
  console.log("archive-based RPO without a standby (docs/backup.md): archiveTimeout (60 s by default) + ~0.3 s push on a quiet database");
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
