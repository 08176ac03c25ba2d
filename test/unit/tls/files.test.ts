// The pure parts of stack-ca TLS: the certificate's names, the files each carrier
// delivers (the key secret and 0600), pgBouncer's ordering and reload stamp, the URLs.
import * as pulumi from "@pulumi/pulumi";
import { renderConnectionUrl, tlsParams } from "../../../components/apps/access";
import { RUNTIME_INI, RUNTIME_TLS, runtimeFiles, tlsStampLine } from "../../../components/pooler/pgbouncer";
import { pgadminHealthcheck } from "../../../components/pgadmin/render";
import { carrierFiles } from "../../../components/runtime";
import { INTERNAL_NAMES, postgresTlsFiles, serverCertificateNames } from "../../../components/tls";

describe("serverCertificateNames", () => {
  it("names the bind address, the MagicDNS name and its first label, extra names and the container names", () => {
    expect(serverCertificateNames({ bindAddress: "100.64.1.2", device: "Homelab.tail1234.ts.net.", dnsNames: ["pg.example.org"] })).toEqual({
      commonName: "homelab.tail1234.ts.net",
      dnsNames: ["homelab.tail1234.ts.net", "homelab", "pg.example.org", ...INTERNAL_NAMES],
      ipAddresses: ["100.64.1.2"],
    });
  });

  it("without a device, the address is the common name and nothing is repeated", () => {
    const n = serverCertificateNames({ bindAddress: "127.0.0.1", dnsNames: ["postgres"] });
    expect(n.commonName).toBe("127.0.0.1");
    expect(n.dnsNames).toEqual(["postgres", "pgbouncer"]);
  });
});

const secret = (o: pulumi.Input<string>) => pulumi.isSecret(pulumi.output(o));

describe("what the carriers deliver", () => {
  it("Postgres: the key is secret and 0600, the certificate public", async () => {
    const f = postgresTlsFiles("CERT", "KEY");
    expect(f["server.key"].mode).toBe("0600");
    expect(await secret(f["server.key"].content)).toBe(true);
    expect(await secret(f["server.crt"].content)).toBe(false);
  });

  it("pgBouncer: CA, certificate and key before the ini, the key secret and 0600, the ini stamped with the certificate", async () => {
    const files = runtimeFiles("[pgbouncer]\n", { certificate: "CERT-1", privateKey: "KEY", caCertificate: "CA" });
    // the carrier copies in this order; the wrapper reloads when the ini (the last) changes
    expect(carrierFiles(files).map((f) => f.name)).toEqual([RUNTIME_TLS.ca, RUNTIME_TLS.cert, RUNTIME_TLS.key, RUNTIME_INI]);
    expect(files[RUNTIME_TLS.key].mode).toBe("0600");
    expect(await secret(files[RUNTIME_TLS.key].content)).toBe(true);
    const ini = await new Promise<string>((res) => pulumi.output(files[RUNTIME_INI].content).apply(res));
    expect(ini).toBe(`[pgbouncer]\n${tlsStampLine("CERT-1", "CA")}\n`);
    // a renewed certificate, or a renewed CA alone, changes the ini: the wrapper reloads
    expect(tlsStampLine("CERT-2", "CA")).not.toBe(tlsStampLine("CERT-1", "CA"));
    expect(tlsStampLine("CERT-1", "CA-2")).not.toBe(tlsStampLine("CERT-1", "CA"));
  });

  it("pgBouncer without the stack CA: the ini alone, unchanged", () => {
    expect(runtimeFiles("[pgbouncer]\n", { certificate: "C", privateKey: "K" })).toEqual({ [RUNTIME_INI]: { content: "[pgbouncer]\n" } });
  });
});

describe("URLs", () => {
  const base = { user: "app", password: "p w", host: "100.64.1.2", port: 5432, database: "app" };
  it("verify-full names the CA file", () => {
    expect(renderConnectionUrl({ ...base, ...tlsParams({ requireTls: true, verifyTls: { caFile: "/etc/homelab-postgres/ca.crt" } }) }))
      .toBe("postgresql://app:p%20w@100.64.1.2:5432/app?sslmode=verify-full&sslrootcert=/etc/homelab-postgres/ca.crt");
  });
  it("provided certificates keep sslmode=require, no TLS keeps no parameter", () => {
    expect(renderConnectionUrl({ ...base, ...tlsParams({ requireTls: true }) })).toMatch(/\?sslmode=require$/);
    expect(renderConnectionUrl({ ...base, ...tlsParams({ requireTls: false }) })).toMatch(/\/app$/);
  });
  it("refuses verify-full without a CA file", () => {
    expect(() => renderConnectionUrl({ ...base, sslmode: "verify-full" })).toThrow(/sslrootcert/);
  });
});

it("pgAdmin's healthcheck probes HTTPS when it serves HTTPS", () => {
  expect(pgadminHealthcheck(5050, true)).toContain("https://127.0.0.1:5050/misc/ping");
  expect(pgadminHealthcheck(5050)).toContain("http://127.0.0.1:5050/misc/ping");
});
