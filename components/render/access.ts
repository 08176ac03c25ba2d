// The access model as data: one source of truth, two consumers. AppDatabase turns
// it into postgresql provider resources; the integration test turns it into SQL
// (renderAccessSql) and proves it on a real server.
import type { AppConfig } from "../config";
import { assertIdent, quoteIdent, quoteLiteral } from "./quote";

export type RoleKind = "owner" | "readonly" | "service";

export interface RoleSpec {
  name: string;
  app?: string;
  kind: RoleKind;
  connectionLimit: number;
}

export interface DatabaseSpec {
  name: string;
  app: string;
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
  objectType: "database" | "schema" | "table";
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
  objectType: "table";
  privileges: string[];
}

export interface AppAccess {
  app: string;
  database: DatabaseSpec;
  roles: RoleSpec[];
  extensions: ExtensionSpec[];
  /** In order: the component chains them per database (parallel grants on one catalog row fail). */
  grants: GrantSpec[];
  defaultPrivileges: DefaultPrivilegeSpec[];
}

export interface AccessOptions {
  /** Low-privilege role pgBouncer uses for auth_query; it needs CONNECT on every app database. */
  poolerAuthRole?: string;
}

/** Pure: the app list → roles, databases, extensions, grants and default privileges. */
export function accessModel(apps: AppConfig[], opts: AccessOptions = {}): AppAccess[] {
  return apps.map((app) => {
    const db = assertIdent(app.database, "database name");
    const owner = assertIdent(app.owner, "role name");
    const roles: RoleSpec[] = [
      { name: owner, app: app.name, kind: "owner", connectionLimit: app.connectionLimit },
      ...app.readonlyUsers.map((u) => ({ name: assertIdent(u.role, "role name"), app: app.name, kind: "readonly" as const, connectionLimit: app.connectionLimit })),
    ];
    const grants: GrantSpec[] = [
      // Nobody but the owner (implicitly) and the roles below may connect.
      { database: db, role: "public", objectType: "database", privileges: [] },
      // Owner owns schema public through pg_database_owner (PG15+); PUBLIC gets nothing there.
      { database: db, role: "public", objectType: "schema", schema: "public", privileges: [] },
    ];
    const defaultPrivileges: DefaultPrivilegeSpec[] = [];
    for (const ro of roles.filter((r) => r.kind === "readonly")) {
      grants.push(
        { database: db, role: ro.name, objectType: "database", privileges: ["CONNECT"] },
        { database: db, role: ro.name, objectType: "schema", schema: "public", privileges: ["USAGE"] },
        { database: db, role: ro.name, objectType: "table", schema: "public", privileges: ["SELECT"] },
      );
      defaultPrivileges.push({ database: db, owner, role: ro.name, schema: "public", objectType: "table", privileges: ["SELECT"] });
    }
    if (opts.poolerAuthRole) {
      grants.push({ database: db, role: assertIdent(opts.poolerAuthRole, "role name"), objectType: "database", privileges: ["CONNECT"] });
    }
    return {
      app: app.name,
      database: { name: db, app: app.name, owner },
      roles,
      extensions: app.extensions.map((name) => ({ database: db, name })),
      grants,
      defaultPrivileges,
    };
  });
}

/** Role attributes every app role gets: login, and none of the powers that escape the sandbox. */
export const APP_ROLE_ATTRIBUTES = {
  login: true,
  superuser: false,
  createDatabase: false,
  createRole: false,
  replication: false,
  bypassRowLevelSecurity: false,
  inherit: true,
} as const;

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
  if (!/^[a-z][a-z0-9_-]{0,62}$/.test(name)) throw new Error(`unsafe extension name ${JSON.stringify(name)}`);
  return `"${name}"`;
}

export interface AccessSql {
  /** Statements for the maintenance database (roles, databases). */
  cluster: string[];
  /** Statements to run inside each app database, keyed by database name. */
  perDatabase: Record<string, string[]>;
}

/** The same model as SQL, for the integration layer (and for operators who want to read it). */
export function renderAccessSql(model: AppAccess[], passwords: Record<string, string>): AccessSql {
  const cluster: string[] = [];
  const perDatabase: Record<string, string[]> = {};
  for (const a of model) {
    for (const r of a.roles) {
      const pw = passwords[r.name];
      if (pw === undefined) throw new Error(`no password for role ${r.name}`);
      cluster.push(
        `CREATE ROLE ${quoteIdent(r.name)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT ` +
          `CONNECTION LIMIT ${Math.trunc(r.connectionLimit)} PASSWORD ${quoteLiteral(pw)}`,
      );
    }
    const db = a.database;
    cluster.push(`CREATE DATABASE ${quoteIdent(db.name)} OWNER ${quoteIdent(db.owner)} TEMPLATE template0 ENCODING 'UTF8'`);
    const stmts: string[] = [];
    for (const e of a.extensions) stmts.push(`CREATE EXTENSION IF NOT EXISTS ${quoteExtension(e.name)}`);
    for (const g of a.grants) {
      const target =
        g.objectType === "database" ? `DATABASE ${quoteIdent(g.database)}`
        : g.objectType === "schema" ? `SCHEMA ${quoteIdent(g.schema ?? "public")}`
        : `ALL TABLES IN SCHEMA ${quoteIdent(g.schema ?? "public")}`;
      if (g.privileges.length === 0) {
        (g.objectType === "database" ? cluster : stmts).push(`REVOKE ALL ON ${target} FROM ${grantee(g.role)}`);
      } else {
        (g.objectType === "database" ? cluster : stmts).push(`GRANT ${privList(g.privileges)} ON ${target} TO ${grantee(g.role)}`);
      }
    }
    for (const d of a.defaultPrivileges) {
      stmts.push(
        `ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(d.owner)} IN SCHEMA ${quoteIdent(d.schema)} GRANT ${privList(d.privileges)} ON TABLES TO ${grantee(d.role)}`,
      );
    }
    perDatabase[db.name] = stmts;
  }
  return { cluster, perDatabase };
}

/** `postgresql://user:password@host:port/database`, user and password percent-encoded. */
export function renderConnectionUrl(p: { user: string; password: string; host: string; port: number; database: string; sslmode?: "require" }): string {
  const host = p.host.includes(":") ? `[${p.host}]` : p.host;
  const query = p.sslmode ? `?sslmode=${p.sslmode}` : "";
  return `postgresql://${pct(p.user)}:${pct(p.password)}@${host}:${p.port}/${pct(p.database)}${query}`;
}

/** encodeURIComponent plus the sub-delims it leaves alone, so any client parses it the same way. */
function pct(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
