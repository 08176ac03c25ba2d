// The access model as data: one source of truth, two consumers. AppDatabase turns
// it into postgresql provider resources; the integration test turns it into SQL
// (renderAccessSql) and proves it on a real server. Attributes, template and
// encoding live here, so neither consumer can drift from the other.
import type { AppConfig } from "../config";
import { EXTENSION_NAME } from "../lib/names";
import { assertIdent, quoteIdent, quoteLiteral } from "../lib/quote";
import { type Login, loginsOf } from "./rotation";

export type RoleKind = "owner" | "readonly" | "readwrite";

/** A role's attributes, as postgresql.Role takes them and CREATE ROLE renders them. */
export interface RoleAttributes {
  readonly login: boolean;
  readonly superuser: false;
  readonly createDatabase: boolean;
  readonly createRole: boolean;
  readonly replication: false;
  readonly bypassRowLevelSecurity: false;
  readonly inherit: boolean;
}

/** Role attributes every app role gets: login, and none of the powers that escape the sandbox. */
export const APP_ROLE_ATTRIBUTES: RoleAttributes = {
  login: true,
  superuser: false,
  createDatabase: false,
  createRole: false,
  replication: false,
  bypassRowLevelSecurity: false,
  inherit: true,
};

/** Privileges of each kind of extra user, per schema of the app. DML only: no TRUNCATE, REFERENCES or TRIGGER. */
export const USER_PRIVILEGES = {
  readonly: { table: ["SELECT"], sequence: [] as string[] },
  readwrite: { table: ["SELECT", "INSERT", "UPDATE", "DELETE"], sequence: ["USAGE", "SELECT"] },
} as const;

export interface RoleSpec {
  name: string;
  kind: RoleKind;
  /** For extra users: the user name as written in config (`analytics`). */
  user?: string;
  connectionLimit: number;
  attributes: RoleAttributes;
  /**
   * Its two logins (rotation.ts): "a" is this role, "b" `<role>_b`, a member of it
   * that switches to it at login. The active one is what the outputs hand out.
   */
  logins: [Login, Login];
}

export interface DatabaseSpec {
  name: string;
  owner: string;
  /** template0: a clean database, whatever someone put into template1. */
  template: "template0";
  encoding: "UTF8";
  /** CONNECTION LIMIT of the database; -1: none. */
  connectionLimit: number;
}

/** An extra schema of an app, owned by its owner. */
export interface SchemaSpec {
  database: string;
  name: string;
  owner: string;
}

export interface ExtensionSpec {
  database: string;
  name: string;
}

/** A grant (or, with no privileges, a revoke of everything) on one object class. */
export interface GrantSpec {
  database: string;
  /** Grantee; "public" means PUBLIC. */
  role: string;
  objectType: "database" | "schema" | "table" | "sequence";
  /** Schema for schema/table grants. */
  schema?: string;
  /** Empty: revoke all privileges of this object class from `role`. */
  privileges: string[];
}

/** ALTER DEFAULT PRIVILEGES FOR ROLE owner IN SCHEMA schema GRANT ... TO role. */
export interface DefaultPrivilegeSpec {
  database: string;
  owner: string;
  role: string;
  schema: string;
  objectType: "table" | "sequence";
  privileges: string[];
}

export interface AppAccess {
  app: string;
  database: DatabaseSpec;
  roles: RoleSpec[];
  extensions: ExtensionSpec[];
  /** Extra schemas (public is not listed: every database has it). */
  schemas: SchemaSpec[];
  /** In order: the component chains them per database (parallel grants on one catalog row fail). */
  grants: GrantSpec[];
  defaultPrivileges: DefaultPrivilegeSpec[];
}

/** Databases every cluster has; PUBLIC keeps no CONNECT or TEMPORARY on them. */
export const MAINTENANCE_DATABASES = ["postgres", "template1"] as const;

/**
 * Cluster-wide grants: revoke PUBLIC's default CONNECT/TEMPORARY on the
 * maintenance databases, so an app role reaches its own database and no other.
 */
