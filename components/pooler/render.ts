// pgbouncer.ini, its auth file, and the SQL behind auth_query, as text. Pure: the
// PgBouncer component uploads/runs exactly this, and the integration test runs it
// against a real PostgreSQL 15 and a real pgBouncer 1.18.
//
// Authentication design: clients authenticate with their own Postgres role and
// password (SCRAM). pgBouncer looks the SCRAM verifier up with auth_query, logged
// in as a dedicated low-privilege role whose own password is the only credential
// pgBouncer stores (auth_file). The lookup runs through a SECURITY DEFINER
// function, so that role needs no access to pg_authid. pgBouncer < 1.19 has no
// auth_dbname: the auth query runs in the database the client asked for, so the
// function is installed in every app database, and removed from it again (with
// every privilege the auth role holds there) before that role can be dropped.
import type { PoolMode } from "../config";
import { ipVersion, isHostname, isPort } from "../lib/net";
import { assertIdent, quoteIdent, quoteLiteral } from "../lib/quote";

/** The role pgBouncer logs in as to run auth_query (reserved in config). */
export const PGBOUNCER_AUTH_ROLE = "pgbouncer_auth";
/** Schema and function of the lookup, created in every app database. */
export const AUTH_SCHEMA = "pgbouncer";
export const AUTH_FUNCTION = "get_auth";
/** pgBouncer's built-in admin console user: allowed in over the Unix socket by the same OS uid only. */
export const ADMIN_CONSOLE_USER = "pgbouncer";

/** Mode of the auth file: pgBouncer's user only (it holds the auth role's password). */
export const AUTH_FILE_PERMISSIONS = "0600";

/** psql arguments that run a rendered auth script from stdin (connection from PG* env). */
export const AUTH_SETUP_PSQL_ARGS = ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"] as const;

/**
 * Comment on the schema and the function this program created in an app database:
 * the removal script drops only what carries it, and only takes the auth role's
 * privileges away from anything else.
 */
export const AUTH_MARKER = "homelab-postgres: pgBouncer auth_query lookup";

/** What pgBouncer runs for every client login it has no auth_file entry for. */
export const AUTH_QUERY = `SELECT usename, passwd FROM ${AUTH_SCHEMA}.${AUTH_FUNCTION}($1)`;

export interface PgBouncerVersion {
  major: number;
  minor: number;
  patch: number;
}

function cmp(v: PgBouncerVersion, major: number, minor: number, patch = 0): number {
  return v.major - major || v.minor - minor || v.patch - patch;
}

function atLeast(v: PgBouncerVersion | undefined, major: number, minor: number, patch = 0): boolean {
  return v !== undefined && cmp(v, major, minor, patch) >= 0;
}

/** One database's pool: `pool_mode`, and `pool_size` = `max_db_connections`. */
export interface DatabasePool {
  mode: PoolMode;
  size: number;
}

const POOL_MODE_VALUES: readonly string[] = ["session", "transaction", "statement"];

export type ServerSslMode = "require" | "verify-ca" | "verify-full";

