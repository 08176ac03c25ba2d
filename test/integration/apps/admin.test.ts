// The admin role for people, rendered by the program (adminModel → renderAdminSql)
// on top of the apps' access SQL, on real PostgreSQL 15 and 17: what it may do
// (create databases, manage the apps' tables, watch the server) and the ways to
// the superuser it must not have. 15 and 17 differ: CREATEROLE only exists on 16+.
import { Client } from "pg";
import { adminModel, renderAdminSql } from "../../../components/apps/admin";
import { accessModel, renderAccessSql } from "../../../components/apps/access";
import { parseConfig } from "../../../components/config";
import { applyAccessSql, PgInstance, PgMajor, startPostgres } from "../harness";

const config = parseConfig("dev", { apps: [{ name: "shop", readwriteUsers: ["writer"] }, { name: "blog" }] });

describe.each([15, 17] as PgMajor[])("admin role on PostgreSQL %d", (major) => {
  let pg: PgInstance;
  const passwords: Record<string, string> = {};
  const clients: Client[] = [];
  const admin = adminModel(major, config.apps);

  const as = async (user: string, database = "postgres"): Promise<Client> => {
    const c = await pg.connect({ user, password: passwords[user], database });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    pg = await startPostgres({ major });
    const model = accessModel(config.apps);
    for (const a of model) for (const r of a.roles) passwords[r.name] = `pw-${r.name}-${Math.random().toString(36).slice(2)}`;
    passwords[admin.name] = `admin-'"\\-${Math.random().toString(36).slice(2)}`;
    await applyAccessSql(pg, renderAccessSql(model, passwords));
    for (const s of renderAdminSql(admin, passwords[admin.name])) await pg.sql(s);
    // a table the app's owner made before anyone looked
    const owner = await as("shop_owner", "shop");
    await owner.query("create table orders (id serial primary key, note text)");
  });

  afterAll(async () => {
    for (const c of clients) await c.end().catch(() => undefined);
    await pg?.destroy();
  });

  it("is a login role with CREATEDB, never SUPERUSER, REPLICATION or BYPASSRLS; CREATEROLE on 16+ only", async () => {
    const c = await pg.connect();
    const { rows } = await c.query("select rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolconnlimit from pg_roles where rolname = $1", [admin.name]);
    await c.end();
    expect(rows).toEqual([
      { rolcanlogin: true, rolsuper: false, rolcreatedb: true, rolcreaterole: major >= 16, rolreplication: false, rolbypassrls: false, rolconnlimit: 10 },
    ]);
  });

  it("logs in to the maintenance database (pgAdmin's) and creates a database it then owns", async () => {
    const c = await as(admin.name);
    await c.query("create database made_by_admin");
    const { rows } = await c.query("select pg_get_userbyid(datdba) as owner from pg_database where datname = 'made_by_admin'");
    expect(rows[0].owner).toBe(admin.name);
  });

  it("manages every app's tables as a member of the owners: DML, DDL, SET ROLE", async () => {
    const c = await as(admin.name, "shop");
    await c.query("insert into orders (note) values ('by admin')");
    await c.query("alter table orders add column shipped boolean");
    await c.query("set role shop_owner");
    await c.query("create table made_as_owner (id int)");
    const { rows } = await c.query("select pg_get_userbyid(relowner) as owner from pg_class where relname = 'made_as_owner'");
    expect(rows[0].owner).toBe("shop_owner");
    await c.query("reset role");
    const blog = await as(admin.name, "blog");
    await blog.query("create table posts (id int)");
  });

  it("watches the server through pg_monitor", async () => {
    const c = await as(admin.name);
    const { rows } = await c.query("select setting from pg_settings where name = 'data_directory'");
    expect(rows[0].setting).toBe(pg.dataDir);
  });

  it("cannot read or write the server's files, nor run programs", async () => {
    const c = await as(admin.name, "shop");
    await expect(c.query("select pg_read_file('PG_VERSION')")).rejects.toThrow(/permission denied for function pg_read_file/);
    await expect(c.query("copy orders from '/etc/passwd'")).rejects.toThrow(/permission denied to COPY from a file|must be superuser or .*pg_read_server_files/);
    await expect(c.query("copy orders to '/tmp/hlpg-admin-out'")).rejects.toThrow(/permission denied to COPY to a file|must be superuser or .*pg_write_server_files/);
    await expect(c.query("copy orders from program 'id'")).rejects.toThrow(/permission denied to COPY to or from an external program|must be superuser or .*pg_execute_server_program/);
  });

  it("cannot become a superuser or join the roles that reach files and programs", async () => {
    const c = await as(admin.name);
    await expect(c.query(`alter role ${admin.name} superuser`)).rejects.toThrow(/permission denied|must be superuser/);
    for (const r of ["pg_execute_server_program", "pg_read_server_files", "pg_write_server_files", "postgres"]) {
      await expect(c.query(`grant ${r} to ${admin.name}`)).rejects.toThrow(/permission denied|must have admin option|must be superuser/);
    }
    await expect(c.query("set role postgres")).rejects.toThrow(/permission denied to set role "postgres"/);
  });

  it("cannot alter or drop the superuser", async () => {
    const c = await as(admin.name);
    await expect(c.query("alter role postgres password 'taken-over'")).rejects.toThrow(/permission denied|must be superuser/);
    await expect(c.query("alter role postgres nologin")).rejects.toThrow(/permission denied|must be superuser/);
    await expect(c.query("drop role postgres")).rejects.toThrow(/permission denied|must be superuser|current user cannot be dropped/);
  });

  if (major >= 16) {
    it("creates and alters its own roles, but not roles it did not create (the app roles)", async () => {
      const c = await as(admin.name);
      await c.query("create role reporting_tool login password 'x-0123456789'");
      await c.query("alter role reporting_tool connection limit 3");
      await expect(c.query("alter role shop_owner password 'taken-over'")).rejects.toThrow(/permission denied to alter role/);
      await expect(c.query("alter role shop_writer nologin")).rejects.toThrow(/permission denied to alter role/);
      await expect(c.query("drop role blog_owner")).rejects.toThrow(/permission denied to drop role/);
      // nor give its own roles more than it has
      await expect(c.query("create role sneaky superuser")).rejects.toThrow(/permission denied to create role/);
      await expect(c.query("create role sneaky2 replication")).rejects.toThrow(/permission denied to create role/);
    });
  } else {
    it("creates no roles on 15, where CREATEROLE could grant itself any predefined role", async () => {
      const c = await as(admin.name);
      await expect(c.query("create role reporting_tool login")).rejects.toThrow(/permission denied to create role/);
      await expect(c.query("alter role shop_owner password 'taken-over'")).rejects.toThrow(/permission denied|must have CREATEROLE/);
    });
  }

  it("refuses a wrong password", async () => {
    await expect(pg.connect({ user: admin.name, password: "wrong", database: "postgres" })).rejects.toThrow(/password authentication failed/);
  });
});
