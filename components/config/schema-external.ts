// `postgres.external`: manage an existing PostgreSQL server (RDS, CloudNativePG, a
// Postgres on a NAS) instead of running one. The program logs in as an admin that
// need not be a superuser (CREATEROLE and CREATEDB are enough), so every key that
// needs the server's container, its files or superuser is refused here, naming
// the key (docs/external.md says why each one is unavailable). Part of schema.ts,
// apart only to keep each file readable.
import { z } from "zod";
import { SAFE_IDENT } from "../lib/names";
import { ipVersion, isHostname, isLoopbackIPv4 } from "../lib/net";
import { SUPPORTED_MAJORS, alternateLoginOf, ownerRoleOf, roleNameProblem, userRoleOf } from "./constants";
import { int, oneOf, section, str } from "./fields";
import { type ConfigProblem, keyPath } from "./problems";
import { Report, isNum, isObj, isStr, rule } from "./rules";
import trustedCatalog from "./trusted-extensions.json";

/** `sslmode` toward the server: libpq's words the provider, psql and pgBouncer all take. */
export const EXTERNAL_SSLMODES = ["require", "disable"] as const;
export type ExternalSslMode = (typeof EXTERNAL_SSLMODES)[number];

/**
 * Per major, the extensions a non-superuser with CREATE on the database may create:
 * `trusted` in pg_available_extension_versions, as real servers report it (`npm run
 * catalog:extensions` writes the file; the external-mode integration test compares it).
 */
export const TRUSTED_EXTENSIONS: Readonly<Record<number, ReadonlySet<string>>> = Object.fromEntries(
  Object.entries(trustedCatalog as Record<string, string[]>).map(([major, names]) => [Number(major), new Set(names)]),
);

export const external = z.preprocess((v) => (v === null ? undefined : v), section({
  host: str({ type: "host name or IP", doc: "required: the existing server's address, as the machine running `pulumi up` (and pgBouncer's container, when enabled) reach it" }),
  port: int({ min: 1, max: 65535, default: 5432, shown: "`5432` once the section is set", doc: "the existing server's port" }),
  sslmode: oneOf(EXTERNAL_SSLMODES, {
    default: "require", shown: "`require` once the section is set",
    doc: "TLS toward the server, for the provider, pgBouncer and the URLs (`?sslmode=require`); certificate verification is not offered yet",
  }),
  database: str({ type: "identifier", default: "postgres", shown: "`postgres` once the section is set", doc: "the maintenance database the admin logs in to" }),
  adminUser: str({ type: "role name", doc: "required: an existing role with CREATEROLE and CREATEDB (a superuser works too, and is used as if it were not); it becomes a member of every app's owner role" }),
  adminPassword: str({ type: "string", secret: true, doc: "required: the admin's password; in prod only as a Pulumi secret" }),
}).check(
  rule((v, report) => {
    if (v.host === undefined) report(["host"], "required: the existing server's host name or IP address");
    else if (isStr(v.host) && !isHostname(v.host) && ipVersion(v.host) === 0) report(["host"], `${JSON.stringify(v.host)} is not a host name or an IP address`);
    if (v.adminUser === undefined) report(["adminUser"], "required: a role with CREATEROLE and CREATEDB on the existing server");
    else if (isStr(v.adminUser)) {
      if (!SAFE_IDENT.test(v.adminUser)) report(["adminUser"], `${JSON.stringify(v.adminUser)} must match ${SAFE_IDENT}`);
      else if (v.adminUser.startsWith("pg_")) report(["adminUser"], `${v.adminUser} ${roleNameProblem(v.adminUser)}`);
    }
    if (v.adminPassword === undefined || v.adminPassword === "") report(["adminPassword"], "required: the admin's password (pulumi config set --secret --path postgres.external.adminPassword …)");
    else if (isStr(v.adminPassword) && /[\r\n\0]/.test(v.adminPassword)) report(["adminPassword"], "must be one line");
    if (isStr(v.database) && !SAFE_IDENT.test(v.database)) report(["database"], `${JSON.stringify(v.database)} must match ${SAFE_IDENT}`);
  }),
).optional());

/**
 * Keys of `postgres` that configure the server the program runs: none of them can
 * reach an existing server (each reason is the problem's text).
 */
export const SERVER_ONLY_POSTGRES_KEYS: Readonly<Record<string, string>> = {
  image: "no image is pulled or built: the server is not ours",
  customImage: "no image is pulled or built: the server is not ours",
  platform: "no image is built for the Docker host",
  port: "there is no published port: set postgres.external.port",
  memoryMb: "there is no container to limit, and its tuning is the server's operator's",
  settings: "postgresql.conf belongs to the server's operator (ALTER SYSTEM needs superuser)",
  tls: "the server has its own certificate: set postgres.external.sslmode",
  logging: "log settings are the server's (ALTER SYSTEM needs superuser)",
  audit: "pgAudit must be preloaded (shared_preload_libraries) by the server's operator",
  bootstrap: "a restore writes the server's data directory",
};

