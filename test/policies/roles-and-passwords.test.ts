import { POLICY_NAMES, ROLE_FORBIDDEN_ATTRIBUTES, TYPES } from "../../policies/rules";
import { resourcePolicy, runResourceRule, UNKNOWN_NUMBER } from "./helpers";

describe("rule 4: postgresql roles are least-privilege", () => {
  const rule = resourcePolicy(POLICY_NAMES.rolesLeastPrivilege);
  const goodRole = { name: "langfuse_owner", login: true, password: "x".repeat(32), connectionLimit: 50, createDatabase: false };

  it("is mandatory", () => {
    expect(rule.enforcementLevel).toBe("mandatory");
  });

  it("accepts an app owner and a read-only role, with the attributes off or absent", async () => {
    expect((await runResourceRule(rule, TYPES.role, goodRole)).violations).toEqual([]);
    const explicit = { ...goodRole, superuser: false, createRole: false, createDatabase: false, replication: false, bypassRowLevelSecurity: false };
    expect((await runResourceRule(rule, TYPES.role, explicit)).violations).toEqual([]);
  });

  it("checks exactly the five attributes", () => {
    expect(ROLE_FORBIDDEN_ATTRIBUTES.map((a) => a.sql)).toEqual(["SUPERUSER", "CREATEROLE", "CREATEDB", "REPLICATION", "BYPASSRLS"]);
  });

  it.each([
    ["superuser", "role has SUPERUSER (superuser: true)"],
    ["createRole", "role has CREATEROLE (createRole: true); only the admin roles (db_admin) may"],
    ["createDatabase", "role has CREATEDB (createDatabase: true); only the admin roles (db_admin) may"],
    ["replication", "role has REPLICATION (replication: true)"],
    ["bypassRowLevelSecurity", "role has BYPASSRLS (bypassRowLevelSecurity: true)"],
  ])("refuses %s", async (prop, message) => {
    const o = await runResourceRule(rule, TYPES.role, { ...goodRole, [prop]: true });
    expect(o.violations).toEqual([message]);
  });

  it("reports all five at once", async () => {
    const o = await runResourceRule(rule, TYPES.role, {
      ...goodRole,
      superuser: true,
      createRole: true,
      createDatabase: true,
      replication: true,
      bypassRowLevelSecurity: true,
    });
    expect(o.violations).toHaveLength(5);
  });

  describe("the admin role exception", () => {
    const admin = { name: "db_admin", login: true, createRole: true, createDatabase: true, roles: ["pg_monitor", "shop_owner"] };

    it("lets the role named db_admin (the default) have CREATEROLE and CREATEDB", async () => {
      expect((await runResourceRule(rule, TYPES.role, admin)).violations).toEqual([]);
    });

    it.each([
      ["superuser", "role has SUPERUSER (superuser: true)"],
      ["replication", "role has REPLICATION (replication: true)"],
      ["bypassRowLevelSecurity", "role has BYPASSRLS (bypassRowLevelSecurity: true)"],
    ])("still refuses %s on the admin role", async (prop, message) => {
      expect((await runResourceRule(rule, TYPES.role, { ...admin, [prop]: true })).violations).toEqual([message]);
    });

    it.each([["DB_ADMIN"], ["db_admin2"], ["db_admin "], ["shop_owner"]])("is exact: a role named %j gets no exception", async (name) => {
      const o = await runResourceRule(rule, TYPES.role, { ...admin, name });
      expect(o.violations).toHaveLength(2);
    });

    it("goes by the role's SQL name, not the resource's logical name", async () => {
      const o = await runResourceRule(rule, TYPES.role, { ...admin, name: "shop_owner" }, { name: "db_admin" });
      expect(o.violations).toHaveLength(2);
    });

    it("follows adminRoles: another name allowed, the default no longer", async () => {
      const config = { adminRoles: ["ops_admin"] };
      expect((await runResourceRule(rule, TYPES.role, { ...admin, name: "ops_admin" }, { config })).violations).toEqual([]);
      expect((await runResourceRule(rule, TYPES.role, admin, { config })).violations).toEqual([
        "role has CREATEROLE (createRole: true); only the admin roles (ops_admin) may",
        "role has CREATEDB (createDatabase: true); only the admin roles (ops_admin) may",
      ]);
      const none = { adminRoles: [] };
      expect((await runResourceRule(rule, TYPES.role, admin, { config: none })).violations).toHaveLength(2);
    });
  });

  it("is not applicable to a container", async () => {
    expect((await runResourceRule(rule, TYPES.container, { superuser: true })).notApplicable).toBeDefined();
  });
});

describe("rule 5: random passwords are long enough", () => {
  const rule = resourcePolicy(POLICY_NAMES.passwordLength);

  it("is mandatory", () => {
    expect(rule.enforcementLevel).toBe("mandatory");
  });

  it.each([32, 48, 64])("accepts length %d", async (length) => {
    expect((await runResourceRule(rule, TYPES.randomPassword, { length, special: false })).violations).toEqual([]);
  });

  it.each([[31], [16], [0]])("refuses length %d", async (length) => {
    const o = await runResourceRule(rule, TYPES.randomPassword, { length });
    expect(o.violations).toEqual([`password length ${length} is below the minimum of 32`]);
  });

  it("refuses a missing length", async () => {
    expect((await runResourceRule(rule, TYPES.randomPassword, { special: true })).violations).toEqual([
      "password length is not set (minimum 32)",
    ]);
  });

  it("declares minLength in its config schema, an integer defaulting to 32 (the engine fills defaults from it)", () => {
    expect(rule.configSchema?.properties?.minLength).toMatchObject({ type: "integer", minimum: 1, default: 32 });
  });

  it("takes the minimum from config", async () => {
    const cfg = { minLength: 48 };
    expect((await runResourceRule(rule, TYPES.randomPassword, { length: 40 }, { config: cfg })).violations).toEqual([
      "password length 40 is below the minimum of 48",
    ]);
    expect((await runResourceRule(rule, TYPES.randomPassword, { length: 48 }, { config: cfg })).violations).toEqual([]);
  });

  it("does not guess about a length unknown during preview", async () => {
    const o = await runResourceRule(rule, TYPES.randomPassword, { length: UNKNOWN_NUMBER });
    expect(o.unknown).toBeUndefined();
    expect(o.violations).toEqual([]);
  });

  it("is not applicable to RandomString", async () => {
    const o = await runResourceRule(rule, "random:index/randomString:RandomString", { length: 8 });
    expect(o.notApplicable).toBeDefined();
  });
});
