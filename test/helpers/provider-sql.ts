// The SQL @pulumi/postgresql 3.18.1 runs when the engine deletes a resource, as
// the provider's source issues it (cyrilgdn/terraform-provider-postgresql at
// ff936b95, the upstream that release wraps; `Q` = pq.QuoteIdentifier). Tests run
// these statements on real servers, in the order the engine deletes (dependents
// first), to prove `pulumi destroy` and component removals succeed. A fact here
// is a fact about the provider, not about our program: keep each with its source.
import type { DefaultPrivilegeSpec, GrantSpec } from "../../components/apps";

const Q = (name: string) => `"${name.replace(/"/g, '""')}"`;

export interface SqlStep {
  /** The database the provider connects to for this statement. */
  database: string;
  /** Statements run in one transaction (BEGIN … COMMIT), or alone when `autocommit`. */
  statements: string[];
  autocommit?: boolean;
}

/**
 * postgresql/resource_postgresql_role.go resourcePostgreSQLRoleDelete: one
 * transaction in the provider's database (`postgres` here) only; with a superuser
 * provider user no membership changes; `REASSIGN OWNED … TO <provider username>`.
 */
export function roleDelete(role: string, providerUser = "postgres"): SqlStep {
  return {
    database: "postgres",
    statements: [
      "SET statement_timeout = 0",
      `SELECT pg_advisory_xact_lock(oid::bigint) FROM pg_roles WHERE rolname = '${role}'`,
      `REASSIGN OWNED BY ${Q(role)} TO ${Q(providerUser)}`,
      `DROP OWNED BY ${Q(role)}`,
      `DROP ROLE ${Q(role)}`,
    ],
  };
}

/**
 * postgresql/resource_postgresql_grant.go resourcePostgreSQLGrantDelete → createRevokeQuery:
 * the revoke of the grant's object class, in the grant's database.
 */
export function grantDelete(g: GrantSpec): SqlStep {
  const role = g.role === "public" ? Q("public") : Q(g.role);
  const statement =
    g.objectType === "database" ? `REVOKE ALL PRIVILEGES ON DATABASE ${Q(g.database)} FROM ${role}`
    : g.objectType === "schema" ? `REVOKE ALL PRIVILEGES ON SCHEMA ${Q(g.schema ?? "public")} FROM ${role}`
    : `REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA ${Q(g.schema ?? "public")} FROM ${role}`;
  return { database: g.database, statements: [statement] };
}

/** postgresql/resource_postgresql_default_privileges.go resourcePostgreSQLDefaultPrivilegesDelete. */
export function defaultPrivilegesDelete(d: DefaultPrivilegeSpec): SqlStep {
  return {
    database: d.database,
    statements: [`ALTER DEFAULT PRIVILEGES FOR ROLE ${Q(d.owner)} IN SCHEMA ${Q(d.schema)} REVOKE ALL ON TABLES FROM ${Q(d.role)}`],
  };
}

/**
 * postgresql/resource_postgresql_database.go resourcePostgreSQLDatabaseDelete
 * (PG >= 13): no connections, terminate the rest, DROP … WITH ( FORCE ); autocommit.
 */
export function databaseDelete(database: string): SqlStep {
  return {
    database: "postgres",
    autocommit: true,
    statements: [
      `ALTER DATABASE ${Q(database)} ALLOW_CONNECTIONS false`,
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${database}' AND pid <> pg_backend_pid()`,
      `DROP DATABASE ${Q(database)} WITH ( FORCE )`,
    ],
  };
}

/**
 * postgresql/resource_postgresql_physical_replication_slot.go: Create runs
 * `SELECT FROM pg_create_physical_replication_slot($1)` (immediately_reserve left
 * false: the slot holds no WAL until a standby first streams through it), Exists
 * `SELECT 1 FROM pg_catalog.pg_replication_slots WHERE slot_name = $1 and slot_type = 'physical'`,
 * Delete `SELECT pg_drop_replication_slot($1)` (which fails while a walsender uses the slot).
 * Parameters as the provider binds them ($1 = the slot name).
 */
export const physicalSlotSql = {
  create: "SELECT FROM pg_create_physical_replication_slot($1)",
  exists: "SELECT 1 FROM pg_catalog.pg_replication_slots WHERE slot_name = $1 and slot_type = 'physical'",
  delete: "SELECT pg_drop_replication_slot($1)",
} as const;

/**
 * postgresql/resource_postgresql_role.go resourcePostgreSQLRoleCreate: `CREATE ROLE <Q(name)> WITH` the
 * password (ENCRYPTED PASSWORD '<literal>'), VALID UNTIL 'infinity' (always kept), the int options (CONNECTION LIMIT), then
 * every boolean option spelled out: SUPERUSER, CREATEDB, CREATEROLE, INHERIT, LOGIN,
 * BYPASSRLS (9.5+), REPLICATION (9.1+), each enabled or NO-prefixed.
 */
export function roleCreate(r: {
  name: string; password: string; connectionLimit: number;
  superuser: boolean; createDatabase: boolean; createRole: boolean; inherit: boolean; login: boolean; bypassRowLevelSecurity: boolean; replication: boolean;
}): string {
  const b = (on: boolean, word: string) => (on ? word : `NO${word}`);
  return `CREATE ROLE ${Q(r.name)} WITH ENCRYPTED PASSWORD '${r.password.replace(/'/g, "''")}' VALID UNTIL 'infinity' CONNECTION LIMIT ${r.connectionLimit} ` +
    [b(r.superuser, "SUPERUSER"), b(r.createDatabase, "CREATEDB"), b(r.createRole, "CREATEROLE"), b(r.inherit, "INHERIT"), b(r.login, "LOGIN"),
      b(r.bypassRowLevelSecurity, "BYPASSRLS"), b(r.replication, "REPLICATION")].join(" ");
}
