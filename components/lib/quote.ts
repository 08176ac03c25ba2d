// Quoting for everything that reaches SQL, a config file or a shell script. Names
// are validated at config time (config.ts) AND quoted here: validation gives good
// errors, quoting keeps a mistake in validation from becoming an injection.

/** Identifiers we create: lower-case, start with a letter, fit in NAMEDATALEN-1. */
export const SAFE_IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

/** Throws unless `name` is a plain identifier we are willing to emit. */
export function assertIdent(name: string, what = "identifier"): string {
  if (!SAFE_IDENT.test(name)) {
    throw new Error(`unsafe ${what} ${JSON.stringify(name)}: expected ${SAFE_IDENT}`);
  }
  return name;
}

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

/** postgresql.conf parameter names: letters, digits, underscores, one optional dot (extension.param). */
export const CONF_KEY = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$/;

/** A bash single-quoted word. Rejects NUL and newlines, which no value of ours needs. */
export function shellQuote(value: string): string {
  if (/[\0\r\n]/.test(value)) throw new Error(`refusing to shell-quote a value with a newline or NUL: ${JSON.stringify(value)}`);
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
