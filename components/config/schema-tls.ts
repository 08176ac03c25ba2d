// The `postgres.tls` section: today's provided certificate, or the stack's own CA
// (components/server/stack-ca.ts) with a server certificate it renews before expiry.
// Part of schema.ts, apart only to keep each file readable.
import { DEVICE_NAME } from "../lib/names";
import { bool, int, oneOf, section, str, stringList } from "./fields";
import { isNum, isStr, rule } from "./rules";

/** Where the stack CA's certificate goes in the URLs (`sslrootcert`) unless config says otherwise. */
export const DEFAULT_CLIENT_CA_FILE = "/etc/homelab-postgres/ca.crt";

export const tls = section({
  enabled: bool({ default: false, doc: "`ssl = on`, `hostssl` rules for every non-local source, TLS on pgBouncer's both sides" }),
  mode: oneOf(["provided", "stack-ca"] as const, {
    default: "provided",
    doc: "`provided`: the `certificate`/`privateKey` below, URLs say `sslmode=require` (encrypted, not verified). " +
      "`stack-ca`: the stack makes its own CA and a server certificate for the bind address and MagicDNS name, renews it " +
      "before expiry without a restart, URLs say `sslmode=verify-full`, pgBouncer verifies Postgres, pgAdmin serves HTTPS (docs/tls.md)",
  }),
  certificate: str({ type: "PEM", doc: "server certificate; required when TLS is on in `provided` mode" }),
  privateKey: str({ type: "PEM", secret: true, doc: "required in `provided` mode; uploaded 0600; in prod only as a Pulumi secret" }),
  dnsNames: stringList({
    type: "list",
    doc: "`stack-ca`: more DNS names in the server certificate, besides `tailscale.device` (the MagicDNS name, and its first label) and the container names `postgres` and `pgbouncer`. Set the MagicDNS name here when binding `tailscale.ip`",
  }),
  validityDays: int({ min: 2, max: 825, default: 90, doc: "`stack-ca`: lifetime of the server certificate" }),
  renewBeforeDays: int({
    min: 1, max: 824, default: 30,
    doc: "`stack-ca`: the first `pulumi up` this many days before the server certificate expires issues a new one (the provider's `earlyRenewalHours`); Postgres and pgBouncer reload it, no restart",
  }),
  caValidityDays: int({ min: 30, max: 7300, default: 3650, doc: "`stack-ca`: lifetime of the CA; renewed like the server certificate, which makes every app re-read `caCertificate`" }),
  clientCaFile: str({
    type: "path", default: DEFAULT_CLIENT_CA_FILE,
    doc: "`stack-ca`: the `sslrootcert` the URLs name: where app stacks put `caCertificate` (consumer.ts writes it there for a container)",
  }),
}).check(
  rule((v, report) => {
    const stackCa = v.mode === "stack-ca";
    if (v.enabled !== true) {
      if (stackCa) report(["mode"], "stack-ca needs TLS: set postgres.tls.enabled: true");
      return;
    }
    if (stackCa) {
      // a provided pair would be silently ignored
      if (v.certificate !== undefined) report(["certificate"], "not used with mode stack-ca (the stack CA issues the certificate): remove it");
      if (v.privateKey !== undefined) report(["privateKey"], "not used with mode stack-ca (the stack CA makes the key): remove it");
      if (Array.isArray(v.dnsNames)) {
        v.dnsNames.forEach((n, i) => {
          if (isStr(n) && !DEVICE_NAME.test(n)) report(["dnsNames", i], `${JSON.stringify(n)} is not a DNS name`);
        });
      }
      if (isNum(v.validityDays) && isNum(v.renewBeforeDays) && v.renewBeforeDays >= v.validityDays) {
        report(["renewBeforeDays"], `must be less than validityDays (${v.validityDays}): the certificate would be renewed on every up`);
      }
      if (isNum(v.validityDays) && isNum(v.caValidityDays) && v.caValidityDays <= v.validityDays) {
        report(["caValidityDays"], `must exceed validityDays (${v.validityDays}): the CA would expire before the certificates it signs`);
      }
      if (isStr(v.clientCaFile) && !/^\/[A-Za-z0-9._/-]+$/.test(v.clientCaFile)) {
        report(["clientCaFile"], "expected an absolute path of letters, digits and . _ - / (it goes into URLs unescaped)");
      }
      return;
    }
    if (!isStr(v.certificate) || !v.certificate.includes("BEGIN CERTIFICATE")) report(["certificate"], "TLS is enabled: a PEM certificate is required");
    if (!isStr(v.privateKey) || !v.privateKey.includes("PRIVATE KEY")) report(["privateKey"], "TLS is enabled: a PEM private key (secret) is required");
  }),
);
