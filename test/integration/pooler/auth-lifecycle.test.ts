// `pulumi destroy` and `pgbouncer.enabled: true → false` on a real PostgreSQL 15.
// The per-database auth Commands' create and delete strings run the way
// command.local.Command runs them (/bin/sh -c, the component's PG* environment);
// then the postgresql provider's role delete runs statement for statement. Without
// the delete scripts DROP ROLE fails on the privileges the auth role holds in the
// app databases; with them it succeeds. The delete is idempotent and safe on a
// database that is gone, after a failed create, and without the role.
import { Client } from "pg";
import { parseConfig } from "../../../components/config";
import { accessModel } from "../../../components/apps/access";
import {
  AUTH_MARKER,
  authPsqlCommand,
  PGBOUNCER_AUTH_ROLE,
  renderAuthCreateScript,
  renderAuthRemoveScript,
  renderAuthRoleSql,
} from "../../../components/pooler";
import { PgInstance, RunResult } from "../harness";
import { canLogin, providerDropRole, runCommand, startPostgresForPooler, WrappedPooler } from "./fixture";

const cfg = parseConfig("dev", { apps: [{ name: "shop" }, { name: "blog-engine", readonlyUsers: ["analytics"] }] });
const model = accessModel(cfg.apps);
const roles = model.flatMap((a) => a.roles.map((r) => ({ role: r.name, database: a.database.name })));
const passwords: Record<string, string> = Object.fromEntries(roles.map((r) => [r.role, `pw-${r.role}-${Math.random().toString(36).slice(2)}`]));
const AUTH_PASSWORD = `auth-${Math.random().toString(36).slice(2)}`;
const DEPENDS = /role "pgbouncer_auth" cannot be dropped because some objects depend on it/;

/** The component's create / delete command for one database. */
const create = (db: string) => authPsqlCommand(renderAuthCreateScript(db));
const remove = (db: string) => authPsqlCommand(renderAuthRemoveScript(db));
const ok = (r: RunResult) => ({ code: r.code, stderr: r.stderr });

