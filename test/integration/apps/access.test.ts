// The access model, rendered to SQL, applied to a real PostgreSQL 15; then every
// role logs in and we check what it can and cannot do. Some tables exist before
// the grants run (an app that had its database before a user was added), others
// are created after: both must give the extra users exactly their privileges.
import { Client } from "pg";
import { parseConfig } from "../../../components/config";
import { AppAccess, accessModel, renderAccessSql } from "../../../components/apps/access";
import { PgInstance, startPostgres } from "../harness";

const config = parseConfig("dev", {
  apps: [
    { name: "shop", extensions: ["uuid-ossp"] },
    { name: "n8n-main", extensions: ["pg_trgm", "pg_stat_statements"] },
    { name: "reports", readonlyUsers: ["analyst"] },
    { name: "crm", readonlyUsers: ["viewer"], readwriteUsers: ["worker"], schemas: ["audit"], databaseConnectionLimit: 25 },
    // a database limit small enough to reach: 2 per role, 3 for the database
    { name: "tiny", connectionLimit: 2, databaseConnectionLimit: 3, readwriteUsers: ["w"] },
  ],
  pgbouncer: { defaultPoolSize: 2 },
});

/** Tables (with a serial's sequence) the owner had before any grant ran, in both of crm's schemas. */
const BEFORE_GRANTS = ["create table public.early (id serial primary key, note text)", "create table audit.early (id serial primary key, note text)"];

