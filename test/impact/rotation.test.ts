// What a rotation (and the upgrade to the two-login design) does to each resource of
// the prod program under mocks, from the providers' own rules:
// - random.RandomPassword: a changed `keepers` replaces it (a new password), unless the
//   engine is told to ignore that input (ignoreChanges keeps the stored value)
//   (hashicorp/terraform-provider-random internal/provider/resource_password.go:
//   keepers → mapplanmodifiers.RequiresReplaceIfValuesNotNull);
// - postgresql.Role: no argument is ForceNew; a new password is an Update that runs
//   `ALTER ROLE ... PASSWORD` and nothing else (cyrilgdn/terraform-provider-postgresql
//   postgresql/resource_postgresql_role.go resourcePostgreSQLRoleUpdate → setRolePassword);
// - command.local.Command: a changed stdin is an Update that runs `create` again; only
//   `triggers` replaces (pulumi-command provider/pkg/provider/provider.go, Diff).
import { PROD_SECRETS, ProgramResult, RegisteredResource, reveal, runProgram } from "../helpers/program";
import { containerEffects } from "./effects";

type Effect = "created" | "deleted" | "replaced" | "updated" | "unchanged";

const changed = (a: RegisteredResource, b: RegisteredResource) =>
  [...new Set([...Object.keys(a.inputs), ...Object.keys(b.inputs)])].filter((k) => JSON.stringify(reveal(a.inputs[k])) !== JSON.stringify(reveal(b.inputs[k])));

function effect(a: RegisteredResource | undefined, b: RegisteredResource | undefined): Effect {
  if (!a) return "created";
  if (!b) return "deleted";
  const diff = changed(a, b).filter((k) => !b.ignoreChanges.includes(k));
  if (diff.length === 0) return "unchanged";
  if (b.type === "random:index/randomPassword:RandomPassword") return diff.some((k) => k === "keepers" || k === "length" || k === "special") ? "replaced" : "updated";
  if (b.type === "command:local:Command") return diff.includes("triggers") ? "replaced" : "updated";
  if (b.type === "postgresql:index/role:Role") return "updated";
  throw new Error(`no rule for ${b.type} (${diff.join(", ")})`);
}

/** Every resource that changes between two runs, by name, with its effect. */
function effects(before: ProgramResult, after: ProgramResult): Record<string, Effect> {
  const a = new Map(before.resources.filter((r) => r.custom).map((r) => [r.urn, r]));
  const b = new Map(after.resources.filter((r) => r.custom).map((r) => [r.urn, r]));
  const out: Record<string, Effect> = {};
  for (const urn of new Set([...a.keys(), ...b.keys()])) {
    const e = effect(a.get(urn), b.get(urn));
    if (e !== "unchanged") out[(b.get(urn) ?? a.get(urn))!.name] = e;
  }
  return out;
}

const PROD_APPS = [
  { name: "langfuse", extensions: ["vector", "uuid-ossp", "pg_stat_statements"], connectionLimit: 50, readonlyUsers: ["analytics"] },
  { name: "n8n-main", extensions: ["pg_trgm"], connectionLimit: 30 },
  { name: "grafana", connectionLimit: 20 },
];
const withRotation = (rotation?: string) => ({
  ...PROD_SECRETS,
  overrides: { ...PROD_SECRETS.overrides, apps: PROD_APPS.map((a, i) => (i === 0 && rotation !== undefined ? { ...a, rotation } : a)) },
});

