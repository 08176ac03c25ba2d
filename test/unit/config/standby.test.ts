// The `standby` section: each rule fires on its own key, all at once, and a good
// standby config parses with the slot name resolved.
import { parseConfig } from "../../../components/config";
import { goodProd, problems } from "../../helpers/config";

const CERT = "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----";
const KEY = "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----";
const tls = { enabled: true, certificate: CERT, privateKey: KEY };
const good = {
  ...goodProd,
  dockerHost: "ssh://pg@host-a",
  postgres: { tls },
  standby: { enabled: true, dockerHost: "ssh://pg@host-b", tailscale: { ip: "100.88.1.3" } },
};
const paths = (raw: Record<string, unknown>, stack = "dev") => problems(stack, raw).map((p) => p.path.replace(/^homelab-postgres:/, "")).sort();

describe("standby config", () => {
  it("parses a standby on a second tailnet host, with the slot named after the stack", () => {
    expect(problems("prod", good)).toEqual([]);
    const c = parseConfig("prod", good);
    expect(c.standby).toMatchObject({ enabled: true, dockerHost: "ssh://pg@host-b", port: 5432, bootstrap: "basebackup", slotName: "hlpg_standby_prod", promoted: false });
    expect(parseConfig("prod-eu", good).standby.slotName).toBe("hlpg_standby_prod_eu");
    expect(parseConfig("dev", {}).standby.enabled).toBe(false);
  });

  it("refuses the stack CA with a standby (its certificate names the primary only)", () => {
    expect(paths({ ...good, postgres: { tls: { enabled: true, mode: "stack-ca" } } })).toEqual(["postgres.tls.mode"]);
  });

  it("reports every missing piece at once, each on the key to fix", () => {
    const p = problems("dev", { standby: { enabled: true, bootstrap: "backup" } }).map((x) => ({ ...x, path: x.path.replace(/^homelab-postgres:/, "") }));
    expect(p.map((x) => x.path).sort()).toEqual(["postgres.tls.enabled", "standby.bootstrap", "standby.dockerHost", "standby.tailscale", "tailscale"]);
    expect(p.find((x) => x.path === "postgres.tls.enabled")?.message).toMatch(/TLS/);
    expect(p.find((x) => x.path === "standby.bootstrap")?.message).toMatch(/backup.enabled/);
  });

  it("refuses the primary's docker host (also both unset-vs-local), address or device", () => {
    expect(paths({ ...good, standby: { ...good.standby, dockerHost: "ssh://pg@host-a" } })).toEqual(["standby.dockerHost"]);
    const local = { ...good, dockerHost: undefined, standby: { ...good.standby, dockerHost: "unix:///var/run/docker.sock" } };
    expect(paths(local)).toEqual(["standby.dockerHost"]);
    expect(paths({ ...good, standby: { ...good.standby, tailscale: { ip: "100.88.1.2" } } })).toEqual(["standby.tailscale.ip"]);
    const devices = { ...good, tailscale: { device: "box" }, standby: { ...good.standby, tailscale: { device: "box" } } };
    expect(paths(devices)).toEqual(["standby.tailscale.device"]);
  });

  it("binds the standby to a tailnet address only, never loopback or 0.0.0.0", () => {
    for (const ip of ["127.0.0.1", "0.0.0.0", "192.168.1.4"]) {
      expect(paths({ ...good, standby: { ...good.standby, tailscale: { ip } } })).toEqual(["standby.tailscale.ip"]);
    }
    expect(paths({ ...good, dockerHost: undefined, tailscale: { ip: "127.0.0.1" } })).toEqual(["tailscale.ip"]);
    expect(paths({ ...good, standby: { ...good.standby, tailscale: { ip: "100.88.1.3", device: "b" } } })).toEqual(["standby.tailscale"]);
  });

  it("checks the slot name, the bootstrap source, promotion without a standby, a bootstrap primary", () => {
    expect(paths({ ...good, standby: { ...good.standby, slotName: "Bad-Slot" } })).toEqual(["standby.slotName"]);
    expect(paths({ ...good, standby: { ...good.standby, bootstrap: "rsync" } })).toEqual(["standby.bootstrap"]);
    expect(paths({ ...good, standby: { ...good.standby, bootstrap: "backup" } })).toEqual([]);
    expect(paths({ standby: { promoted: true } })).toEqual(["standby.promoted"]);
    expect(paths({ ...good, postgres: { tls, bootstrap: {} } })).toEqual(["standby.enabled"]);
    expect(paths({ standby: { enabled: true, dockerHost: "ftp://x", port: 80, tailscale: { ip: "100.88.1.3" } }, tailscale: { ip: "100.88.1.2" }, postgres: { tls } }))
      .toEqual(["standby.dockerHost", "standby.port"]);
  });

  it("leaves a disabled standby's keys alone but still checks their form", () => {
    expect(paths({ standby: { dockerHost: "ssh://pg@host-b" } })).toEqual([]);
    expect(paths({ standby: { slotName: "x y" } })).toEqual(["standby.slotName"]);
  });
});