export function clusterGrants(): GrantSpec[] {
  return MAINTENANCE_DATABASES.map((database) => ({ database, role: "public", objectType: "database" as const, privileges: [] }));
}

/** Pure: the app list → roles, databases, extensions, schemas, grants and default privileges. */
export function accessModel(apps: AppConfig[]): AppAccess[] {
  return apps.map((app) => {
    const db = assertIdent(app.database, "database name");
    const owner = assertIdent(app.owner, "role name");
    const user = (kind: "readonly" | "readwrite") => (u: { user: string; role: string }): RoleSpec => ({
      name: assertIdent(u.role, "role name"),
      kind,
      user: u.user,
      connectionLimit: app.connectionLimit,
      attributes: APP_ROLE_ATTRIBUTES,
      logins: loginsOf(u.role, app.rotation),
    });
    const roles: RoleSpec[] = [
      { name: owner, kind: "owner", connectionLimit: app.connectionLimit, attributes: APP_ROLE_ATTRIBUTES, logins: loginsOf(owner, app.rotation) },
      ...app.readonlyUsers.map(user("readonly")),
      ...app.readwriteUsers.map(user("readwrite")),
    ];
    const schemas = app.schemas.map((name) => ({ database: db, name: assertIdent(name, "schema name"), owner }));
    const grants: GrantSpec[] = [
      // Nobody but the owner (implicitly) and the roles below may connect.
      { database: db, role: "public", objectType: "database", privileges: [] },
      // Owner owns schema public through pg_database_owner (PG15+); PUBLIC gets nothing there.
      // A schema the owner creates gives PUBLIC nothing to begin with.
      { database: db, role: "public", objectType: "schema", schema: "public", privileges: [] },
    ];
    const defaultPrivileges: DefaultPrivilegeSpec[] = [];
    // public first, in the order the read-only grants always had (their resource names are state)
    const inSchemas = ["public", ...schemas.map((s) => s.name)];
    for (const r of roles) {
      if (r.kind === "owner") continue;
      const p = USER_PRIVILEGES[r.kind];
      grants.push({ database: db, role: r.name, objectType: "database", privileges: ["CONNECT"] });
      for (const schema of inSchemas) {
        grants.push(
          { database: db, role: r.name, objectType: "schema", schema, privileges: ["USAGE"] },
          { database: db, role: r.name, objectType: "table", schema, privileges: [...p.table] },
        );
        if (p.sequence.length > 0) grants.push({ database: db, role: r.name, objectType: "sequence", schema, privileges: [...p.sequence] });
        // tables (and sequences) the owner creates later get the same privileges
        defaultPrivileges.push({ database: db, owner, role: r.name, schema, objectType: "table", privileges: [...p.table] });
        if (p.sequence.length > 0) defaultPrivileges.push({ database: db, owner, role: r.name, schema, objectType: "sequence", privileges: [...p.sequence] });
      }
    }
    return {
      app: app.name,
      database: { name: db, owner, template: "template0", encoding: "UTF8", connectionLimit: app.databaseConnectionLimit ?? -1 },
      roles,
      extensions: app.extensions.map((name) => ({ database: db, name })),
      schemas,
      grants,
      defaultPrivileges,
    };
  });
}

const ALLOWED_PRIVILEGES = new Set(["CONNECT", "CREATE", "TEMPORARY", "USAGE", "SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"]);

function privList(p: string[]): string {
  for (const x of p) if (!ALLOWED_PRIVILEGES.has(x)) throw new Error(`unknown privilege ${x}`);
  return p.join(", ");
}

function grantee(role: string): string {
  return role === "public" ? "PUBLIC" : quoteIdent(role);
}

/** Extension names may contain '-' (uuid-ossp): quote as identifiers without the strict pattern. */
function quoteExtension(name: string): string {
  if (!EXTENSION_NAME.test(name)) throw new Error(`unsafe extension name ${JSON.stringify(name)}`);
  return `"${name}"`;
}

