// postgres.external on real servers started outside the program (15 from Debian, 17
// from npm), each with TLS on and an admin that has CREATEROLE and CREATEDB
// and nothing else, as on RDS. As that admin, and never as a superuser, the test runs
// what `pulumi up` runs there: the provider's CREATE ROLE / CREATE DATABASE / GRANT /
// CREATE EXTENSION / CREATE SCHEMA / ALTER DEFAULT PRIVILEGES statements (the access
// model's SQL, without the cluster grants external mode skips) and, between the roles
// and the databases, the membership Command's script through psql. Then every role
// kind works, pgBouncer with the rendered auth file lets each app user in (and not a
// wrong password), and the refusals the config makes are what the server refuses.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Client, ClientConfig } from "pg";
import { accessModel, ownerMembershipShell, renderAccessSql, renderRotationLoginsSql } from "../../../components/apps";
import { parseConfig } from "../../../components/config";
import { TRUSTED_EXTENSIONS } from "../../../components/config/schema-external";
import { renderPgBouncerIni, renderUsersAuthFile } from "../../../components/pooler";
import { freePort, PgInstance, PgMajor, pgBinDir, requireBinary, run, ServerProcess, startPostgres, tempDir, waitFor, writeFile } from "../harness";
import { adminConsole, canLogin, PGBOUNCER } from "../pooler/fixture";
import { dumpTrustedExtensions } from "./trusted-dump";
import { createHash } from "crypto";

const ADMIN = "platform_admin";
const TLS: Partial<ClientConfig> = { ssl: { rejectUnauthorized: false } };

function selfSigned(dir: string): { cert: string; key: string } {
  const crt = path.join(dir, "server.crt");
  const key = path.join(dir, "server.key");
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
    "-subj", "/CN=db.example.com", "-keyout", key, "-out", crt,
  ], { stdio: "ignore" });
  return { cert: fs.readFileSync(crt, "utf8"), key: fs.readFileSync(key, "utf8") };
}


const MAJORS: PgMajor[] = [15, 17];
let servers: Partial<Record<PgMajor, Promise<PgInstance>>> | undefined;

/** Both servers start at once (the first beforeAll asks): most of their start is waiting on a busy machine. */
function startAll(): Partial<Record<PgMajor, Promise<PgInstance>>> {
  servers ??= Object.fromEntries(MAJORS.map((major) => [major, (async () => {
    const dir = tempDir("ext-tls");
    const tls = selfSigned(dir);
    fs.rmSync(dir, { recursive: true, force: true });
    return startPostgres({
      major,
      // no fsync: a throwaway cluster on a busy disk (CREATE DATABASE syncs a whole template otherwise)
      conf: { tls: { certFile: "tls/server.crt", keyFile: "tls/server.key" }, settings: { fsync: false } },
      extraFiles: { "tls/server.crt": tls.cert, "tls/server.key": tls.key },
      hbaTls: false,
      // nor of the fresh data directory (most of initdb's time)
      initdbArgs: ["--no-sync"],
    });
  })()]));
  return servers;
}

