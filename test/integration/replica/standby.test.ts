// A streaming hot standby on real PostgreSQL 15: two clusters on loopback, each
// configured by the program's rendered files (postgresql.conf with the standby's
// recovery settings, pg_hba.conf with the replication line, the entrypoint's
// standby bootstrap, the libpq passfile), the replication role and the slot
// created with the SQL the postgresql provider runs. Then: streaming through the
// slot over TLS with the replication role's rights only, a standby that refuses
// writes, the lag under a pgbench write load, promotion with every committed row,
// and the old primary rejoining with pg_rewind (hlpg-failover.sh, as the runbook).
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import { Client } from "pg";
import { parseConfig } from "../../../components/config";
import { accessModel, renderAccessSql } from "../../../components/apps/access";
import { renderPostgresEntrypoint } from "../../../components/server/entrypoint";
import { renderPgpass } from "../../../components/server/standby-conf";
import { FAILOVER_SCRIPT_FILE, REPLICATOR, STANDBY_APPLICATION_NAME, defaultSlotName, standbyConf } from "../../../components/replica/model";
import { REPLICATION_QUERY, SLOT_QUERY } from "../../../components/monitoring/queries";
import { physicalSlotSql, roleCreate } from "../../helpers/provider-sql";
import { PgInstance, applyAccessSql, pgBinDir, requireBinary, run, runOk, startPostgres, tempDir, waitFor, writeFile } from "../harness";

/**
 * The documented bound (docs/replication.md): replay lag under the pgbench load below
 * stays under this on a loaded 2-core machine; typically it is milliseconds.
 */
const LAG_BOUND_SECONDS = 5;
const HOST = "127.0.0.1";

const config = parseConfig("dev", { apps: [{ name: "shop", readonlyUsers: ["viewer"] }] });

