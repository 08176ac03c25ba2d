// The SQL @pulumi/postgresql 3.18.1 runs when the engine creates (and updates) a
// resource, as the provider's source issues it (cyrilgdn/terraform-provider-postgresql
// at ff936b95, the upstream that release wraps; `Q` = pq.QuoteIdentifier, `L` =
// pqQuoteLiteral in helpers.go). Each function takes the resource's inputs as the
// program registers them (revealed, plain JS, camelCase) and returns the steps the
// provider runs, in order. Tests run them on real servers to prove `pulumi up`
// succeeds; a fact here is a fact about the provider: keep each with its source.
//
// Assumptions (where the provider branches on the server or on its own login):
// - a PostgreSQL 17 server: every feature flag in config.go holds (CREATE ROLE WITH,
//   BYPASSRLS, REPLICATION, ALLOW_CONNECTIONS, IS_TEMPLATE, CREATE SCHEMA IF NOT
//   EXISTS, MAINTAIN on tables, pg_auth_members.set_option);
// - the provider logs in as the superuser `postgres` to database `postgres`
//   (provider `database: "postgres"`, `superuser: true`): withRolesGranted grants
//   nothing (it checks rolsuper of CURRENT_USER), but grantRoleMembership (used by
//   Database) does not check it and grants the owner to `postgres` while it works;
// - `postgres` is not already a member of any role the program names (the provider
//   checks pg_auth_members and skips the GRANT/REVOKE when it is).
// Left out: the provider's reads (existence checks, owner lookups, the read-back
// after each write) change nothing; where one would make the provider stop with an
// error, the write it guards fails on the server too. Bound parameters ($1) are
// inlined as SQL literals.
import type { SqlStep } from "./provider-sql";
import { physicalSlotSql } from "./provider-sql";

type Inputs = Record<string, unknown>;

/** How the provider connects: its `username` and `database` settings. */
export interface ProviderLogin {
  username: string;
  database: string;
}
const DEFAULT_LOGIN: ProviderLogin = { username: "postgres", database: "postgres" };

/** pq.QuoteIdentifier: always double-quoted, `"` doubled. */
const Q = (name: string) => `"${name.replace(/"/g, '""')}"`;
/**
 * helpers.go pqQuoteLiteral: `\` doubled, then `'` doubled; the caller wraps it in
 * quotes. (With standard_conforming_strings on, a `\` in a password reaches the
 * server doubled: the provider's behaviour, kept.)
 */