/** CREATE ROLE options from the same attributes the provider resource gets. */
export function roleOptions(a: RoleAttributes): string {
  const flag = (on: boolean, name: string) => (on ? name : `NO${name}`);
  return [
    flag(a.login, "LOGIN"), flag(a.superuser, "SUPERUSER"), flag(a.createDatabase, "CREATEDB"), flag(a.createRole, "CREATEROLE"),
    flag(a.replication, "REPLICATION"), flag(a.bypassRowLevelSecurity, "BYPASSRLS"), flag(a.inherit, "INHERIT"),
  ].join(" ");
}

function grantSql(g: GrantSpec): string {
  const target =
    g.objectType === "database" ? `DATABASE ${quoteIdent(g.database)}`
    : g.objectType === "schema" ? `SCHEMA ${quoteIdent(g.schema ?? "public")}`
    : g.objectType === "table" ? `ALL TABLES IN SCHEMA ${quoteIdent(g.schema ?? "public")}`
    : `ALL SEQUENCES IN SCHEMA ${quoteIdent(g.schema ?? "public")}`;
  return g.privileges.length === 0
    ? `REVOKE ALL ON ${target} FROM ${grantee(g.role)}`
    : `GRANT ${privList(g.privileges)} ON ${target} TO ${grantee(g.role)}`;
}

export interface AccessSql {
  /** Statements for the maintenance database (cluster grants, roles, databases, database grants). */
  cluster: string[];
  /** Statements to run inside each app database, keyed by database name. */
  perDatabase: Record<string, string[]>;
}

