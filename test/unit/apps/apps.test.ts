// Per-app resources under mocks: counts, secrecy, rotation, stability of URNs.
import { parse } from "pg-connection-string";
import { accessModel, renderConnectionUrl } from "../../../components/apps/access";
import { parseConfig } from "../../../components/config";
import { isSecretValue, ofType, ProgramResult, RegisteredResource, reveal, runProgram, T } from "../../helpers/program";

type Creds = { user: string; password: string; url: string; pooledUrl?: string };
type Db = Creds & { database: string; readonlyUsers: Record<string, Creds>; readwriteUsers: Record<string, Creds> };

const APPS = [
  { name: "langfuse", extensions: ["vector", "uuid-ossp", "pg_stat_statements"], connectionLimit: 30 },
  { name: "n8n-main", extensions: ["pg_trgm"], readonlyUsers: ["analytics"], rotation: "2026-11" },
];

const byName = (r: ProgramResult, type: string, name: string): RegisteredResource => {
  const x = ofType(r, type).find((y) => y.name === name);
  if (!x) throw new Error(`no ${type} ${name}`);
  return x;
};

describe("apps", () => {
  let base: ProgramResult;
  beforeAll(async () => {
    base = await runProgram("dev", { overrides: { apps: APPS } });
  });

  const ofApps = (type: string) => ofType(base, type).filter((r) => r.parent.includes("homelab:postgres:AppDatabase::"));

  it("creates one database per app, and two logins (the role and its `_b` rotation login) with a password each per owner and read-only user", () => {
    const roles = ofApps(T.role).map((r) => reveal(r.inputs.name));
    expect(roles.sort()).toEqual(["langfuse_owner", "langfuse_owner_b", "n8n_main_analytics", "n8n_main_analytics_b", "n8n_main_owner", "n8n_main_owner_b"]);
    const dbs = ofType(base, T.database).map((d) => [reveal(d.inputs.name), reveal(d.inputs.owner)]);
    expect(dbs.sort()).toEqual([["langfuse", "langfuse_owner"], ["n8n_main", "n8n_main_owner"]]);
    const appPasswords = ofApps(T.password);
    expect(appPasswords.map((p) => p.name).sort()).toEqual([
      "homelab-app-langfuse-owner-b-password", "homelab-app-langfuse-owner-password", "homelab-app-n8n-main-analytics-b-password",
      "homelab-app-n8n-main-analytics-password", "homelab-app-n8n-main-owner-b-password", "homelab-app-n8n-main-owner-password",
    ]);
    for (const p of appPasswords) expect(p.inputs.length).toBeGreaterThanOrEqual(32);
  });

  it("gives app roles login and none of the escalating attributes", () => {
    for (const r of ofType(base, T.role).filter((x) => x.name !== "homelab-admin")) {
      // every role, app or pooler auth: login only (the admin role for people is tested below)
      expect(r.inputs).toMatchObject({ login: true, superuser: false, createRole: false, createDatabase: false, replication: false, bypassRowLevelSecurity: false });
    }
    expect(byName(base, T.role, "homelab-app-langfuse-owner").inputs.connectionLimit).toBe(30);
  });

  it("creates the extensions each app asks for in its own database", () => {
    const ext = ofType(base, T.extension).map((e) => `${reveal(e.inputs.database)}:${reveal(e.inputs.name)}`);
    expect(ext.sort()).toEqual(["langfuse:pg_stat_statements", "langfuse:uuid-ossp", "langfuse:vector", "n8n_main:pg_trgm"]);
  });

  it("keeps every password secret: role inputs, outputs, URLs", () => {
    for (const r of ofType(base, T.role)) {
      expect(isSecretValue(r.inputs.password)).toBe(true);
      expect(r.additionalSecretOutputs).toContain("password");
    }
    expect(base.secretOutputs).toContain("databases");
    const dbs = base.outputs.databases as Record<string, Db>;
    expect(Object.keys(dbs).sort()).toEqual(["langfuse", "n8n-main"]);
    const n8n = dbs["n8n-main"];
    expect(n8n).toMatchObject({ database: "n8n_main", user: "n8n_main_owner" });
    expect(parse(n8n.url)).toMatchObject({ user: "n8n_main_owner", password: n8n.password, host: "127.0.0.1", port: "5432", database: "n8n_main" });
    expect(parse(n8n.readonlyUsers.analytics.url)).toMatchObject({ user: "n8n_main_analytics", database: "n8n_main" });
    // pooled: same credentials, pgBouncer's port (Pulumi.dev.yaml: 6432)
    expect(parse(n8n.pooledUrl ?? "")).toMatchObject({ user: "n8n_main_owner", password: n8n.password, host: "127.0.0.1", port: "6432", database: "n8n_main" });
    expect(base.outputs.poolerPort).toBe(6432);
  });

  it("retains databases and their owner roles when an app is removed, never drops them", () => {
    for (const d of ofType(base, T.database)) expect(d.retainOnDelete || d.protect).toBe(true);
    const retained = ofApps(T.role).filter((r) => r.retainOnDelete).map((r) => reveal(r.inputs.name));
    // the owner's second login too: objects it created outside its switch to the owner would be lost with it
    expect(retained.sort()).toEqual(["langfuse_owner", "langfuse_owner_b", "n8n_main_owner", "n8n_main_owner_b"]);
  });

  it("keeps extensions and PUBLIC revokes with a retained database; drops read-only grants", () => {
    for (const e of ofType(base, T.extension)) expect(e.retainOnDelete).toBe(true);
    const grants = ofType(base, T.grant).filter((g) => g.parent.includes("AppDatabase"));
    for (const g of grants) expect({ name: g.name, retained: g.retainOnDelete }).toEqual({ name: g.name, retained: reveal(g.inputs.role) === "public" });
  });

  it("revokes PUBLIC's CONNECT and TEMPORARY on postgres and template1, cluster-wide", () => {
    const cluster = ofType(base, T.grant).filter((g) => !g.parent.includes("AppDatabase") && reveal(g.inputs.role) === "public").map((g) => reveal(g.inputs));
    expect(cluster).toEqual([
      { database: "postgres", role: "public", objectType: "database", privileges: [] },
      { database: "template1", role: "public", objectType: "database", privileges: [] },
    ]);
  });

  it("makes every grant and default privilege of a dropped role depend on that role, so the engine deletes them first", () => {
    // the provider's role delete never visits app databases (test/integration/apps/destroy.test.ts
    // proves the order is what makes DROP ROLE succeed)
    const byUrn = new Map(base.resources.map((r) => [r.urn, r]));
    const dependsOn = (r: RegisteredResource, target: string, seen = new Set<string>()): boolean =>
      r.dependencies.some((d) => d === target || (!seen.has(d) && (seen.add(d), byUrn.has(d)) && dependsOn(byUrn.get(d)!, target, seen)));
    // app roles (the pooler's auth role has no Grant resources: its own delete script cleans up)
    const dropped = ofType(base, T.role).filter((r) => !r.retainOnDelete && r.parent.includes("AppDatabase") && !reveal(r.inputs.assumeRole));
    expect(dropped.length).toBeGreaterThan(0);
    // a rotation login holds no grant of its own (it has the role's through membership) and goes before its role
    const logins = ofType(base, T.role).filter((r) => !r.retainOnDelete && reveal(r.inputs.assumeRole));
    expect(logins.map((r) => reveal(r.inputs.name))).toEqual(["n8n_main_analytics_b"]);
    for (const login of logins) {
      expect(base.resources.filter((r) => [T.grant, T.defaultPrivileges].includes(r.type as typeof T.grant) && reveal(r.inputs.role) === reveal(login.inputs.name))).toEqual([]);
      expect(login.dependencies).toContain(byName(base, T.role, "homelab-app-n8n-main-analytics").urn);
    }
    for (const role of dropped) {
      const name = String(reveal(role.inputs.name));
      const naming = base.resources.filter((r) => [T.grant, T.defaultPrivileges].includes(r.type as typeof T.grant) && reveal(r.inputs.role) === name);
      expect(naming.length).toBeGreaterThan(0);
      for (const g of naming) expect([g.name, dependsOn(g, role.urn)]).toEqual([g.name, true]);
    }
  });

  it("serialises each database's grants in one dependency chain", () => {
    for (const app of ["langfuse", "n8n-main"]) {
      const db = byName(base, T.database, `homelab-app-${app}-database`);
      const chain = base.resources.filter(
        (r) => [T.extension, T.grant, T.defaultPrivileges].includes(r.type as typeof T.grant) && r.name.startsWith(`homelab-app-${app}-`),
      );
      // each link depends on exactly one earlier link (or the database): a total order
      const seen = new Set([db.urn]);
      const ordered: string[] = [];
      let frontier = chain.filter((r) => r.dependencies.includes(db.urn));
      while (frontier.length === 1) {
        const next = frontier[0];
        ordered.push(next.urn);
        seen.add(next.urn);
        frontier = chain.filter((r) => !seen.has(r.urn) && r.dependencies.includes(next.urn));
      }
      expect(ordered.length).toBe(chain.length);
    }
  });

  it("revokes CONNECT and schema rights from PUBLIC and grants read-only what it needs", () => {
    const grants = ofType(base, T.grant).map((g) => reveal(g.inputs) as { database: string; role: string; objectType: string; privileges: string[] });
    expect(grants).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ database: "langfuse", role: "public", objectType: "database", privileges: [] }),
        expect.objectContaining({ database: "langfuse", role: "public", objectType: "schema", privileges: [] }),
        expect.objectContaining({ database: "n8n_main", role: "n8n_main_analytics", objectType: "table", privileges: ["SELECT"] }),
      ]),
    );
    const dp = ofType(base, T.defaultPrivileges).map((d) => reveal(d.inputs));
    expect(dp).toEqual([expect.objectContaining({ database: "n8n_main", owner: "n8n_main_owner", role: "n8n_main_analytics", privileges: ["SELECT"] })]);
  });

  it("rotation replaces only that app's passwords", async () => {
    const rotated = await runProgram("dev", { overrides: { apps: [APPS[0], { ...APPS[1], rotation: "2026-12" }] } });
    const pw = (r: ProgramResult) => Object.fromEntries(ofType(r, T.password).map((p) => [p.name, reveal(p.inputs)]));
    const before = pw(base);
    const after = pw(rotated);
    const changed = Object.keys(before).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
    expect(changed.sort()).toEqual(["homelab-app-n8n-main-analytics-password", "homelab-app-n8n-main-owner-password"]);
    const dbs = (r: ProgramResult) => r.outputs.databases as Record<string, Db>;
    expect(dbs(rotated).langfuse.password).toBe(dbs(base).langfuse.password);
    expect(dbs(rotated)["n8n-main"].password).not.toBe(dbs(base)["n8n-main"].password);
  });

  it("adding an app leaves the other apps' resources as they were (names, URNs, inputs)", async () => {
    const more = await runProgram("dev", { overrides: { apps: [{ name: "aaa-first" }, ...APPS] } });
    const snapshot = (r: ProgramResult) =>
      new Map(r.resources.filter((x) => x.custom && !x.name.startsWith("homelab-app-aaa-first")).map((x) => [x.urn, JSON.stringify(x.inputs)]));
    const before = snapshot(base);
    const after = snapshot(more);
    for (const [urn, inputs] of before) {
      expect(after.has(urn)).toBe(true);
      // the admin role alone changes: it joins the new app's owner
      if (urn.endsWith("::homelab-admin")) continue;
      if (urn.includes("postgresql") || urn.includes("RandomPassword")) expect({ urn, inputs: after.get(urn) }).toEqual({ urn, inputs });
    }
    expect(ofType(more, T.database).map((d) => reveal(d.inputs.name))).toContain("aaa_first");
  });
});

