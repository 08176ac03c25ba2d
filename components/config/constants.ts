// Names and numbers the config rules and the renderers share. Defined here, below
// every area, so a renderer and the rule that guards its input read one value.

export const PROJECT = "homelab-postgres";

export const DEFAULT_PGADMIN_IMAGE = "dpage/pgadmin4:9.17";

/** Majors the server renders for (conf files, settings catalogs); which of them the stack builds: images.ts. */
export const SUPPORTED_MAJORS = { min: 15, max: 17 } as const;

/** Connections Postgres keeps for superusers (superuser_reserved_connections). */
export const SUPERUSER_RESERVED = 3;
/** Connections left outside pgBouncer's pools: migrations, backup, pgAdmin, admin shells. */
export const DIRECT_HEADROOM = 10;

/** Names an app may not take: built-in databases and roles, and the program's own roles. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  "postgres", "template0", "template1", "public", "pgbouncer", "pg_monitor", "pg_signal_backend",
  "pg_read_all_data", "pg_write_all_data", "pg_database_owner", "information_schema", "admin",
  "root", "replication", "all", "sameuser", "samerole", "pgbackrest", "pgadmin", "pgbouncer_auth",
  // the program's monitoring roles are hlpg_*: an app "hlpg" could shadow them with hlpg_<user>
  "hlpg",
]);

/** The bootstrap superuser: the program's and break-glass use only, never an app's. */
export const SUPERUSER = "postgres";
/**
 * The administrative role for people (pgAdmin, admin shells): CREATEDB, CREATEROLE
 * on 16+ only, member of every app owner and of pg_monitor; never a superuser.
 */
export const ADMIN_ROLE = "db_admin";
/** Connections the admin role may hold at once: the direct headroom it shares with migrations and backups. */
export const ADMIN_CONNECTION_LIMIT = DIRECT_HEADROOM;
/**
 * The first major whose CREATEROLE is bounded: from 16 a CREATEROLE role administers
 * only the roles it created or holds ADMIN OPTION on. Before it (15), CREATEROLE may
 * grant itself any non-superuser role, pg_execute_server_program included, which is
 * superuser in all but name: the admin role gets no CREATEROLE there.
 */
export const BOUNDED_CREATEROLE_MAJOR = 16;
/**
 * The streaming standby's login (components/replica): LOGIN REPLICATION and nothing else.
 * In the `hlpg_` namespace, which no app can reach (the app name `hlpg` is reserved).
 */
export const REPLICATOR_ROLE = "hlpg_replicator";
/** Roles the program creates for itself: pgBouncer's auth_user (components/pooler PGBOUNCER_AUTH_ROLE), the admin role, the standby's replicator. */
export const PROGRAM_ROLES: readonly string[] = ["pgbouncer_auth", ADMIN_ROLE, REPLICATOR_ROLE];

/**
 * Role names no role derived from config may take, besides the whole `pg_`
 * namespace (every predefined role of 15-17 lives there, and CREATE ROLE refuses
 * it): the superuser, the program's roles, pgBouncer's admin-console user, names
 * the grammar treats as role specifiers (`public`, `none`, `current_user`,
 * `session_user`, `current_role`, `system_user` since 16, `user`) and pg_hba.conf's
 * keywords (a role named `all` or `replication` would match every rule meant for them).
 */
export const RESERVED_ROLE_NAMES: ReadonlySet<string> = new Set([
  SUPERUSER, ...PROGRAM_ROLES, "pgbouncer", "public", "none", "current_user", "session_user", "current_role",
  "system_user", "user", "all", "sameuser", "samerole", "replication",
]);

/** Why a role name derived from config cannot be created safely, or undefined. */
export function roleNameProblem(role: string): string | undefined {
  if (role.startsWith("pg_")) return `falls in PostgreSQL's reserved pg_ namespace (predefined roles such as pg_monitor, pg_read_all_data)`;
  if (RESERVED_ROLE_NAMES.has(role)) return "is a built-in or reserved role name";
  // PostgreSQL cuts longer names to 63 bytes: the two logins would become one
  if (Buffer.byteLength(alternateLoginOf(role)) > MAX_IDENT_BYTES) return `leaves no room for its rotation login ${alternateLoginOf(role)} (names are at most ${MAX_IDENT_BYTES} bytes)`;
  return undefined;
}