describe("streaming standby on PostgreSQL 15: replication, promotion, rejoin", () => {
  let primary: PgInstance;
  let standby: PgInstance;
  let rejoined: PgInstance | undefined;
  let work: string;
  const slot = defaultSlotName("dev");
  const replicatorPassword = `repl-'pw':\\-${Math.random().toString(36).slice(2)}`;
  const passwords: Record<string, string> = {};
  const clients: Client[] = [];
  /** Keeps a client for the test's end; a server stopped under it must not crash the run. */
  const keep = (c: Client): Client => {
    c.on("error", () => undefined);
    clients.push(c);
    return c;
  };
  let tlsFiles: Record<string, string>;
  const tlsConf = { tls: { certFile: "tls/server.crt", keyFile: "tls/server.key" } };

  const env = () => ({ PATH: `${pgBinDir()}:${process.env.PATH ?? ""}` });
  const one = async (pg: PgInstance, sql: string, database = "postgres"): Promise<Record<string, unknown>[]> => {
    const c = await pg.connect({ database });
    try {
      return (await c.query(sql)).rows as Record<string, unknown>[];
    } finally {
      await c.end();
    }
  };
  const caughtUp = async (from: PgInstance, to: PgInstance) => {
    const [{ lsn }] = await one(from, "select pg_current_wal_lsn()::text as lsn");
    await waitFor("standby replays the primary's WAL", async () => {
      const [{ ok }] = await one(to, `select pg_last_wal_replay_lsn() >= '${String(lsn)}'::pg_lsn as ok`);
      return ok === true;
    }, 30_000);
  };
  const failover = (args: string[], extraEnv: Record<string, string> = {}) =>
    run("bash", [FAILOVER_SCRIPT_FILE, ...args], { env: { ...env(), ...extraEnv } });

  beforeAll(async () => {
    requireBinary(path.join(pgBinDir(), "pg_basebackup"), "postgresql-15");
    requireBinary(path.join(pgBinDir(), "pg_rewind"), "postgresql-15");
    work = tempDir("standby");
    execFileSync(requireBinary("/usr/bin/openssl", "openssl"), [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=postgres",
      "-keyout", path.join(work, "server.key"), "-out", path.join(work, "server.crt"),
    ], { stdio: "ignore" });
    tlsFiles = { "tls/server.crt": fs.readFileSync(path.join(work, "server.crt"), "utf8"), "tls/server.key": fs.readFileSync(path.join(work, "server.key"), "utf8") };
    // the peer of each side is the other's address: loopback here, each host's tailnet IP in a stack
    const hbaReplication = { user: REPLICATOR.name, address: HOST };
    primary = await startPostgres({ extraFiles: tlsFiles, conf: tlsConf, hbaReplication });

    // what `pulumi up` creates on the primary: the apps, the replication role, the slot
    const model = accessModel(config.apps);
    for (const a of model) for (const r of a.roles) passwords[r.name] = `pw-${r.name}-${Math.random().toString(36).slice(2)}`;
    await applyAccessSql(primary, renderAccessSql(model, passwords));
    await primary.sql(roleCreate({ ...REPLICATOR, password: replicatorPassword }));
    const c = await primary.connect();
    await c.query(physicalSlotSql.create, [slot]);
    await c.end();

    // the standby container's first start: the rendered entrypoint clones the empty volume
    const passfile = path.join(work, "replication.pgpass");
    writeFile(passfile, renderPgpass([{ host: HOST, port: primary.port, database: "replication", user: REPLICATOR.name, password: replicatorPassword }]), 0o600);
    const conf = standbyConf({ primary: { host: HOST, port: primary.port }, slot, sslmode: "require", passfile });
    const standbyRoot = tempDir("standby-volume");
    const pgdata = path.join(standbyRoot, "pgdata");
    writeFile(path.join(work, "next.sh"), '#!/usr/bin/env bash\necho "handed over: $*"\n', 0o755);
    writeFile(path.join(work, "entrypoint.sh"), renderPostgresEntrypoint({
      configFile: path.join(work, "unused.conf"), next: path.join(work, "next.sh"), standby: { from: "basebackup", conf },
    }), 0o755);
    writeFile(path.join(work, "superuser-password"), primary.superPassword, 0o600);
    const clone = await run("bash", [path.join(work, "entrypoint.sh"), "postgres"], {
      env: { ...env(), PGDATA: pgdata, POSTGRES_PASSWORD_FILE: path.join(work, "superuser-password") },
    });
    expect({ code: clone.code, stderr: clone.stderr.replace(/^.*(kB|waiting|checkpoint|write-ahead|backup).*$\n?/gm, "") }).toEqual({ code: 0, stderr: "" });
    expect(clone.stdout).toMatch(/standby cloned/);
    expect(clone.stdout).toMatch(/handed over: postgres$/m);
    expect(fs.existsSync(path.join(pgdata, "standby.signal"))).toBe(true);
    // a second start never clones over it
    const again = await run("bash", [path.join(work, "entrypoint.sh"), "postgres"], {
      env: { ...env(), PGDATA: pgdata, POSTGRES_PASSWORD_FILE: path.join(work, "superuser-password") },
    });
    expect(again.stdout).toMatch(/holds a standby; starting it as it is/);
    standby = await startPostgres({
      existingDataDir: pgdata, superPassword: primary.superPassword, extraFiles: tlsFiles, hbaReplication,
      conf: { ...tlsConf, standby: conf },
    });
  });

  afterAll(async () => {
    for (const cl of clients) await cl.end().catch(() => undefined);
    await rejoined?.destroy();
    await standby?.destroy();
    await primary?.destroy().catch(() => undefined);
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it("streams through the managed slot, over TLS, as the replication role", async () => {
    await waitFor("the standby streams", async () => (await one(primary, "select 1 from pg_stat_replication where state = 'streaming'")).length === 1, 30_000);
    const [r] = await one(primary, `
      select r.application_name, r.usename, s.ssl, sl.slot_name, sl.active
      from pg_stat_replication r join pg_stat_ssl s using (pid) join pg_replication_slots sl on sl.active_pid = r.pid`);
    expect(r).toEqual({ application_name: STANDBY_APPLICATION_NAME, usename: REPLICATOR.name, ssl: true, slot_name: slot, active: true });
    // the provider's existence check finds it; its delete refuses while the standby streams through it
    const c = await primary.connect();
    keep(c);
    expect((await c.query(physicalSlotSql.exists, [slot])).rowCount).toBe(1);
    await expect(c.query(physicalSlotSql.delete, [slot])).rejects.toThrow(/is active/);
    // the app's data is there
    // the app's owner creates its tables (its default privileges give the viewer SELECT)
    const owner = await primary.connect({ user: "shop_owner", password: passwords.shop_owner, database: "shop" });
    await owner.query("create table orders (id bigserial primary key, note text)");
    await owner.end();
    await caughtUp(primary, standby);
    expect(await one(standby, "select count(*)::int as n from orders", "shop")).toEqual([{ n: 0 }]);
  });

  it("the exporter's replication and slot queries, as a pg_monitor member, see the streaming standby from both sides", async () => {
    // as the program's monitor role: pg_monitor and CONNECT on postgres (PUBLIC has none there)
    await primary.sql("CREATE ROLE monitor_probe LOGIN PASSWORD 'probe-password-0123' IN ROLE pg_monitor");
    await primary.sql("GRANT CONNECT ON DATABASE postgres TO monitor_probe");
    await caughtUp(primary, standby);
    const asMonitor = async (pg: PgInstance, sql: string) => {
      const c = await pg.connect({ user: "monitor_probe", password: "probe-password-0123" });
      try {
        return (await c.query(sql)).rows as Record<string, unknown>[];
      } finally {
        await c.end();
      }
    };
    const [slotRow] = await asMonitor(primary, SLOT_QUERY.sql);
    expect(slotRow).toMatchObject({ slot_name: slot, active: 1, lost: 0 });
    expect(Number(slotRow.retained_wal_bytes)).toBeGreaterThanOrEqual(0);
    expect(Number(slotRow.retained_wal_bytes)).toBeLessThan(64 * 1024 * 1024);
    expect(await asMonitor(primary, REPLICATION_QUERY.sql)).toEqual([expect.objectContaining({ is_standby: 0, standbys: "1" })]);
    expect(await asMonitor(standby, REPLICATION_QUERY.sql)).toEqual([expect.objectContaining({ is_standby: 1 })]);
    // the standby holds no slot of its own (a physical copy carries none): no rows, no error
    expect(await asMonitor(standby, SLOT_QUERY.sql)).toEqual([]);
  });

  it("the replication role has no other right: no database, no plain-text replication", async () => {
    const attrs = await one(primary, `select rolsuper, rolcreatedb, rolcreaterole, rolcanlogin, rolreplication, rolbypassrls, rolinherit from pg_roles where rolname = '${REPLICATOR.name}'`);
    expect(attrs).toEqual([{ rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolcanlogin: true, rolreplication: true, rolbypassrls: false, rolinherit: false }]);
    for (const database of ["shop", "postgres", "template1"]) {
      await expect(primary.connect({ user: REPLICATOR.name, password: replicatorPassword, database })).rejects.toThrow(/permission denied for database/);
    }
    // the replication line is hostssl only: without TLS the connection is rejected by pg_hba
    const plain = await run(path.join(pgBinDir(), "pg_receivewal"), ["--dbname", `host=${HOST} port=${primary.port} user=${REPLICATOR.name} sslmode=disable`, "-D", work, "--no-loop", "-n"], {
      env: { PGPASSWORD: replicatorPassword },
    });
    expect(plain.stderr).toMatch(/no pg_hba.conf entry for replication connection/);
    // a wrong role cannot replicate either
    const other = await run(path.join(pgBinDir(), "pg_receivewal"), ["--dbname", `host=${HOST} port=${primary.port} user=shop_owner sslmode=require`, "-D", work, "--no-loop", "-n"], {
      env: { PGPASSWORD: passwords.shop_owner },
    });
    expect(other.stderr).toMatch(/no pg_hba.conf entry for replication connection/);
  });

  it("the standby serves reads and refuses writes", async () => {
    const viewer = await standby.connect({ user: "shop_viewer", password: passwords.shop_viewer, database: "shop" });
    keep(viewer);
    expect((await viewer.query("select count(*)::int as n from orders")).rows).toEqual([{ n: 0 }]);
    const owner = await standby.connect({ user: "shop_owner", password: passwords.shop_owner, database: "shop" });
    keep(owner);
    await expect(owner.query("insert into orders (note) values ('x')")).rejects.toThrow(/read-only transaction/);
    await expect(owner.query("create table t (id int)")).rejects.toThrow(/read-only transaction/);
  });

  it(`keeps replay lag under ${LAG_BOUND_SECONDS} s during a pgbench write load`, async () => {
    const pgEnv = { PGPASSWORD: primary.superPassword };
    const target = ["-h", HOST, "-p", String(primary.port), "-U", "postgres", "shop"];
    await runOk(path.join(pgBinDir(), "pgbench"), ["-i", "-s", "1", "-q", ...target], { env: pgEnv });
    const samples: number[] = [];
    let done = false;
    const bench = runOk(path.join(pgBinDir(), "pgbench"), ["-c", "2", "-j", "1", "-T", "2", "-N", ...target], { env: pgEnv }).finally(() => (done = true));
    const sampler = await primary.connect();
    keep(sampler);
    while (!done) {
      const { rows } = await sampler.query("select coalesce(extract(epoch from replay_lag), 0)::float8 as lag from pg_stat_replication where application_name = $1", [STANDBY_APPLICATION_NAME]);
      samples.push(Number(rows[0]?.lag ?? Infinity));
      await new Promise((r) => setTimeout(r, 100));
    }
    const out = await bench;
    expect(out.stdout).toMatch(/number of transactions actually processed: [1-9]/);
    expect(samples.length).toBeGreaterThan(10);
    expect(Math.max(...samples)).toBeLessThan(LAG_BOUND_SECONDS);
    await caughtUp(primary, standby);
    const count = "select count(*)::int as n from pgbench_history";
    expect(await one(standby, count, "shop")).toEqual(await one(primary, count, "shop"));
  });

  it("promotes the standby with every committed row, then the old primary rejoins with pg_rewind", async () => {
    await primary.sql("insert into orders (note) select 'committed ' || i from generate_series(0, 49) i", "shop");
    const before = await one(primary, "select count(*)::int as n, max(id)::int as last from orders", "shop");
    // the primary is lost (a fast shutdown: the walsender hands over what was committed)
    await primary.stop();

    const sock = { PGHOST: HOST, PGPORT: String(standby.port), PGUSER: "postgres", PGPASSWORD: primary.superPassword };
    const promoted = await failover(["promote", "30"], sock);
    expect({ code: promoted.code, stderr: promoted.stderr }).toEqual({ code: 0, stderr: "" });
    expect(promoted.stdout).toMatch(/promoted; role=primary timeline=2/);
    expect(await one(standby, "select count(*)::int as n, max(id)::int as last from orders", "shop")).toEqual(before);
    const refused = await failover(["promote"], sock);
    expect(refused.stderr).toMatch(/not a standby/);
    // writes succeed on the new primary
    await standby.sql("insert into orders (note) values ('after failover')", "shop");

    // split brain on the old primary: it came back and took a write the new primary never saw
    const oldStarted = await startPostgres({ existingDataDir: primary.dataDir, port: primary.port, superPassword: primary.superPassword, extraFiles: tlsFiles, conf: tlsConf });
    await oldStarted.sql("insert into orders (note) values ('lost on the old primary')", "shop");
    await oldStarted.stop();

    // rejoin, as the runbook: the new primary as pg_rewind's source, the replication role to follow it
    const passfile = path.join(work, "rejoin.pgpass");
    writeFile(passfile, renderPgpass([{ host: HOST, port: standby.port, database: "replication", user: REPLICATOR.name, password: replicatorPassword }]), 0o600);
    const source = `host=${HOST} port=${standby.port} user=postgres dbname=postgres sslmode=require`;
    const follow = `host=${HOST} port=${standby.port} user=${REPLICATOR.name} passfile=${passfile} sslmode=require application_name=${STANDBY_APPLICATION_NAME}`;
    const rejoin = await failover(["rejoin", primary.dataDir, source, follow, slot], { PGPASSWORD: primary.superPassword });
    expect(rejoin.code).toBe(0);
    expect(rejoin.stdout).toMatch(/rewound/);
    expect(rejoin.stdout + rejoin.stderr).toMatch(/servers diverged at WAL location/);

    rejoined = await startPostgres({ existingDataDir: primary.dataDir, port: primary.port, superPassword: primary.superPassword, extraFiles: tlsFiles, conf: tlsConf });
    await standby.sql("insert into orders (note) values ('streamed to the rejoined standby')", "shop");
    await waitFor("the old primary streams from the new one", async () =>
      (await one(standby, `select 1 from pg_stat_replication r join pg_replication_slots s on s.active_pid = r.pid where s.slot_name = '${slot}' and r.state = 'streaming'`)).length === 1, 30_000);
    await caughtUp(standby, rejoined);
    const notes = (await one(rejoined, "select note from orders order by id", "shop")).map((r) => r.note);
    expect(notes).toContain("streamed to the rejoined standby");
    expect(notes).toContain("after failover");
    expect(notes).not.toContain("lost on the old primary");
    expect(notes.filter((n) => String(n).startsWith("committed "))).toHaveLength(50);
    expect(await one(rejoined, "select pg_is_in_recovery() as r")).toEqual([{ r: true }]);
  });
});