describe("read-write users, extra schemas, database connection limit", () => {
  let r: ProgramResult;
  const CRM = { name: "crm", readonlyUsers: ["viewer"], readwriteUsers: ["worker"], schemas: ["audit"], databaseConnectionLimit: 40 };
  beforeAll(async () => {
    r = await runProgram("dev", { overrides: { apps: [...APPS, CRM] } });
  });
  const grantsOf = (role: string) =>
    ofType(r, T.grant).filter((g) => reveal(g.inputs.role) === role).map((g) => [g.name, reveal(g.inputs.objectType), reveal(g.inputs.schema) ?? null, reveal(g.inputs.privileges)]);

  it("gives the read-write user DML and sequences in every schema, nothing more; read-only gets SELECT there too", () => {
    expect(grantsOf("crm_worker")).toEqual([
      ["homelab-app-crm-crm_worker-database", "database", null, ["CONNECT"]],
      ["homelab-app-crm-crm_worker-schema", "schema", "public", ["USAGE"]],
      ["homelab-app-crm-crm_worker-table", "table", "public", ["SELECT", "INSERT", "UPDATE", "DELETE"]],
      ["homelab-app-crm-crm_worker-sequence", "sequence", "public", ["USAGE", "SELECT"]],
      ["homelab-app-crm-crm_worker-schema-audit", "schema", "audit", ["USAGE"]],
      ["homelab-app-crm-crm_worker-table-audit", "table", "audit", ["SELECT", "INSERT", "UPDATE", "DELETE"]],
      ["homelab-app-crm-crm_worker-sequence-audit", "sequence", "audit", ["USAGE", "SELECT"]],
    ]);
    expect(grantsOf("crm_viewer").map((g) => g.slice(1))).toEqual([
      ["database", null, ["CONNECT"]], ["schema", "public", ["USAGE"]], ["table", "public", ["SELECT"]], ["schema", "audit", ["USAGE"]], ["table", "audit", ["SELECT"]],
    ]);
    const dp = ofType(r, T.defaultPrivileges).filter((d) => reveal(d.inputs.database) === "crm").map((d) => [reveal(d.inputs.role), reveal(d.inputs.schema), reveal(d.inputs.objectType), reveal(d.inputs.owner)]);
    expect(dp).toEqual([
      ["crm_viewer", "public", "table", "crm_owner"], ["crm_viewer", "audit", "table", "crm_owner"],
      ["crm_worker", "public", "table", "crm_owner"], ["crm_worker", "public", "sequence", "crm_owner"],
      ["crm_worker", "audit", "table", "crm_owner"], ["crm_worker", "audit", "sequence", "crm_owner"],
    ]);
  });

  it("creates the extra schema owned by the app's owner, kept with the database", () => {
    const schemas = ofType(r, T.schema);
    expect(schemas.map((x) => [x.name, reveal(x.inputs.name), reveal(x.inputs.database), reveal(x.inputs.owner), x.retainOnDelete])).toEqual([
      ["homelab-app-crm-schema-audit", "audit", "crm", "crm_owner", true],
    ]);
  });

  it("sets the database's connection limit when given, and none (-1) otherwise", () => {
    expect(reveal(byName(r, T.database, "homelab-app-crm-database").inputs.connectionLimit)).toBe(40);
    expect(reveal(byName(r, T.database, "homelab-app-langfuse-database").inputs.connectionLimit)).toBe(-1);
  });

  it("outputs the read-write user's URLs, direct and pooled, in the secret databases output", () => {
    expect(r.secretOutputs).toContain("databases");
    const crm = (r.outputs.databases as Record<string, Db>).crm;
    expect(Object.keys(crm.readwriteUsers)).toEqual(["worker"]);
    expect(Object.keys(crm.readonlyUsers)).toEqual(["viewer"]);
    const w = crm.readwriteUsers.worker;
    expect(parse(w.url)).toMatchObject({ user: "crm_worker", password: w.password, database: "crm", port: "5432" });
    expect(parse(w.pooledUrl ?? "")).toMatchObject({ user: "crm_worker", password: w.password, database: "crm", port: "6432" });
    const role = byName(r, T.role, "homelab-app-crm-worker");
    expect(isSecretValue(role.inputs.password)).toBe(true);
    expect(role.additionalSecretOutputs).toContain("password");
    expect(role.retainOnDelete).toBeFalsy();
    expect((r.outputs.databases as Record<string, Db>).langfuse.readwriteUsers).toEqual({});
  });
});