const L = (s: string) => s.replace(/\\/g, "\\\\").replace(/'/g, "''");
/** A bound parameter ($1) written inline: a standard SQL literal. */
const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

// ---------------------------------------------------------------------------
// inputs: the program's values, with the provider schema's defaults

function str(i: Inputs, key: string): string | undefined {
  const v = i[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new Error(`input ${key}: expected a string, got ${typeof v}`);
  return v;
}
function reqStr(i: Inputs, key: string): string {
  const v = str(i, key);
  if (v === undefined || v === "") throw new Error(`input ${key} is required`);
  return v;
}
function bool(i: Inputs, key: string, dflt: boolean): boolean {
  const v = i[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== "boolean") throw new Error(`input ${key}: expected a boolean, got ${typeof v}`);
  return v;
}
function int(i: Inputs, key: string, dflt: number): number {
  const v = i[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== "number" || !Number.isInteger(v)) throw new Error(`input ${key}: expected an integer, got ${String(v)}`);
  return v;
}
function strs(i: Inputs, key: string): string[] {
  const v = i[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) throw new Error(`input ${key}: expected a list of strings`);
  return v as string[];
}

// schema.TypeSet with schema.HashString (terraform-plugin-sdk v2 helper/schema/set.go):
// Set.List() orders the elements by their hash code (crc32 IEEE of the string) written
// in decimal, sorted as strings. Statements that join a set keep that order.
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
/** crc32.ChecksumIEEE (hashcode.String in the SDK). */
export function crc32(s: string): number {
  let c = 0xffffffff;
  for (const b of Buffer.from(s, "utf8")) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
/** A TypeSet's List(): deduplicated, in hash-code order. */
export function tfSetList(items: readonly string[]): string[] {
  const byCode = new Map<string, string>();
  for (const s of items) if (!byCode.has(String(crc32(s)))) byCode.set(String(crc32(s)), s);
  return [...byCode.keys()].sort().map((k) => byCode.get(k) as string);
}
const sameSet = (a: readonly string[], b: readonly string[]) => {
  const x = tfSetList(a), y = tfSetList(b);
  return x.length === y.length && x.every((s, n) => s === y[n]);
};
const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((s, n) => s === b[n]);

/** helpers.go pgLockRole: no statement timeout, then advisory locks on the role and its members. */
function lockRole(role: string): string[] {
  return [
    "SET statement_timeout = 0",
    `SELECT pg_advisory_xact_lock(oid::bigint) FROM pg_roles WHERE rolname = ${lit(role)}`,
    `SELECT pg_advisory_xact_lock(member::bigint) FROM pg_auth_members JOIN pg_roles ON roleid = pg_roles.oid WHERE rolname = ${lit(role)}`,
  ];
}
/** helpers.go pgLockDatabase. */
function lockDatabase(database: string): string[] {
  return ["SET statement_timeout = 0", `SELECT pg_advisory_xact_lock(oid::bigint) FROM pg_database WHERE datname = ${lit(database)}`];
}

// ---------------------------------------------------------------------------
// postgresql:index/role:Role

const roleBools: [key: string, dflt: boolean, on: string, off: string][] = [
  ["superuser", false, "SUPERUSER", "NOSUPERUSER"],
  ["createDatabase", false, "CREATEDB", "NOCREATEDB"],
  ["createRole", false, "CREATEROLE", "NOCREATEROLE"],
  ["inherit", true, "INHERIT", "NOINHERIT"],
  ["login", false, "LOGIN", "NOLOGIN"],
  // featureRLS (>= 9.5), featureReplication (>= 9.1): both appended on PG 17
  ["bypassRowLevelSecurity", false, "BYPASSRLS", "NOBYPASSRLS"],
  ["replication", false, "REPLICATION", "NOREPLICATION"],
];

/** The password the provider uses: `password`, else the write-only `passwordWo`. */
const rolePassword = (i: Inputs) => str(i, "password") || str(i, "passwordWo") || undefined;

/** resource_postgresql_role.go grantRoles: `GRANT <each of roles> TO <role>`, in set order. */
const grantRoles = (role: string, i: Inputs) => tfSetList(strs(i, "roles")).map((r) => `GRANT ${Q(r)} TO ${Q(role)}`);

/** resource_postgresql_role.go alterSearchPath: always run, DEFAULT when no search_path is given. */
function alterSearchPath(role: string, i: Inputs): string {
  const parts = strs(i, "searchPaths");
  for (const p of parts) if (p.includes(", ")) throw new Error(`search_path cannot contain \`, \`: ${p}`);
  return `ALTER ROLE ${Q(role)} SET search_path TO ${parts.length > 0 ? parts.map(Q).join(", ") : "DEFAULT"}`;
}

/** setStatementTimeout / setIdleInTransactionSessionTimeout: on a change, SET n (n ≠ 0) or RESET. */
function roleTimeout(role: string, param: string, oldValue: number, newValue: number): string[] {
  if (oldValue === newValue) return [];
  return [newValue !== 0 ? `ALTER ROLE ${Q(role)} SET ${param} TO ${newValue}` : `ALTER ROLE ${Q(role)} RESET ${param}`];
}

/** resource_postgresql_role.go setAssumeRole: on a change, `ALTER ROLE r SET ROLE TO x` or `RESET ROLE`. */
function roleAssume(role: string, oldValue: string, newValue: string): string[] {
  if (oldValue === newValue) return [];
  return [newValue !== "" ? `ALTER ROLE ${Q(role)} SET ROLE TO ${Q(newValue)}` : `ALTER ROLE ${Q(role)} RESET ROLE`];
}

/**
 * resource_postgresql_role.go resourcePostgreSQLRoleCreate (ff936b95): one
 * transaction in the provider's database. `CREATE ROLE <Q(name)> WITH` [ENCRYPTED
 * PASSWORD '<L(pw)>' | PASSWORD NULL] VALID UNTIL 'infinity'|'<L(v)>' CONNECTION LIMIT
 * n, then every boolean spelled out (SUPERUSER CREATEDB CREATEROLE INHERIT LOGIN
 * BYPASSRLS REPLICATION, NO-prefixed when off); then grantRoles (`GRANT <r> TO
 * <role>`), alterSearchPath (always: `SET search_path TO DEFAULT` when none),
 * setStatementTimeout / setIdleInTransactionSessionTimeout / setAssumeRole (each only
 * when set: on Create HasChange compares with the zero value).
 */
export function roleCreateSteps(i: Inputs, login: ProviderLogin = DEFAULT_LOGIN): SqlStep[] {
  const name = reqStr(i, "name");
  const opts: string[] = [];
  const pw = rolePassword(i);
  if (pw !== undefined) {
    if (pw.toUpperCase() === "NULL") opts.push("PASSWORD NULL");
    else opts.push(bool(i, "encryptedPassword", true) ? "ENCRYPTED" : "UNENCRYPTED", `PASSWORD '${L(pw)}'`);
  }
  // VALID UNTIL: default "infinity" (d.GetOk skips an explicit "")
  const validUntil = str(i, "validUntil") ?? "infinity";
  if (validUntil !== "") opts.push(validUntil.toLowerCase() === "infinity" ? "VALID UNTIL 'infinity'" : `VALID UNTIL '${L(validUntil)}'`);
  opts.push(`CONNECTION LIMIT ${int(i, "connectionLimit", -1)}`);
  for (const [key, dflt, on, off] of roleBools) opts.push(bool(i, key, dflt) ? on : off);
  return [{
    database: login.database,
    statements: [
      `CREATE ROLE ${Q(name)} WITH ${opts.join(" ")}`,
      ...grantRoles(name, i),
      alterSearchPath(name, i),
      ...roleTimeout(name, "statement_timeout", 0, int(i, "statementTimeout", 0)),
      ...roleTimeout(name, "idle_in_transaction_session_timeout", 0, int(i, "idleInTransactionSessionTimeout", 0)),
      ...roleAssume(name, "", str(i, "assumeRole") ?? ""),
    ],
  }];
}

/**
 * resource_postgresql_role.go resourcePostgreSQLRoleUpdate (ff936b95): one transaction
 * in the provider's database. pgLockRole(old name); then, each only for a field that
 * changed: RENAME TO; `ALTER ROLE r PASSWORD '<L(pw)>'` (no ENCRYPTED keyword; also
 * when the name changed; with `passwordWo`, only when `passwordWoVersion` changed);
 * `ALTER ROLE r WITH [NO]BYPASSRLS`; `ALTER ROLE r CONNECTION LIMIT n`; `WITH
 * [NO]CREATEDB | [NO]CREATEROLE | [NO]INHERIT | [NO]LOGIN | [NO]REPLICATION |
 * [NO]SUPERUSER`; `VALID UNTIL '…'`. Then, always: revokeRoles (every membership the
 * role has on the server, whoever granted it, including ones a GrantRole resource
 * made) and grantRoles (the new `roles`), alterSearchPath; then the timeouts and
 * assume_role when they changed.
 *
 * revokeRoles reads `SELECT pg_get_userbyid(roleid) FROM pg_auth_members … WHERE
 * rolname = $1` and runs `REVOKE <Q(granted)> FROM <Q(role)>` for each row; it is
 * written here as one DO block doing the same in the same transaction (the rows are
 * on the server, not in the inputs).
 */
export function roleUpdateSteps(o: Inputs, n: Inputs, login: ProviderLogin = DEFAULT_LOGIN): SqlStep[] {
  const oldName = reqStr(o, "name");
  const name = reqStr(n, "name");
  const s: string[] = [...lockRole(oldName)];
  if (oldName !== name) s.push(`ALTER ROLE ${Q(oldName)} RENAME TO ${Q(name)}`);
  // setRolePassword
  const wo = str(n, "passwordWo");
  const pwChanged = wo
    ? str(o, "passwordWoVersion") !== str(n, "passwordWoVersion")
    : (str(o, "password") ?? "") !== (str(n, "password") ?? "") || oldName !== name;
  const pw = wo || str(n, "password") || undefined;
  if (pwChanged && pw !== undefined) s.push(`ALTER ROLE ${Q(name)} PASSWORD '${L(pw)}'`);
  // setRoleBypassRLS, setRoleConnLimit, then the other booleans in the provider's order
  const flag = (key: string, dflt: boolean, on: string, off: string) => {
    if (bool(o, key, dflt) !== bool(n, key, dflt)) s.push(`ALTER ROLE ${Q(name)} WITH ${bool(n, key, dflt) ? on : off}`);
  };
  flag("bypassRowLevelSecurity", false, "BYPASSRLS", "NOBYPASSRLS");
  if (int(o, "connectionLimit", -1) !== int(n, "connectionLimit", -1)) s.push(`ALTER ROLE ${Q(name)} CONNECTION LIMIT ${int(n, "connectionLimit", -1)}`);
  flag("createDatabase", false, "CREATEDB", "NOCREATEDB");
  flag("createRole", false, "CREATEROLE", "NOCREATEROLE");
  flag("inherit", true, "INHERIT", "NOINHERIT");
  flag("login", false, "LOGIN", "NOLOGIN");
  flag("replication", false, "REPLICATION", "NOREPLICATION");
  flag("superuser", false, "SUPERUSER", "NOSUPERUSER");
  // setRoleValidUntil
  const vOld = str(o, "validUntil") ?? "infinity", vNew = str(n, "validUntil") ?? "infinity";
  if (vOld !== vNew && vNew !== "") s.push(`ALTER ROLE ${Q(name)} VALID UNTIL '${L(vNew.toLowerCase() === "infinity" ? "infinity" : vNew)}'`);
  // revokeRoles (every current membership), grantRoles
  s.push(
    "DO $revoke_roles$ DECLARE granted text; BEGIN " +
      "FOR granted IN SELECT pg_get_userbyid(roleid) FROM pg_catalog.pg_auth_members members " +
      `JOIN pg_catalog.pg_roles ON members.member = pg_roles.oid WHERE rolname = ${lit(name)} ` +
      `LOOP EXECUTE format('REVOKE %I FROM %I', granted, ${lit(name)}); END LOOP; END $revoke_roles$`,
  );
  s.push(...grantRoles(name, n), alterSearchPath(name, n));
  s.push(...roleTimeout(name, "statement_timeout", int(o, "statementTimeout", 0), int(n, "statementTimeout", 0)));
  s.push(...roleTimeout(name, "idle_in_transaction_session_timeout", int(o, "idleInTransactionSessionTimeout", 0), int(n, "idleInTransactionSessionTimeout", 0)));
  s.push(...roleAssume(name, str(o, "assumeRole") ?? "", str(n, "assumeRole") ?? ""));
  return [{ database: login.database, statements: s }];
}

// ---------------------------------------------------------------------------
// postgresql:index/database:Database

/**
 * helpers.go grantRoleMembership / revokeRoleMembership around a database statement
 * (createDatabase, setDBOwner): `GRANT <owner> TO <provider user>` before, `REVOKE`
 * after, both on the provider's pooled connection (autocommit); skipped when the
 * owner is the provider user (or, on the server, when it already is a member).
 */
function asOwner(owner: string | undefined, login: ProviderLogin, statements: string[]): string[] {
  if (!owner || owner === login.username) return statements;
  return [`GRANT ${Q(owner)} TO ${Q(login.username)}`, ...statements, `REVOKE ${Q(owner)} FROM ${Q(login.username)}`];
}

/**
 * resource_postgresql_database.go resourcePostgreSQLDatabaseCreate → createDatabase
 * (ff936b95): autocommit on the provider's database. With an owner, a lock
 * transaction (pgLockRole of the provider user, on another connection, rolled back:
 * not written here) and `GRANT <owner> TO postgres` (grantRoleMembership does not
 * look at superuser), then `CREATE DATABASE <Q(name)> OWNER <Q(owner | provider
 * user)> TEMPLATE <Q(t)> | TEMPLATE DEFAULT | TEMPLATE template0 (absent) ENCODING
 * '<e>' | ENCODING 'UTF8' (absent) [LC_COLLATE '…'] [LC_CTYPE '…'] [TABLESPACE …]
 * ALLOW_CONNECTIONS true|false CONNECTION LIMIT n IS_TEMPLATE true|false`, then
 * (deferred) `REVOKE <owner> FROM postgres`. Spacing as the provider's fmt.Fprint
 * leaves it (a given ENCODING/LC_* ends in a space).
 */
export function databaseCreateSteps(i: Inputs, login: ProviderLogin = DEFAULT_LOGIN): SqlStep[] {
  const name = reqStr(i, "name");
  const owner = str(i, "owner") || undefined;
  let b = `CREATE DATABASE ${Q(name)}`;
  b += ` OWNER ${Q(owner ?? login.username)}`;
  const template = str(i, "template") || undefined;
  if (template !== undefined) b += template.toUpperCase() === "DEFAULT" ? " TEMPLATE DEFAULT" : ` TEMPLATE ${Q(template)}`;
  else b += " TEMPLATE template0";
  const encoding = str(i, "encoding") || undefined;
  if (encoding !== undefined) b += encoding.toUpperCase() === "DEFAULT" ? " ENCODING DEFAULT" : ` ENCODING '${L(encoding)}' `;
  else b += " ENCODING 'UTF8'";
  const collate = str(i, "lcCollate") || undefined;
  if (collate !== undefined) b += collate.toUpperCase() === "DEFAULT" ? " LC_COLLATE DEFAULT" : ` LC_COLLATE '${L(collate)}' `;
  const ctype = str(i, "lcCtype") || undefined;
  if (ctype !== undefined) b += ctype.toUpperCase() === "DEFAULT" ? " LC_CTYPE DEFAULT" : ` LC_CTYPE '${L(ctype)}' `;
  const tablespace = str(i, "tablespaceName") || undefined;
  if (tablespace !== undefined) b += tablespace.toUpperCase() === "DEFAULT" ? " TABLESPACE DEFAULT" : ` TABLESPACE ${Q(tablespace)}`;
  b += ` ALLOW_CONNECTIONS ${bool(i, "allowConnections", true)}`;
  b += ` CONNECTION LIMIT ${int(i, "connectionLimit", -1)}`;
  b += ` IS_TEMPLATE ${bool(i, "isTemplate", false)}`;
  return [{ database: login.database, autocommit: true, statements: asOwner(owner, login, [b]) }];
}

/** A Computed input: absent in the new inputs means "keep the state", not a change. */
function computedChanged(o: Inputs, n: Inputs, key: string, stateDefault: string | boolean): boolean {
  const nv = n[key];
  if (nv === undefined || nv === null) return false;
  return nv !== (o[key] ?? stateDefault);
}

function forceNew(type: string, o: Inputs, n: Inputs, keys: string[], computed: string[] = []): void {
  const differs = (k: string) => {
    const a = o[k], b = n[k];
    if (computed.includes(k) && (b === undefined || b === null)) return false;
    if (Array.isArray(a) || Array.isArray(b)) return !sameSet(strs(o, k), strs(n, k));
    return (a ?? undefined) !== (b ?? undefined);
  };
  const changed = [...keys, ...computed].filter(differs);
  if (changed.length > 0) throw new Error(`${type}: ${changed.join(", ")} changed: the provider replaces the resource (ForceNew), it does not update it`);
}

/**
 * resource_postgresql_database.go resourcePostgreSQLDatabaseUpdate (ff936b95), each
 * for a field that changed, autocommit on the provider's database: setDBName (`ALTER
 * DATABASE o RENAME TO n`); setAlterOwnership (only with alterObjectOwnership: GRANT
 * the current owner to postgres, a transaction in the database itself: pgLockRole of
 * postgres and `REASSIGN OWNED BY <current> TO <new>`, then REVOKE); setDBOwner
 * (GRANT new owner to postgres, `ALTER DATABASE d OWNER TO <owner>`, REVOKE);
 * setDBTablespace; setDBConnLimit (`ALTER DATABASE d CONNECTION LIMIT = n`);
 * setDBAllowConns (`ALLOW_CONNECTIONS true|false`); setDBIsTemplate (`IS_TEMPLATE …`).
 * `owner`, `tablespaceName`, `isTemplate` are Computed: an absent new value is no
 * change; an absent old owner is the provider user (CREATE DATABASE … OWNER postgres).
 */
export function databaseUpdateSteps(o: Inputs, n: Inputs, login: ProviderLogin = DEFAULT_LOGIN): SqlStep[] {
  forceNew("Database", o, n, [], ["template", "encoding", "lcCollate", "lcCtype"]);
  const oldName = reqStr(o, "name");
  const name = reqStr(n, "name");
  const steps: SqlStep[] = [];
  const auto = (statements: string[]) => {
    if (statements.length > 0) steps.push({ database: login.database, autocommit: true, statements });
  };
  if (oldName !== name) auto([`ALTER DATABASE ${Q(oldName)} RENAME TO ${Q(name)}`]);
  const ownerChanged = computedChanged(o, n, "owner", login.username);
  // d.Get("owner"): the new value, else the state's (an absent old owner: the provider user)
  const newOwner = str(n, "owner") || str(o, "owner") || login.username;
  // setAlterOwnership
  if ((ownerChanged || bool(o, "alterObjectOwnership", false) !== bool(n, "alterObjectOwnership", false)) && bool(n, "alterObjectOwnership", false)) {
    const current = str(o, "owner") || login.username;
    if (current !== newOwner) {
      const grant = current !== login.username;
      if (grant) auto([`GRANT ${Q(current)} TO ${Q(login.username)}`]);
      steps.push({ database: name, statements: [...lockRole(login.username), `REASSIGN OWNED BY ${Q(current)} TO ${Q(newOwner)}`] });
      if (grant) auto([`REVOKE ${Q(current)} FROM ${Q(login.username)}`]);
    }
  }
  const s: string[] = [];
  // setDBOwner
  if (ownerChanged) s.push(...asOwner(newOwner, login, [`ALTER DATABASE ${Q(name)} OWNER TO ${Q(newOwner)}`]));
  // setDBTablespace
  if (computedChanged(o, n, "tablespaceName", "pg_default")) {
    const t = reqStr(n, "tablespaceName");
    s.push(t.toUpperCase() === "DEFAULT" ? `ALTER DATABASE ${Q(name)} RESET TABLESPACE` : `ALTER DATABASE ${Q(name)} SET TABLESPACE ${Q(t)}`);
  }
  if (int(o, "connectionLimit", -1) !== int(n, "connectionLimit", -1)) s.push(`ALTER DATABASE ${Q(name)} CONNECTION LIMIT = ${int(n, "connectionLimit", -1)}`);
  if (bool(o, "allowConnections", true) !== bool(n, "allowConnections", true)) s.push(`ALTER DATABASE ${Q(name)} ALLOW_CONNECTIONS ${bool(n, "allowConnections", true)}`);
  if (computedChanged(o, n, "isTemplate", false)) s.push(`ALTER DATABASE ${Q(name)} IS_TEMPLATE ${bool(n, "isTemplate", false)}`);
  auto(s);
  return steps;
}

// ---------------------------------------------------------------------------
// postgresql:index/grant:Grant

/** helpers.go allowedPrivileges (+ MAINTAIN on tables: featureMaintainPrivilege, PG >= 17). */
const allowedPrivileges: Record<string, string[]> = {
  database: ["ALL", "CREATE", "CONNECT", "TEMPORARY"],
  table: ["ALL", "SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "MAINTAIN"],
  sequence: ["ALL", "USAGE", "SELECT", "UPDATE"],
  schema: ["ALL", "CREATE", "USAGE"],
  function: ["ALL", "EXECUTE"],
  procedure: ["ALL", "EXECUTE"],
  routine: ["ALL", "EXECUTE"],
  type: ["ALL", "USAGE"],
  foreign_data_wrapper: ["ALL", "USAGE"],
  foreign_server: ["ALL", "USAGE"],
  column: ["ALL", "SELECT", "INSERT", "UPDATE", "REFERENCES"],
};
function validatePrivileges(objectType: string, privileges: string[]): void {
  const allowed = allowedPrivileges[objectType];
  if (!allowed) throw new Error(`unknown object type ${objectType}`);
  for (const p of privileges) if (!allowed.includes(p)) throw new Error(`${p} is not an allowed privilege for object type ${objectType}`);
}

interface GrantFields {
  database: string; role: string; schema: string; objectType: string;
  objects: string[]; columns: string[]; privileges: string[]; withGrantOption: boolean;
}
function grantFields(i: Inputs): GrantFields {
  return {
    database: reqStr(i, "database"), role: reqStr(i, "role"), schema: str(i, "schema") ?? "", objectType: reqStr(i, "objectType"),
    objects: tfSetList(strs(i, "objects")), columns: tfSetList(strs(i, "columns")), privileges: tfSetList(strs(i, "privileges")),
    withGrantOption: bool(i, "withGrantOption", false),
  };
}
/** helpers.go setToPgIdentList / quoteIdentifyIdent: `"schema"."name"`, a function's `(args)` left unquoted. */
const identList = (schema: string, objects: string[]) =>
  objects.map((o) => { const [head, ...rest] = o.split("("); return `${Q(schema)}.${Q(head)}${rest.length > 0 ? `(${rest[0]}` : ""}`; }).join(",");

/** resource_postgresql_grant.go createGrantQuery. */
function createGrantQuery(g: GrantFields): string {
  const privs = g.privileges.join(",");
  const t = g.objectType.toUpperCase();
  let q: string;
  switch (t) {
    case "DATABASE": q = `GRANT ${privs} ON DATABASE ${Q(g.database)} TO ${Q(g.role)}`; break;
    case "SCHEMA": q = `GRANT ${privs} ON SCHEMA ${Q(g.schema)} TO ${Q(g.role)}`; break;
    case "FOREIGN_DATA_WRAPPER": q = `GRANT ${privs} ON FOREIGN DATA WRAPPER ${Q(g.objects[0])} TO ${Q(g.role)}`; break;
    case "FOREIGN_SERVER": q = `GRANT ${privs} ON FOREIGN SERVER ${Q(g.objects[0])} TO ${Q(g.role)}`; break;
    case "COLUMN": q = `GRANT ${privs} (${g.columns.map(Q).join(",")}) ON TABLE ${identList(g.schema, g.objects)} TO ${Q(g.role)}`; break;
    default:
      q = g.objects.length > 0
        ? `GRANT ${privs} ON ${t} ${identList(g.schema, g.objects)} TO ${Q(g.role)}`
        : `GRANT ${privs} ON ALL ${t}S IN SCHEMA ${Q(g.schema)} TO ${Q(g.role)}`;
  }
  return g.withGrantOption ? `${q} WITH GRANT OPTION` : q;
}

/** resource_postgresql_grant.go createRevokeQuery. */
function createRevokeQuery(g: GrantFields): string {
  const t = g.objectType.toUpperCase();
  switch (t) {
    case "DATABASE": return `REVOKE ALL PRIVILEGES ON DATABASE ${Q(g.database)} FROM ${Q(g.role)}`;
    case "SCHEMA": return `REVOKE ALL PRIVILEGES ON SCHEMA ${Q(g.schema)} FROM ${Q(g.role)}`;
    case "FOREIGN_DATA_WRAPPER": return `REVOKE ALL PRIVILEGES ON FOREIGN DATA WRAPPER ${Q(g.objects[0])} FROM ${Q(g.role)}`;
    case "FOREIGN_SERVER": return `REVOKE ALL PRIVILEGES ON FOREIGN SERVER ${Q(g.objects[0])} FROM ${Q(g.role)}`;
    case "COLUMN":
      if (g.privileges.length === 0 || g.columns.length === 0) return "SELECT NULL";
      return `REVOKE ${g.privileges.join(",")} (${g.columns.map(Q).join(",")}) ON TABLE ${identList(g.schema, g.objects)} FROM ${Q(g.role)}`;
    default:
      if (g.objects.length > 0) {
        return g.privileges.length > 0
          ? `REVOKE ${g.privileges.join(",")} ON ${t} ${identList(g.schema, g.objects)} FROM ${Q(g.role)}`
          : `REVOKE ALL PRIVILEGES ON ${t} ${identList(g.schema, g.objects)} FROM ${Q(g.role)}`;
      }
      return `REVOKE ALL PRIVILEGES ON ALL ${t}S IN SCHEMA ${Q(g.schema)} FROM ${Q(g.role)}`;
  }
}

/** resourcePostgreSQLGrantCreateOrUpdate's parameter checks. */
function validateGrant(g: GrantFields): void {
  const t = g.objectType;
  if (g.schema === "" && !["database", "foreign_data_wrapper", "foreign_server"].includes(t)) throw new Error("parameter 'schema' is mandatory for postgresql_grant resource");
  if (g.objects.length > 0 && (t === "database" || t === "schema")) throw new Error("cannot specify `objects` when `object_type` is `database` or `schema`");
  if (g.columns.length > 0 && t !== "column") throw new Error("cannot specify `columns` when `object_type` is not `column`");
  if (t === "column" && (g.columns.length === 0 || g.privileges.length !== 1 || g.objects.length !== 1)) throw new Error("object_type column needs columns, exactly 1 privilege and exactly 1 table in objects");
  if ((t === "foreign_data_wrapper" || t === "foreign_server") && g.objects.length !== 1) throw new Error("one element must be specified in `objects` for a foreign data wrapper or server");
  validatePrivileges(t, g.privileges);
}

function grantSteps(revokeWith: GrantFields, g: GrantFields): SqlStep[] {
  validateGrant(g);
  const s = [...lockRole(g.role)];
  if (g.objectType === "database") s.push(...lockDatabase(g.database));
  // getRolesToGrant + withRolesGranted: the provider user is superuser, nothing granted
  s.push(createRevokeQuery(revokeWith));
  if (g.privileges.length > 0) s.push(createGrantQuery(g));
  return [{ database: g.database, statements: s }];
}

/**
 * resource_postgresql_grant.go resourcePostgreSQLGrantCreate →
 * resourcePostgreSQLGrantCreateOrUpdate(usePrevious = false) (ff936b95): one
 * transaction in the grant's database: pgLockRole(role) (+ pgLockDatabase for
 * object_type database), then the revoke of the whole object class (`REVOKE ALL
 * PRIVILEGES ON DATABASE d | SCHEMA s | ALL TABLES|SEQUENCES|… IN SCHEMA s FROM
 * <Q(role)>`), then, unless privileges is empty, `GRANT <privs, set order, joined by
 * ","> ON … TO <Q(role)>` [WITH GRANT OPTION]. role "public" is quoted too (`"public"`,
 * which PostgreSQL reads as PUBLIC).
 */
export function grantCreateSteps(i: Inputs): SqlStep[] {
  const g = grantFields(i);
  return grantSteps(g, g);
}

/**
 * resource_postgresql_grant.go resourcePostgreSQLGrantUpdate →
 * resourcePostgreSQLGrantCreateOrUpdate(usePrevious = true) (ff936b95): the same
 * transaction, the revoke built from the previous values of changed fields (only
 * `privileges` can change in place: everything else is ForceNew), then the grant of
 * the new privileges.
 */
export function grantUpdateSteps(o: Inputs, n: Inputs): SqlStep[] {
  forceNew("Grant", o, n, ["role", "database", "schema", "objectType", "objects", "columns", "withGrantOption"]);
  return grantSteps({ ...grantFields(n), privileges: tfSetList(strs(o, "privileges")) }, grantFields(n));
}

// ---------------------------------------------------------------------------
// postgresql:index/defaultPrivileges:DefaultPrivileges

/**
 * resource_postgresql_default_privileges.go resourcePostgreSQLDefaultPrivilegesCreate
 * (ff936b95; also its Update): one transaction in the given database:
 * pgLockRole(owner), withRolesGranted([owner]) (nothing: superuser), `ALTER DEFAULT
 * PRIVILEGES FOR ROLE <Q(owner)> IN SCHEMA <Q(schema)> REVOKE ALL ON <TYPE>S FROM
 * <Q(role)>`, then, unless privileges is empty, `ALTER DEFAULT PRIVILEGES FOR ROLE
 * <Q(owner)> IN SCHEMA <Q(schema)> GRANT <privs> ON <TYPE>S TO <Q(role)>` [WITH GRANT
 * OPTION]. Without a schema the `IN SCHEMA` part is empty (two spaces kept).
 */
export function defaultPrivilegesCreateSteps(i: Inputs): SqlStep[] {
  const database = reqStr(i, "database"), owner = reqStr(i, "owner"), role = reqStr(i, "role");
  const objectType = reqStr(i, "objectType"), schema = str(i, "schema") ?? "";
  const privileges = tfSetList(strs(i, "privileges"));
  const withGrantOption = bool(i, "withGrantOption", false);
  if (!["table", "sequence", "function", "routine", "type", "schema"].includes(objectType)) throw new Error(`object_type ${objectType} is not one of table, sequence, function, routine, type, schema`);
  if (schema !== "" && objectType === "schema") throw new Error("cannot specify `schema` when `object_type` is `schema`");
  if (withGrantOption && role.toLowerCase() === "public") throw new Error("with_grant_option cannot be true for role 'public'");
  validatePrivileges(objectType, privileges);
  const inSchema = schema !== "" ? `IN SCHEMA ${Q(schema)}` : "";
  const t = objectType.toUpperCase();
  const s = [...lockRole(owner), `ALTER DEFAULT PRIVILEGES FOR ROLE ${Q(owner)} ${inSchema} REVOKE ALL ON ${t}S FROM ${Q(role)}`];
  if (privileges.length > 0) {
    const q = `ALTER DEFAULT PRIVILEGES FOR ROLE ${Q(owner)} ${inSchema} GRANT ${privileges.join(",")} ON ${t}S TO ${Q(role)}`;
    s.push(withGrantOption ? `${q} WITH GRANT OPTION` : q);
  }
  return [{ database, statements: s }];
}

// ---------------------------------------------------------------------------
// postgresql:index/extension:Extension

/**
 * resource_postgresql_extension.go resourcePostgreSQLExtensionCreate (ff936b95): one
 * transaction in `database` (default: the provider's): `CREATE EXTENSION IF NOT EXISTS
 * <Q(name)>` [SCHEMA <Q(s)>] [VERSION <Q(v)>] [CASCADE (createCascade)].
 */
export function extensionCreateSteps(i: Inputs, login: ProviderLogin = DEFAULT_LOGIN): SqlStep[] {
  let b = `CREATE EXTENSION IF NOT EXISTS ${Q(reqStr(i, "name"))}`;
  const schema = str(i, "schema") || undefined, version = str(i, "version") || undefined;
  if (schema !== undefined) b += ` SCHEMA ${Q(schema)}`;
  if (version !== undefined) b += ` VERSION ${Q(version)}`;
  if (bool(i, "createCascade", false)) b += " CASCADE";
  return [{ database: str(i, "database") || login.database, statements: [b] }];
}

/**
 * resource_postgresql_extension.go resourcePostgreSQLExtensionUpdate (ff936b95): one
 * transaction in the extension's database: `ALTER EXTENSION e SET SCHEMA s` (schema
 * changed), `ALTER EXTENSION e UPDATE [TO <Q(v)>]` (version changed). Both are
 * Computed: an absent new value is no change; give the state's values as the old ones.
 */
export function extensionUpdateSteps(o: Inputs, n: Inputs, login: ProviderLogin = DEFAULT_LOGIN): SqlStep[] {
  forceNew("Extension", o, n, ["name"], ["database"]);
  const name = reqStr(n, "name");
  const s: string[] = [];
  if (computedChanged(o, n, "schema", "")) s.push(`ALTER EXTENSION ${Q(name)} SET SCHEMA ${Q(reqStr(n, "schema"))}`);
  if (computedChanged(o, n, "version", "")) {
    const v = str(n, "version") ?? "";
    s.push(`ALTER EXTENSION ${Q(name)} UPDATE${v !== "" ? ` TO ${Q(v)}` : ""}`);
  }
  return s.length > 0 ? [{ database: str(n, "database") || str(o, "database") || login.database, statements: s }] : [];
}

// ---------------------------------------------------------------------------
// postgresql:index/schema:Schema

/**
 * resource_postgresql_schema.go resourcePostgreSQLSchemaCreate → createSchema
 * (ff936b95): one transaction in `database` (default: the provider's);
 * withRolesGranted([db owner, schema owner]) grants nothing (superuser). When the
 * schema does not exist (the provider looks it up in pg_namespace): `CREATE SCHEMA
 * IF NOT EXISTS <Q(name)>` (ifNotExists, default true) [AUTHORIZATION <Q(owner)>].
 * When it exists (`opts.exists`, e.g. `public`): setSchemaOwner only, `ALTER SCHEMA
 * <Q(name)> OWNER TO <Q(owner)>` when an owner is given. The deprecated `policies`
 * are not modelled (throws).
 */
export function schemaCreateSteps(i: Inputs, login: ProviderLogin = DEFAULT_LOGIN, opts: { exists?: boolean } = {}): SqlStep[] {
  if (strsOrObjects(i, "policies") > 0) throw new Error("Schema: `policies` (deprecated) is not modelled");
  const name = reqStr(i, "name"), owner = str(i, "owner") || undefined;
  let s: string;
  if (opts.exists) {
    if (owner === undefined) return [];
    s = `ALTER SCHEMA ${Q(name)} OWNER TO ${Q(owner)}`;
  } else {
    s = `CREATE SCHEMA ${bool(i, "ifNotExists", true) ? "IF NOT EXISTS " : ""}${Q(name)}`;
    if (owner !== undefined) s += ` AUTHORIZATION ${Q(owner)}`;
  }
  return [{ database: str(i, "database") || login.database, statements: [s] }];
}
function strsOrObjects(i: Inputs, key: string): number {
  const v = i[key];
  return Array.isArray(v) ? v.length : 0;
}

/**
 * resource_postgresql_schema.go resourcePostgreSQLSchemaUpdate (ff936b95): one
 * transaction in the schema's database: setSchemaName (`ALTER SCHEMA o RENAME TO n`),
 * setSchemaOwner (`ALTER SCHEMA n OWNER TO <owner>`; owner is Computed: absent = no change).
 */
export function schemaUpdateSteps(o: Inputs, n: Inputs, login: ProviderLogin = DEFAULT_LOGIN): SqlStep[] {
  forceNew("Schema", o, n, [], ["database"]);
  if (strsOrObjects(n, "policies") > 0 || strsOrObjects(o, "policies") > 0) throw new Error("Schema: `policies` (deprecated) is not modelled");
  const oldName = reqStr(o, "name"), name = reqStr(n, "name");
  const s: string[] = [];
  if (oldName !== name) s.push(`ALTER SCHEMA ${Q(oldName)} RENAME TO ${Q(name)}`);
  if (computedChanged(o, n, "owner", "")) s.push(`ALTER SCHEMA ${Q(name)} OWNER TO ${Q(reqStr(n, "owner"))}`);
  return s.length > 0 ? [{ database: str(n, "database") || str(o, "database") || login.database, statements: s }] : [];
}

// ---------------------------------------------------------------------------
// postgresql:index/grantRole:GrantRole, postgresql:index/physicalReplicationSlot:PhysicalReplicationSlot

/**
 * resource_postgresql_grant_role.go resourcePostgreSQLGrantRoleCreate (ff936b95): one
 * transaction in the provider's database: `REVOKE <Q(grantRole)> FROM <Q(role)>`
 * (a warning, not an error, when there is no membership), then `GRANT <Q(grantRole)>
 * TO <Q(role)>` [WITH ADMIN OPTION]. Every field is ForceNew: no Update.
 */
export function grantRoleCreateSteps(i: Inputs, login: ProviderLogin = DEFAULT_LOGIN): SqlStep[] {
  const role = reqStr(i, "role"), grantRole = reqStr(i, "grantRole");
  const grant = `GRANT ${Q(grantRole)} TO ${Q(role)}${bool(i, "withAdminOption", false) ? " WITH ADMIN OPTION" : ""}`;
  return [{ database: login.database, statements: [`REVOKE ${Q(grantRole)} FROM ${Q(role)}`, grant] }];
}

/**
 * resource_postgresql_physical_replication_slot.go
 * resourcePostgreSQLPhysicalReplicationSlotCreate (ff936b95): on the provider's pooled
 * connection (autocommit), `SELECT FROM pg_create_physical_replication_slot($1)`
 * (provider-sql.ts physicalSlotSql.create) with $1 = the name. `name` is ForceNew: no Update.
 */
export function physicalReplicationSlotCreateSteps(i: Inputs, login: ProviderLogin = DEFAULT_LOGIN): SqlStep[] {
  return [{ database: login.database, autocommit: true, statements: [physicalSlotSql.create.replace("$1", lit(reqStr(i, "name")))] }];
}

// ---------------------------------------------------------------------------
// dispatch by type token

export const ROLE = "postgresql:index/role:Role";
export const DATABASE = "postgresql:index/database:Database";
export const GRANT = "postgresql:index/grant:Grant";
export const DEFAULT_PRIVILEGES = "postgresql:index/defaultPrivileges:DefaultPrivileges";
export const EXTENSION = "postgresql:index/extension:Extension";
export const SCHEMA = "postgresql:index/schema:Schema";
export const GRANT_ROLE = "postgresql:index/grantRole:GrantRole";
export const PHYSICAL_REPLICATION_SLOT = "postgresql:index/physicalReplicationSlot:PhysicalReplicationSlot";

/** The steps the provider runs to create a resource of type token `type` with these inputs. */
export function createSteps(type: string, inputs: Inputs, login: ProviderLogin = DEFAULT_LOGIN): SqlStep[] {
  switch (type) {
    case ROLE: return roleCreateSteps(inputs, login);
    case DATABASE: return databaseCreateSteps(inputs, login);
    case GRANT: return grantCreateSteps(inputs);
    case DEFAULT_PRIVILEGES: return defaultPrivilegesCreateSteps(inputs);
    case EXTENSION: return extensionCreateSteps(inputs, login);
    case SCHEMA: return schemaCreateSteps(inputs, login);
    case GRANT_ROLE: return grantRoleCreateSteps(inputs, login);
    case PHYSICAL_REPLICATION_SLOT: return physicalReplicationSlotCreateSteps(inputs, login);
    default: throw new Error(`createSteps: no provider SQL for type ${type}`);
  }
}

/** Inputs equal as the provider's schema compares them (sets by content, undefined = null). */
function sameInputs(o: Inputs, n: Inputs): boolean {
  const keys = new Set([...Object.keys(o), ...Object.keys(n)]);
  for (const k of keys) {
    const a = o[k] ?? undefined, b = n[k] ?? undefined;
    if (Array.isArray(a) || Array.isArray(b)) {
      const sa = Array.isArray(a) ? (a as unknown[]).map(String) : [], sb = Array.isArray(b) ? (b as unknown[]).map(String) : [];
      if (k === "searchPaths" ? !sameList(sa, sb) : !sameSet(sa, sb)) return false;
    } else if (a !== b) return false;
  }
  return true;
}

/**
 * The steps the provider's Update runs when a resource's inputs go from `oldInputs`
 * to `newInputs` ([] when nothing differs: the engine does not call Update). Throws
 * when a ForceNew field changed (the engine replaces: delete + create) and for
 * GrantRole / PhysicalReplicationSlot, which have no Update.
 */
export function updateSteps(type: string, oldInputs: Inputs, newInputs: Inputs, login: ProviderLogin = DEFAULT_LOGIN): SqlStep[] {
  if (sameInputs(oldInputs, newInputs)) return [];
  switch (type) {
    case ROLE: return roleUpdateSteps(oldInputs, newInputs, login);
    case DATABASE: return databaseUpdateSteps(oldInputs, newInputs, login);
    case GRANT: return grantUpdateSteps(oldInputs, newInputs);
    case DEFAULT_PRIVILEGES:
      // Update: PGResourceFunc(resourcePostgreSQLDefaultPrivilegesCreate): the same revoke + grant
      forceNew("DefaultPrivileges", oldInputs, newInputs, ["role", "database", "owner", "schema", "objectType", "withGrantOption"]);
      return defaultPrivilegesCreateSteps(newInputs);
    case EXTENSION: return extensionUpdateSteps(oldInputs, newInputs, login);
    case SCHEMA: return schemaUpdateSteps(oldInputs, newInputs, login);
    case GRANT_ROLE:
    case PHYSICAL_REPLICATION_SLOT:
      throw new Error(`${type}: every field is ForceNew, the provider has no Update (the engine replaces it)`);
    default: throw new Error(`updateSteps: no provider SQL for type ${type}`);
  }
}
