// The rendered pgbouncer.ini, auth file and auth lookup SQL on a real PostgreSQL 15
// and a real pgBouncer (Debian 1.18), with the apps created from the access model.
// Also the pgAdmin pgpass (read by real libpq) and its entrypoint wrapper (real sh).
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Client, ClientConfig } from "pg";
import { AppConfig, parseConfig } from "../../../components/config";
import { accessModel, renderAccessSql } from "../../../components/apps/access";
import {
  AUTH_FILE_PERMISSIONS,
  authPsqlCommand,
  PGBOUNCER_AUTH_ROLE,
  pgbouncerHealthcheck,
  PgBouncerIniInput,
  renderAuthCreateScript,
  renderAuthFile,
  renderAuthRoleSql,
  renderPgBouncerIni,
} from "../../../components/pooler/render";
import { pgadminStorageDirName, PASSFILE_IN_STORAGE, renderPgAdminEntrypoint, renderPgpass } from "../../../components/pgadmin/render";
import { applyAccessSql, freePort, pgBin, PgInstance, requireBinary, run, RunResult, ServerProcess, startPostgres, tempDir, waitFor, writeFile } from "../harness";
import { adminConsole as admin, adminRows, canLogin, PGBOUNCER, runCommand } from "./fixture";

const POOL_SIZE = 10;

// two apps, one hyphenated and with a read-only user
const cfg = parseConfig("dev", {
  apps: [{ name: "shop" }, { name: "blog-engine", readonlyUsers: ["analytics"] }],
  pgbouncer: { poolMode: "transaction", defaultPoolSize: POOL_SIZE, maxClientConn: 1000 },
});
const apps: AppConfig[] = cfg.apps;
const model = accessModel(apps);
const roles = model.flatMap((a) => a.roles.map((r) => ({ role: r.name, database: a.database.name })));
const passwords: Record<string, string> = Object.fromEntries(roles.map((r, i) => [r.role, `pw-${r.role}-${i}-${Math.random().toString(36).slice(2)}`]));
// quotes and blanks in the auth role's password exercise the auth file's escaping
const AUTH_PASSWORD = `auth "pw" with spaces ${Math.random().toString(36).slice(2)}`;

/** Roles the lookup must never return, each with CONNECT on the shop database and a valid password. */
const FORBIDDEN: Record<string, string> = {
  bad_super: "SUPERUSER LOGIN",
  bad_nologin: "NOLOGIN",
  bad_replication: "REPLICATION LOGIN",
  bad_bypassrls: "BYPASSRLS LOGIN",
  bad_expired: "LOGIN VALID UNTIL '2001-01-01'",
};
const FORBIDDEN_PASSWORD = "forbidden-but-correct-password-1";

interface Pooler {
  server: ServerProcess;
  port: number;
  dir: string;
  iniFile: string;
  authFile: string;
}

function pemPair(dir: string): { cert: string; key: string } {
  const crt = path.join(dir, "server.crt");
  const key = path.join(dir, "server.key");
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
    "-subj", "/CN=postgres", "-addext", "subjectAltName=DNS:postgres,DNS:localhost,IP:127.0.0.1",
    "-keyout", key, "-out", crt,
  ], { stdio: "ignore" });
  return { cert: fs.readFileSync(crt, "utf8"), key: fs.readFileSync(key, "utf8") };
}

async function startPooler(
  pg: PgInstance,
  opts: { files?: Record<string, { text: string; mode: number }>; ini?: (dir: string) => Partial<PgBouncerIniInput> } = {},
): Promise<Pooler> {
  const dir = tempDir("pgbouncer");
  const port = await freePort();
  const authFile = path.join(dir, "userlist.txt");
  const iniFile = path.join(dir, "pgbouncer.ini");
  for (const [rel, f] of Object.entries(opts.files ?? {})) writeFile(path.join(dir, rel), f.text, f.mode);
  writeFile(authFile, renderAuthFile(PGBOUNCER_AUTH_ROLE, AUTH_PASSWORD), parseInt(AUTH_FILE_PERMISSIONS, 8));
  writeFile(
    iniFile,
    renderPgBouncerIni({
      databases: apps.map((a) => a.database),
      server: { host: "127.0.0.1", port: pg.port },
      listen: { addr: "127.0.0.1", port, unixSocketDir: dir },
      pool: { mode: cfg.pgbouncer.poolMode, defaultPoolSize: cfg.pgbouncer.defaultPoolSize, maxClientConn: cfg.pgbouncer.maxClientConn },
      authFile,
      version: { major: 1, minor: 18, patch: 0 },
      ...opts.ini?.(dir),
    }),
    0o644,
  );
  const server = new ServerProcess(PGBOUNCER, [iniFile]);
  await waitFor(`pgbouncer on ${port}`, async () => (await admin({ dir, port }, "SHOW VERSION")).code === 0, 15_000, server);
  return { server, port, dir, iniFile, authFile };
}