/**
 * Problems of a raw config that sets `postgres.external` together with a key that
 * configures the server the program would run, or without `postgres.majorVersion`:
 * keys the schema would fill with defaults count only when written, so this reads
 * the raw config (parse.ts).
 */
export function externalExplicitProblems(raw: Record<string, unknown>): ConfigProblem[] {
  const pg = raw.postgres;
  if (!isObj(pg) || pg.external === undefined || pg.external === null) return [];
  const out: ConfigProblem[] = [];
  for (const [key, why] of Object.entries(SERVER_ONLY_POSTGRES_KEYS)) {
    if (pg[key] !== undefined && pg[key] !== null) out.push({ path: keyPath(["postgres", key]), message: `is not available with postgres.external: ${why}` });
  }
  // read here, not from the parsed values: the schema fills in the major the stack builds by default
  if (isObj(pg.external) && (pg.majorVersion === undefined || pg.majorVersion === null)) {
    out.push({
      path: keyPath(["postgres", "majorVersion"]),
      message: `required with postgres.external: the existing server's major (${SUPPORTED_MAJORS.min}-${SUPPORTED_MAJORS.max}); it decides which extensions a non-superuser may create and the provider's expected version`,
    });
  }
  return out;
}

/**
 * Rules across sections under `postgres.external` (parsed values): what needs the
 * server's data directory, a container beside it, or superuser.
 */
export function externalRules(v: Record<string, unknown>, report: Report): void {
  const pg = isObj(v.postgres) ? v.postgres : {};
  const ext = pg.external;
  if (!isObj(ext)) return;
  // required with postgres.external: externalExplicitProblems (the parsed value always has the default)
  const major = pg.majorVersion;
  const bk = isObj(v.backup) ? v.backup : {};
  if (bk.enabled === true) report(["backup", "enabled"], "is not available with postgres.external: pgBackRest reads the server's data directory and runs archive_command inside it; back up the server with its own tooling");
  const pa = isObj(v.pgadmin) ? v.pgadmin : {};
  if (pa.enabled === true) report(["pgadmin", "enabled"], "is not available with postgres.external: pgAdmin logs in as the program's admin role db_admin, which is not created there");
  const mo = isObj(v.monitoring) ? v.monitoring : {};
  if (mo.enabled === true) {
    report(["monitoring", "enabled"], "is not available with postgres.external: the exporter's role needs pg_monitor, which a CREATEROLE admin may grant only on 15 (16+: only with ADMIN OPTION on pg_monitor)");
  }
  const sb = isObj(v.standby) ? v.standby : {};
  if (sb.enabled === true) report(["standby", "enabled"], "is not available with postgres.external: the standby streams from the program's own Postgres container (replication role, slot and pg_hba line); use the server's own replication");
  const pb = isObj(v.pgbouncer) ? v.pgbouncer : {};
  // pgBouncer runs in a container: loopback there is the container itself
  if (pb.enabled === true && isStr(ext.host) && (ext.host === "localhost" || isLoopbackIPv4(ext.host) || ext.host === "::1")) {
    report(["postgres", "external", "host"], `${ext.host} is loopback: pgBouncer's container could not reach it; give an address the Docker host reaches, or set pgbouncer.enabled: false`);
  }
  const trusted = isNum(major) ? TRUSTED_EXTENSIONS[major] : undefined;
  const apps: unknown[] = Array.isArray(v.apps) ? v.apps : [];
  apps.forEach((a, i) => {
    if (!isObj(a)) return;
    // the admin is not the program's to create or drop: it must not take an app role's name
    if (isStr(ext.adminUser) && isStr(a.name)) {
      const db = a.name.replace(/-/g, "_");
      const users = [...(Array.isArray(a.readonlyUsers) ? a.readonlyUsers : []), ...(Array.isArray(a.readwriteUsers) ? a.readwriteUsers : [])];
      const own = [ownerRoleOf(db), ...users.filter(isStr).map((u) => userRoleOf(db, u))];
      // each role's second login (rotation) is the program's too
      const roles = [...own, ...own.map(alternateLoginOf)];
      if (roles.includes(ext.adminUser)) report(["postgres", "external", "adminUser"], `${ext.adminUser} is a role of app ${a.name}: the admin must be a role of its own`);
    }
    if (!trusted || !Array.isArray(a.extensions)) return;
    a.extensions.forEach((e, j) => {
      if (isStr(e) && !trusted.has(e)) {
        report(["apps", i, "extensions", j], `${e} is not a trusted extension on PostgreSQL ${major}: only a superuser may create it; create it on the server yourself and leave it out of this list`);
      }
    });
  });
}