describe("the auth lookup's lifecycle and the provider's role delete", () => {
  let pg: PgInstance;

  /** One value from one database, as the superuser. */
  async function query<T>(database: string, sql: string): Promise<T> {
    const c = await pg.connect({ database });
    try {
      return (await c.query(sql)).rows[0] as T;
    } finally {
      await c.end();
    }
  }
  /** What is left of the lookup in a database, and whether the database's ACL still names the auth role. */
  const footprint = (db: string) =>
    query<Record<string, unknown>>(
      db,
      `SELECT to_regprocedure('pgbouncer.get_auth(text)') IS NOT NULL AS function,
              EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'pgbouncer') AS schema,
              EXISTS (SELECT 1 FROM pg_database d, aclexplode(d.datacl) a JOIN pg_roles r ON r.oid = a.grantee
                      WHERE d.datname = current_database() AND r.rolname = '${PGBOUNCER_AUTH_ROLE}') AS connect`,
    );

  beforeAll(async () => {
    pg = await startPostgresForPooler(model, passwords, AUTH_PASSWORD);
  });

  afterAll(async () => {
    await pg?.destroy();
  });

  it("installs the lookup per database with the component's create commands, marked as ours", async () => {
    for (const db of ["shop", "blog_engine"]) expect(ok(await runCommand(pg, create(db)))).toEqual({ code: 0, stderr: "" });
    for (const db of ["shop", "blog_engine"]) {
      expect(
        await query(db, "SELECT obj_description(to_regprocedure('pgbouncer.get_auth(text)'), 'pg_proc') AS fn, obj_description('pgbouncer'::regnamespace, 'pg_namespace') AS ns"),
      ).toEqual({ fn: AUTH_MARKER, ns: AUTH_MARKER });
      expect(await footprint(db)).toEqual({ function: true, schema: true, connect: true });
    }
  });

  it("without the delete scripts, the provider's role delete fails (the check is live)", async () => {
    const err = await providerDropRole(pg, PGBOUNCER_AUTH_ROLE).then(
      () => undefined,
      (e: Error & { detail?: string }) => e,
    );
    expect(err?.message).toMatch(DEPENDS);
    // DROP OWNED ran in `postgres` only: what blocks is in the app databases
    expect(err?.detail).toMatch(/objects? in database shop/);
    expect(err?.detail).toMatch(/objects? in database blog_engine/);
    expect(await query("postgres", `SELECT count(*)::int AS n FROM pg_roles WHERE rolname = '${PGBOUNCER_AUTH_ROLE}'`)).toEqual({ n: 1 });
  });

  it("removing one app's lookup leaves the other app's pooled logins working", async () => {
    const pooler = await WrappedPooler.start(pg, AUTH_PASSWORD, { databases: ["shop", "blog_engine"], mode: "transaction", defaultPoolSize: 5, maxClientConn: 100 });
    const login = (role: string, database: string) =>
      canLogin(new Client({ host: "127.0.0.1", port: pooler.port, user: role, password: passwords[role], database }));
    try {
      expect(await login("blog_engine_owner", "blog_engine")).toBe("blog_engine_owner@blog_engine");
      expect(ok(await runCommand(pg, remove("blog_engine")))).toEqual({ code: 0, stderr: "" });
      expect(await footprint("blog_engine")).toEqual({ function: false, schema: false, connect: false });
      expect(await footprint("shop")).toEqual({ function: true, schema: true, connect: true });
      expect(await login("shop_owner", "shop")).toBe("shop_owner@shop");
      // the removed database's lookup is gone for good: pgBouncer cannot log a new role in there
      expect(await login("blog_engine_analytics", "blog_engine")).toMatch(/^refused:/);
    } finally {
      await pooler.stop();
    }
  });

  it("keeps a schema that holds other objects, but takes the auth role's access to it away", async () => {
    await pg.sql("CREATE TABLE pgbouncer.kept (id int)", "shop");
    expect(ok(await runCommand(pg, remove("shop")))).toEqual({ code: 0, stderr: "" });
    expect(await footprint("shop")).toEqual({ function: false, schema: true, connect: false });
    expect(await query("shop", `SELECT has_schema_privilege('${PGBOUNCER_AUTH_ROLE}', 'pgbouncer', 'USAGE') AS usage, to_regclass('pgbouncer.kept') IS NOT NULL AS kept`)).toEqual({
      usage: false,
      kept: true,
    });
  });

  it("after the delete scripts (run twice: idempotent), the provider's role delete succeeds", async () => {
    for (let i = 0; i < 2; i++) {
      for (const db of ["shop", "blog_engine"]) expect(ok(await runCommand(pg, remove(db)))).toEqual({ code: 0, stderr: "" });
    }
    await expect(providerDropRole(pg, PGBOUNCER_AUTH_ROLE)).resolves.toBeUndefined();
    expect(await query("postgres", `SELECT count(*)::int AS n FROM pg_roles WHERE rolname = '${PGBOUNCER_AUTH_ROLE}'`)).toEqual({ n: 0 });
  });

  it("the delete succeeds without the role, on a database that is gone, and after a failed create", async () => {
    // the role is gone now (destroy ran the role delete; a retried delete must not fail)
    expect(ok(await runCommand(pg, remove("shop")))).toEqual({ code: 0, stderr: "" });
    await pg.sql(renderAuthRoleSql(PGBOUNCER_AUTH_ROLE, AUTH_PASSWORD));
    // a database that never existed, and one dropped under the lookup
    expect(ok(await runCommand(pg, remove("never_there")))).toEqual({ code: 0, stderr: "" });
    await pg.sql("CREATE DATABASE dropped_app");
    expect((await runCommand(pg, create("dropped_app"))).code).toBe(0);
    await pg.sql("DROP DATABASE dropped_app");
    expect(ok(await runCommand(pg, remove("dropped_app")))).toEqual({ code: 0, stderr: "" });
    // a create the guard refused (an app role's own `pgbouncer` schema): nothing of ours
    // is there, and the delete leaves the app's schema alone
    await pg.sql("CREATE DATABASE trap OWNER shop_owner");
    const c = await pg.connect({ user: "shop_owner", password: passwords.shop_owner, database: "trap" });
    await c.query("CREATE SCHEMA pgbouncer");
    await c.end();
    const refused = await runCommand(pg, create("trap"));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/not owned by a superuser/);
    expect(ok(await runCommand(pg, remove("trap")))).toEqual({ code: 0, stderr: "" });
    expect(await query("trap", "SELECT pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = 'pgbouncer'")).toEqual({ owner: "shop_owner" });
    await expect(providerDropRole(pg, PGBOUNCER_AUTH_ROLE)).resolves.toBeUndefined();
  });

  it("adopts and removes the unmarked lookup an earlier version installed, never an operator's schema", async () => {
    await pg.sql(renderAuthRoleSql(PGBOUNCER_AUTH_ROLE, AUTH_PASSWORD));
    await pg.sql("CREATE DATABASE legacy_app");
    await pg.sql("CREATE DATABASE operator_app");
    for (const db of ["legacy_app", "operator_app"]) expect((await runCommand(pg, create(db))).code).toBe(0);
    // what the single auth-setup command of earlier versions left: the same objects, no comments
    for (const db of ["legacy_app", "operator_app"]) {
      await pg.sql("COMMENT ON SCHEMA pgbouncer IS NULL; COMMENT ON FUNCTION pgbouncer.get_auth(text) IS NULL", db);
    }
    // an operator keeps something of their own in operator_app's schema
    await pg.sql("CREATE TABLE pgbouncer.notes (t text)", "operator_app");
    for (const db of ["legacy_app", "operator_app"]) expect((await runCommand(pg, create(db))).code).toBe(0);
    expect(await query("legacy_app", "SELECT obj_description('pgbouncer'::regnamespace, 'pg_namespace') AS ns")).toEqual({ ns: AUTH_MARKER });
    expect(await query("operator_app", "SELECT obj_description('pgbouncer'::regnamespace, 'pg_namespace') AS ns")).toEqual({ ns: null });
    for (const db of ["legacy_app", "operator_app"]) expect(ok(await runCommand(pg, remove(db)))).toEqual({ code: 0, stderr: "" });
    expect(await footprint("legacy_app")).toEqual({ function: false, schema: false, connect: false });
    expect(await footprint("operator_app")).toEqual({ function: false, schema: true, connect: false });
    await expect(providerDropRole(pg, PGBOUNCER_AUTH_ROLE)).resolves.toBeUndefined();
  });
});
