// postgresql.conf as text. Pure: the container and the integration test render
// the same function; only paths, the listen address and the port differ.
import { ConfValue, SUPERUSER_RESERVED, isManagedSetting } from "../config";
import { CONF_KEY } from "../lib/names";
import { quoteConfValue } from "../lib/quote";
import { StandbyConfInput, standbySettings } from "./standby-conf";

/** Memory-derived settings in the spirit of PGTune's "web application" profile (SSD storage). */
export interface Tuning {
  shared_buffers: string;
  effective_cache_size: string;
  maintenance_work_mem: string;
  work_mem: string;
  wal_buffers: string;
}

export function tune(memoryMb: number, maxConnections: number): Tuning {
  const sharedMb = Math.floor(memoryMb / 4);
  // What is left after shared_buffers, spread over 3 sort/hash nodes per connection.
  const workKb = Math.max(64, Math.floor(((memoryMb - sharedMb) * 1024) / (maxConnections * 3)));
  // 3% of shared_buffers, between 64kB and the 16MB WAL segment size.
  const walKb = Math.min(16 * 1024, Math.max(64, Math.floor(sharedMb * 1024 * 0.03)));
  return {
    shared_buffers: `${sharedMb}MB`,
    effective_cache_size: `${Math.floor((memoryMb * 3) / 4)}MB`,
    maintenance_work_mem: `${Math.min(2048, Math.max(16, Math.floor(memoryMb / 16)))}MB`,
    work_mem: `${workKb}kB`,
    wal_buffers: `${walKb}kB`,
  };
}

export interface PostgresConfInput {
  /** Postgres major the file is rendered for; everything emitted is valid from 15 on. */
  majorVersion: number;
  listenAddresses: string;
  port: number;
  maxConnections: number;
  memoryMb: number;
  hbaFile: string;
  unixSocketDirectory: string;
  /** Server certificate and key paths when TLS is on. */
  tls?: { certFile: string; keyFile: string };
  /** WAL archiving (backups). archive_timeout bounds the RPO. */
  archive?: { command: string; timeoutSeconds: number };
  /** Operator settings from config; they win over tuning, never over managed keys. */
  settings: Record<string, ConfValue>;
  /** Connection and slow-statement logging (`postgres.logging`); absent: the config's defaults. */
  logging?: { connections: boolean; slowStatementMs: number };
  /** pgAudit (`postgres.audit`), when enabled: preloaded, and these session classes logged. */
  audit?: { classes: string[] };
  /** A streaming standby's recovery settings (standby-conf.ts): primary_conninfo, slot, hot_standby, restore_command. */
  standby?: StandbyConfInput;
}

/** The config's logging defaults (postgres.logging). */
export const DEFAULT_LOGGING = { connections: true, slowStatementMs: 1000 } as const;

/** Libraries the server preloads: pg_stat_statements always, pgaudit when audit is on. */
export function preloadLibraries(input: Pick<PostgresConfInput, "audit">): string {
  return ["pg_stat_statements", ...(input.audit ? ["pgaudit"] : [])].join(",");
}