// 16 and 17 share the bounded CREATEROLE (16+); 15 is the other side of it
describe.each(MAJORS)("postgres.external on PostgreSQL %d, as an admin with CREATEROLE CREATEDB only", (major) => {
  let pg: PgInstance;
  let bouncer: { server: ServerProcess; port: number; dir: string } | undefined;
  const clients: Client[] = [];
  const passwords: Record<string, string> = { [ADMIN]: `admin-'"-${Math.random().toString(36).slice(2)}` };
  const config = parseConfig("dev", {
    postgres: { majorVersion: major, external: { host: "db.example.com", adminUser: ADMIN, adminPassword: passwords[ADMIN] } },
    pgbouncer: { enabled: false },
    apps: [
      { name: "shop", extensions: ["pgcrypto", "citext"], readonlyUsers: ["analytics"], readwriteUsers: ["writer"], schemas: ["sales"] },
      { name: "blog", extensions: ["uuid-ossp"] },
    ],
  });
  const model = accessModel(config.apps);
  for (const a of model) for (const r of a.roles) for (const l of r.logins) passwords[l.name] = `pw-${l.name}-${Math.random().toString(36).slice(2)}`;
  const psqlEnv = () => ({
    PATH: `${pgBinDir()}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    PGHOST: "127.0.0.1", PGPORT: String(pg.port), PGUSER: ADMIN, PGPASSWORD: passwords[ADMIN], PGDATABASE: "postgres", PGSSLMODE: "require", PGCONNECT_TIMEOUT: "30",
  });
  const as = async (user: string, database = "postgres"): Promise<Client> => {
    const c = await pg.connect({ user, password: passwords[user], database, ...TLS });
    clients.push(c);
    return c;
  };
  beforeAll(async () => {
    pg = await (startAll()[major] as Promise<PgInstance>);
    // the server's operator made this role; the superuser does nothing else from here on
    await pg.sql(`CREATE ROLE ${ADMIN} LOGIN CREATEROLE CREATEDB PASSWORD '${passwords[ADMIN].replace(/'/g, "''")}'`);

    const sql = renderAccessSql(model, passwords, []);
    const admin = await as(ADMIN);
    for (const stmt of sql.cluster) {
      const db = /^CREATE DATABASE "[^"]+" OWNER "([^"]+)"/.exec(stmt);
      if (db) {
        // AppDatabase: the membership Command runs after the roles, before the database
        const r = await run("/bin/sh", ["-c", ownerMembershipShell(db[1], major).create], { env: psqlEnv() });
        expect(r).toMatchObject({ code: 0, stderr: "" });
      }
      await admin.query(stmt);
    }
    // each role's second login (rotation.ts), as the provider makes it: CREATE, GRANT, ALTER ROLE SET ROLE
    for (const stmt of renderRotationLoginsSql(model, passwords)) await admin.query(stmt);
    for (const [database, stmts] of Object.entries(sql.perDatabase)) {
      const c = await as(ADMIN, database);
      for (const s of stmts) await c.query(s);
    }
  });

  afterAll(async () => {
    for (const c of clients) await c.end().catch(() => undefined);
    await bouncer?.server.stop("SIGTERM");
    if (bouncer) fs.rmSync(bouncer.dir, { recursive: true, force: true });
    await pg?.destroy();
  });

  it("did it all as a role that is not a superuser, and joined each owner with INHERIT (and SET, 16+)", async () => {
    const c = await as(ADMIN);
    const { rows: me } = await c.query("select rolsuper, rolcreaterole, rolcreatedb from pg_roles where rolname = current_user");
    expect(me).toEqual([{ rolsuper: false, rolcreaterole: true, rolcreatedb: true }]);
    const { rows } = await c.query("select r.rolname from pg_roles r where pg_has_role(current_user, r.oid, 'USAGE') and r.rolname like '%_owner' order by 1");
    expect(rows.map((r) => r.rolname)).toEqual(["blog_owner", "shop_owner"]);
    // the provider's isMemberOfRole (helpers.go): a row, with set_option on 16+, so its temporary GRANT/REVOKE around a Database, Schema or Grant is skipped
    const q = `SELECT 1 FROM pg_auth_members WHERE pg_get_userbyid(roleid) = $1 AND pg_get_userbyid(member) = $2${major >= 16 ? " AND set_option" : ""}`;
    expect((await c.query(q, ["shop_owner", ADMIN])).rowCount).toBe(1);
  });

  it("made each role's second login as that admin: it logs in and acts as the role (rotation without a superuser)", async () => {
    const b = await as("shop_owner_b", "shop");
    expect((await b.query("select current_user, session_user")).rows[0]).toEqual({ current_user: "shop_owner", session_user: "shop_owner_b" });
    await b.query("create table public.rotated (id int)");
    const { rows } = await b.query("select tableowner from pg_tables where tablename = 'rotated'");
    expect(rows).toEqual([{ tableowner: "shop_owner" }]);
    await b.query("drop table public.rotated");
  });

  it("made the databases, owned by the apps' owners, closed to PUBLIC, with the extensions and schema", async () => {
    const c = await as(ADMIN);
    const { rows } = await c.query("select datname, pg_get_userbyid(datdba) as owner, datacl::text from pg_database where datname in ('shop', 'blog') order by 1");
    expect(rows.map((r) => [r.datname, r.owner])).toEqual([["blog", "blog_owner"], ["shop", "shop_owner"]]);
    for (const r of rows) expect(r.datacl).not.toMatch(/(^|[{,])=/); // no PUBLIC entry
    const shop = await as("shop_owner", "shop");
    const ext = await shop.query("select extname from pg_extension where extname <> 'plpgsql' order by 1");
    expect(ext.rows.map((r) => r.extname)).toEqual(["citext", "pgcrypto"]);
    expect((await shop.query("select 'A'::citext = 'a'::citext as eq, length(gen_random_uuid()::text) as n")).rows[0]).toEqual({ eq: true, n: 36 });
    const sc = await shop.query("select pg_get_userbyid(nspowner) as owner from pg_namespace where nspname = 'sales'");
    expect(sc.rows).toEqual([{ owner: "shop_owner" }]);
  });

  it("gives each role kind what it should have, and tables made later too (default privileges)", async () => {
    const owner = await as("shop_owner", "shop");
    await owner.query("create table public.orders (id serial primary key, note text); create table sales.leads (id serial primary key)");
    const reader = await as("shop_analytics", "shop");
    const writer = await as("shop_writer", "shop");
    await writer.query("insert into public.orders (note) values ('w'); insert into sales.leads default values");
    expect((await reader.query("select count(*)::int as n from public.orders")).rows[0].n).toBe(1);
    expect((await reader.query("select count(*)::int as n from sales.leads")).rows[0].n).toBe(1);
    await expect(reader.query("insert into public.orders (note) values ('r')")).rejects.toThrow(/permission denied/);
    await expect(writer.query("create table public.nope (x int)")).rejects.toThrow(/permission denied/);
    // another app's owner may not even connect
    await expect(pg.connect({ user: "blog_owner", password: passwords.blog_owner, database: "shop", ...TLS })).rejects.toThrow(/permission denied/);
  });

  it("refuses what the config refuses: untrusted extensions (the committed list is this server's), and pg_monitor on 16+", async () => {
    expect([...(TRUSTED_EXTENSIONS[major] ?? [])]).toEqual(await dumpTrustedExtensions(pg));
    const c = await as(ADMIN, "blog");
    await expect(c.query("create extension pg_stat_statements")).rejects.toThrow(/permission denied to create extension/);
    const admin = await as(ADMIN);
    await admin.query("create role probe_monitor");
    const grant = admin.query("grant pg_monitor to probe_monitor");
    if (major >= 16) await expect(grant).rejects.toThrow(/permission denied to grant role "pg_monitor"/);
    else await grant; // 15: CREATEROLE grants any non-superuser role (why db_admin has no CREATEROLE on 15)
    await admin.query("drop role probe_monitor");
  });

  it("lets each app user in through pgBouncer with the rendered auth file (TLS to the server), and no one else", async () => {
    requireBinary(PGBOUNCER, "pgbouncer");
    const dir = tempDir("ext-pgbouncer");
    const port = await freePort();
    const authFile = path.join(dir, "auth-users.txt");
    const users = model.flatMap((a) => a.roles.map((r) => ({ user: r.name, password: passwords[r.name] })));
    const authText = renderUsersAuthFile(users);
    writeFile(authFile, authText, 0o400);
    writeFile(path.join(dir, "pgbouncer.ini"), renderPgBouncerIni({
      databases: model.map((a) => a.database.name),
      server: { host: "127.0.0.1", port: pg.port, tls: { sslmode: "require" } },
      listen: { addr: "127.0.0.1", port, unixSocketDir: dir },
      pool: { mode: "transaction", defaultPoolSize: 5, maxClientConn: 100 },
      authFile,
      authLookup: false,
      authFileDigest: createHash("sha256").update(authText).digest("hex"),
      version: { major: 1, minor: 18, patch: 0 },
    }), 0o644);
    const server = new ServerProcess(PGBOUNCER, [path.join(dir, "pgbouncer.ini")]);
    bouncer = { server, port, dir };
    await waitFor(`pgbouncer on ${port}`, async () => (await adminConsole({ dir, port }, "SHOW VERSION")).code === 0, 15_000, server);
    const via = (user: string, database: string, password = passwords[user]) => new Client({ host: "127.0.0.1", port, user, password, database });
    for (const [user, database] of [["shop_owner", "shop"], ["shop_analytics", "shop"], ["shop_writer", "shop"], ["blog_owner", "blog"]]) {
      expect(await canLogin(via(user, database))).toBe(`${user}@${database}`);
    }
    expect(await canLogin(via("shop_writer", "shop", "wrong-password"))).toMatch(/^refused: .*(password|SASL) authentication failed/);
    // the admin is not in the auth file: the pooler is for the apps
    expect(await canLogin(via(ADMIN, "shop", passwords[ADMIN]))).toMatch(/^refused: /);
    const c = await as(ADMIN);
    const { rows } = await c.query("select bool_and(s.ssl) as tls, count(*)::int as n from pg_stat_ssl s join pg_stat_activity a using (pid) where a.usename like 'shop_%' or a.usename like 'blog_%'");
    expect(rows[0]).toEqual({ tls: true, n: expect.any(Number) });
    expect(rows[0].n).toBeGreaterThan(0);
  });

  it("without the membership (its delete script run) the admin can no longer act in the app's database: the membership is what makes it work", async () => {
    const r = await run("/bin/sh", ["-c", ownerMembershipShell("blog_owner", major).delete], { env: psqlEnv() });
    expect(r).toMatchObject({ code: 0, stderr: "" });
    // PUBLIC has no CONNECT there: the admin reached the database only as a member of its owner
    await expect(pg.connect({ user: ADMIN, password: passwords[ADMIN], database: "blog", ...TLS })).rejects.toThrow(/permission denied for database "blog"/);
    // and the provider's database Grant (no temporary membership for "database") fails
    const c = await as(ADMIN);
    await expect(c.query("grant connect on database blog to shop_analytics")).rejects.toThrow(/permission denied for database/);
    // run again, it is a no-op (the delete survives a second run, e.g. a retried destroy)
    expect(await run("/bin/sh", ["-c", ownerMembershipShell("blog_owner", major).delete], { env: psqlEnv() })).toMatchObject({ code: 0 });
  });
});
