// pgAdmin provisioning as text: servers.json (the server that appears on login),
// the pgpass file that supplies its password, and the entrypoint wrapper that
// puts the pgpass where pgAdmin looks for it on every start. Pure.
//
// pgAdmin in server mode resolves a server's passfile relative to the logged-in
// user's storage directory (<data>/storage/<user dir>/), so servers.json names
// "/.pgpass" and the wrapper copies the uploaded file there before handing over
// to the image's own entrypoint. The server list itself is re-imported on every
// start by that entrypoint (PGADMIN_REPLACE_SERVERS_ON_STARTUP, pgAdmin >= 9.2),
// with --replace, so a changed servers.json wins over what the data volume holds.

/** uid of the `pgadmin` user in dpage/pgadmin4. */
export const PGADMIN_UID = "5050";
/** Where the image keeps its config DB and per-user storage (the data volume). */
export const PGADMIN_DATA_DIR = "/var/lib/pgadmin";
/** The image's own entrypoint, which the wrapper hands over to. */
export const PGADMIN_IMAGE_ENTRYPOINT = "/entrypoint.sh";
/** Storage-relative path of the pgpass file, as servers.json refers to it. */
export const PASSFILE_IN_STORAGE = "/.pgpass";

export type PgAdminSslMode = "disable" | "prefer" | "require" | "verify-ca" | "verify-full";

export interface PgAdminServer {
  /** Shown in the browser tree. */
  name: string;
  group: string;
  host: string;
  port: number;
  maintenanceDb: string;
  username: string;
  sslmode: PgAdminSslMode;
}

function oneLine(s: string, what: string): string {
  if (/[\r\n\0]/.test(s) || s.length === 0) throw new Error(`${what} must be one non-empty line`);
  return s;
}

/** servers.json in the pgAdmin >= 7 format (connection options under ConnectionParameters). */
export function renderServersJson(servers: PgAdminServer[]): string {
  const entries: Record<string, unknown> = {};
  servers.forEach((s, i) => {
    if (!Number.isInteger(s.port) || s.port < 1 || s.port > 65535) throw new Error(`invalid port ${s.port}`);
    entries[String(i + 1)] = {
      Name: oneLine(s.name, "server name"),
      Group: oneLine(s.group, "server group"),
      Host: oneLine(s.host, "host"),
      Port: s.port,
      MaintenanceDB: oneLine(s.maintenanceDb, "maintenance database"),
      Username: oneLine(s.username, "username"),
      Shared: false,
      ConnectionParameters: { sslmode: s.sslmode, connect_timeout: 10, passfile: PASSFILE_IN_STORAGE },
    };
  });
  return JSON.stringify({ Servers: entries }, null, 2) + "\n";
}

export interface PgpassEntry {
  host: string;
  port: number | "*";
  database: string;
  user: string;
  password: string;
}

/** libpq's escaping inside a pgpass field: backslash and colon take a backslash. */
function pgpassField(s: string): string {
  if (/[\r\n\0]/.test(s)) throw new Error("pgpass fields must be single-line");
  return s.replace(/\\/g, "\\\\").replace(/:/g, "\\:");
}

/** A pgpass file (`host:port:database:user:password` per line). */
export function renderPgpass(entries: PgpassEntry[]): string {
  return entries.map((e) => [e.host, String(e.port), e.database, e.user, e.password].map(pgpassField).join(":")).join("\n") + "\n";
}

/** pgAdmin's name for a user's storage directory (pgadmin/utils/paths.py: '@' → '_', digit-first gets a prefix). */
export function pgadminStorageDirName(email: string): string {
  const un = email.length === 0 || /^\d/.test(email) ? `pga_user_${email}` : email;
  return un.replace(/@/g, "_").replace(/[/\\]/g, "slash");
}

function shQuote(s: string): string {
  return `'${s.replace(/'/g, "'\\''")}'`;
}

export interface EntrypointInput {
  /** Login email; decides the storage directory the pgpass goes to. */
  email: string;
  /** Uploaded pgpass file (read-only for the pgadmin user). */
  pgpassSource: string;
  /** Defaults to PGADMIN_DATA_DIR; tests point it at a temp dir. */
  dataDir?: string;
  /** Defaults to PGADMIN_IMAGE_ENTRYPOINT; tests point it at a stub. */
  imageEntrypoint?: string;
}

/**
 * /bin/sh wrapper run as the container's entrypoint: installs the pgpass into the
 * user's storage directory (0600, as pgAdmin and libpq require) on every start,
 * then execs the image's entrypoint with the original arguments.
 */
export function renderPgAdminEntrypoint(input: EntrypointInput): string {
  const dataDir = input.dataDir ?? PGADMIN_DATA_DIR;
  const storage = `${dataDir}/storage/${pgadminStorageDirName(oneLine(input.email, "email"))}`;
  const target = `${storage}/.pgpass`;
  return [
    "#!/bin/sh",
    "# Rendered by homelab-postgres: provision the admin connection's pgpass on every start.",
    "set -eu",
    "umask 077",
    `mkdir -p ${shQuote(storage)}`,
    // copy, not symlink: pgAdmin refuses paths outside the storage directory
    `cp ${shQuote(oneLine(input.pgpassSource, "pgpass path"))} ${shQuote(`${target}.tmp`)}`,
    `chmod 600 ${shQuote(`${target}.tmp`)}`,
    `mv -f ${shQuote(`${target}.tmp`)} ${shQuote(target)}`,
    `exec ${shQuote(input.imageEntrypoint ?? PGADMIN_IMAGE_ENTRYPOINT)} "$@"`,
    "",
  ].join("\n");
}

/** Healthcheck (exec form, without "CMD"): pgAdmin's unauthenticated ping endpoint answers. */
export function pgadminHealthcheck(listenPort: number, https = false): string[] {
  // over HTTPS the certificate names the bind address and MagicDNS name, not 127.0.0.1: the probe checks liveness, not the certificate
  return https
    ? ["wget", "-q", "--no-check-certificate", "-O", "/dev/null", `https://127.0.0.1:${listenPort}/misc/ping`]
    : ["wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${listenPort}/misc/ping`];
}

/** Where the dpage/pgadmin4 image's entrypoint looks for its TLS pair when PGADMIN_ENABLE_TLS is set. */
export const PGADMIN_TLS_FILES = { certFile: "/certs/server.cert", keyFile: "/certs/server.key" } as const;
