// The password command (apps/adopt.ts renderPasswordSyncScript) on a real server, run as
// the program runs it (`sh -s`, the script on stdin, the superuser's PG* environment):
// a role whose password already logs in keeps its SCRAM verifier (salt and all), which
// pgBouncer's pooled server logins depend on; a role with another password gets the
// state's; a role without CONNECT on `postgres` is still recognised as verified.
import { renderPasswordSyncScript } from "../../../components/apps/adopt";
import { PgInstance, pgBin, run, startPostgres } from "../harness";

describe("the password command", () => {
  let pg: PgInstance;
  const verifier = async (role: string) => {
    const c = await pg.connect();
    try {
      return (await c.query("select rolpassword from pg_authid where rolname = $1", [role])).rows[0].rolpassword as string;
    } finally {
      await c.end();
    }
  };
  const sync = (roles: { name: string; password: string }[]) =>
    run("sh", ["-s"], {
      input: renderPasswordSyncScript(roles),
      env: { ...process.env, PATH: `${pgBin("psql").replace(/\/psql$/, "")}:${process.env.PATH}`, PGHOST: "127.0.0.1", PGPORT: String(pg.port), PGUSER: "postgres", PGPASSWORD: pg.superPassword, PGDATABASE: "postgres", PGSSLMODE: "disable" },
    });

  beforeAll(async () => {
    pg = await startPostgres();
    await pg.sql("CREATE ROLE app_owner LOGIN PASSWORD 'state-password-0001'; CREATE ROLE app_drifted LOGIN PASSWORD 'an-older-password-01'");
    // as the stack has it: PUBLIC cannot connect to `postgres`
    await pg.sql("REVOKE CONNECT, TEMPORARY ON DATABASE postgres FROM PUBLIC");
  });
  afterAll(async () => pg?.destroy());

  it("keeps the verifier of a password that logs in, and sets the one that does not", async () => {
    const [ownerBefore, driftedBefore] = [await verifier("app_owner"), await verifier("app_drifted")];
    const r = await sync([{ name: "app_owner", password: "state-password-0001" }, { name: "app_drifted", password: "state-password-0002" }]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(r.stdout).toContain("app_owner: password already set");
    expect(r.stdout).toContain("app_drifted: password set from state");
    expect(await verifier("app_owner")).toBe(ownerBefore);
    expect(await verifier("app_drifted")).not.toBe(driftedBefore);
    const c = await pg.connect({ user: "app_drifted", password: "state-password-0002", database: "postgres" }).catch((e: Error) => e);
    // authenticated: what stops it is the missing CONNECT, not the password
    expect(String(c)).toMatch(/permission denied for database/);
    // run again: nothing changes
    const driftedNow = await verifier("app_drifted");
    const again = await sync([{ name: "app_owner", password: "state-password-0001" }, { name: "app_drifted", password: "state-password-0002" }]);
    expect(again.code).toBe(0);
    expect(await verifier("app_drifted")).toBe(driftedNow);
  });

  it("control: setting the same password again makes a new verifier (why the script tests first)", async () => {
    const before = await verifier("app_owner");
    await pg.sql("ALTER ROLE app_owner PASSWORD 'state-password-0001'");
    expect(await verifier("app_owner")).not.toBe(before);
  });
});
