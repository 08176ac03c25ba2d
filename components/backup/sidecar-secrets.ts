// The sidecar's secrets file: `export NAME='value'` lines the script sources
// (named by HLPG_SECRETS_FILE), uploaded 0600. Secrets never travel as container
// env: docker inspect shows env in clear.
import { shellQuote } from "../lib/quote";
import { SIDECAR_SECRET_VARS } from "./layout";

export interface SidecarSecrets {
  /** S3 access key id for curl (absent without a bucket). */
  s3Key?: string;
  /** S3 secret key for curl. */
  s3KeySecret?: string;
  /** AGE-SECRET-KEY-1...: decrypts the logical dumps. */
  ageIdentity: string;
}

/** The sidecar's secrets file: `export NAME='value'` lines the script sources (HLPG_SECRETS_FILE). */
export function renderSidecarSecretsEnv(secrets: SidecarSecrets): string {
  const line = (name: string, value: string, what: string) => {
    // a value with a newline or NUL would be refused by shellQuote with the value in the message
    if (value === "" || /[\0\r\n]/.test(value)) throw new Error(`invalid ${what} for the sidecar secrets file: empty or not one line`);
    return `export ${name}=${shellQuote(value)}`;
  };
  return [
    "# Rendered by homelab-postgres: secrets of the backup sidecar, sourced by hlpg-backup. Keep it 0600.",
    ...(secrets.s3Key !== undefined ? [line(SIDECAR_SECRET_VARS.s3Key, secrets.s3Key, "S3 access key")] : []),
    ...(secrets.s3KeySecret !== undefined ? [line(SIDECAR_SECRET_VARS.s3KeySecret, secrets.s3KeySecret, "S3 secret key")] : []),
    line(SIDECAR_SECRET_VARS.ageIdentity, secrets.ageIdentity, "age identity"),
  ].join("\n") + "\n";
}
