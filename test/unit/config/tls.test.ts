// postgres.tls (components/config/schema-tls.ts): the two modes and the rules between
// their keys, every problem at once and at its key path.
import { parseConfig } from "../../../components/config";
import { DEFAULT_CLIENT_CA_FILE } from "../../../components/config/schema-tls";
import { problems } from "../../helpers/config";

const P = "homelab-postgres:postgres.tls";
const at = (raw: Record<string, unknown>) => problems("dev", { postgres: { tls: raw } });

describe("postgres.tls", () => {
  it("defaults: off, provided mode, 90-day certificates renewed 30 days before, a 10-year CA", () => {
    const t = parseConfig("dev", {}).postgres.tls;
    expect(t).toMatchObject({ enabled: false, mode: "provided", validityDays: 90, renewBeforeDays: 30, caValidityDays: 3650, clientCaFile: DEFAULT_CLIENT_CA_FILE, dnsNames: [] });
  });

  it("stack-ca needs no certificate or key", () => {
    expect(at({ enabled: true, mode: "stack-ca" })).toEqual([]);
  });

  it("stack-ca refuses a provided pair (it would be ignored) and needs TLS on", () => {
    const p = at({ enabled: true, mode: "stack-ca", certificate: "-----BEGIN CERTIFICATE-----", privateKey: "-----BEGIN PRIVATE KEY-----" });
    expect(p.map((x) => x.path)).toEqual([`${P}.certificate`, `${P}.privateKey`]);
    expect(at({ mode: "stack-ca" })).toEqual([{ path: `${P}.mode`, message: expect.stringMatching(/enabled: true/) }]);
  });

  it("reports every timing and naming problem at once", () => {
    const p = at({ enabled: true, mode: "stack-ca", validityDays: 30, renewBeforeDays: 30, caValidityDays: 30, dnsNames: ["ok.example", "bad name"], clientCaFile: "ca.crt" });
    expect(p.map((x) => x.path).sort()).toEqual([`${P}.caValidityDays`, `${P}.clientCaFile`, `${P}.dnsNames[1]`, `${P}.renewBeforeDays`].sort());
    expect(p.find((x) => x.path === `${P}.renewBeforeDays`)?.message).toMatch(/less than validityDays \(30\)/);
  });

  it("keeps the provided mode's rules (existing stacks)", () => {
    expect(at({ enabled: true }).map((x) => x.path)).toEqual([`${P}.certificate`, `${P}.privateKey`]);
    expect(at({ enabled: true, mode: "stak-ca" })[0]).toMatchObject({ path: `${P}.mode` });
  });
});
