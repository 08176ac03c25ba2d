// The program with postgres.tls.mode stack-ca, under mocks: the CA and the server
// certificate (names, validity, renewal), where the key goes and that it stays secret
// everywhere, what Postgres, pgBouncer and pgAdmin are given, and the outputs.
import { INTERNAL_NAMES } from "../../../components/tls/stack-ca";
import { isSecretValue, ofType, PROD_SECRETS, ProgramResult, RegisteredResource, reveal, runProgram, stackConfig, T } from "../../helpers/program";

type Raw = Record<string, unknown>;
const prod = stackConfig("prod").values as Record<string, Raw>;
const prodPostgres = prod["homelab-postgres:postgres"];
const devPostgres = (stackConfig("dev").values as Record<string, Raw>)["homelab-postgres:postgres"];
const stackCa = { enabled: true, mode: "stack-ca", validityDays: 60, renewBeforeDays: 20 };
const TAILNET_IP = "100.101.102.103";

const byName = (r: ProgramResult, name: string): RegisteredResource => {
  const x = r.resources.find((y) => y.name === name);
  if (!x) throw new Error(`no resource ${name}`);
  return x;
};
const uploads = (c: RegisteredResource) => reveal(c.inputs.uploads) as { file: string; content: string; permissions: string }[];
const carrierFiles = (r: ProgramResult, carrier: string) =>
  Object.fromEntries(uploads(byName(r, carrier)).map((u) => [u.file.split("/").pop(), u]));
const envs = (c: RegisteredResource) => reveal(c.inputs.envs) as string[];

