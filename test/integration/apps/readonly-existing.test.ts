// A read-only user must read the tables that exist BEFORE its grants run, not
// only the ones created after (default privileges cover those, and nothing else):
// the app's tables are usually there long before someone adds `readonlyUsers`.
import { Client } from "pg";
import { parseConfig } from "../../../components/config";
import { accessModel, AccessSql, renderAccessSql } from "../../../components/apps/access";
import { PgInstance, startPostgres } from "../harness";

describe("read-only users on tables that already exist (PostgreSQL 15)", () => {
  let pg: PgInstance;
  const passwords: Record<string, string> = {};
  const clients: Client[] = [];

  const as = async (user: string, database: string): Promise<Client> => {
    const c = await pg.connect({ user, password: passwords[user], database });
    clients.push(c);
    return c;
  };
  const sqlFor = (apps: { name: string; readonlyUsers?: string[] }[]): AccessSql => {
    const model = accessModel(parseConfig("dev", { apps }).apps);
    for (const a of model) for (const r of a.roles) passwords[r.name] ??= `pw-${r.name}-${Math.random().toString(36).slice(2)}`;
    return renderAccessSql(model, passwords);
  };
  const seed = async (user: string, db: string) => {
    const owner = await as(user, db);
    await owner.query("create table existing (id int primary key, note text)");
    await owner.query("insert into existing values (1, 'one'), (2, 'two')");
    await owner.query("create view existing_view as select id from existing");
  };
  const expectReadOnly = async (user: string, db: string) => {
    const ro = await as(user, db);
    expect((await ro.query("select count(*)::int as n from existing")).rows[0].n).toBe(2);
    expect((await ro.query("select count(*)::int as n from existing_view")).rows[0].n).toBe(2);
    await expect(ro.query("insert into existing values (3, 'three')")).rejects.toThrow(/permission denied for table existing/);
    await expect(ro.query("update existing set note = 'x'")).rejects.toThrow(/permission denied for table existing/);
    await expect(ro.query("delete from existing")).rejects.toThrow(/permission denied for table existing/);
    await expect(ro.query("truncate existing")).rejects.toThrow(/permission denied for table existing/);
    await expect(ro.query("create table mine (id int)")).rejects.toThrow(/permission denied for schema public/);
  };

  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    for (const c of clients) await c.end().catch(() => undefined);
    await pg?.destroy();
  });

  it("one run: tables created between the database and the in-database grants are readable", async () => {
    const sql = sqlFor([{ name: "ledger", readonlyUsers: ["audit"] }]);
    for (const s of sql.cluster) await pg.sql(s);
    await seed("ledger_owner", "ledger");
    for (const s of sql.perDatabase.ledger) await pg.sql(s, "ledger");
    await expectReadOnly("ledger_audit", "ledger");
  });

  it("a later run that adds the read-only user: only the new statements run, on a database full of tables", async () => {
    const before = sqlFor([{ name: "shop" }]);
    for (const s of before.cluster) await pg.sql(s);
    for (const s of before.perDatabase.shop) await pg.sql(s, "shop");
    await seed("shop_owner", "shop");
    const after = sqlFor([{ name: "shop", readonlyUsers: ["analyst"] }]);
    // what an update creates: the statements the first run did not have
    const cluster = after.cluster.filter((s) => !before.cluster.includes(s));
    const inDb = after.perDatabase.shop.filter((s) => !before.perDatabase.shop.includes(s));
    expect(cluster.some((s) => s.startsWith('CREATE ROLE "shop_analyst"'))).toBe(true);
    for (const s of cluster) await pg.sql(s);
    for (const s of inDb) await pg.sql(s, "shop");
    await expectReadOnly("shop_analyst", "shop");
  });
});
