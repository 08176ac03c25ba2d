// Observability end to end on real servers: a PostgreSQL 15 with WAL archiving to
// an S3 endpoint, pgAudit and connection logging on; pgBouncer with the exporter's
// stats user; Debian's postgres_exporter and pgBouncer exporter with the rendered
// arguments, files and queries; a real Prometheus with the rendered scrape config
// and the repository's alert rules (only `for:` shortened); the backup sidecar
// script recording its jobs and pinging a local HTTP server. Real faults drive the
// alerts: S3 made unreachable (archiving fails), a job made overdue (the backup
// group's limit is one minute, and no full or diff succeeds after the first).
// One set of servers for the whole file: they take seconds to start.
import * as fs from "fs";
import { Client } from "pg";
import { accessModel, renderAccessSql } from "../../../components/apps/access";
import { PGBOUNCER_STATS_USER, parseConfig } from "../../../components/config";
import { renderSidecarSecretsEnv, type SidecarNotify } from "../../../components/backup/sidecar-secrets";
import { postgresExporterProcess, renderMonitorRoleSql } from "../../../components/monitoring/exporters";
import { renderScrapeConfig } from "../../../components/monitoring/scrape";
import { PGBOUNCER_AUTH_ROLE, authPsqlCommand, renderAuthCreateScript, renderAuthRoleSql } from "../../../components/pooler/render";
import { BackupFixture, expectOk, startBackupFixture } from "../backup/fixture";
import { applyAccessSql, run, waitFor, writeFile } from "../harness";
import { physicalSlotSql } from "../../helpers/provider-sql";
import { canLogin, runCommand, WrappedPooler } from "../pooler/fixture";
import {
  DASHBOARD_FILE, Exporter, Prometheus, RULES_FILE, httpGet, metricNames, pgbouncerExporterPackage, requireObservabilityBinaries,
  startCaptureServer, startPgBouncerExporter, startPostgresExporter, startPrometheus,
} from "./stack";

const cfg = parseConfig("dev", { apps: [{ name: "shop" }] });
const model = accessModel(cfg.apps);
const passwords: Record<string, string> = Object.fromEntries(model.flatMap((a) => a.roles.map((r) => [r.name, `pw-${r.name}-${Math.random().toString(36).slice(2)}`])));
const AUTH_PASSWORD = `auth-${Math.random().toString(36).slice(2)}`;
const MONITOR_PASSWORD = `mon-${Math.random().toString(36).slice(2)}`;
const STATS = { user: PGBOUNCER_STATS_USER, password: `stats-${Math.random().toString(36).slice(2)}` };
const SHOP = { name: "shop", database: "shop", owner: "shop_owner" };

/** Metric names an expression reads: the exporters' prefixes, and `up`. */
function metricsIn(expr: string): string[] {
  // label matchers and grouping clauses name labels, not metrics
  const bare = expr.replace(/\{[^}]*\}/g, "").replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "");
  return [...new Set([...bare.matchAll(/\b(?:pg|pgbouncer|hlpg)_[a-z0-9_]+|\bup\b/g)].map((m) => m[0]))];
}