/** log_min_duration_statement as PostgreSQL prints it back: `-1`, `0`, whole seconds as `Ns`, else `Nms`. */
export function slowStatementSetting(ms: number): string | number {
  if (!Number.isInteger(ms) || ms < -1) throw new Error(`slowStatementMs must be an integer >= -1, got ${ms}`);
  if (ms <= 0) return ms;
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** The pgAudit settings for these classes (validated words only). */
export function auditSettings(classes: string[]): Record<string, ConfValue> {
  for (const c of classes) if (!/^[a-z_]+$/.test(c)) throw new Error(`invalid pgAudit class ${JSON.stringify(c)}`);
  if (classes.length === 0) throw new Error("pgAudit needs at least one class");
  return {
    "pgaudit.log": classes.join(","),
    // the catalog queries every client library sends would drown the log
    "pgaudit.log_catalog": "off",
    // one line per statement, with the statement; parameters may hold secrets
    "pgaudit.log_parameter": "off",
    "pgaudit.log_relation": "off",
  };
}


/**
 * The settings that stay in the uploaded postgresql.conf: what ties the server to
 * its container (addresses, paths, socket, TLS files), authentication, and what
 * only a new cluster layout changes (preload libraries, WAL level, archiving on or
 * off). A change here replaces the container. Everything else is a "live"
 * setting (liveSettings), applied with ALTER SYSTEM by the settings command.
 */
export function staticSettings(input: PostgresConfInput): [string, ConfValue][] {
  if (input.majorVersion < 15) throw new Error(`Postgres ${input.majorVersion} is not supported (15 or newer)`);
  const out: [string, ConfValue][] = [
    ["listen_addresses", input.listenAddresses],
    ["port", input.port],
    ["superuser_reserved_connections", SUPERUSER_RESERVED],
    ["hba_file", input.hbaFile],
    ["unix_socket_directories", input.unixSocketDirectory],
    ["password_encryption", "scram-sha-256"],
    ["ssl", input.tls ? "on" : "off"],
    ...(input.tls
      ? ([
          ["ssl_cert_file", input.tls.certFile],
          ["ssl_key_file", input.tls.keyFile],
          ["ssl_min_protocol_version", "TLSv1.2"],
        ] as [string, ConfValue][])
      : []),
    ["shared_preload_libraries", preloadLibraries(input)],
    ["wal_level", "replica"],
    ["archive_mode", input.archive ? "on" : "off"],
    ...(input.archive ? ([["archive_command", input.archive.command]] as [string, ConfValue][]) : []),
    ...(input.standby ? standbySettings(input.standby) : []),
  ];
  for (const [k] of out) if (!isManagedSetting(k)) throw new Error(`internal: ${k} is rendered but not listed as managed`);
  return out;
}

/**
 * The live settings: max_connections, archive_timeout, the memory tuning, the
 * logging defaults and the operator's settings (which win over tuning, never over
 * what staticSettings holds). The settings command makes postgresql.auto.conf
 * hold exactly these (settings-command.ts).
 */
export function liveSettings(input: PostgresConfInput): Record<string, ConfValue> {
  for (const k of Object.keys(input.settings)) {
    if (isManagedSetting(k)) throw new Error(`setting ${k} is managed by the program`);
    if (!CONF_KEY.test(k)) throw new Error(`invalid postgresql.conf key ${JSON.stringify(k)}`);
  }
  return {
    max_connections: input.maxConnections,
    ...(input.archive ? { archive_timeout: `${input.archive.timeoutSeconds}s` } : {}),
    ...tune(input.memoryMb, input.maxConnections),
    checkpoint_completion_target: 0.9,
    min_wal_size: "1GB",
    max_wal_size: "4GB",
    random_page_cost: 1.1,
    effective_io_concurrency: 200,
    default_statistics_target: 100,
    log_min_duration_statement: slowStatementSetting((input.logging ?? DEFAULT_LOGGING).slowStatementMs),
    log_connections: (input.logging ?? DEFAULT_LOGGING).connections ? "on" : "off",
    log_disconnections: (input.logging ?? DEFAULT_LOGGING).connections ? "on" : "off",
    log_line_prefix: "%m [%p] %q%u@%d ",
    log_lock_waits: "on",
    log_temp_files: 0,
    "pg_stat_statements.track": "all",
    ...(input.audit ? auditSettings(input.audit.classes) : {}),
    ...input.settings,
  };
}

/** The uploaded postgresql.conf: the static settings only. */
export function renderStaticConf(input: PostgresConfInput): string {
  const lines = [
    "# Rendered by homelab-postgres. Do not edit in the container: change the stack config.",
    "# Everything else (memory, logging, postgres.settings) is applied with ALTER SYSTEM by",
    "# the settings command and lives in postgresql.auto.conf, which it owns.",
    "",
  ];
  for (const [k, v] of staticSettings(input)) lines.push(line(k, v));
  return lines.join("\n") + "\n";
}

/**
 * The whole configuration as one file: static + live. What the server runs with
 * once the settings command has applied the live part; the integration layer
 * starts its servers from it, and a test proves both routes end in the same
 * pg_settings.
 */
export function renderPostgresqlConf(input: PostgresConfInput): string {
  const lines = [renderStaticConf(input).trimEnd(), "", "# live settings (ALTER SYSTEM in a deployed stack)"];
  for (const [k, v] of Object.entries(liveSettings(input))) lines.push(line(k, v));
  return lines.join("\n") + "\n";
}

function line(key: string, value: ConfValue): string {
  if (!CONF_KEY.test(key)) throw new Error(`invalid postgresql.conf key ${JSON.stringify(key)}`);
  return `${key} = ${quoteConfValue(value)}`;
}
