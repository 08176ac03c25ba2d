// Rotation without downtime under mocks: which login is active, which password is
// new, which is kept (and how: the engine keeps a frozen login's stored keepers,
// ignoreChanges), what the outputs hand out, and that a stack from before keeps its
// roles, passwords and URNs. The real servers' side is test/integration/pooler/rotation.test.ts.
import { parse } from "pg-connection-string";
import { accessModel, loginsOf, renderRotationLoginsSql } from "../../../components/apps";
import { parseConfig } from "../../../components/config";
import { isSecretValue, ofType, ProgramResult, RegisteredResource, reveal, runProgram, T } from "../../helpers/program";

type Creds = { user: string; password: string; url: string; pooledUrl?: string };
type Db = Creds & { readonlyUsers: Record<string, Creds> };

describe("loginsOf", () => {
  it("alternates the active login with the count and keys the new one on it, the other frozen", () => {
    const view = (rotation: string) => loginsOf("shop_owner", rotation).map((l) => `${l.name}:${l.active ? "active" : "frozen"}:${l.keepers.rotation}`);
    expect(view("initial")).toEqual(["shop_owner:active:initial", "shop_owner_b:frozen:standby"]);
    expect(view("1")).toEqual(["shop_owner:frozen:initial", "shop_owner_b:active:1"]);
    expect(view("2")).toEqual(["shop_owner:active:2", "shop_owner_b:frozen:1"]);
    expect(view("3")).toEqual(["shop_owner:frozen:2", "shop_owner_b:active:3"]);
    // a label is generation 0: the role itself, keyed on the label as before this design
    expect(view("2026-11")).toEqual(["shop_owner:active:2026-11", "shop_owner_b:frozen:standby"]);
    for (const r of ["initial", "1", "2", "7"]) {
      const [a, b] = loginsOf("shop_owner", r);
      expect(a.frozen).toBe(!a.active);
      expect(b.frozen).toBe(!b.active);
      expect(a.active).not.toBe(b.active);
    }
  });

  it("renders the `_b` login as the provider creates it: a member of the role that switches to it at login", () => {
    const model = accessModel(parseConfig("dev", { apps: [{ name: "shop", readonlyUsers: ["viewer"] }] }).apps);
    const sql = renderRotationLoginsSql(model, { shop_owner_b: "p1", shop_viewer_b: "p2" });
    expect(sql).toEqual([
      `CREATE ROLE "shop_owner_b" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT CONNECTION LIMIT 20 PASSWORD 'p1'`,
      `GRANT "shop_owner" TO "shop_owner_b"`,
      `ALTER ROLE "shop_owner_b" SET ROLE TO "shop_owner"`,
      `CREATE ROLE "shop_viewer_b" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT CONNECTION LIMIT 20 PASSWORD 'p2'`,
      `GRANT "shop_viewer" TO "shop_viewer_b"`,
      `ALTER ROLE "shop_viewer_b" SET ROLE TO "shop_viewer"`,
    ]);
    expect(() => renderRotationLoginsSql(model, { shop_owner_b: "p1" })).toThrow(/no password for role shop_viewer_b/);
  });
});