async function stopPooler(p: Pooler | undefined): Promise<void> {
  if (!p) return;
  await p.server.stop("SIGTERM");
  fs.rmSync(p.dir, { recursive: true, force: true });
}

/** SHOW POOLS as objects, by column name. */
function showPools(p: Pooler): Promise<Record<string, string>[]> {
  return adminRows(p, "SHOW POOLS");
}

function viaPooler(p: Pooler, role: string, database: string, extra: Partial<ClientConfig> = {}): Client {
  return new Client({ host: "127.0.0.1", port: p.port, user: role, password: passwords[role], database, ...extra });
}

describe("pgBouncer (rendered config) in front of PostgreSQL 15", () => {
  let pg: PgInstance;
  let pooler: Pooler;
  let tls: { cert: string; key: string };
  const setupRuns: RunResult[] = [];

  beforeAll(async () => {
    requireBinary(PGBOUNCER, "pgbouncer");
    requireBinary("/usr/bin/openssl", "openssl");
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "hlpg-pem-"));
    tls = pemPair(scratch);
    fs.rmSync(scratch, { recursive: true, force: true });
    // TLS on, as in a prod stack; paths are relative to the data directory
    pg = await startPostgres({
      conf: { maxConnections: 100, tls: { certFile: "../conf/tls/server.crt", keyFile: "../conf/tls/server.key" } },
      extraFiles: { "tls/server.crt": tls.cert, "tls/server.key": tls.key },
    });
    // auth role first: the access model grants it CONNECT
    await pg.sql(renderAuthRoleSql(PGBOUNCER_AUTH_ROLE, AUTH_PASSWORD));
    const sql = renderAccessSql(model, passwords);
    await applyAccessSql(pg, sql);
    for (const [role, attrs] of Object.entries(FORBIDDEN)) {
      await pg.sql(`CREATE ROLE ${role} ${attrs} PASSWORD '${FORBIDDEN_PASSWORD}'`);
      await pg.sql(`GRANT CONNECT ON DATABASE shop TO ${role}`);
    }
    // an md5 hash is password-equivalent: the lookup must not hand it out
    await pg.sql(`SET password_encryption = 'md5'; CREATE ROLE bad_md5 LOGIN PASSWORD '${FORBIDDEN_PASSWORD}'; GRANT CONNECT ON DATABASE shop TO bad_md5`);
    await pg.sql("CREATE TABLE hits (id bigserial primary key, client int not null, at timestamptz default now())", "shop");
    await pg.sql(`GRANT ALL ON hits, hits_id_seq TO shop_owner`, "shop");

    // the exact command each per-database auth Command of the component runs, twice (idempotent)
    for (let i = 0; i < 2; i++) {
      for (const a of apps) setupRuns.push(await runCommand(pg, authPsqlCommand(renderAuthCreateScript(a.database))));
    }

    pooler = await startPooler(pg);
  });

  afterAll(async () => {
    await stopPooler(pooler);
    await pg?.destroy();
  });

  it("installs the auth lookup idempotently with the component's per-database commands", () => {
    // the second round finds everything in place and replaces it in place, quietly
    expect(setupRuns.map((r) => ({ code: r.code, stderr: r.stderr }))).toEqual(Array(2 * apps.length).fill({ code: 0, stderr: "" }));
  });

  it("lets each app role reach its own database through the pooler with its own password", async () => {
    for (const r of roles) expect(await canLogin(viaPooler(pooler, r.role, r.database))).toBe(`${r.role}@${r.database}`);
    // and work there: the owner writes through transaction pooling
    const c = viaPooler(pooler, "blog_engine_owner", "blog_engine");
    await c.connect();
    await c.query("create table posts (id int primary key, title text)");
    await c.query("insert into posts values (1, 'pooled')");
    const { rows } = await c.query("select title from posts");
    await c.end();
    expect(rows).toEqual([{ title: "pooled" }]);
  });

  it("lets in a client that sends startup options it would otherwise refuse", async () => {
    // `options` is in ignore_startup_parameters (CVE-2026-107349 mitigation on the versions that need it)
    expect(await canLogin(viaPooler(pooler, "shop_owner", "shop", { options: "-c geqo=off" }))).toBe("shop_owner@shop");
  });

  it("refuses a wrong password and an unknown role", async () => {
    const wrong = await canLogin(viaPooler(pooler, "shop_owner", "shop", { password: "not-the-password" }));
    expect(wrong).toMatch(/^refused: .*(password authentication failed|SASL authentication failed)/);
    const unknown = await canLogin(viaPooler(pooler, "nobody_here", "shop", { password: "whatever" }));
    expect(unknown).toMatch(/^refused:/);
  });

  it("does not let an app role reach another app's database, nor any database it was not given", async () => {
    expect(await canLogin(viaPooler(pooler, "shop_owner", "blog_engine"))).toMatch(/^refused:/);
    expect(await canLogin(viaPooler(pooler, "blog_engine_analytics", "shop"))).toMatch(/^refused:/);
    // not routable at all: no '*' fallback to the maintenance database (the client only
    // sees a failed login, so that probing does not reveal which databases exist)
    expect(await canLogin(viaPooler(pooler, "shop_owner", "postgres"))).toMatch(/^refused:/);
    expect(pooler.server.output).toMatch(/\(nodb\)\/shop_owner@\S+ login attempt: db=postgres /);
  });

  it("never looks up superusers, NOLOGIN, replication, bypassrls, expired or md5 roles, nor itself", async () => {
    const c = await pg.connect({ user: PGBOUNCER_AUTH_ROLE, password: AUTH_PASSWORD, database: "shop" });
    try {
      const lookup = async (role: string) => (await c.query("SELECT usename, passwd FROM pgbouncer.get_auth($1)", [role])).rows as { usename: string; passwd: string }[];
      const owner = await lookup("shop_owner");
      expect(owner).toHaveLength(1);
      expect(owner[0].passwd).toMatch(/^SCRAM-SHA-256\$/);
      for (const role of [...Object.keys(FORBIDDEN), "bad_md5", "postgres", PGBOUNCER_AUTH_ROLE]) {
        expect({ role, rows: await lookup(role) }).toEqual({ role, rows: [] });
      }
      // a role without CONNECT on this database is not looked up here either
      expect(await lookup("blog_engine_owner")).toEqual([]);
    } finally {
      await c.end();
    }
    // and through the pooler, the right password does not get them in
    for (const role of ["bad_super", "bad_replication", "bad_bypassrls", "bad_md5"]) {
      expect(await canLogin(viaPooler(pooler, role, "shop", { password: FORBIDDEN_PASSWORD }))).toMatch(/^refused:/);
    }
  });

  it("lets nobody but the auth role call the lookup", async () => {
    const c = await pg.connect({ user: "shop_owner", password: passwords.shop_owner, database: "shop" });
    try {
      await expect(c.query("SELECT * FROM pgbouncer.get_auth('shop_owner')")).rejects.toThrow(/permission denied/);
      // the database owner cannot swap the function out either
      await expect(c.query("CREATE OR REPLACE FUNCTION pgbouncer.get_auth(p text) RETURNS TABLE (usename text, passwd text) LANGUAGE sql AS 'select null::text, null::text'")).rejects.toThrow(/permission denied/);
    } finally {
      await c.end();
    }
  });

  it("refuses to install the lookup into a schema an app role created first", async () => {
    await pg.sql("CREATE DATABASE trap OWNER shop_owner");
    const c = await pg.connect({ user: "shop_owner", password: passwords.shop_owner, database: "trap" });
    await c.query("CREATE SCHEMA pgbouncer");
    await c.end();
    const r = await runCommand(pg, authPsqlCommand(renderAuthCreateScript("trap")));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/not owned by a superuser/);
    const s = await pg.connect({ database: "trap" });
    const { rows } = await s.query("select count(*)::int as n from pg_proc where proname = 'get_auth'");
    await s.end();
    expect(rows[0].n).toBe(0);
  });

  it("stores only the auth role's credential, in a 0600 file pgBouncer can read", async () => {
    const st = fs.statSync(pooler.authFile);
    expect(st.mode & 0o777).toBe(0o600);
    const text = fs.readFileSync(pooler.authFile, "utf8");
    expect(text.trim().split("\n")).toHaveLength(1);
    expect(text.startsWith(`"${PGBOUNCER_AUTH_ROLE}" `)).toBe(true);
    for (const pw of Object.values(passwords)) expect(text).not.toContain(pw);
    expect(fs.readFileSync(pooler.iniFile, "utf8")).not.toContain(AUTH_PASSWORD);
    // pgBouncer authenticated as the auth role with it: the lookup pool exists
    const pools = await showPools(pooler);
    expect(pools.some((p) => p.user === PGBOUNCER_AUTH_ROLE)).toBe(true);
  });

  it("answers the container healthcheck over the socket, and keeps the admin console closed over TCP", async () => {
    const [cmd, ...args] = pgbouncerHealthcheck(pooler.dir, pooler.port);
    const r = await run(pgBin(cmd), args);
    expect({ code: r.code, out: r.stdout.trim() }).toEqual({ code: 0, out: expect.stringMatching(/^PgBouncer \d+\.\d+/) });
    // the auth role's password is no key to SHOW CLIENTS
    const c = new Client({ host: "127.0.0.1", port: pooler.port, user: PGBOUNCER_AUTH_ROLE, password: AUTH_PASSWORD, database: "pgbouncer" });
    expect(await canLogin(c)).toMatch(/^refused: .*not allowed/);
  });

  it("in transaction mode, serves 300 concurrent clients with at most the pool size of server connections", async () => {
    const N = 300;
    const ROUNDS = 3;
    const clients = Array.from({ length: N }, () => viaPooler(pooler, "shop_owner", "shop"));
    await Promise.all(clients.map((c) => c.connect()));
    const monitor = await pg.connect({ database: "shop" });
    const serverConns = async () =>
      (await monitor.query("select count(*)::int as n from pg_stat_activity where datname = 'shop' and backend_type = 'client backend' and pid <> pg_backend_pid()")).rows[0].n as number;
    let maxServer = 0;
    let maxPooled = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        maxServer = Math.max(maxServer, await serverConns());
        const shop = (await showPools(pooler)).filter((p) => p.database === "shop");
        const sv = shop.reduce((a, p) => a + ["sv_active", "sv_idle", "sv_used", "sv_tested", "sv_login"].reduce((s, k) => s + Number(p[k] ?? 0), 0), 0);
        maxPooled = Math.max(maxPooled, sv);
      }
    })();
    try {
      // every client is connected at once; Postgres sees only the pool
      const clientsSeen = (await showPools(pooler)).filter((p) => p.database === "shop" && p.user === "shop_owner");
      expect(Number(clientsSeen[0].cl_active) + Number(clientsSeen[0].cl_waiting)).toBe(N);
      const started = Date.now();
      await Promise.all(
        clients.map(async (c, i) => {
          for (let k = 0; k < ROUNDS; k++) {
            await c.query("BEGIN");
            await c.query("select pg_sleep(0.01)");
            await c.query("insert into hits (client) values ($1)", [i]);
            await c.query("COMMIT");
          }
        }),
      );
      const elapsed = Date.now() - started;
      sampling = false;
      await sampler;
      const { rows } = await monitor.query("select count(*)::int as n, count(distinct client)::int as c from hits");
      expect(rows[0]).toEqual({ n: N * ROUNDS, c: N });
      // multiplexed: the pool filled up, and never grew past it
      expect(maxServer).toBeLessThanOrEqual(POOL_SIZE);
      expect(maxPooled).toBeLessThanOrEqual(POOL_SIZE);
      expect(maxServer).toBeGreaterThanOrEqual(POOL_SIZE / 2);
      // 900 transactions of >= 10 ms over 10 connections take >= 0.9 s: they really queued
      expect(elapsed).toBeGreaterThanOrEqual(((N * ROUNDS * 10) / POOL_SIZE) * 0.9);
    } finally {
      sampling = false;
      await sampler.catch(() => undefined);
      await monitor.end();
      await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    }
  });

  it("with TLS on: encrypts the leg to Postgres and requires TLS from clients", async () => {
    const tlsPooler = await startPooler(pg, {
      files: { "server.crt": { text: tls.cert, mode: 0o644 }, "server.key": { text: tls.key, mode: 0o600 } },
      ini: (dir) => ({
        server: { host: "127.0.0.1", port: pg.port, tls: { sslmode: "require" } },
        clientTls: { certFile: path.join(dir, "server.crt"), keyFile: path.join(dir, "server.key") },
      }),
    });
    try {
      const c = viaPooler(tlsPooler, "shop_owner", "shop", { ssl: { ca: tls.cert } });
      await c.connect();
      const { rows } = await c.query("select ssl from pg_stat_ssl where pid = pg_backend_pid()");
      await c.end();
      expect(rows).toEqual([{ ssl: true }]);
      expect(await canLogin(viaPooler(tlsPooler, "shop_owner", "shop", { ssl: false }))).toMatch(/^refused:/);
    } finally {
      await stopPooler(tlsPooler);
    }
  });
});