describe("access model on PostgreSQL 15", () => {
  let pg: PgInstance;
  let model: AppAccess[];
  const passwords: Record<string, string> = {};
  const clients: Client[] = [];

  const as = async (user: string, database: string): Promise<Client> => {
    const c = await pg.connect({ user, password: passwords[user], database });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    pg = await startPostgres();
    model = accessModel(config.apps);
    for (const a of model) for (const r of a.roles) passwords[r.name] = `pw-${r.name}-'"\\-${Math.random().toString(36).slice(2)}`;
    passwords.stranger = "stranger-password-0123456789";
    const sql = renderAccessSql(model, passwords);
    for (const stmt of sql.cluster) await pg.sql(stmt);
    for (const [db, stmts] of Object.entries(sql.perDatabase)) {
      // objects first (extensions, schemas), then the app's own tables, then grants
      const creates = stmts.filter((x) => x.startsWith("CREATE "));
      for (const stmt of creates) await pg.sql(stmt, db);
      if (db === "crm") {
        const owner = await pg.connect({ user: "crm_owner", password: passwords.crm_owner, database: "crm" });
        for (const stmt of BEFORE_GRANTS) await owner.query(stmt);
        await owner.end();
      }
      for (const stmt of stmts.filter((x) => !creates.includes(x))) await pg.sql(stmt, db);
    }
    // a login role nobody granted anything: stands for PUBLIC
    await pg.sql(`CREATE ROLE stranger LOGIN PASSWORD '${passwords.stranger}'`);
  });

  afterAll(async () => {
    for (const c of clients) await c.end().catch(() => undefined);
    await pg?.destroy();
  });

  it("creates the roles with login and no escalating attributes", async () => {
    const c = await pg.connect();
    const { rows } = await c.query(
      "select rolname, rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls from pg_roles where rolname = any($1) order by 1",
      [Object.keys(passwords).filter((k) => k !== "stranger")],
    );
    await c.end();
    expect(rows.map((r) => r.rolname)).toEqual([
      "crm_owner", "crm_viewer", "crm_worker", "n8n_main_owner", "reports_analyst", "reports_owner", "shop_owner", "tiny_owner", "tiny_w",
    ]);
    for (const r of rows) {
      expect(r).toMatchObject({ rolcanlogin: true, rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolreplication: false, rolbypassrls: false });
    }
  });

  it("lets each owner create tables and write in its own database (hyphenated app included)", async () => {
    for (const [user, db] of [["shop_owner", "shop"], ["n8n_main_owner", "n8n_main"], ["reports_owner", "reports"]]) {
      const c = await as(user, db);
      await c.query("create table owned_by_app (id serial primary key, note text)");
      await c.query("insert into owned_by_app (note) values ('hello')");
      const { rows } = await c.query("select count(*)::int as n from owned_by_app");
      expect(rows[0].n).toBe(1);
    }
  });

  it("refuses app roles in postgres and template1", async () => {
    for (const db of ["postgres", "template1"]) {
      await expect(as("shop_owner", db)).rejects.toThrow(/permission denied for database/);
      await expect(as("reports_analyst", db)).rejects.toThrow(/permission denied for database/);
    }
  });

  it("refuses an owner in another app's database", async () => {
    await expect(as("shop_owner", "n8n_main")).rejects.toThrow(/permission denied for database "n8n_main"/);
    await expect(as("n8n_main_owner", "reports")).rejects.toThrow(/permission denied for database "reports"/);
    await expect(as("reports_analyst", "shop")).rejects.toThrow(/permission denied for database "shop"/);
  });

  it("refuses PUBLIC (any other login role) in every app database and the maintenance databases", async () => {
    for (const db of ["shop", "n8n_main", "reports", "postgres", "template1"]) {
      await expect(as("stranger", db)).rejects.toThrow(/permission denied for database/);
    }
  });

  it("lets the read-only user SELECT a table created after the grants, and nothing more", async () => {
    const owner = await as("reports_owner", "reports");
    await owner.query("create table later (id int)");
    await owner.query("insert into later values (1), (2)");
    const ro = await as("reports_analyst", "reports");
    const { rows } = await ro.query("select count(*)::int as n from later");
    expect(rows[0].n).toBe(2);
    await expect(ro.query("insert into later values (3)")).rejects.toThrow(/permission denied for table later/);
    await expect(ro.query("delete from later")).rejects.toThrow(/permission denied/);
    await expect(ro.query("create table mine (id int)")).rejects.toThrow(/permission denied for schema public/);
  });

  it("refuses a wrong password", async () => {
    await expect(pg.connect({ user: "shop_owner", password: "wrong", database: "shop" })).rejects.toThrow(/password authentication failed/);
  });

  it("creates the requested extensions, for real, in the app's database only", async () => {
    const ext = async (db: string) => {
      const c = await pg.connect({ database: db });
      const { rows } = await c.query("select extname from pg_extension where extname <> 'plpgsql' order by 1");
      await c.end();
      return rows.map((r) => r.extname);
    };
    expect(await ext("shop")).toEqual(["uuid-ossp"]);
    expect(await ext("n8n_main")).toEqual(["pg_stat_statements", "pg_trgm"]);
    expect(await ext("reports")).toEqual([]);
    const c = await as("shop_owner", "shop");
    const { rows } = await c.query("select uuid_generate_v4() is not null as ok");
    expect(rows[0].ok).toBe(true);
  });

  describe("read-write users and extra schemas", () => {
    beforeAll(async () => {
      const owner = await as("crm_owner", "crm");
      await owner.query("create table public.late (id serial primary key, note text)");
      await owner.query("create table audit.late (id bigint generated always as identity primary key, note text)");
    });

    it("creates the extra schema owned by the app's owner, with nothing for PUBLIC", async () => {
      const c = await pg.connect({ database: "crm" });
      const { rows } = await c.query("select pg_get_userbyid(nspowner) as owner, has_schema_privilege('public', oid, 'USAGE') as pub from pg_namespace where nspname = 'audit'");
      await c.end();
      expect(rows).toEqual([{ owner: "crm_owner", pub: false }]);
    });

    it.each(["public.early", "audit.early", "public.late", "audit.late"])("lets the read-write user SELECT, INSERT (through the sequence), UPDATE, DELETE on %s", async (table) => {
      const w = await as("crm_worker", "crm");
      const ins = await w.query(`insert into ${table} (note) values ('w') returning id`);
      expect(Number(ins.rows[0].id)).toBeGreaterThan(0);
      await w.query(`update ${table} set note = 'w2' where id = $1`, [ins.rows[0].id]);
      const { rows } = await w.query(`select note from ${table} where id = $1`, [ins.rows[0].id]);
      expect(rows).toEqual([{ note: "w2" }]);
      await w.query(`delete from ${table} where id = $1`, [ins.rows[0].id]);
      await w.query(`insert into ${table} (note) values ('kept')`);
    });

    it("gives the read-write user no DDL: no CREATE in either schema, no ALTER, DROP or TRUNCATE", async () => {
      const w = await as("crm_worker", "crm");
      await expect(w.query("create table public.mine (id int)")).rejects.toThrow(/permission denied for schema public/);
      await expect(w.query("create table audit.mine (id int)")).rejects.toThrow(/permission denied for schema audit/);
      await expect(w.query("alter table public.early add column x int")).rejects.toThrow(/must be owner of table early/);
      await expect(w.query("drop table audit.late")).rejects.toThrow(/must be owner of table late/);
      await expect(w.query("truncate public.late")).rejects.toThrow(/permission denied for table late/);
      await expect(w.query("create schema mine")).rejects.toThrow(/permission denied for database crm/);
    });

    it("lets the read-only user SELECT in the extra schema, before and after the grants, and write nothing", async () => {
      const r = await as("crm_viewer", "crm");
      for (const table of ["public.early", "audit.early", "public.late", "audit.late"]) {
        const { rows } = await r.query(`select count(*)::int as n from ${table}`);
        expect(rows[0].n).toBeGreaterThan(0);
        await expect(r.query(`insert into ${table} (note) values ('r')`)).rejects.toThrow(/permission denied for table/);
      }
      await expect(r.query("create table audit.mine (id int)")).rejects.toThrow(/permission denied for schema audit/);
    });

    it("keeps each app's users in their own database", async () => {
      await expect(as("crm_worker", "shop")).rejects.toThrow(/permission denied for database "shop"/);
      await expect(as("tiny_w", "crm")).rejects.toThrow(/permission denied for database "crm"/);
    });

    it("sets the database's CONNECTION LIMIT, and it holds across the app's roles", async () => {
      const c = await pg.connect();
      const { rows } = await c.query("select datname, datconnlimit from pg_database where datname in ('crm', 'tiny', 'shop') order by 1");
      await c.end();
      expect(rows).toEqual([{ datname: "crm", datconnlimit: 25 }, { datname: "shop", datconnlimit: -1 }, { datname: "tiny", datconnlimit: 3 }]);
      // 2 as the owner (its own limit) + 1 as the writer = the database's 3; a 4th is refused
      await as("tiny_owner", "tiny");
      await as("tiny_owner", "tiny");
      await expect(as("tiny_owner", "tiny")).rejects.toThrow(/too many connections for role "tiny_owner"/);
      await as("tiny_w", "tiny");
      await expect(as("tiny_w", "tiny")).rejects.toThrow(/too many connections for database "tiny"/);
    });
  });
});
