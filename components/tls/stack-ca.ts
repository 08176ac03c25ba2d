// StackCa: the stack's own certificate authority and the one server certificate it
// signs (Postgres, pgBouncer and pgAdmin all serve it). @pulumi/tls resources: the
// keys and certificates live in the stack's state (keys as secrets), nothing is
// written on the machine running `pulumi up`.
//
// Renewal (hashicorp/terraform-provider-tls internal/provider/common_cert.go,
// modifyPlanIfCertificateReadyForRenewal): at plan time, i.e. on every `pulumi
// preview`/`up`, a certificate whose validity_end_time minus early_renewal_hours has
// passed gets `ready_for_renewal` in RequiresReplace: that `up` replaces it with a
// new one. A `pulumi refresh` only sets ready_for_renewal = true in state
// (modifyStateIfCertificateReadyForRenewal, called from Read); it issues nothing.
// Nothing happens between runs: a stack nobody runs `up` on lets it expire.
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";

/** Key type of the CA and the server: P-256 ECDSA, which libpq, pgBouncer's libssl and gunicorn all accept. */
export const KEY_ALGORITHM = { algorithm: "ECDSA", ecdsaCurve: "P256" } as const;

/** Names every container on the stack network reaches the servers by (CONTAINER.hostname, PGBOUNCER_CONTAINER.hostname). */
export const INTERNAL_NAMES = ["postgres", "pgbouncer"] as const;

export interface CertificateNamesInput {
  /** The bind address: a tailnet IP, or loopback on a dev stack. */
  bindAddress: string;
  /** `tailscale.device`: the device's MagicDNS name (FQDN), when the address is looked up. */
  device?: string;
  /** `postgres.tls.dnsNames`. */
  dnsNames?: readonly string[];
}

export interface CertificateNames {
  commonName: string;
  dnsNames: string[];
  ipAddresses: string[];
}

/**
 * Pure: the subject alternative names of the server certificate. The bind address
 * (clients connect to the IP), the MagicDNS name and its first label (MagicDNS
 * resolves both on tailnet clients), extra names from config, and the container
 * names pgBouncer (server_tls_sslmode = verify-full) and app containers on the
 * stack network connect by. The integration tests issue their certificates from this.
 */
export function serverCertificateNames(input: CertificateNamesInput): CertificateNames {
  const fqdn = input.device?.replace(/\.$/, "").toLowerCase();
  const short = fqdn?.includes(".") ? fqdn.split(".")[0] : undefined;
  const dnsNames = [...new Set([fqdn, short, ...(input.dnsNames ?? []).map((n) => n.toLowerCase()), ...INTERNAL_NAMES].filter((n): n is string => !!n))];
  return { commonName: fqdn ?? input.bindAddress, dnsNames, ipAddresses: [input.bindAddress] };
}

export interface StackCaArgs {
  /** Stack name: in the CA's subject, so two stacks' CAs are told apart. */
  stack: string;
  /** The bind address (resolved from the tailnet when `tailscale.device` is set). */
  bindAddress: pulumi.Input<string>;
  device?: string;
  dnsNames: string[];
  /** Server certificate lifetime and renewal margin, in days. */
  validityDays: number;
  renewBeforeDays: number;
  caValidityDays: number;
}

export class StackCa extends pulumi.ComponentResource {
  /** PEM of the CA certificate: public, the `caCertificate` output. */
  readonly caCertificate: pulumi.Output<string>;
  /** PEM of the server certificate (public). */
  readonly certificate: pulumi.Output<string>;
  /** PEM of the server key: secret. */
  readonly privateKey: pulumi.Output<string>;
  readonly serverCert: tls.LocallySignedCert;
  readonly caCert: tls.SelfSignedCert;

  constructor(name: string, args: StackCaArgs, opts?: pulumi.ComponentResourceOptions) {
    // inputs deliberately not passed to super: they would be stored in state as the component's inputs
    super("homelab:postgres:StackCa", name, {}, opts);
    const child = { parent: this };
    const hours = (days: number) => days * 24;

    const caKey = new tls.PrivateKey(`${name}-ca-key`, { ...KEY_ALGORITHM }, { ...child, additionalSecretOutputs: ["privateKeyPem", "privateKeyPemPkcs8", "privateKeyOpenssh"] });
    this.caCert = new tls.SelfSignedCert(
      `${name}-ca-cert`,
      {
        privateKeyPem: pulumi.secret(caKey.privateKeyPem),
        isCaCertificate: true,
        // only this CA signs: no intermediates under it
        maxPathLength: 0,
        subject: { commonName: `homelab-postgres ${args.stack} CA`, organization: "homelab-postgres" },
        validityPeriodHours: hours(args.caValidityDays),
        earlyRenewalHours: hours(args.renewBeforeDays),
        allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
      },
      child,
    );

    const serverKey = new tls.PrivateKey(`${name}-server-key`, { ...KEY_ALGORITHM }, { ...child, additionalSecretOutputs: ["privateKeyPem", "privateKeyPemPkcs8", "privateKeyOpenssh"] });
    const names = pulumi.output(args.bindAddress).apply((ip) => serverCertificateNames({ bindAddress: ip, device: args.device, dnsNames: args.dnsNames }));
    const csr = new tls.CertRequest(
      `${name}-server-csr`,
      {
        privateKeyPem: pulumi.secret(serverKey.privateKeyPem),
        subject: { commonName: names.commonName, organization: "homelab-postgres" },
        dnsNames: names.dnsNames,
        ipAddresses: names.ipAddresses,
      },
      child,
    );
    this.serverCert = new tls.LocallySignedCert(
      `${name}-server-cert`,
      {
        certRequestPem: csr.certRequestPem,
        caPrivateKeyPem: pulumi.secret(caKey.privateKeyPem),
        caCertPem: this.caCert.certPem,
        validityPeriodHours: hours(args.validityDays),
        earlyRenewalHours: hours(args.renewBeforeDays),
        allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
      },
      child,
    );

    this.caCertificate = pulumi.unsecret(this.caCert.certPem);
    this.certificate = pulumi.unsecret(this.serverCert.certPem);
    // setMocks and some engines do not mark provider secrets; mark it ourselves
    this.privateKey = pulumi.secret(serverKey.privateKeyPem);
    this.registerOutputs({ caCertificate: this.caCertificate, certificate: this.certificate });
  }
}
