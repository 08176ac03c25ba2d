// Quoting for everything that reaches SQL, a config file or a shell script. Names
// are validated at config time (config/, with the patterns of names.ts) AND quoted
// here: validation gives good errors, quoting keeps a mistake in validation from
// becoming an injection.
import { assertIdent } from "./names";

export { assertIdent, CONF_KEY, SAFE_IDENT } from "./names";

/** SQL identifier, always double-quoted (so reserved words such as "user" stay valid). */
export function quoteIdent(name: string): string {
  assertIdent(name);
  return `"${name}"`;
}

/** SQL string literal. Uses E'' only when needed; rejects NUL which Postgres cannot store. */
export function quoteLiteral(value: string): string {
  if (value.includes("\0")) throw new Error("NUL byte in SQL literal");
  const escaped = value.replace(/'/g, "''");
  if (escaped.includes("\\")) return `E'${escaped.replace(/\\/g, "\\\\")}'`;
  return `'${escaped}'`;
}

/** Value in postgresql.conf syntax: always single-quoted, quotes doubled, no newlines. */
export function quoteConfValue(value: string | number | boolean): string {
  const text = String(value);
  if (/[\r\n\0]/.test(text)) throw new Error(`newline in config value ${JSON.stringify(text)}`);
  return `'${text.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
}

/** A bash single-quoted word. Rejects NUL and newlines, which no value of ours needs. */
export function shellQuote(value: string): string {
  if (/[\0\r\n]/.test(value)) throw new Error(`refusing to shell-quote a value with a newline or NUL: ${JSON.stringify(value)}`);
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * Why a value cannot be written as a pgbackrest.conf value, or undefined. pgBackRest
 * has no quoting: it takes the rest of the line after the first `=` literally
 * (quotes, `$`, backticks, `=`, `#`, `;`, backslashes all stay) but trims blanks
 * at both ends, so only one line without blanks at its ends survives unchanged
 * (test/integration/backup/passphrase.test.ts proves both on the real binary).
 * Never names the value: it may be a secret.
 */
export function confValueProblem(value: string): string | undefined {
  if (value.length === 0) return "is empty";
  if (value.length > 1024) return "is longer than 1024 characters";
  if (/\p{Cc}/u.test(value)) return "contains a control character (newline, tab, NUL...)";
  if (/^\s|\s$/u.test(value)) return "begins or ends with a space (pgBackRest trims the ends of pgbackrest.conf values, so it would read a different secret)";
  return undefined;
}