describe("rotating an app under mocks", () => {
  const app = (rotation?: string | number) => ({ name: "shop", readonlyUsers: ["viewer"], ...(rotation === undefined ? {} : { rotation }) });
  const runs: Record<string, ProgramResult> = {};
  beforeAll(async () => {
    for (const r of [undefined, 1, 2, 3]) runs[String(r)] = await runProgram("dev", { overrides: { apps: [app(r), { name: "other" }] } });
  });
  const byName = (r: ProgramResult, type: string, name: string): RegisteredResource => {
    const x = ofType(r, type).find((y) => y.name === name);
    if (!x) throw new Error(`no ${type} ${name}`);
    return x;
  };
  const db = (r: ProgramResult, name = "shop") => (r.outputs.databases as Record<string, Db>)[name];

  it("hands out the active login: the role at 0 and 2, its `_b` login at 1 and 3, with that login's password", () => {
    const users = ["undefined", "1", "2", "3"].map((k) => [db(runs[k]).user, db(runs[k]).readonlyUsers.viewer.user]);
    expect(users).toEqual([["shop_owner", "shop_viewer"], ["shop_owner_b", "shop_viewer_b"], ["shop_owner", "shop_viewer"], ["shop_owner_b", "shop_viewer_b"]]);
    for (const k of ["undefined", "1", "2", "3"]) {
      const d = db(runs[k]);
      const role = ofType(runs[k], T.role).find((r) => reveal(r.inputs.name) === d.user)!;
      expect(reveal(role.inputs.password)).toBe(d.password);
      expect(parse(d.url)).toMatchObject({ user: d.user, password: d.password, database: "shop", port: "5432" });
      expect(parse(d.pooledUrl ?? "")).toMatchObject({ user: d.user, password: d.password, port: "6432" });
    }
    expect(runs["1"].secretOutputs).toContain("databases");
  });

  it("keys only the newly active login's password on the new count; the previous one is frozen (ignoreChanges keepers)", () => {
    const state = (r: ProgramResult) => Object.fromEntries(
      ofType(r, T.password).filter((p) => p.name.startsWith("homelab-app-shop-")).map((p) => [p.name, { keepers: reveal(p.inputs.keepers), frozen: p.ignoreChanges.includes("keepers") }]),
    );
    expect(state(runs["2"])).toEqual({
      "homelab-app-shop-owner-password": { keepers: { rotation: "2" }, frozen: false },
      "homelab-app-shop-owner-b-password": { keepers: { rotation: "1" }, frozen: true },
      "homelab-app-shop-viewer-password": { keepers: { rotation: "2" }, frozen: false },
      "homelab-app-shop-viewer-b-password": { keepers: { rotation: "1" }, frozen: true },
    });
    // 1 → 2: the `_b` password (the previous credentials) is the one 1 made, the role's is new
    expect(db(runs["2"]).password).not.toBe(db(runs["undefined"]).password);
    const bOf = (r: ProgramResult) => reveal(ofType(r, T.role).find((x) => reveal(x.inputs.name) === "shop_owner_b")!.inputs.password);
    expect(bOf(runs["2"])).toBe(db(runs["1"]).password);
    // 2 → 3: the role's password is what 2 handed out, still valid; `_b` gets a new one
    const aOf = (r: ProgramResult) => reveal(ofType(r, T.role).find((x) => reveal(x.inputs.name) === "shop_owner")!.inputs.password);
    expect(aOf(runs["3"])).toBe(db(runs["2"]).password);
    expect(db(runs["3"]).password).not.toBe(db(runs["1"]).password);
    // the other app is untouched throughout
    expect(new Set(["undefined", "1", "2", "3"].map((k) => db(runs[k], "other").password)).size).toBe(1);
  });

  it("creates every `_b` login as a member of its role, switched to it at login, secret, with the role's limit", () => {
    for (const [login, role] of [["shop_owner_b", "shop_owner"], ["shop_viewer_b", "shop_viewer"]]) {
      const r = ofType(runs["1"], T.role).find((x) => reveal(x.inputs.name) === login)!;
      expect(reveal(r.inputs)).toMatchObject({ login: true, superuser: false, createRole: false, roles: [role], assumeRole: role, connectionLimit: 20 });
      expect(isSecretValue(r.inputs.password)).toBe(true);
      expect(r.additionalSecretOutputs).toContain("password");
    }
  });

  it("sets every login's password from state in the password command (both logins of each role)", () => {
    const cmd = byName(runs["1"], "command:local:Command", "homelab-app-shop-passwords");
    const stdin = String(reveal(cmd.inputs.stdin));
    expect([...stdin.matchAll(/^ALTER ROLE "([^"]+)" PASSWORD/gm)].map((m) => m[1])).toEqual(["shop_owner", "shop_owner_b", "shop_viewer", "shop_viewer_b"]);
    expect(isSecretValue(cmd.inputs.stdin)).toBe(true);
  });
});