export interface PgBouncerIniInput {
  /** App database names; one [databases] entry each, nothing else is reachable. */
  databases: string[];
  /** Where Postgres is: `postgres:5432` on the docker network, loopback in tests. */
  server: {
    host: string;
    port: number;
    /** TLS toward Postgres (when the server has TLS on). Absent: `prefer`. */
    tls?: { sslmode: ServerSslMode; caFile?: string };
  };
  listen: { addr: string; port: number; unixSocketDir: string };
  pool: { mode: PoolMode; defaultPoolSize: number; maxClientConn: number };
  /**
   * Per app database (by name): its own pool mode and size (`apps[].pool`). A database
   * not listed gets `pool.mode` and `pool.defaultPoolSize`.
   */
  pools?: Record<string, DatabasePool>;
  authFile: string;
  /** Defaults to PGBOUNCER_AUTH_ROLE. */
  authRole?: string;
  /**
   * false: no auth_user and no auth_query; every client is looked up in `authFile`
   * (postgres.external, where no superuser can install the lookup). Default true.
   */
  authLookup?: boolean;
  /**
   * A digest of the auth file's text, written as a comment: the wrapper reloads
   * pgBouncer when the ini changes, and so also when the auth file does.
   */
  authFileDigest?: string;
  /**
   * Users of the stats console (SHOW POOLS/STATS/LISTS, read-only): the monitoring
   * exporter's own user, listed in the auth file. Default none.
   */
  statsUsers?: string[];
  /** Admin-console users (maintenance.ts POOLER_ADMIN_USER: PAUSE, RESUME), in the auth file. Default none. */
  adminUsers?: string[];
  /** TLS for clients (same certificate as the server). Absent: clients connect in plain text. */
  clientTls?: { certFile: string; keyFile: string };
  /** pgBouncer version, to gate settings newer than 1.18 (absent: emit only 1.18-compatible keys). */
  version?: PgBouncerVersion;
  /** Protocol-level prepared statements kept per server connection (pgBouncer >= 1.21 only). */
  maxPreparedStatements?: number;
}


function iniValue(v: string | number, what: string): string {
  const s = String(v);
  // one line, no leading/trailing blanks: the ini parser would cut or trim them
  if (/[\r\n\0]/.test(s) || s !== s.trim() || s === "") throw new Error(`invalid ${what} for pgbouncer.ini: ${JSON.stringify(s)}`);
  return s;
}

function port(p: number, what: string): number {
  if (!isPort(p)) throw new Error(`invalid ${what} ${p}`);
  return p;
}

function positive(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`${what} must be a positive integer, got ${n}`);
  return n;
}

