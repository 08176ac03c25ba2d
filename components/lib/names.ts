// Every naming rule of the program, defined once. Config validation gives the
// good error messages from these; renderers call the assert* forms again before
// text is emitted (defence in depth), so both always agree. Imports nothing of ours.

/** App names as written in config: lower-case letter first; letters, digits, `_` and `-`. */
export const APP_NAME = /^[a-z][a-z0-9_-]{0,47}$/;
/** Extra user names of an app (the suffix of `<database>_<user>`). */
export const APP_USER = /^[a-z][a-z0-9_]{0,13}$/;
/** An extra schema of an app (not `public`, not `pg_*`, not `information_schema`: checked in config). */
export const SCHEMA_NAME = /^[a-z][a-z0-9_]{0,62}$/;
/** Identifiers we create in SQL: lower-case, fit in NAMEDATALEN-1. */
export const SAFE_IDENT = /^[a-z_][a-z0-9_]{0,62}$/;
/** Extension names (may contain '-', as uuid-ossp does). */
export const EXTENSION_NAME = /^[a-z][a-z0-9_-]{0,62}$/;
/** postgresql.conf parameter names: letters, digits, underscores, one optional dot (extension.param). */
export const CONF_KEY = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$/;
/** pgBackRest stanza: lower-case, [a-z0-9_-]. */
/** A physical replication slot name: what PostgreSQL accepts (ReplicationSlotValidateName), lower case. */
export const SLOT_NAME = /^[a-z0-9_]{1,63}$/;
export const STANZA = /^[a-z0-9][a-z0-9_-]{0,62}$/;
/**
 * S3 general-purpose bucket names, every rule of the AWS user guide's "General
 * purpose bucket naming rules": 3-63 characters of [a-z0-9.-], a letter or digit
 * at both ends, no `..`, not shaped like an IPv4 address, none of the reserved
 * prefixes (xn--, sthree-, amzn-s3-demo-) or suffixes (-s3alias, --ol-s3, .mrap,
 * --x-s3, --table-s3). bucketNameProblem says which rule a name breaks.
 */
export const BUCKET =
  /^(?!xn--|sthree-|amzn-s3-demo-)(?!.*\.\.)(?!\d{1,3}(\.\d{1,3}){3}$)(?!.*(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

const BUCKET_PREFIXES = ["xn--", "sthree-", "amzn-s3-demo-"];
const BUCKET_SUFFIXES = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

/** Which S3 naming rule a bucket name breaks (the first one), or undefined when S3 accepts it. */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return `must be 3-63 characters long, got ${name.length}`;
  if (!/^[a-z0-9.-]+$/.test(name)) return "may only use lower-case letters, digits, '.' and '-'";
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) return "must begin and end with a letter or digit";
  if (name.includes("..")) return "must not contain two adjacent dots";
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) return "must not be formatted as an IP address";
  const prefix = BUCKET_PREFIXES.find((p) => name.startsWith(p));
  if (prefix) return `must not start with ${prefix} (reserved by S3)`;
  const suffix = BUCKET_SUFFIXES.find((p) => name.endsWith(p));
  if (suffix) return `must not end with ${suffix} (reserved by S3)`;
  return BUCKET.test(name) ? undefined : "is not a valid S3 bucket name";
}
/** AWS-style region names (`eu-central-1`) or an S3-compatible store's (`garage`, `us-east-1`). */
export const REGION = /^[a-z0-9-]{2,32}$/;
/** Tailnet ACL tags: `tag:name`. */
export const TAILNET_TAG = /^tag:[a-z0-9][a-z0-9-]*$/;
/** Tailscale device (machine) names: MagicDNS labels or a FQDN. */
export const DEVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/;
export const EMAIL = /^[^\s@'"\\]+@[^\s@'"\\]+\.[a-z]{2,}$/i;
/** An absolute path of plain characters (rendered into scripts and configs). */
/** An age X25519 recipient (public key): `age1` + 58 bech32 characters. */
export const AGE_RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;

export const ABS_PATH = /^\/[A-Za-z0-9._/-]*$/;

/** `-` folds to `_`: the one normalisation between app names and SQL identifiers. */
export function sqlName(appName: string): string {
  return appName.replace(/-/g, "_");
}

/** Throws unless `value` matches `pattern`; the message names what it is. */
export function assertMatches(value: string, pattern: RegExp, what: string): string {
  if (!pattern.test(value)) throw new Error(`invalid ${what}: ${JSON.stringify(value)} does not match ${pattern}`);
  return value;
}

/** Throws unless `name` is a plain identifier we are willing to emit. */
export function assertIdent(name: string, what = "identifier"): string {
  if (!SAFE_IDENT.test(name)) throw new Error(`unsafe ${what} ${JSON.stringify(name)}: expected ${SAFE_IDENT}`);
  return name;
}

/** Throws unless `p` is an absolute path of plain characters without `..`. */
export function assertAbsPath(p: string, what: string): string {
  if (!ABS_PATH.test(p) || p.split("/").includes("..")) throw new Error(`invalid ${what} (absolute path of [A-Za-z0-9._/-]): ${JSON.stringify(p)}`);
  return p;
}

/** "did you mean" for typos within edit distance 2 (empty string when nothing is close). */
export function suggest(word: string, candidates: Iterable<string>): string {
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (!best || d < best.d) best = { c, d };
  }
  return best && best.d <= 2 ? ` (did you mean '${best.c}'?)` : "";
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      dp[i][j] = Math.min(dp[i - 1][j] + 1, dp[i][j - 1] + 1, dp[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return dp[a.length][b.length];
}