/** The same model as SQL, for the integration layer (and for operators who want to read it). */
export function renderAccessSql(model: AppAccess[], passwords: Record<string, string>, cluster: GrantSpec[] = clusterGrants()): AccessSql {
  const clusterSql = cluster.map(grantSql);
  const perDatabase: Record<string, string[]> = {};
  for (const a of model) {
    for (const r of a.roles) {
      const pw = passwords[r.name];
      if (pw === undefined) throw new Error(`no password for role ${r.name}`);
      clusterSql.push(`CREATE ROLE ${quoteIdent(r.name)} ${roleOptions(r.attributes)} CONNECTION LIMIT ${Math.trunc(r.connectionLimit)} PASSWORD ${quoteLiteral(pw)}`);
    }
    const db = a.database;
    clusterSql.push(
      `CREATE DATABASE ${quoteIdent(db.name)} OWNER ${quoteIdent(db.owner)} TEMPLATE ${quoteIdent(db.template)} ENCODING ${quoteLiteral(db.encoding)} CONNECTION LIMIT ${Math.trunc(db.connectionLimit)}`,
    );
    const stmts: string[] = [];
    for (const e of a.extensions) stmts.push(`CREATE EXTENSION IF NOT EXISTS ${quoteExtension(e.name)}`);
    for (const sc of a.schemas) stmts.push(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(sc.name)} AUTHORIZATION ${quoteIdent(sc.owner)}`);
    // database-level grants run from the maintenance database, the rest inside the app's
    for (const g of a.grants) (g.objectType === "database" ? clusterSql : stmts).push(grantSql(g));
    for (const d of a.defaultPrivileges) {
      stmts.push(
        `ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(d.owner)} IN SCHEMA ${quoteIdent(d.schema)} GRANT ${privList(d.privileges)} ON ${d.objectType === "table" ? "TABLES" : "SEQUENCES"} TO ${grantee(d.role)}`,
      );
    }
    perDatabase[db.name] = stmts;
  }
  return { cluster: clusterSql, perDatabase };
}

/**
 * The "b" login of every app role (rotation.ts), as the postgresql provider creates it
 * from a Role with `roles: [<role>]` and `assumeRole: <role>`: CREATE ROLE, GRANT the
 * role to it, ALTER ROLE ... SET ROLE TO the role, in one transaction
 * (cyrilgdn/terraform-provider-postgresql postgresql/resource_postgresql_role.go
 * resourcePostgreSQLRoleCreate → grantRoles, setAssumeRole). Run after renderAccessSql.
 */
export function renderRotationLoginsSql(model: AppAccess[], passwords: Record<string, string>): string[] {
  const out: string[] = [];
  for (const a of model) {
    for (const r of a.roles) {
      const b = r.logins[1];
      const pw = passwords[b.name];
      if (pw === undefined) throw new Error(`no password for role ${b.name}`);
      out.push(
        `CREATE ROLE ${quoteIdent(b.name)} ${roleOptions(r.attributes)} CONNECTION LIMIT ${Math.trunc(r.connectionLimit)} PASSWORD ${quoteLiteral(pw)}`,
        `GRANT ${quoteIdent(r.name)} TO ${quoteIdent(b.name)}`,
        `ALTER ROLE ${quoteIdent(b.name)} SET ROLE TO ${quoteIdent(r.name)}`,
      );
    }
  }
  return out;
}

/**
 * The same model for a cluster whose roles and databases already exist (restored by a
 * bootstrap): what `pulumi up` does there with postgres.bootstrap set. Instead of CREATE,
 * each role and database must be there (the import reads them; a missing one fails it), and
 * each role gets the attributes and the password of the stack (the import ignores the
 * password; apps/adopt.ts sets it). Grants, extensions and default privileges are the
 * provider's usual idempotent statements.
 */
export function renderAdoptSql(model: AppAccess[], passwords: Record<string, string>, cluster: GrantSpec[] = clusterGrants()): AccessSql {
  const fresh = renderAccessSql(model, passwords, cluster);
  const exists = (what: "role" | "database", name: string) => {
    const table = what === "role" ? "pg_catalog.pg_roles WHERE rolname" : "pg_catalog.pg_database WHERE datname";
    return `DO $adopt$ BEGIN IF NOT EXISTS (SELECT FROM ${table} = ${quoteLiteral(name)}) THEN RAISE EXCEPTION '${what} % is missing: nothing to adopt', ${quoteLiteral(name)}; END IF; END $adopt$`;
  };
  const clusterSql = fresh.cluster.flatMap((stmt) => {
    const role = /^CREATE ROLE ("(?:[^"]|"")+") (.*)$/s.exec(stmt);
    if (role) {
      const name = role[1].slice(1, -1).replace(/""/g, '"');
      return [exists("role", name), `ALTER ROLE ${role[1]} ${role[2]}`];
    }
    const db = /^CREATE DATABASE ("(?:[^"]|"")+") OWNER ("(?:[^"]|"")+")/.exec(stmt);
    if (db) return [exists("database", db[1].slice(1, -1).replace(/""/g, '"')), `ALTER DATABASE ${db[1]} OWNER TO ${db[2]}`];
    return [stmt];
  });
  return { cluster: clusterSql, perDatabase: fresh.perDatabase };
}

/**
 * `postgresql://user:password@host:port/database`, user and password percent-encoded.
 * `verify-full` names the CA file (`sslrootcert`): libpq and node-postgres read it from there.
 */
export function renderConnectionUrl(p: {
  user: string; password: string; host: string; port: number; database: string;
  sslmode?: "require" | "verify-full"; sslrootcert?: string;
}): string {
  const host = p.host.includes(":") ? `[${p.host}]` : p.host;
  if (p.sslmode === "verify-full" && !p.sslrootcert) throw new Error("sslmode=verify-full needs the CA file (sslrootcert)");
  const params = [...(p.sslmode ? [`sslmode=${p.sslmode}`] : []), ...(p.sslmode === "verify-full" ? [`sslrootcert=${encodeURI(p.sslrootcert ?? "")}`] : [])];
  const query = params.length ? `?${params.join("&")}` : "";
  return `postgresql://${pct(p.user)}:${pct(p.password)}@${host}:${p.port}/${pct(p.database)}${query}`;
}

/** The URL's TLS parameters: verified against the stack CA, or encrypted only, or none. */
export function tlsParams(a: { requireTls: boolean; verifyTls?: { caFile: string } }): { sslmode?: "require" | "verify-full"; sslrootcert?: string } {
  if (a.verifyTls) return { sslmode: "verify-full", sslrootcert: a.verifyTls.caFile };
  return a.requireTls ? { sslmode: "require" } : {};
}

/** encodeURIComponent plus the sub-delims it leaves alone, so any client parses it the same way. */
function pct(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
