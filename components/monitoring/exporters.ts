// The two exporters as their containers run them: command lines, environment
// (never a secret: passwords are files), the pgpass line, the monitor role's SQL.
// Pure; the integration test starts Debian's binaries with the same arguments.
import { MONITOR_ROLE, PGBOUNCER_STATS_USER } from "../config";
import { assertIdent } from "../lib/names";
import { isHostname, ipVersion, isPort } from "../lib/net";
import { quoteIdent, quoteLiteral } from "../lib/quote";

/** Paths, user and ports inside the exporter containers (the image: docker/exporters). */
export const EXPORTER_CONTAINER = {
  /** nobody:nogroup: the exporters need no user of their own. */
  uid: "65534",
  confDir: "/etc/hlpg-exporter",
  postgresPort: 9187,
  pgbouncerPort: 9127,
  /** Memory limit in MiB of each exporter. */
  memoryMb: 96,
  postgresBinary: "/usr/bin/prometheus-postgres-exporter",
  pgbouncerBinary: "/usr/bin/prometheus-pgbouncer-exporter",
} as const;

function host(h: string): string {
  if (ipVersion(h) === 4 || isHostname(h)) return h;
  throw new Error(`invalid host ${JSON.stringify(h)}`);
}

function port(p: number): number {
  if (!isPort(p)) throw new Error(`invalid port ${p}`);
  return p;
}

export interface PostgresExporterInput {
  /** Postgres as the exporter reaches it. */
  postgres: { host: string; port: number };
  sslmode: "disable" | "require";
  /** Where the exporter listens (inside its network namespace: `:9187`; tests: `127.0.0.1:<port>`). */
  listen: string;
  /** The password file (DATA_SOURCE_PASS_FILE) and the custom queries file. */
  passwordFile: string;
  queriesFile: string;
  /** Default MONITOR_ROLE. */
  user?: string;
}

/** postgres_exporter's argv (after the binary) and environment; no secret in either. */
export function postgresExporterProcess(input: PostgresExporterInput): { args: string[]; env: Record<string, string> } {
  const user = assertIdent(input.user ?? MONITOR_ROLE, "monitor role");
  if (!/^[A-Za-z0-9.:[\]-]*:\d+$/.test(input.listen)) throw new Error(`invalid listen address ${JSON.stringify(input.listen)}`);
  return {
    args: [
      `--web.listen-address=${input.listen}`,
      `--extend.query-path=${input.queriesFile}`,
      "--log.level=warn",
    ],
    env: {
      // URI without credentials; user and password come separately, the password from a file
      DATA_SOURCE_URI: `${host(input.postgres.host)}:${port(input.postgres.port)}/postgres?sslmode=${input.sslmode}&application_name=hlpg-postgres-exporter`,
      DATA_SOURCE_USER: user,
      DATA_SOURCE_PASS_FILE: input.passwordFile,
    },
  };
}

export interface PgBouncerExporterInput {
  /** pgBouncer as the exporter reaches it (its admin database `pgbouncer`). */
  pgbouncer: { host: string; port: number };
  sslmode: "disable" | "require";
  /** Address and port the exporter listens on (inside its namespace `0.0.0.0`; tests `127.0.0.1`). */
  listenHost: string;
  listenPort: number;
  /** libpq's password file (PGPASSFILE). */
  pgpassFile: string;
  /** Default PGBOUNCER_STATS_USER. */
  user?: string;
}

/** prometheus-pgbouncer-exporter's argv and environment (libpq's PGPASSFILE, PGSSLMODE); no secret. */
export function pgbouncerExporterProcess(input: PgBouncerExporterInput): { args: string[]; env: Record<string, string> } {
  const user = assertIdent(input.user ?? PGBOUNCER_STATS_USER, "pgBouncer stats user");
  return {
    args: [
      "--host", host(input.listenHost),
      "--port", String(port(input.listenPort)),
      "--pgbouncer-host", host(input.pgbouncer.host),
      "--pgbouncer-port", String(port(input.pgbouncer.port)),
      "--pgbouncer-user", user,
    ],
    env: { PGPASSFILE: input.pgpassFile, PGSSLMODE: input.sslmode, PGCONNECT_TIMEOUT: "10", PGAPPNAME: "hlpg-pgbouncer-exporter" },
  };
}

/** One libpq password-file line for pgBouncer's admin database; `:` and `\` escaped as libpq reads them. */
export function renderPgpassLine(h: string, p: number, user: string, password: string): string {
  if (password === "" || /[\r\n\0]/.test(password)) throw new Error("password must be one non-empty line");
  const esc = (s: string) => s.replace(/\\/g, "\\\\").replace(/:/g, "\\:");
  return `${esc(host(h))}:${port(p)}:pgbouncer:${esc(assertIdent(user, "pgBouncer stats user"))}:${esc(password)}\n`;
}

/**
 * The monitor role as SQL (the component creates it with postgresql.Role + Grant;
 * tests and operators use this): login, member of pg_monitor, CONNECT on the
 * maintenance database (the platform revokes it from PUBLIC), nothing else.
 */
export function renderMonitorRoleSql(password: string, role: string = MONITOR_ROLE): string[] {
  const r = quoteIdent(assertIdent(role, "monitor role"));
  return [
    `CREATE ROLE ${r} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD ${quoteLiteral(password)}`,
    `GRANT pg_monitor TO ${r}`,
    `GRANT CONNECT ON DATABASE postgres TO ${r}`,
  ];
}

/** Healthcheck (exec form, without "CMD"): the exporter answers /metrics with 200 (python3 is in the image). */
export function exporterHealthcheck(listenPort: number): string[] {
  return ["python3", "-c", `import urllib.request; urllib.request.urlopen('http://127.0.0.1:${port(listenPort)}/metrics', timeout=8)`];
}
