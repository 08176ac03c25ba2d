// The sidecar's secrets file: `export NAME='value'` lines the script sources
// (named by HLPG_SECRETS_FILE), uploaded 0600. Secrets never travel as container
// env: docker inspect shows env in clear.
import { shellQuote } from "../lib/quote";
import { NOTIFY_VARS, SIDECAR_SECRET_VARS } from "./layout";

/** Where and how backup jobs report (config `backup.notify`); absent or without URLs: no pings. */
export interface SidecarNotify {
  /** Base URL: healthchecks.io ping-key URL (the job is appended) or an ntfy topic URL. */
  url?: string;
  /** One job's own URL, by job name. */
  jobUrls?: Record<string, string | undefined>;
  style: "healthchecks" | "ntfy";
  /** Subset of start, success, failure. */
  events: string[];
}

const NOTIFY_URL_TEXT = /^https?:\/\/[^\s"'\\]+$/;
const JOB_NAME = /^[a-z][a-z0-9_]{0,31}$/;

export interface SidecarSecrets {
  /** S3 access key id for curl (absent without a bucket). */
  s3Key?: string;
  /** S3 secret key for curl. */
  s3KeySecret?: string;
  /** AGE-SECRET-KEY-1...: decrypts the logical dumps. */
  ageIdentity: string;
  /** Job notifications; absent: none. */
  notify?: SidecarNotify;
}

/** The notification lines of the secrets file ([] when no URL is set). */
export function renderNotifyLines(n: SidecarNotify | undefined): string[] {
  if (!n) return [];
  const urls: [string, string][] = [];
  if (n.url !== undefined) urls.push([NOTIFY_VARS.url, n.url]);
  for (const [job, u] of Object.entries(n.jobUrls ?? {}).sort()) {
    if (u === undefined) continue;
    if (!JOB_NAME.test(job)) throw new Error(`invalid job name ${JSON.stringify(job)} for a notify URL`);
    urls.push([`${NOTIFY_VARS.jobUrlPrefix}${job}`, u]);
  }
  if (urls.length === 0) return [];
  // never echo a URL: it is the credential
  for (const [name, u] of urls) if (!NOTIFY_URL_TEXT.test(u)) throw new Error(`invalid notify URL in ${name}: not an http(s) URL without spaces or quotes`);
  if (!["healthchecks", "ntfy"].includes(n.style)) throw new Error(`invalid notify style ${JSON.stringify(n.style)}`);
  for (const e of n.events) if (!["start", "success", "failure"].includes(e)) throw new Error(`invalid notify event ${JSON.stringify(e)}`);
  return [
    ...urls.map(([name, u]) => `export ${name}=${shellQuote(u)}`),
    `export ${NOTIFY_VARS.style}=${shellQuote(n.style)}`,
    // an empty list still sets the variable (one blank): nothing is sent
    `export ${NOTIFY_VARS.events}=${shellQuote(n.events.join(" ") || " ")}`,
  ];
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
    ...renderNotifyLines(secrets.notify),
  ].join("\n") + "\n";
}
