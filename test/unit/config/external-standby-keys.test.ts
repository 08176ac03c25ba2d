// postgres.external's and standby's keys at their edges: each required key missing
// on its own, null meaning absent, loopback hosts only mattering with pgBouncer,
// and the standby rules that must not fire on a config that is fine.
import { parseConfig } from "../../../components/config";
import { defaultSlotName } from "../../../components/config/schema-standby";
import { goodProd, problems } from "../../helpers/config";

const P = "homelab-postgres:";
const found = (stack: string, raw: Record<string, unknown>): [string, string][] => problems(stack, raw).map((p) => [p.path.replace(P, ""), p.message]);

describe("postgres.external edges", () => {
  const ext = { host: "db.example.com", adminUser: "platform_admin", adminPassword: "pw-0123456789" };
  const withExt = (external: Record<string, unknown>, more: Record<string, unknown> = {}) =>
    found("dev", { postgres: { majorVersion: 16, external }, pgbouncer: { enabled: false }, ...more });

  it("takes null as no external server: the server-only keys are then fine", () => {
    expect(found("dev", { postgres: { external: null, majorVersion: 16, customImage: "postgres:16.4", platform: "linux/arm64", memoryMb: 512 } })).toEqual([]);
    // and the server's own rules apply: 16 without an image of one's own is refused
    expect(found("dev", { postgres: { external: null, majorVersion: 16 } }).map(([path]) => path)).toEqual(["postgres.majorVersion"]);
    expect(parseConfig("dev", { postgres: { external: null } }).postgres.external).toBeUndefined();
  });

  it("does not count a server-only key set to null as written", () => {
    expect(found("dev", { postgres: { majorVersion: 16, external: ext, image: null, settings: null }, pgbouncer: { enabled: false } })).toEqual([]);
  });

  it.each([
    ["host", "postgres.external.host", /^required: the existing server's host name or IP address$/],
    ["adminUser", "postgres.external.adminUser", /^required: a role with CREATEROLE and CREATEDB/],
    ["adminPassword", "postgres.external.adminPassword", /^required: the admin's password/],
  ])("reports a missing %s at its own key", (key, path, message) => {
    const rest: Record<string, unknown> = { ...ext };
    delete rest[key];
    expect(withExt(rest)).toEqual([[path, expect.stringMatching(message)]]);
  });

  it("refuses an empty or multi-line password, and a reserved pg_ admin name", () => {
    expect(withExt({ ...ext, adminPassword: "" })).toEqual([["postgres.external.adminPassword", expect.stringMatching(/^required/)]]);
    expect(withExt({ ...ext, adminPassword: "pw\nALTER ROLE x" })).toEqual([["postgres.external.adminPassword", "must be one line"]]);
    expect(withExt({ ...ext, adminUser: "pg_admin" })).toEqual([["postgres.external.adminUser", expect.stringMatching(/^pg_admin /)]]);
    expect(withExt({ ...ext, adminUser: "admin_pg_" })).toEqual([]);
  });

  it("minds a loopback host only when pgBouncer runs (in its own container)", () => {
    expect(withExt({ ...ext, host: "localhost" })).toEqual([]);
    for (const host of ["localhost", "::1", "127.0.0.1"]) {
      expect(withExt({ ...ext, host }, { pgbouncer: { enabled: true } })).toEqual([
        ["postgres.external.host", expect.stringMatching(new RegExp(`^${host.replace(/\./g, "\\.")} is loopback`))],
      ]);
    }
  });

  it("takes no role from an app's user that is not a string", () => {
    // shop_7 would be the role of a user "7": a number in the list names no role
    expect(withExt({ ...ext, adminUser: "shop_7" }, { apps: [{ name: "shop", readonlyUsers: [7] }] }).map(([path]) => path)).toEqual([
      "apps[0].readonlyUsers[0]",
    ]);
  });
});

describe("standby edges", () => {
  const CERT = "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----";
  const KEY = "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----";
  const good = {
    ...goodProd,
    dockerHost: "ssh://pg@host-a",
    postgres: { tls: { enabled: true, certificate: CERT, privateKey: KEY } },
    standby: { enabled: true, dockerHost: "ssh://pg@host-b", tailscale: { ip: "100.88.1.3" } },
  };

  it("lets an enabled standby be promoted", () => {
    expect(found("prod", { ...good, standby: { ...good.standby, promoted: true } })).toEqual([]);
  });

  it("accepts primary and standby on two tailnet devices, and refuses a device name that is none", () => {
    const devices = { ...good, tailscale: { device: "host-a" }, standby: { ...good.standby, tailscale: { device: "host-b" } } };
    expect(found("prod", devices)).toEqual([]);
    const bad = { ...devices, standby: { ...good.standby, tailscale: { device: "host b!" } } };
    expect(found("prod", bad)).toEqual([["standby.tailscale.device", '"host b!" is not a device name']]);
  });

  it("reports a malformed standby dockerHost once, for its form, even when the primary's is the same text", () => {
    const both = { ...good, dockerHost: "host-a", standby: { ...good.standby, dockerHost: "host-a" } };
    const at = found("prod", both).filter(([path]) => path === "standby.dockerHost");
    expect(at).toHaveLength(1);
    expect(at[0][1]).not.toMatch(/primary's Docker host/);
  });

  it("cuts the default slot name to the 63 characters a slot name may have", () => {
    const name = defaultSlotName("a".repeat(80));
    expect(name).toBe(`hlpg_standby_${"a".repeat(50)}`);
    expect(parseConfig(`Prod-${"x".repeat(70)}`, { ...good, dockerHost: "ssh://pg@host-a" }).standby.slotName).toHaveLength(63);
  });
});