/** pgbouncer.ini. Every value is validated; unknown databases are simply not routable. */
export function renderPgBouncerIni(input: PgBouncerIniInput): string {
  const host = input.server.host;
  if (!isHostname(host) && ipVersion(host) === 0) throw new Error(`invalid server host ${JSON.stringify(host)}`);
  const authRole = assertIdent(input.authRole ?? PGBOUNCER_AUTH_ROLE, "auth role");
  const lookup = input.authLookup !== false;
  if (input.authFileDigest !== undefined && !/^[0-9a-f]{64}$/.test(input.authFileDigest)) throw new Error("authFileDigest must be a hex SHA-256");
  const { mode, defaultPoolSize, maxClientConn } = input.pool;
  if (!POOL_MODE_VALUES.includes(mode)) throw new Error(`invalid pool mode ${JSON.stringify(mode)}`);
  positive(defaultPoolSize, "defaultPoolSize");
  positive(maxClientConn, "maxClientConn");
  const dbs = [...new Set(input.databases.map((d) => assertIdent(d, "database name")))].sort();
  for (const db of Object.keys(input.pools ?? {})) {
    if (!dbs.includes(db)) throw new Error(`pool for ${JSON.stringify(db)}, which is not a routed database`);
  }
  const poolOf = (db: string): DatabasePool => {
    const p = input.pools?.[db] ?? { mode, size: defaultPoolSize };
    if (!POOL_MODE_VALUES.includes(p.mode)) throw new Error(`invalid pool mode ${JSON.stringify(p.mode)} for ${db}`);
    return { mode: p.mode, size: positive(p.size, `pool size of ${db}`) };
  };

  const lines: string[] = [
    "; Rendered by homelab-postgres. Only the databases below are routable; there is no '*' fallback.",
    ...(input.authFileDigest ? [`; auth file sha256 ${input.authFileDigest}`] : []),
    "[databases]",
  ];
  for (const db of dbs) {
    // max_db_connections caps the whole database (every user's pool, both rotation
    // logins of each app role, plus the auth lookup), so the sum over apps is what
    // config validation budgets for, whatever the number of users.
    const p = poolOf(db);
    lines.push(
      `${db} = host=${host} port=${port(input.server.port, "server port")} dbname=${db} ` +
        `pool_mode=${p.mode} pool_size=${p.size} max_db_connections=${p.size}`,
    );
  }
  const s: [string, string | number][] = [
    ["listen_addr", iniValue(input.listen.addr, "listen_addr")],
    ["listen_port", port(input.listen.port, "listen port")],
    // the admin console is reachable only here, by the same OS user (healthcheck, docker exec)
    ["unix_socket_dir", iniValue(input.listen.unixSocketDir, "unix_socket_dir")],
    ["auth_type", "scram-sha-256"],
    ["auth_file", iniValue(input.authFile, "auth_file")],
    ...(lookup ? [["auth_user", authRole], ["auth_query", AUTH_QUERY]] as [string, string][] : []),
    // consoles over TCP only for users with passwords of their own (the auth role's is not a key to SHOW CLIENTS)
    ["admin_users", consoleUsers(input.adminUsers, authRole, lookup, "admin")],
    ["stats_users", consoleUsers(input.statsUsers, authRole, lookup, "stats")],
    ["pool_mode", mode],
    ["default_pool_size", defaultPoolSize],
    ["min_pool_size", 0],
    // a reserve pool would exceed the budget config validation checked
    ["reserve_pool_size", 0],
    ["max_db_connections", defaultPoolSize],
    ["max_client_conn", maxClientConn],
    // JDBC and some ORMs send extra_float_digits at startup; pgBouncer would refuse the
    // login otherwise. `options` too unless the version is known to be >= 1.26.1: a
    // malformed `options` was reported as a DoS vector in 1.20-1.26.0; ignoring it is harmless.
    ["ignore_startup_parameters", atLeast(input.version, 1, 26, 1) ? "extra_float_digits" : "extra_float_digits,options"],
    ["server_reset_query", "DISCARD ALL"],
    ["server_tls_sslmode", input.server.tls?.sslmode ?? "prefer"],
  ];
  const tls = input.server.tls;
  if (tls && tls.sslmode !== "require") {
    if (!tls.caFile) throw new Error(`server_tls_sslmode ${tls.sslmode} needs a CA file`);
    s.push(["server_tls_ca_file", iniValue(tls.caFile, "server_tls_ca_file")]);
  }
  if (tls) s.push(["server_tls_protocols", "tlsv1.2,tlsv1.3"]);
  if (input.clientTls) {
    s.push(
      ["client_tls_sslmode", "require"],
      ["client_tls_cert_file", iniValue(input.clientTls.certFile, "client_tls_cert_file")],
      ["client_tls_key_file", iniValue(input.clientTls.keyFile, "client_tls_key_file")],
      ["client_tls_protocols", "tlsv1.2,tlsv1.3"],
    );
  }
  if (atLeast(input.version, 1, 21)) {
    // protocol-level prepared statements survive transaction pooling from 1.21 on
    s.push(["max_prepared_statements", positive(input.maxPreparedStatements ?? 200, "maxPreparedStatements")]);
  }
  lines.push("", "[pgbouncer]", ...s.map(([k, v]) => (v === "" ? `${k} =` : `${k} = ${v}`)));
  return lines.join("\n") + "\n";
}

/** A console's user list; never the auth role, whose password pgBouncer holds for auth_query. */
function consoleUsers(users: string[] | undefined, authRole: string, lookup: boolean, kind: "admin" | "stats"): string {
  const bad = (users ?? []).find((u) => assertIdent(u, `${kind} user`) === authRole && lookup);
  if (bad) throw new Error(`the auth role must not be a${kind === "admin" ? "n" : ""} ${kind} user`);
  return (users ?? []).join(",");
}

/**
 * auth_file text: the auth role, then any extra users (the stats user of the
 * monitoring exporter). Double quotes inside a field are doubled.
 */