describe("the admin role", () => {
  it.each([
    [17, true],
    [16, true],
    [15, false],
  ])("on %d: CREATEDB, CREATEROLE %s, member of pg_monitor and every app owner, its own 40-char secret password", async (major, createRole) => {
    // 15 is built without pgvector and 16 not at all: an image of one's own brings both
    const postgres = major === 17 ? { majorVersion: major } : { majorVersion: major, customImage: `registry.local:5000/team/postgres:${major}-pgvector` };
    const r = await runProgram("dev", { overrides: { apps: APPS, postgres } });
    const role = byName(r, T.role, "homelab-admin");
    expect(reveal(role.inputs)).toMatchObject({
      name: "db_admin", login: true, superuser: false, createDatabase: true, createRole, replication: false, bypassRowLevelSecurity: false, inherit: true,
      connectionLimit: 10,
    });
    expect((reveal(role.inputs.roles) as string[]).sort()).toEqual(["langfuse_owner", "n8n_main_owner", "pg_monitor"]);
    expect(isSecretValue(role.inputs.password)).toBe(true);
    expect(role.additionalSecretOutputs).toContain("password");
    expect(byName(r, T.password, "homelab-admin-password").inputs.length).toBeGreaterThanOrEqual(32);
    // it waits for the owners it joins
    for (const owner of ["homelab-app-langfuse-owner", "homelab-app-n8n-main-owner"]) expect(role.dependencies).toContain(byName(r, T.role, owner).urn);
    // and reaches the maintenance database pgAdmin opens
    expect(ofType(r, T.grant).filter((g) => reveal(g.inputs.role) === "db_admin").map((g) => reveal(g.inputs))).toEqual([
      { database: "postgres", role: "db_admin", objectType: "database", privileges: ["CONNECT"] },
    ]);
    expect(r.outputs.adminUser).toBe("db_admin");
    expect(r.secretOutputs).toContain("adminPassword");
  });

  it("is what pgAdmin logs in as: the superuser's password goes nowhere near pgAdmin", async () => {
    const r = await runProgram("dev", { overrides: { apps: APPS, pgadmin: { enabled: true, email: "ops@example.com" } } });
    const uploads = reveal(byName(r, T.container, "homelab-pgadmin-container").inputs.uploads) as { file: string; content: string }[];
    const servers = JSON.parse(uploads.find((u) => u.file.endsWith("servers.json"))?.content ?? "{}") as { Servers: Record<string, { Username: string }> };
    expect(Object.values(servers.Servers).map((s) => s.Username)).toEqual(["db_admin"]);
    const adminPassword = String(r.outputs.adminPassword);
    expect(uploads.find((u) => u.file.endsWith("/pgpass"))?.content).toMatch(new RegExp(`:db_admin:${adminPassword}\n$`));
    // the superuser's password as the postgres container receives it
    const pg = byName(r, T.container, "homelab-postgres-container");
    const file = (reveal(pg.inputs.envs) as string[]).find((e) => e.startsWith("POSTGRES_PASSWORD_FILE="))?.split("=")[1];
    const superPassword = (reveal(pg.inputs.uploads) as { file: string; content: string }[]).find((u) => u.file === file)?.content ?? "";
    expect(superPassword.length).toBeGreaterThanOrEqual(32);
    for (const u of uploads) expect(u.content).not.toContain(superPassword);
    // the container waits for the role and its CONNECT grant
    const deps = byName(r, T.container, "homelab-pgadmin-container").dependencies;
    expect(deps).toContain(ofType(r, T.grant).find((g) => reveal(g.inputs.role) === "db_admin")?.urn);
  });
});

describe("access model", () => {
  it("derives names from the config and nothing else", () => {
    const cfg = parseConfig("dev", { apps: APPS });
    const m = accessModel(cfg.apps);
    expect(m.map((a) => a.database.name)).toEqual(["langfuse", "n8n_main"]);
    expect(m[1].roles.map((r) => [r.name, r.kind, r.user])).toEqual([["n8n_main_owner", "owner", undefined], ["n8n_main_analytics", "readonly", "analytics"]]);
  });
});

describe("connection URLs", () => {
  it.each(["p@ss:w/rd?#%", "a b+c&d=e", "ümlaut'\"!*()"])("percent-encode user and password %j so clients parse them back", (password) => {
    const url = renderConnectionUrl({ user: "odd@user:x", password, host: "100.64.1.2", port: 6432, database: "n8n_main" });
    expect(url.startsWith("postgresql://")).toBe(true);
    // exactly one '@' separates userinfo from host, so nothing leaked unencoded
    expect(url.split("@")).toHaveLength(2);
    expect(parse(url)).toMatchObject({ user: "odd@user:x", password, host: "100.64.1.2", port: "6432", database: "n8n_main" });
    expect(new URL(url).hash).toBe("");
  });
});