/** NAMEDATALEN - 1: PostgreSQL truncates identifiers beyond it. */
export const MAX_IDENT_BYTES = 63;

/**
 * The second login of an app role, for rotation without downtime (apps/rotation.ts):
 * `<role>_b`. It could equal another derived role (`<database>_<user>` with a user
 * `owner_b`): the config rules claim it like every other role name.
 */
export const alternateLoginOf = (role: string): string => `${role}_b`;

/**
 * Which rotation an app is at: `rotation` as a whole number ≥ 1 counts rotations
 * (odd: the `-b` login is the active one, even: the role itself); anything else
 * (`initial`, a date label) is generation 0, the role itself.
 */
export function rotationGeneration(rotation: string): number {
  return /^[1-9][0-9]{0,8}$/.test(rotation) ? Number(rotation) : 0;
}

/** The owner role of an app's database. */
export const ownerRoleOf = (database: string): string => `${database}_owner`;
/** An extra (read-only or read-write) user's role of an app's database. */
export const userRoleOf = (database: string, user: string): string => `${database}_${user}`;

/** Extensions an app may request: what contrib + the pgvector image provide. */
export const KNOWN_EXTENSIONS: ReadonlySet<string> = new Set([
  "vector", "uuid-ossp", "pg_trgm", "pg_stat_statements", "pgcrypto", "citext", "hstore",
  "btree_gin", "btree_gist", "unaccent", "fuzzystrmatch", "intarray", "ltree", "tablefunc",
  "cube", "earthdistance", "pg_buffercache", "tsm_system_rows", "isn", "seg",
]);

const MANAGED_KEYS: ReadonlySet<string> = new Set([
  "listen_addresses", "port", "max_connections", "superuser_reserved_connections", "hba_file", "ident_file",
  "config_file", "data_directory", "external_pid_file", "unix_socket_directories", "unix_socket_permissions",
  "unix_socket_group", "password_encryption", "wal_level", "restore_command", "recovery_target_time",
  // a standby's recovery settings (components/replica): the program renders them on the standby only
  "primary_conninfo", "primary_slot_name", "hot_standby", "hot_standby_feedback", "recovery_target_timeline",
]);

/**
 * Settings the program owns, or that could undo what it owns (an include file
 * overriding listen_addresses, an archive_library replacing archive_command, TLS
 * knobs): never taken from `postgres.settings`. The renderer asserts that every
 * key it manages is listed here.
 */
export function isManagedSetting(key: string): boolean {
  return MANAGED_KEYS.has(key) || /^(ssl|archive_|include)/.test(key) || key.endsWith("_preload_libraries");
}

/** Whether a stack is treated as production (stricter rules): `prod` and `prod-*`. */
export function isProdStack(stack: string): boolean {
  return stack === "prod" || stack.startsWith("prod-");
}

/** Login role postgres_exporter uses: a member of pg_monitor, nothing else (components/monitoring). */
export const MONITOR_ROLE = "hlpg_monitor";
/** pgBouncer-only user (auth_file + stats_users) the pgBouncer exporter reads SHOW POOLS/STATS/LISTS as; no Postgres role. */
export const PGBOUNCER_STATS_USER = "hlpg_stats";

/** pgAudit session classes (`pgaudit.log`), as the extension spells them. */
export const AUDIT_CLASSES = ["read", "write", "function", "role", "ddl", "misc", "misc_set", "all"] as const;

/** Events a backup job can notify on (`backup.notify.events`). */
export const NOTIFY_EVENTS = ["start", "success", "failure"] as const;

/** An http(s) URL of plain characters: it is rendered into a shell-sourced file and handed to curl. */
export const NOTIFY_URL = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?(\?[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*)?$/;