describe("metrics, alerts, notifications and audit on real exporters and a real Prometheus", () => {
  let fx: BackupFixture;
  let pooler: WrappedPooler;
  let pgExp: Exporter;
  let pbExp: Exporter;
  let prom: Prometheus;
  let capture: Awaited<ReturnType<typeof startCaptureServer>>;
  let pkgDir: string;
  let fullDoneAt = 0;
  const notify = (over: Partial<SidecarNotify>): void => {
    const n: SidecarNotify = { url: `${capture.url}/ping/key1`, jobUrls: { logical: `${capture.url}/hc/uuid-logical` }, style: "healthchecks", events: ["start", "success", "failure"], ...over };
    writeFile(fx.secretsEnvFile, renderSidecarSecretsEnv({ s3Key: fx.s3.accessKey, s3KeySecret: fx.s3.secretKey, ageIdentity: fx.age.identity, notify: n }), 0o600);
  };

  beforeAll(async () => {
    requireObservabilityBinaries();
    capture = await startCaptureServer();
    // archive-push gives up on an unreachable store after this many seconds instead of 60:
    // only the postmaster (and so archive_command) gets it
    process.env.PGBACKREST_IO_TIMEOUT = "2";
    try {
      fx = await startBackupFixture({
        apps: [SHOP],
        conf: { audit: { classes: ["ddl", "role"] }, logging: { connections: true, slowStatementMs: 500 } },
      });
    } finally {
      delete process.env.PGBACKREST_IO_TIMEOUT;
    }
    const pg = fx.pg;
    // the backup group is overdue one minute after its last success: the "job made overdue" fault.
    // init and the full backup first: the minute starts when the full ends, the rest runs meanwhile
    fx.writeRuntime({ limits: { backup: 1, logical: 24 * 60, drill: 8 * 24 * 60 } });
    notify({});
    expectOk(await fx.scriptFromFiles(["init"]), "init");
    const full = fx.scriptFromFiles(["full"]).then((r) => {
      fullDoneAt = Date.now();
      return r;
    });
    await applyAccessSql(pg, renderAccessSql(model, passwords));
    await pg.sql(renderAuthRoleSql(PGBOUNCER_AUTH_ROLE, AUTH_PASSWORD));
    expectOk(await runCommand(pg, authPsqlCommand(renderAuthCreateScript("shop"))), "auth lookup");
    for (const s of renderMonitorRoleSql(MONITOR_PASSWORD)) await pg.sql(s);
    // a stack with a standby has its slot (the provider's create, provider-sql.ts); the slot
    // metrics the alerts use exist only then, so this cluster has one, with no standby yet
    const slotClient = await pg.connect();
    try {
      await slotClient.query(physicalSlotSql.create, ["hlpg_standby_itest"]);
    } finally {
      await slotClient.end();
    }
    pooler = await WrappedPooler.start(pg, AUTH_PASSWORD, { databases: ["shop"], mode: "transaction", defaultPoolSize: 2, maxClientConn: 50 }, { statsUser: STATS });
    pgExp = await startPostgresExporter(pg.port, MONITOR_PASSWORD, true);
    pkgDir = await pgbouncerExporterPackage(true);
    pbExp = await startPgBouncerExporter(pkgDir, { host: "127.0.0.1", port: pooler.port }, STATS);
    prom = await startPrometheus(renderScrapeConfig({
      stack: "itest", targets: { postgres: `127.0.0.1:${pgExp.port}`, pgbouncer: `127.0.0.1:${pbExp.port}` }, intervalSeconds: 1,
    }));
    // a pooled session, so pgBouncer has a pool to report
    const client = new Client({ host: "127.0.0.1", port: pooler.port, user: "shop_owner", password: passwords.shop_owner, database: "shop" });
    expect(await canLogin(client)).toBe("shop_owner@shop");
    expectOk(await full, "full backup");
  });

  afterAll(async () => {
    fx?.s3.unreachable(false);
    await prom?.stop();
    await pbExp?.stop();
    await pgExp?.stop();
    await pooler?.stop();
    await fx?.destroy();
    await capture?.close();
    if (pkgDir) fs.rmSync(pkgDir, { recursive: true, force: true });
  });

  it("Debian's pgBouncer exporter 1.7 does not start against pgBouncer 1.18 without the image's compatibility sed (the check is live)", async () => {
    const raw = await pgbouncerExporterPackage(false);
    try {
      await expect(startPgBouncerExporter(raw, { host: "127.0.0.1", port: pooler.port }, STATS)).rejects.toThrow(/KeyError: 'total_requests'/);
    } finally {
      fs.rmSync(raw, { recursive: true, force: true });
    }
  });

  it("each exporter logs in with its own least-privilege login, and no password is in its environment", async () => {
    const c = await fx.pg.connect();
    try {
      const { rows } = await c.query(
        `SELECT r.rolsuper, r.rolcreaterole, r.rolreplication, r.rolbypassrls,
                array(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid ORDER BY 1) AS member_of,
                EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.usename = r.rolname AND a.application_name = 'hlpg-postgres-exporter') AS connected
         FROM pg_roles r WHERE r.rolname = 'hlpg_monitor'`,
      );
      expect(rows[0]).toEqual({ rolsuper: false, rolcreaterole: false, rolreplication: false, rolbypassrls: false, member_of: ["pg_monitor"], connected: true });
    } finally {
      await c.end();
    }
    // the stats user reads SHOW but may not run admin commands
    const psql = (sql: string) => run("psql", ["-X", "-h", "127.0.0.1", "-p", String(pooler.port), "-U", STATS.user, "-d", "pgbouncer", "-tAc", sql], { env: { PGPASSWORD: STATS.password } });
    expect((await psql("SHOW POOLS")).code).toBe(0);
    const pause = await psql("PAUSE");
    expect(pause.code).not.toBe(0);
    expect(pause.stderr).toMatch(/admin access needed/);
    const env = postgresExporterProcess({ postgres: { host: "postgres", port: 5432 }, sslmode: "disable", listen: ":9187", passwordFile: "/p", queriesFile: "/q" }).env;
    expect(Object.keys(env).sort()).toEqual(["DATA_SOURCE_PASS_FILE", "DATA_SOURCE_URI", "DATA_SOURCE_USER"]);
  });

  it("Prometheus scrapes, with the rendered scrape config, every metric the alert rules and every dashboard panel use", async () => {
    await waitFor("both targets up and the full backup's row scraped", async () =>
      (await prom.query('sum(up{hlpg_stack="itest"})'))[0]?.value[1] === "2" &&
      (await prom.query('hlpg_backup_job_last_success_timestamp_seconds{backup_job="full"} > 0')).length === 1, 30_000);
    const rules = fs.readFileSync(RULES_FILE, "utf8").split("\n").filter((l) => /^\s*expr:/.test(l)).flatMap(metricsIn);
    const dashboard = JSON.parse(fs.readFileSync(DASHBOARD_FILE, "utf8")) as { panels: { title: string; targets: { expr: string }[] }[] };
    const panels = dashboard.panels.flatMap((p) => p.targets.flatMap((t) => metricsIn(t.expr)));
    expect(rules.length).toBeGreaterThan(10);
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(15);
    const missing: string[] = [];
    for (const m of [...new Set([...rules, ...panels])]) {
      if ((await prom.query(`count(${m}{hlpg_stack="itest"})`)).length === 0) missing.push(m);
    }
    expect(missing).toEqual([]);
    // what the backup job recorded, through the exporter
    const v = async (q: string) => Number((await prom.query(q))[0]?.value[1]);
    expect(await v('hlpg_backup_job_last_size_bytes{backup_job="full"}')).toBeGreaterThan(0);
    expect(await v('hlpg_backup_group_max_age_seconds{group="backup"}')).toBe(60);
    expect(await v('hlpg_backup_job_failed{backup_job="full"}')).toBe(0);
    expect(await v("hlpg_archiver_enabled")).toBe(1);
    // the exporters' own expositions carry them too (not only Prometheus' view)
    expect([...metricNames(await pbExp.scrape())]).toEqual(expect.arrayContaining(["pgbouncer_waiting_clients", "pgbouncer_active_clients", "pgbouncer_requests_total"]));
    // nothing else fires on a healthy stack. The slot made in beforeAll has no standby
    // streaming through it, which is what HlpgReplicationSlotInactive reports (`for:` is 0s here)
    const firing = async () => (await prom.alerts()).filter((a) => a.state === "firing").map((a) => a.labels.alertname);
    await waitFor("the idle slot's alert", async () => (await firing()).includes("HlpgReplicationSlotInactive"), 30_000);
    expect(await firing()).toEqual(["HlpgReplicationSlotInactive"]);
  });

  it("logs connections, slow statements and, with pgAudit, an app role's DDL with the role's name", async () => {
    const c = await fx.pg.connect({ user: "shop_owner", password: passwords.shop_owner, database: "shop" });
    try {
      await c.query("CREATE TABLE audited_orders (id int)");
      await c.query("SELECT pg_sleep(0.6)");
    } finally {
      await c.end();
    }
    const log = () => fx.pg.server.output;
    await waitFor("the audit line", async () => /shop_owner@shop LOG: {2}AUDIT: SESSION,\d+,\d+,DDL,CREATE TABLE,.*audited_orders/.test(log()), 10_000);
    expect(log()).toMatch(/connection authorized: user=shop_owner database=shop/);
    expect(log()).toMatch(/shop_owner@shop LOG: {2}duration: \d+\.\d+ ms {2}statement: SELECT pg_sleep\(0\.6\)/);
    await waitFor("the disconnection line", async () => /disconnection: session time: .* user=shop_owner database=shop/.test(log()), 10_000);
  });

  it("pings start and success of each job; a failed job pings its own URL's /fail with why; ntfy style posts a titled message", async () => {
    const paths = () => capture.requests.map((r) => `${r.method} ${r.url}`);
    expect(paths()).toEqual(expect.arrayContaining(["POST /ping/key1/full/start", "POST /ping/key1/full"]));
    expect(capture.requests.find((r) => r.url === "/ping/key1/full")?.body).toMatch(/full succeeded in \d+s, \d+ bytes/);
    // a dump of a database that does not exist fails the logical job
    fx.writeRuntime({ apps: [SHOP, { name: "ghost", database: "ghost", owner: "shop_owner" }] });
    const failed = await fx.scriptFromFiles(["logical"]);
    expect(failed.code).not.toBe(0);
    expect(paths()).toEqual(expect.arrayContaining(["POST /hc/uuid-logical/start", "POST /hc/uuid-logical/fail"]));
    expect(capture.requests.find((r) => r.url === "/hc/uuid-logical/fail")?.body).toMatch(/logical FAILED with exit \d+ after \d+s/);
    expect(paths().filter((p) => p.includes("/ping/key1/logical"))).toEqual([]);
    // ntfy: failures only, one POST to the topic with title, priority and tags
    notify({ url: `${capture.url}/ntfy/hlpg-topic`, jobUrls: {}, style: "ntfy", events: ["failure"] });
    const before = capture.requests.length;
    expect((await fx.scriptFromFiles(["logical"])).code).not.toBe(0);
    const sent = capture.requests.slice(before);
    expect(sent.map((r) => [r.method, r.url, r.headers.title, r.headers.priority])).toEqual([["POST", "/ntfy/hlpg-topic", `hlpg-backup ${fx.stanza}: logical failure`, "high"]]);
    expect(sent[0].body).toMatch(/logical FAILED/);
    // and the metric says so
    await prom.waitFiring("HlpgBackupJobFailed", { backup_job: "logical" });
    fx.writeRuntime({ apps: [SHOP] });
  });

  it("S3 unreachable: archive_command fails and HlpgWalArchivingFailing fires", async () => {
    fx.s3.unreachable(true);
    try {
      await fx.pg.sql("CREATE TABLE wal_filler AS SELECT g FROM generate_series(1, 1000) g; SELECT pg_switch_wal();");
      const alert = await prom.waitFiring("HlpgWalArchivingFailing", {}, 45_000);
      expect(alert.labels).toEqual(expect.objectContaining({ hlpg_stack: "itest", severity: "critical" }));
      expect(Number((await prom.query("hlpg_archiver_failed_count"))[0].value[1])).toBeGreaterThan(0);
    } finally {
      fx.s3.unreachable(false);
    }
  });

  it("a job made overdue: no full or diff within the group's limit fires HlpgBackupStale", async () => {
    // quiet while within the limit was checked above (nothing fired); now wait it out
    const left = fullDoneAt + 60_000 - Date.now();
    const alert = await prom.waitFiring("HlpgBackupStale", { group: "backup" }, Math.max(left, 0) + 20_000);
    expect(Date.now()).toBeGreaterThanOrEqual(fullDoneAt + 55_000);
    expect(alert.labels).toEqual(expect.objectContaining({ hlpg_stack: "itest", severity: "critical" }));
    // the exporter's raw value agrees
    const body = (await httpGet(`http://127.0.0.1:${pgExp.port}/metrics`)).body;
    expect(body).toMatch(/hlpg_backup_group_max_age_seconds\{group="backup",server="[^"]+"\} 60/);
  });
});
