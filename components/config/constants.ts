// Names and numbers the config rules and the renderers share. Defined here, below
// every area, so a renderer and the rule that guards its input read one value.

export const PROJECT = "homelab-postgres";

/** pgvector-enabled, pinned. Tag names the Postgres major the files are rendered for. */
export const DEFAULT_POSTGRES_IMAGE = "pgvector/pgvector:0.8.0-pg17";
/** 1.26.0 fixes CVE-2026-19888 (unauthenticated crash via SCRAM) and the 1.25.2 crash fixes. */
export const DEFAULT_PGBOUNCER_IMAGE = "edoburu/pgbouncer:v1.26.0-p0";
export const DEFAULT_PGADMIN_IMAGE = "dpage/pgadmin4:9.17";

/** Majors the server mounts and renders for: 18 moved the image's data volume to /var/lib/postgresql. */
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
