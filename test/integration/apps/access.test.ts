// The access model, rendered to SQL, applied to a real PostgreSQL 15; then every
// role logs in and we check what it can and cannot do.
import { Client } from "pg";
import { parseConfig } from "../../../components/config";
import { AppAccess, accessModel, renderAccessSql } from "../../../components/apps/access";
import { applyAccessSql, PgInstance, startPostgres } from "../harness";

const config = parseConfig("dev", {
  apps: [
    { name: "shop", extensions: ["uuid-ossp"] },
    { name: "n8n-main", extensions: ["pg_trgm", "pg_stat_statements"] },
    { name: "reports", readonlyUsers: ["analyst"] },
  ],
});

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
    await applyAccessSql(pg, sql);
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
    expect(rows.map((r) => r.rolname)).toEqual(["n8n_main_owner", "reports_analyst", "reports_owner", "shop_owner"]);
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
});
