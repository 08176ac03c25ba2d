// The admin role for people as data: what pgAdmin and admin shells log in as
// instead of the superuser. The platform turns it into a postgresql.Role and a
// CONNECT grant; renderAdminSql is the same model as SQL, proven on real 15 and 17.
import { ADMIN_CONNECTION_LIMIT, ADMIN_ROLE, BOUNDED_CREATEROLE_MAJOR, type AppConfig } from "../config";
import { assertIdent, quoteIdent, quoteLiteral } from "../lib/quote";
import { GrantSpec, RoleAttributes, roleOptions } from "./access";

/** Predefined role the admin joins: read every statistics view and setting, no file or program access. */
export const ADMIN_MONITOR_ROLE = "pg_monitor";

export interface AdminSpec {
  name: string;
  attributes: RoleAttributes;
  connectionLimit: number;
  /** Roles it is a member of (with INHERIT): pg_monitor and every app's owner. */
  memberOf: string[];
  /** It logs in through the maintenance database (pgAdmin's), which PUBLIC may no longer reach. */
  grants: GrantSpec[];
}

/**
 * Pure: the admin role for a server major and app list. CREATEDB always;
 * CREATEROLE only where PostgreSQL bounds it (16+: only roles it created or
 * holds ADMIN OPTION on). On 15 CREATEROLE could grant itself
 * pg_execute_server_program or pg_read_server_files and so reach the server's
 * programs and files; there the admin creates no roles (the superuser does).
 */
export function adminModel(majorVersion: number, apps: Pick<AppConfig, "owner">[]): AdminSpec {
  const name = assertIdent(ADMIN_ROLE, "role name");
  return {
    name,
    attributes: {
      login: true,
      superuser: false,
      createDatabase: true,
      createRole: majorVersion >= BOUNDED_CREATEROLE_MAJOR,
      replication: false,
      bypassRowLevelSecurity: false,
      inherit: true,
    },
    connectionLimit: ADMIN_CONNECTION_LIMIT,
    memberOf: [ADMIN_MONITOR_ROLE, ...apps.map((a) => assertIdent(a.owner, "role name"))],
    grants: [{ database: "postgres", role: name, objectType: "database", privileges: ["CONNECT"] }],
  };
}

/** The same model as SQL, run by the superuser after the apps' roles exist. */
export function renderAdminSql(spec: AdminSpec, password: string): string[] {
  const role = quoteIdent(spec.name);
  return [
    `CREATE ROLE ${role} ${roleOptions(spec.attributes)} CONNECTION LIMIT ${Math.trunc(spec.connectionLimit)} PASSWORD ${quoteLiteral(password)}`,
    ...spec.memberOf.map((m) => `GRANT ${quoteIdent(m)} TO ${role}`),
    ...spec.grants.map((g) => `GRANT ${g.privileges.join(", ")} ON DATABASE ${quoteIdent(g.database)} TO ${role}`),
  ];
}