describe("what a rotation changes", () => {
  const runs: Record<string, ProgramResult> = {};
  beforeAll(async () => {
    for (const r of ["initial", "1", "2", "2026-12"]) runs[r] = await runProgram("prod", withRotation(r === "initial" ? undefined : r));
  });

  it("initial → 1: the `_b` logins get new passwords in place; the role's own are untouched; no container changes", () => {
    expect(effects(runs.initial, runs["1"])).toEqual({
      "homelab-app-langfuse-owner-b-password": "replaced",
      "homelab-app-langfuse-owner-b": "updated",
      "homelab-app-langfuse-analytics-b-password": "replaced",
      "homelab-app-langfuse-analytics-b": "updated",
      "homelab-app-langfuse-passwords": "updated",
    });
    expect(Object.values(containerEffects(runs.initial, runs["1"])).every((e) => e === "unchanged")).toBe(true);
  });

  it("1 → 2: the role's own passwords are new; the `_b` logins (the previous credentials) are untouched", () => {
    expect(effects(runs["1"], runs["2"])).toEqual({
      "homelab-app-langfuse-owner-password": "replaced",
      "homelab-app-langfuse-owner": "updated",
      "homelab-app-langfuse-analytics-password": "replaced",
      "homelab-app-langfuse-analytics": "updated",
      "homelab-app-langfuse-passwords": "updated",
    });
  });

  it("a label change (initial → 2026-12) resets the role's own passwords at once, as before this design", () => {
    expect(effects(runs.initial, runs["2026-12"])).toEqual({
      "homelab-app-langfuse-owner-password": "replaced",
      "homelab-app-langfuse-owner": "updated",
      "homelab-app-langfuse-analytics-password": "replaced",
      "homelab-app-langfuse-analytics": "updated",
      "homelab-app-langfuse-passwords": "updated",
    });
  });
});

describe("upgrading a stack from the single-login release", () => {
  // What the release before this design registered for an app role, by resource name:
  // a RandomPassword keyed on `rotation` as written (no ignoreChanges) and a Role with that
  // password, no memberships, no role switch; the outputs handed out that role and password.
  let r: ProgramResult;
  beforeAll(async () => {
    r = await runProgram("prod", withRotation("2026-11"));
  });
  const byName = (name: string) => r.resources.find((x) => x.name === name)!;

  it("keeps every existing app role's password, role and database as they were: only the `_b` logins are new", () => {
    for (const [app, role, user] of [["langfuse", "owner", "langfuse_owner"], ["langfuse", "analytics", "langfuse_analytics"], ["grafana", "owner", "grafana_owner"]]) {
      const rotation = app === "langfuse" ? "2026-11" : "initial";
      const pw = byName(`homelab-app-${app}-${role}-password`);
      expect([pw.inputs.length, pw.inputs.special, reveal(pw.inputs.keepers), pw.ignoreChanges]).toEqual([40, false, { rotation }, []]);
      const roleRes = byName(`homelab-app-${app}-${role}`);
      expect(reveal(roleRes.inputs.name)).toBe(user);
      expect(roleRes.inputs.roles).toBeUndefined();
      expect(roleRes.inputs.assumeRole).toBeUndefined();
      const b = byName(`homelab-app-${app}-${role}-b`);
      expect(reveal(b.inputs)).toMatchObject({ name: `${user}_b`, roles: [user], assumeRole: user });
    }
    // the database keeps its name and owner, and is never dropped
    const db = byName("homelab-app-langfuse-database");
    expect([reveal(db.inputs.name), reveal(db.inputs.owner), db.retainOnDelete]).toEqual(["langfuse", "langfuse_owner", true]);
  });

  it("hands out the same role and password as before: the app keeps working through the upgrade", () => {
    const dbs = r.outputs.databases as Record<string, { user: string; password: string; readonlyUsers: Record<string, { user: string; password: string }> }>;
    const role = (name: string) => r.resources.find((x) => x.name === name)!;
    expect(dbs.langfuse.user).toBe("langfuse_owner");
    expect(dbs.langfuse.password).toBe(reveal(role("homelab-app-langfuse-owner").inputs.password));
    expect(dbs.langfuse.readonlyUsers.analytics).toMatchObject({ user: "langfuse_analytics", password: reveal(role("homelab-app-langfuse-analytics").inputs.password) });
  });
});
