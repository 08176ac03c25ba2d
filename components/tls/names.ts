// What the server certificate names and its key type: pure, shared by StackCa and the
// integration tests that issue the same certificate with openssl.

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

/** The files Postgres reads in stack-ca mode and their modes: the key 0600, as Postgres requires of a key its own uid owns. */
export const POSTGRES_TLS_MODES = { "server.crt": "0444", "server.key": "0600" } as const;

/** The statement tlsReloadCommand runs after a renewal. */
export const RELOAD_SQL = "SELECT pg_reload_conf()";