export function renderAuthFile(role: string, password: string, extra: { user: string; password: string }[] = []): string {
  return [{ user: role, password }, ...extra].map((e) => {
    assertIdent(e.user, "auth file user");
    if (/[\r\n\0]/.test(e.password) || e.password.length === 0) throw new Error(`password of ${e.user} must be one non-empty line`);
    return `"${e.user}" "${e.password.replace(/"/g, '""')}"\n`;
  }).join("");
}

/**
 * auth_file text of every user pgBouncer lets in without auth_query (postgres.external):
 * each login role the program manages, with its password; sorted, one per line.
 */
export function renderUsersAuthFile(users: { user: string; password: string }[]): string {
  if (users.length === 0) return "";
  const sorted = [...users].sort((a, b) => (a.user < b.user ? -1 : a.user > b.user ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) if (sorted[i].user === sorted[i - 1].user) throw new Error(`auth file lists ${sorted[i].user} twice`);
  const [first, ...rest] = sorted;
  return renderAuthFile(first.user, first.password, rest);
}

/** CREATE ROLE for the auth role, for the integration test and operators (the component uses postgresql.Role). */
export function renderAuthRoleSql(role: string, password: string): string {
  return (
    `CREATE ROLE ${quoteIdent(role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT ` +
    `PASSWORD ${quoteLiteral(password)}`
  );
}

/** `"pgbouncer"."get_auth"(text)` and the same name as regprocedure text, for to_regprocedure. */
function lookupNames(): { schema: string; name: string; fn: string; regproc: string } {
  const schema = quoteIdent(AUTH_SCHEMA);
  const name = `${schema}.${quoteIdent(AUTH_FUNCTION)}`;
  return { schema, name, fn: `${name}(text)`, regproc: quoteLiteral(`${AUTH_SCHEMA}.${AUTH_FUNCTION}(text)`) };
}

/**
 * Statements to run, as a superuser, inside one app database: the lookup schema
 * and function, marked as ours (AUTH_MARKER), and the only privileges the auth
 * role gets. Idempotent.
 */
export function authSetupStatements(database: string, authRole: string = PGBOUNCER_AUTH_ROLE): string[] {
  const db = quoteIdent(database);
  const role = quoteIdent(authRole);
  const { schema, name, fn, regproc } = lookupNames();
  const marker = quoteLiteral(AUTH_MARKER);
  return [
    // The database owner (an app role) may create schemas: refuse to install a
    // SECURITY DEFINER function into a schema someone else controls.
    `DO $guard$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n JOIN pg_catalog.pg_roles r ON r.oid = n.nspowner
             WHERE n.nspname = ${quoteLiteral(AUTH_SCHEMA)} AND NOT r.rolsuper) THEN
    RAISE EXCEPTION 'schema % exists and is not owned by a superuser; refusing to install the pgBouncer auth function', ${quoteLiteral(AUTH_SCHEMA)};
  END IF;
END $guard$`,
    // Created here: marked, so that removal may drop it. A superuser's unmarked schema
    // holding nothing but the lookup is what an earlier version of this program left:
    // adopted. Any other existing schema stays unmarked and is never dropped.
    `DO $schema$
DECLARE
  v_ns pg_catalog.oid := (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname = ${quoteLiteral(AUTH_SCHEMA)});
BEGIN
  IF v_ns IS NULL THEN
    CREATE SCHEMA ${schema};
    COMMENT ON SCHEMA ${schema} IS ${marker};
  ELSIF pg_catalog.obj_description(v_ns, 'pg_namespace') IS NULL AND NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_depend d
    WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_namespace'::pg_catalog.regclass
      AND d.refobjid OPERATOR(pg_catalog.=) v_ns
      AND NOT (d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
               AND d.objid IS NOT DISTINCT FROM pg_catalog.to_regprocedure(${regproc})::pg_catalog.oid)
  ) THEN
    COMMENT ON SCHEMA ${schema} IS ${marker};
  END IF;
END $schema$`,
    `REVOKE ALL ON SCHEMA ${schema} FROM PUBLIC`,
    // Runs as its owner (the superuser running this), with a pinned search_path and
    // every name schema-qualified. Returns a verifier only for a role that may log in,
    // has a SCRAM password that has not expired (VALID UNTIL, CVE-2025-2291), may
    // CONNECT to this database, and holds none of the powers a pooled login must never
    // reach (superuser, replication, bypassrls). md5 hashes are never handed out: they
    // are password-equivalent.
    `CREATE OR REPLACE FUNCTION ${name}(p_usename text)
RETURNS TABLE (usename text, passwd text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
  SELECT a.rolname::pg_catalog.text, a.rolpassword::pg_catalog.text
  FROM pg_catalog.pg_authid a
  WHERE a.rolname OPERATOR(pg_catalog.=) p_usename
    AND a.rolcanlogin
    AND NOT a.rolsuper
    AND NOT a.rolreplication
    AND NOT a.rolbypassrls
    AND a.rolname OPERATOR(pg_catalog.<>) ${quoteLiteral(authRole)}
    AND a.rolpassword OPERATOR(pg_catalog.~~) 'SCRAM-SHA-256$%'
    AND (a.rolvaliduntil IS NULL OR a.rolvaliduntil OPERATOR(pg_catalog.>) pg_catalog.now())
    AND pg_catalog.has_database_privilege(a.oid, pg_catalog.current_database(), 'CONNECT')
$fn$`,
    // the definition is ours whatever was there before: CREATE OR REPLACE wrote it
    `COMMENT ON FUNCTION ${fn} IS ${marker}`,
    `REVOKE ALL ON FUNCTION ${fn} FROM PUBLIC`,
    `GRANT USAGE ON SCHEMA ${schema} TO ${role}`,
    `GRANT EXECUTE ON FUNCTION ${fn} TO ${role}`,
    // granted here too (the access model can also grant it): the pooler must not
    // depend on the order in which app grants were applied
    `GRANT CONNECT ON DATABASE ${db} TO ${role}`,
  ];
}

/**
 * Statements to run, as a superuser, inside one app database to undo
 * authSetupStatements: the function and the schema are dropped where they carry
 * AUTH_MARKER (the schema only while nothing else lives in it); whatever the auth
 * role still holds here is revoked, the database's CONNECT included. The
 * postgresql provider deletes a role from its own database only (REASSIGN OWNED,
 * DROP OWNED, DROP ROLE in `postgres`), so without this its DROP ROLE fails on
 * these privileges. Idempotent; a missing function, schema or role is fine.
 */
export function authRemoveStatements(database: string, authRole: string = PGBOUNCER_AUTH_ROLE): string[] {
  const db = quoteIdent(database);
  const role = quoteIdent(authRole);
  const { schema, fn, regproc } = lookupNames();
  const marker = quoteLiteral(AUTH_MARKER);
  return [
    `DO $remove$
DECLARE
  v_role boolean := EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) ${quoteLiteral(authRole)});
  v_fn pg_catalog.oid := pg_catalog.to_regprocedure(${regproc})::pg_catalog.oid;
  v_ns pg_catalog.oid := (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname OPERATOR(pg_catalog.=) ${quoteLiteral(AUTH_SCHEMA)});
BEGIN
  IF v_fn IS NOT NULL THEN
    IF pg_catalog.obj_description(v_fn, 'pg_proc') IS NOT DISTINCT FROM ${marker} THEN
      DROP FUNCTION ${fn};
    ELSIF v_role THEN
      REVOKE ALL ON FUNCTION ${fn} FROM ${role};
    END IF;
  END IF;
  IF v_ns IS NOT NULL THEN
    IF pg_catalog.obj_description(v_ns, 'pg_namespace') IS NOT DISTINCT FROM ${marker} THEN
      BEGIN
        DROP SCHEMA ${schema};
      EXCEPTION WHEN dependent_objects_still_exist THEN
        -- something else lives in it: keep it, without the auth role's access
        IF v_role THEN
          REVOKE ALL ON SCHEMA ${schema} FROM ${role};
        END IF;
      END;
    ELSIF v_role THEN
      REVOKE ALL ON SCHEMA ${schema} FROM ${role};
    END IF;
  END IF;
  IF v_role THEN
    REVOKE ALL ON DATABASE ${db} FROM ${role};
  END IF;
END $remove$`,
  ];
}

/**
 * The psql script that installs the lookup in one app database, in one
 * transaction; stops at the first error (ON_ERROR_STOP). Idempotent.
 */
export function renderAuthCreateScript(database: string, authRole: string = PGBOUNCER_AUTH_ROLE): string {
  const db = quoteIdent(database);
  return [
    `-- Rendered by homelab-postgres: pgBouncer's auth_query lookup in database ${db}.`,
    "\\set ON_ERROR_STOP on",
    `\\connect ${db}`,
    // notices (schema already exists on a re-run) are noise in `pulumi up` output
    "SET client_min_messages = warning;",
    "BEGIN;",
    ...authSetupStatements(database, authRole).map((s) => `${s};`),
    "COMMIT;",
  ].join("\n") + "\n";
}

/**
 * The psql script that removes the lookup and the auth role's privileges from one
 * app database (authRemoveStatements), in one transaction. Connects to the
 * maintenance database first: a database that is already gone leaves nothing to
 * remove, and the script succeeds. Idempotent.
 */
export function renderAuthRemoveScript(database: string, authRole: string = PGBOUNCER_AUTH_ROLE): string {
  const db = quoteIdent(database);
  return [
    `-- Rendered by homelab-postgres: removes pgBouncer's auth_query lookup from database ${db}.`,
    "\\set ON_ERROR_STOP on",
    "SET client_min_messages = warning;",
    `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = ${quoteLiteral(database)}) AS hlpg_database_exists \\gset`,
    "\\if :hlpg_database_exists",
    `\\connect ${db}`,
    "SET client_min_messages = warning;",
    "BEGIN;",
    ...authRemoveStatements(database, authRole).map((s) => `${s};`),
    "COMMIT;",
    "\\endif",
  ].join("\n") + "\n";
}

/** Delimiter of the here-document authPsqlCommand wraps a script in. */
export const AUTH_HEREDOC = "HLPG_SQL";

/**
 * The shell command (a command.local.Command runs it with `/bin/sh -c`) that feeds
 * `script` to psql. The script travels inside the command as a here-document, not
 * through the Command's `stdin`: the provider hands that one `stdin` to every run,
 * delete included (pulumi-command provider/pkg/provider/command.go, run()), so
 * create and delete could not carry different scripts. The quoted delimiter turns
 * off every shell expansion inside the document.
 */
export function authPsqlCommand(script: string): string {
  if (script.split("\n").includes(AUTH_HEREDOC)) throw new Error(`script contains a line "${AUTH_HEREDOC}", which would end the here-document`);
  const body = script.endsWith("\n") ? script : `${script}\n`;
  return `psql ${AUTH_SETUP_PSQL_ARGS.join(" ")} <<'${AUTH_HEREDOC}'\n${body}${AUTH_HEREDOC}\n`;
}

/** Healthcheck (exec form, without "CMD"): the admin console answers over the Unix socket. */
export function pgbouncerHealthcheck(unixSocketDir: string, listenPort: number): string[] {
  return ["psql", "-X", "-q", "-h", unixSocketDir, "-p", String(listenPort), "-U", ADMIN_CONSOLE_USER, "-d", "pgbouncer", "-tAc", "SHOW VERSION"];
}
