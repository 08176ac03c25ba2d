// Recognising credentials in env entries, command lines, labels and uploaded
// files. A rule cannot tell a Pulumi secret from plaintext (see docs/policies.md),
// so these look at names and shapes, and never return the value they found.

// Env/key names that hold a credential: the words, and the abbreviations people use
// as a suffix (DB_PWD, SMTP_PASS, DB_PW, GITHUB_CREDENTIALS, BASIC_AUTH). Not bare
// PWD/OLDPWD, the shell's working directories.
const SENSITIVE_NAME_RE =
  /(PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|CREDENTIAL|PRIVATE_?KEY|API_?KEY|AUTH_?KEY|(^|_)PASS($|_)|_PWD($|_)|_PW$|_AUTH$)/;
// ...unless the name says it is about one (a path to it, a setting for it):
// POSTGRES_PASSWORD_FILE, password_encryption, MASTER_PASSWORD_REQUIRED, auth_type.
const NOT_A_CREDENTIAL_RE = /(FILE|_PATH|_DIR|_ENCRYPTION|_REQUIRED|_TYPE|_METHOD|_LENGTH|_POLICY|_ENABLED|_MODE)$/;
// Values that are clearly a switch, not a password (e.g. PGADMIN_CONFIG_MASTER_PASSWORD_REQUIRED=False).
const SWITCH_VALUE_RE = /^(true|false|yes|no|on|off|0|1)$/i;
// scheme://user:password@host, any scheme, the user possibly empty (`://:pw@`), the
// password anything up to the last `@` of the authority ('/' included: clients that
// split at the last '@' take it). An empty password (user:@) does not count, nor
// `host:port/path@x` (a port, then a path that happens to hold an '@').
const URL_WITH_PASSWORD_RE = /[a-z][a-z0-9+.-]*:\/\/[^\s:@/?#]*:(?!\d{1,5}(?:[/?#]|$))[^\s@]+@/i;
// a credential as a URL query parameter: ?password=, &sslpassword=, ;token=...
const URL_QUERY_CREDENTIAL_RE =
  /[?&;](?:ssl)?(?:password|passwd|passphrase|pass|pwd|secret|token|access_?token|api_?key|client_?secret)=(?![&;#\s]|$)/i;
// libpq conninfo: host=... password=... (and sslpassword=, the client key's passphrase)
const CONNINFO_PASSWORD_RE = /(^|[\s;])(?:ssl)?password\s*=\s*(?!['"]?\s*(?:$|[\s;]))/i;

// SNAKE_CASE for env names, ini keys (repo1-cipher-pass) and camelCase inputs (superuserPassword) alike
function normaliseName(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toUpperCase()
    .replace(/[-.]/g, "_");
}

/** Whether a variable/key name says it holds a credential (and not a path to one). */
export function isSensitiveName(name: string): boolean {
  const n = normaliseName(name.trim());
  return SENSITIVE_NAME_RE.test(n) && !NOT_A_CREDENTIAL_RE.test(n);
}

// Tailscale auth/API keys have a recognisable shape.
const TAILSCALE_KEY_RE = /\btskey-[a-z]+-[A-Za-z0-9]{8,}/;

/** Whether free text embeds a credential: a URL with a password (userinfo or query), a conninfo `password=`, a Tailscale key. */
export function containsInlineCredential(text: string): boolean {
  return URL_WITH_PASSWORD_RE.test(text) || URL_QUERY_CREDENTIAL_RE.test(text) || CONNINFO_PASSWORD_RE.test(text) || TAILSCALE_KEY_RE.test(text);
}

/**
 * Why a `NAME=VALUE` env entry carries a password, or undefined. Never returns
 * the value itself.
 */
export function envEntryProblem(entry: string, allowNames: string[] = []): string | undefined {
  const eq = entry.indexOf("=");
  const name = eq >= 0 ? entry.slice(0, eq) : entry;
  const value = eq >= 0 ? entry.slice(eq + 1) : "";
  if (allowNames.includes(name)) return undefined;
  if (value.trim() === "") return undefined;
  if (containsInlineCredential(value)) return `env ${name} embeds a credential in its value (a URL or conninfo with a password, or a key)`;
  if (isSensitiveName(name) && !SWITCH_VALUE_RE.test(value.trim())) {
    return `env ${name} carries a credential; pass it as a file (${name}_FILE or a config file upload) instead`;
  }
  return undefined;
}

// key = value, key: value, KEY=value (ini, pgbackrest.conf, .env, yaml)
const ASSIGNMENT_RE = /^\s*(?:export\s+)?["']?([A-Za-z0-9_.-]+)["']?\s*[=:]\s*(.+?)\s*$/;
// "Password": "x" (json)
const JSON_SECRET_RE = /"([^"]*(?:password|passwd|passphrase|secret|token)[^"]*)"\s*:\s*"[^"]+"/i;
// pgpass, pgBouncer userlist and similar credential files, by name
const SENSITIVE_FILE_RE = /(pgpass|userlist|passw|secret|credential|\.pass$|\.key$)/i;

/** Whether the text of a file (or any string) carries a credential. */
export function textHasCredential(text: string): boolean {
  if (containsInlineCredential(text) || JSON_SECRET_RE.test(text)) return true;
  // comment lines (# or ;) never match ASSIGNMENT_RE: neither character can start a key
  for (const line of text.split(/\r?\n/)) {
    const m = ASSIGNMENT_RE.exec(line);
    if (!m) continue;
    const value = m[2].replace(/^["']|["']$/g, "");
    if (isSensitiveName(m[1]) && value !== "" && !SWITCH_VALUE_RE.test(value)) return true;
  }
  return false;
}

/** Whether an uploaded file is a credential file, by name or by content. */
export function uploadHasCredential(file: string, content: string | undefined): boolean {
  const base = file.split("/").pop() ?? file;
  if (SENSITIVE_FILE_RE.test(base)) return true;
  return content !== undefined && textHasCredential(content);
}

/**
 * Files named by a credential's `*_FILE` variable (POSTGRES_PASSWORD_FILE=/run/secrets/pg):
 * they hold that credential, whatever their name or content looks like.
 */
export function credentialFilesFromEnv(envs: string[]): Set<string> {
  const files = new Set<string>();
  for (const entry of envs) {
    const m = /^([A-Za-z0-9_]+)_FILE=(.+)$/.exec(entry);
    if (m && isSensitiveName(m[1])) files.add(m[2].trim());
  }
  return files;
}

/** Octal mode text ("0600", "600", "0o600") -> number; undefined when it is not one. */
export function parseFileMode(mode: string | undefined): number | undefined {
  if (mode === undefined) return undefined;
  const m = /^(?:0o|0)?([0-7]{3,4})$/.exec(mode.trim());
  return m ? parseInt(m[1], 8) : undefined;
}

/**
 * Every password-bearing string inside a value, as JSON-ish paths. Used by the
 * whole-program tests to check that each of them is a Pulumi secret (the one
 * thing a policy cannot check, see docs/policies.md).
 */
export function findCredentialPaths(value: unknown, path = ""): string[] {
  if (typeof value === "string") {
    const key = path.split(/[.[\]]/).filter((p) => p !== "").pop() ?? "";
    // (an array index or "" is never a sensitive name)
    const byName = isSensitiveName(key) && value !== "" && !SWITCH_VALUE_RE.test(value);
    const envLike = /^[A-Za-z_][A-Za-z0-9_]*=/.test(value) && envEntryProblem(value) !== undefined;
    return byName || envLike || textHasCredential(value) ? [path] : [];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => findCredentialPaths(v, `${path}[${i}]`));
  if (value !== null && typeof value === "object") {
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) =>
      findCredentialPaths(v, path === "" ? k : `${path}.${k}`),
    );
  }
  return [];
}
