// `pulumi destroy` on a real server: what the program creates for its apps (the
// access model as SQL), then the provider's own delete statements for every
// resource the program does not retain, in the order the engine deletes them
// (grants and default privileges before the roles they name). Retained: owner
// roles, databases, extensions, PUBLIC revokes (README "Destroy").
import { Client } from "pg";
import { parseConfig } from "../../../components/config";
import { accessModel, clusterGrants, renderAccessSql } from "../../../components/apps";
import { SqlStep, defaultPrivilegesDelete, grantDelete, roleDelete } from "../../helpers/provider-sql";
import { applyAccessSql, PgInstance, startPostgres } from "../harness";

const config = parseConfig("dev", {
  apps: [{ name: "shop", extensions: ["uuid-ossp"] }, { name: "reports", readonlyUsers: ["analyst", "bi"] }],
});
const model = accessModel(config.apps);

async function runStep(pg: PgInstance, step: SqlStep): Promise<void> {
  const c: Client = await pg.connect({ database: step.database });
  try {
    if (step.autocommit) for (const s of step.statements) await c.query(s);
    else {
      await c.query("BEGIN");
      try {
        for (const s of step.statements) await c.query(s);
        await c.query("COMMIT");
      } catch (e) {
        await c.query("ROLLBACK");
        throw e;
      }
    }
  } finally {
    await c.end();
  }
}

/** The deletes the engine runs for the non-retained app resources, dependents first. */
function destroySteps(): SqlStep[] {
  const steps: SqlStep[] = [];
  for (const a of model) {
    // AppDatabase: default privileges and grants of the read-only roles (PUBLIC revokes are retained)
    steps.push(...a.defaultPrivileges.map(defaultPrivilegesDelete));
    steps.push(...a.grants.filter((g) => g.role !== "public").map(grantDelete));
  }
  for (const a of model) for (const r of a.roles.filter((x) => x.kind !== "owner")) steps.push(roleDelete(r.name));
  // the platform's cluster grants (PUBLIC on postgres/template1): their delete is a revoke again
  steps.push(...clusterGrants().map(grantDelete));
  return steps;
}

describe("destroy on PostgreSQL 15", () => {
  let pg: PgInstance;

  const setUp = async () => {
    pg = await startPostgres();
    const passwords = Object.fromEntries(model.flatMap((a) => a.roles.map((r) => [r.name, `pw-${r.name}-0123456789`])));
    const sql = renderAccessSql(model, passwords);
    await applyAccessSql(pg, sql);
    // the app's data, owned by the owner, readable by the read-only roles (before and after the grants)
    const c = await pg.connect({ database: "reports", user: "reports_owner", password: passwords.reports_owner });
    await c.query("create table facts (id int primary key, v text); insert into facts values (1, 'kept')");
    await c.end();
  };

  afterEach(async () => {
    await pg?.destroy();
  });

  it("every delete succeeds in the engine's order, and what is retained is still there with its data", async () => {
    await setUp();
    for (const step of destroySteps()) await runStep(pg, step);
    const c = await pg.connect();
    try {
      const roles = (await c.query("select rolname from pg_roles where rolname like any (array['shop_%', 'reports_%']) order by 1")).rows.map((r) => r.rolname);
      expect(roles).toEqual(["reports_owner", "shop_owner"]);
      const dbs = (await c.query("select datname from pg_database where datname in ('shop', 'reports') order by 1")).rows.map((r) => r.datname);
      expect(dbs).toEqual(["reports", "shop"]);
    } finally {
      await c.end();
    }
    const r = await pg.connect({ database: "reports" });
    expect((await r.query("select v from facts")).rows).toEqual([{ v: "kept" }]);
    await r.end();
  });

  it("the order is what makes it work: a read-only role deleted before its grants cannot be dropped", async () => {
    await setUp();
    await expect(runStep(pg, roleDelete("reports_analyst"))).rejects.toThrow(/cannot be dropped because some objects depend on it/);
  });
});