describe("pgAdmin provisioning files", () => {
  let pg: PgInstance;

  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    await pg?.destroy();
  });

  it("the rendered pgpass logs libpq in, even with ':' and '\\' in the password", async () => {
    const pw = "pa:ss\\wo:rd-" + Math.random().toString(36).slice(2);
    await pg.sql(`CREATE ROLE pgpass_probe LOGIN PASSWORD '${pw.replace(/'/g, "''")}'`);
    const dir = tempDir("pgpass");
    const file = path.join(dir, "pgpass");
    writeFile(file, renderPgpass([{ host: "127.0.0.1", port: pg.port, database: "*", user: "pgpass_probe", password: pw }]), 0o600);
    try {
      const r = await run(pgBin("psql"), ["-X", "-w", "-h", "127.0.0.1", "-p", String(pg.port), "-U", "pgpass_probe", "-d", "postgres", "-tAc", "select current_user"], {
        env: { PGPASSFILE: file },
      });
      expect({ code: r.code, out: r.stdout.trim(), err: r.stderr }).toEqual({ code: 0, out: "pgpass_probe", err: "" });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the entrypoint wrapper installs the pgpass into the user's storage on every start and hands over", async () => {
    const dir = tempDir("pgadmin");
    const data = path.join(dir, "data");
    const source = path.join(dir, "pgpass");
    const stub = path.join(dir, "image-entrypoint.sh");
    writeFile(stub, '#!/bin/sh\necho "handed over: $*"\n', 0o755);
    const email = "ops@example.com";
    const script = path.join(dir, "wrapper.sh");
    writeFile(script, renderPgAdminEntrypoint({ email, pgpassSource: source, dataDir: data, imageEntrypoint: stub }), 0o755);
    const installed = path.join(data, "storage", pgadminStorageDirName(email), PASSFILE_IN_STORAGE.replace(/^\//, ""));
    try {
      for (const content of ["postgres:5432:*:postgres:first\n", "postgres:5432:*:postgres:rotated\n"]) {
        writeFile(source, content, 0o400);
        const r = await run("/bin/sh", [script, "gunicorn", "--flag"]);
        expect({ code: r.code, out: r.stdout.trim() }).toEqual({ code: 0, out: "handed over: gunicorn --flag" });
        expect(fs.readFileSync(installed, "utf8")).toBe(content);
        expect(fs.statSync(installed).mode & 0o777).toBe(0o600);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
