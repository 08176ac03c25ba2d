// postgresql.conf as text. Pure: the container and the integration test render
// the same function; only paths, the listen address and the port differ.
import { ConfValue, SUPERUSER_RESERVED, isManagedSetting } from "../config";
import { CONF_KEY } from "../lib/names";
import { quoteConfValue } from "../lib/quote";

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
}


export function renderPostgresqlConf(input: PostgresConfInput): string {
  if (input.majorVersion < 15) throw new Error(`Postgres ${input.majorVersion} is not supported (15 or newer)`);
  const managed: [string, ConfValue][] = [
    ["listen_addresses", input.listenAddresses],
    ["port", input.port],
    ["max_connections", input.maxConnections],
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
    ["shared_preload_libraries", "pg_stat_statements"],
    ["wal_level", "replica"],
    ["archive_mode", input.archive ? "on" : "off"],
    ...(input.archive
      ? ([
          ["archive_command", input.archive.command],
          ["archive_timeout", `${input.archive.timeoutSeconds}s`],
        ] as [string, ConfValue][])
      : []),
  ];
  for (const [k] of managed) if (!isManagedSetting(k)) throw new Error(`internal: ${k} is rendered but not listed as managed`);
  const tunable: Record<string, ConfValue> = {
    ...tune(input.memoryMb, input.maxConnections),
    checkpoint_completion_target: 0.9,
    min_wal_size: "1GB",
    max_wal_size: "4GB",
    random_page_cost: 1.1,
    effective_io_concurrency: 200,
    default_statistics_target: 100,
    log_min_duration_statement: "1s",
    log_line_prefix: "%m [%p] %q%u@%d ",
    log_lock_waits: "on",
    log_temp_files: 0,
    "pg_stat_statements.track": "all",
    ...input.settings,
  };
  const lines = ["# Rendered by homelab-postgres. Do not edit in the container: change the stack config.", "", "# managed"];
  for (const [k, v] of managed) lines.push(line(k, v));
  lines.push("", "# tuning and operator settings");
  for (const [k, v] of Object.entries(tunable)) {
    if (k in input.settings && isManagedSetting(k)) throw new Error(`setting ${k} is managed by the program`);
    lines.push(line(k, v));
  }
  return lines.join("\n") + "\n";
}

function line(key: string, value: ConfValue): string {
  if (!CONF_KEY.test(key)) throw new Error(`invalid postgresql.conf key ${JSON.stringify(key)}`);
  return `${key} = ${quoteConfValue(value)}`;
}
