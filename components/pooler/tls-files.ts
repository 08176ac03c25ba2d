// The runtime volume's file names and the ini's reload stamp in stack-ca mode: pure,
// shared by the PgBouncer component and the integration fixture that plays its carrier.
import { createHash } from "crypto";

/** Name of the ini in the runtime volume. */
export const RUNTIME_INI = "pgbouncer.ini";

/**
 * Names of the TLS files in the runtime volume (stack-ca mode). They sort before
 * RUNTIME_INI: the carrier copies files in name order, and the wrapper reloads when
 * the ini changes, so the key, certificate and CA are in place before that reload.
 */
export const RUNTIME_TLS = { ca: "ca.crt", cert: "cert.crt", key: "key.pem" } as const;

/**
 * The ini's last line in stack-ca mode: a digest of the certificate and the CA, so a
 * renewal of either changes the ini and the wrapper reloads (SIGHUP re-reads the TLS
 * files: pgBouncer main.c handle_sighup → sbuf_tls_setup). Up to 1.18 open server
 * connections keep their session; new ones use the new CA file.
 */
export function tlsStampLine(certificate: string, caCertificate: string): string {
  return `; tls files sha256 ${createHash("sha256").update(certificate).update("\0").update(caCertificate).digest("hex")}`;
}

/** Modes of the TLS copies: the key readable by pgBouncer's uid only. */
export const RUNTIME_TLS_MODES = { ca: "0444", cert: "0444", key: "0600" } as const;

/** The ini as delivered in stack-ca mode: the rendered text and the stamp as its last line. */
export function stampIni(ini: string, certificate: string, caCertificate: string): string {
  return `${ini}${ini.endsWith("\n") ? "" : "\n"}${tlsStampLine(certificate, caCertificate)}\n`;
}
