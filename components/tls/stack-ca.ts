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

export { INTERNAL_NAMES, KEY_ALGORITHM, serverCertificateNames } from "./names";
import { KEY_ALGORITHM, serverCertificateNames } from "./names";

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
