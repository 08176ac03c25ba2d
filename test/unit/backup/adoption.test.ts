// The whole prod program with postgres.bootstrap set: every role and database is
// adopted (Pulumi `import` by name), because the provider's Create runs a plain
// CREATE ROLE / CREATE DATABASE that fails on a restored cluster
// (cyrilgdn/terraform-provider-postgresql postgresql/resource_postgresql_role.go
// resourcePostgreSQLRoleCreate, resource_postgresql_database.go createDatabase), and
// every role with a password has it set again from state by a password command
// (the provider never compares SCRAM hashes: resource_postgresql_role.go readRolePassword).
import { PROD_SECRETS, ProgramResult, T, ofType, runProgram } from "../../helpers/program";

const COMMAND = "command:local:Command";

function run(bootstrap: boolean): Promise<ProgramResult> {
  return runProgram("prod", {
    ...PROD_SECRETS,
    overrides: { ...PROD_SECRETS.overrides, ...(bootstrap ? { postgres: { bootstrap: { from: "backup", target: "latest" } } } : {}) },
  });
}

/** Role names (SQL) the password commands set, from their (secret) stdin. */
function syncedRoles(r: ProgramResult): string[] {
  return ofType(r, COMMAND)
    .filter((c) => c.name.includes("password"))
    .flatMap((c) => [...JSON.stringify(c.inputs.stdin ?? "").matchAll(/ALTER ROLE \\"([^\\]+)\\" PASSWORD/g)].map((m) => m[1]));
}

describe("adopting a restored cluster, on the whole program", () => {
  let adopted: ProgramResult;
  let fresh: ProgramResult;
  beforeAll(async () => {
    [adopted, fresh] = [await run(true), await run(false)];
  });

  it("imports every role and database by its name, roles ignoring their password", () => {
    const roles = ofType(adopted, T.role);
    const databases = ofType(adopted, T.database);
    expect(roles.length).toBeGreaterThan(3);
    expect(databases.length).toBeGreaterThan(0);
    for (const r of [...roles, ...databases]) expect({ name: r.name, importId: r.importId }).toEqual({ name: r.name, importId: r.inputs.name });
    for (const r of roles) expect({ name: r.name, ignoreChanges: r.ignoreChanges }).toEqual({ name: r.name, ignoreChanges: ["password"] });
  });

  it("imports nothing without a bootstrap", () => {
    expect([...ofType(fresh, T.role), ...ofType(fresh, T.database)].filter((r) => r.importId !== "")).toEqual([]);
  });

  it("sets every login role's password from state: apps, pgBouncer's auth role, the admin and the monitor", () => {
    const withPassword = ofType(adopted, T.role).filter((r) => r.inputs.password !== undefined).map((r) => String(r.inputs.name));
    expect(withPassword).toEqual(expect.arrayContaining(["db_admin", "hlpg_monitor"]));
    expect([...syncedRoles(adopted)].sort()).toEqual([...withPassword].sort());
  });
});