describe("prod with the stack CA", () => {
  let r: ProgramResult;
  beforeAll(async () => {
    r = await runProgram("prod", { ...PROD_SECRETS, overrides: { ...PROD_SECRETS.overrides, postgres: { ...prodPostgres, tls: stackCa } } });
  });

  it("makes a CA and a server certificate for the tailnet IP, the MagicDNS name and the container names", () => {
    const csr = ofType(r, "tls:index/certRequest:CertRequest");
    expect(csr).toHaveLength(1);
    const device = String((prod["homelab-postgres:tailscale"] as Raw).device);
    expect(reveal(csr[0].inputs.ipAddresses)).toEqual([TAILNET_IP]);
    expect(reveal(csr[0].inputs.dnsNames)).toEqual([device, device.split(".")[0], ...INTERNAL_NAMES]);
    const ca = ofType(r, "tls:index/selfSignedCert:SelfSignedCert");
    expect(ca).toHaveLength(1);
    expect(ca[0].inputs.isCaCertificate).toBe(true);
    expect(reveal(ca[0].inputs.allowedUses)).toContain("cert_signing");
  });

  it("renews the server certificate renewBeforeDays before it expires", () => {
    const cert = ofType(r, "tls:index/locallySignedCert:LocallySignedCert");
    expect(cert).toHaveLength(1);
    expect(cert[0].inputs.validityPeriodHours).toBe(60 * 24);
    expect(cert[0].inputs.earlyRenewalHours).toBe(20 * 24);
    expect(reveal(cert[0].inputs.allowedUses)).toEqual(expect.arrayContaining(["server_auth"]));
  });

  it("keeps every private key secret: in the certificate resources and every upload that carries one", () => {
    for (const k of ofType(r, "tls:index/privateKey:PrivateKey")) expect(k.additionalSecretOutputs).toContain("privateKeyPem");
    expect(isSecretValue(ofType(r, "tls:index/certRequest:CertRequest")[0].inputs.privateKeyPem)).toBe(true);
    expect(isSecretValue(ofType(r, "tls:index/locallySignedCert:LocallySignedCert")[0].inputs.caPrivateKeyPem)).toBe(true);
    const withKey = ofType(r, T.container).filter((c) => uploads(c)?.some((u) => u.content?.includes("PRIVATE KEY")));
    expect(withKey.map((c) => c.name).sort()).toEqual(["homelab-pgadmin-container", "homelab-pgbouncer-runtime-container", "homelab-postgres-tls-runtime-container"]);
    for (const c of withKey) {
      expect(c.additionalSecretOutputs).toContain("uploads");
      // the engine receives the whole list as a secret (one secret element makes it so; the
      // pure builders' own test checks that the key is that element: test/unit/tls/files.test.ts)
      expect(isSecretValue(c.inputs.uploads)).toBe(true);
    }
  });

  it("delivers the pair to Postgres through a carrier (key 0600 for uid 999), not as uploads of the Postgres container", () => {
    const files = carrierFiles(r, "homelab-postgres-tls-runtime-container");
    expect(files["server.crt"].content).toContain("BEGIN CERTIFICATE");
    expect(files["server.key"].content).toContain("PRIVATE KEY");
    expect(String(byName(r, "homelab-postgres-tls-runtime-container").inputs.user)).toBe("999:999");
    const script = (reveal(byName(r, "homelab-postgres-tls-runtime-container").inputs.entrypoints) as string[]).join(" ");
    expect(script).toMatch(/chmod 0600 \/hlpg-runtime\/\.server\.key\.tmp/);
    const pg = byName(r, "homelab-postgres-container");
    expect(uploads(pg).some((u) => u.file.includes("/tls/"))).toBe(false);
    const vols = reveal(pg.inputs.volumes) as { containerPath: string; readOnly?: boolean }[];
    expect(vols).toContainEqual(expect.objectContaining({ containerPath: "/etc/postgresql/tls", readOnly: true }));
    expect(uploads(pg).find((u) => u.file === "/etc/postgresql/postgresql.conf")?.content).toMatch(/ssl_cert_file = '\/etc\/postgresql\/tls\/server\.crt'/);
  });

  it("reloads Postgres when the carrier is replaced", () => {
    const reload = byName(r, "homelab-postgres-tls-reload");
    expect(String(reveal(reload.inputs.create))).toContain("pg_reload_conf()");
    expect(reload.dependencies).toEqual(expect.arrayContaining([byName(r, "homelab-postgres-tls-runtime-container").urn, byName(r, "homelab-postgres-container").urn]));
    expect((reveal(reload.inputs.triggers) as string[])).toEqual(["homelab-postgres-tls-runtime-container-id"]);
  });

  it("pgBouncer verifies Postgres against the CA and serves the certificate; its TLS files precede the ini", () => {
    const files = carrierFiles(r, "homelab-pgbouncer-runtime-container");
    const ini = files["pgbouncer.ini"].content;
    expect(ini).toMatch(/^server_tls_sslmode = verify-full$/m);
    expect(ini).toMatch(/^server_tls_ca_file = \/etc\/pgbouncer\/runtime\/ca\.crt$/m);
    expect(ini).toMatch(/^client_tls_cert_file = \/etc\/pgbouncer\/runtime\/cert\.crt$/m);
    expect(ini).toMatch(/^; tls files sha256 [0-9a-f]{64}$/m);
    expect(files["ca.crt"].content).toBe(r.outputs.caCertificate);
    expect(Object.keys(files).sort()).toEqual(["ca.crt", "cert.crt", "key.pem", "pgbouncer.ini"]);
    expect(uploads(byName(r, "homelab-pgbouncer-container")).some((u) => u.file.includes("tls"))).toBe(false);
  });

  it("serves pgAdmin over HTTPS and says so in its URL", () => {
    const c = byName(r, "homelab-pgadmin-container");
    expect(envs(c)).toContain("PGADMIN_ENABLE_TLS=True");
    const key = uploads(c).find((u) => u.file === "/certs/server.key");
    expect(key?.permissions).toBe("0600");
    expect(uploads(c).find((u) => u.file === "/certs/server.cert")?.content).toContain("BEGIN CERTIFICATE");
    expect(r.outputs.pgadminUrl).toBe(`https://${TAILNET_IP}:5050`);
  });

  it("hands out verify-full URLs naming the CA file, and the CA as a non-secret output", () => {
    const dbs = r.outputs.databases as Record<string, { url: string; pooledUrl: string }>;
    for (const db of Object.values(dbs)) {
      expect(db.url).toMatch(/\?sslmode=verify-full&sslrootcert=\/etc\/homelab-postgres\/ca\.crt$/);
      expect(db.pooledUrl).toMatch(/\?sslmode=verify-full&sslrootcert=\/etc\/homelab-postgres\/ca\.crt$/);
    }
    expect(String(r.outputs.caCertificate)).toContain("BEGIN CERTIFICATE");
    expect(r.secretOutputs).not.toContain("caCertificate");
    expect(r.secretOutputs).toContain("databases");
  });
});

describe("stacks that do not opt in", () => {
  it("dev with a provided certificate keeps uploads and sslmode=require, no CA", async () => {
    const tls = { enabled: true, certificate: "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----", privateKey: "-----BEGIN PRIVATE KEY-----\ny\n-----END PRIVATE KEY-----" };
    const r = await runProgram("dev", { overrides: { postgres: { ...devPostgres, tls } } });
    expect(ofType(r, "tls:index/privateKey:PrivateKey")).toHaveLength(0);
    expect(uploads(byName(r, "homelab-postgres-container")).map((u) => u.file)).toEqual(expect.arrayContaining(["/etc/postgresql/tls/server.crt", "/etc/postgresql/tls/server.key"]));
    const dbs = r.outputs.databases as Record<string, { url: string }>;
    for (const db of Object.values(dbs)) expect(db.url).toMatch(/\?sslmode=require$/);
    expect(r.outputs.caCertificate).toBeUndefined();
    expect(carrierFiles(r, "homelab-pgbouncer-runtime-container")["pgbouncer.ini"].content).toMatch(/^server_tls_sslmode = require$/m);
  });
});
