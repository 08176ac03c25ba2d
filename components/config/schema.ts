// The stack config as one zod schema: every key's type, default and doc line are
// declared once here (fields.ts builders); the TypeScript types are inferred from
// it; rules that need more than one key are checks on the object that holds them.
// Prod requirements depend on the stack name, so the schema is built per stack.
import { z } from "zod";
import { imagePinProblems } from "../lib/image-ref";
import { RESTORE_TARGET_FORMS, restoreTargetProblem } from "../lib/restore-target";
import {
  APP_NAME, APP_USER, CONF_KEY, SCHEMA_NAME, DEVICE_NAME, EMAIL, TAILNET_TAG, sqlName, suggest,
} from "../lib/names";
import { bindAddressProblem, dockerHostProblem, isLoopbackIPv4 } from "../lib/net";
import {
  DEFAULT_PGADMIN_IMAGE, DIRECT_HEADROOM, KNOWN_EXTENSIONS, PROJECT,
  RESERVED_NAMES, SUPERUSER_RESERVED, SUPPORTED_MAJORS, alternateLoginOf, isManagedSetting, isProdStack, ownerRoleOf, roleNameProblem, userRoleOf,
  AUDIT_CLASSES,
} from "./constants";
import { PG_CATALOGS, enumValuesAcrossBuilds } from "./pg-settings-catalogs";
import { DEBIAN_SUITES, type DebianSuite, DEFAULT_BASE_IMAGES, DEFAULT_MAJOR, POSTGRES_PACKAGES, buildableMajors, suiteOfBaseImage } from "./images";
import { CatalogMajor, settingProblem } from "./pg-settings";
import { bool, describeValue, int, keyDocs, listOf, oneOf, optBool, section, str, stringList } from "./fields";
import { Report, isNum, isObj, isStr, rule } from "./rules";
import { backup, backupRules } from "./schema-backup";
import { POOL_MODES, appPool, poolRules } from "./schema-pool";
import { external, externalRules } from "./schema-external";
import { standby, standbyRules } from "./schema-standby";
import { tls } from "./schema-tls";

const P = PROJECT;

/** A pinned image: a tag other than `latest`, or a digest. */
function imageRule(key: string): (v: { [k: string]: unknown }, report: Report) => void {
  return (v, report) => {
    if (isStr(v[key])) for (const p of imagePinProblems(v[key] as string)) report([key], p);
  };
}

// ---------------------------------------------------------------- sections

const tailscale = section({
  ip: str({ type: "IPv4", doc: "bind address: a tailnet IP (100.64.0.0/10) or loopback. Not with `device`. Neither set: `127.0.0.1`, dev stacks only" }),
  device: str({ type: "string", doc: "device name looked up with `tailscale.getDevice`; its first 100.64.0.0/10 address is bound" }),
}).check(
  rule((v, report) => {
    if (isStr(v.ip)) {
      const p = bindAddressProblem(v.ip);
      if (p) report(["ip"], p);
    }
    if (v.ip !== undefined && v.device !== undefined) report([], "set either ip or device, not both");
    if (isStr(v.device) && !DEVICE_NAME.test(v.device)) report(["device"], `${JSON.stringify(v.device)} is not a device name`);
  }),
);

export type ConfValue = string | number | boolean;

const settings = z
  .preprocess((v) => (v === null ? undefined : v), z.record(z.string(), z.unknown(), {
    error: (iss) => `expected an object of postgresql.conf keys, got ${describeValue(iss.input)}`,
  }).default({}))
  .register(keyDocs, {
    type: "map",
    shown: "`{}`",
    doc: "extra `postgresql.conf` keys (win over tuning). Refused: what the program manages or what could undo it: `listen_addresses`, `port`, `max_connections`, `hba_file`, `password_encryption`, `wal_level`, `ssl*`, `archive_*`, `include*`, `*_preload_libraries`, `restore_command`, socket settings",
  });

/** What `postgres.image` and `pgbouncer.image` say when a stack from before the Debian-built images still sets them. */
export const RETIRED_IMAGE_KEYS = {
  postgres: "is retired: the stack now builds its Postgres image from Debian packages (docs/images.md). Remove it and set postgres.majorVersion " +
    `(${buildableMajors().join(" or ")}); the data volume is kept. An image you build yourself goes in postgres.customImage`,
  pgbouncer: "is retired: the stack now builds its pgBouncer image from Debian packages (docs/images.md). Remove it; the base image is images.trixie",
} as const;

const postgres = section({
  image: str({ type: "–", shown: "retired", doc: "retired: the Postgres image is built from Debian packages (`majorVersion`, `images.<suite>`); setting it is an error that says what to do" }),
  customImage: str({
    type: "image ref", shown: "built",
    doc: "an image you built yourself, used as it is for the server, the backup sidecar and the standby instead of the stack's build: it must keep the image contract (docs/images.md). Pinned: a tag other than `latest`, or a digest",
  }),
  majorVersion: int({
    min: SUPPORTED_MAJORS.min, max: SUPPORTED_MAJORS.max, default: DEFAULT_MAJOR,
    doc: `PostgreSQL major: ${buildableMajors().map((m) => `${m} (Debian ${POSTGRES_PACKAGES[m].suite}${POSTGRES_PACKAGES[m].pgvector ? "" : ", no pgvector"})`).join(", ")} are built from Debian packages; 16 only with \`customImage\`. Changing it on a stack with data is a major upgrade, which is not automated yet: the new server would refuse the old data directory`,
  }),
  platform: oneOf(["linux/amd64", "linux/arm64"] as const, {
    default: "linux/amd64",
    doc: "CPU architecture of the Docker host: the image built with pgBackRest targets it, whatever machine runs `pulumi up`",
  }),
  port: int({ min: 1024, max: 65535, default: 5432, doc: "published direct port" }),
  maxConnections: int({ min: 20, max: 10000, default: 100, doc: "`max_connections`" }),
  memoryMb: int({ min: 256, max: 1024 * 1024, default: 1024, type: "≥ 256", doc: "container memory limit; tuning derives from it" }),
  settings,
  tls,
  logging: section({
    connections: bool({ default: true, doc: "`log_connections` and `log_disconnections`: who connected from where, and for how long" }),
    slowStatementMs: int({
      min: -1, max: 3_600_000, default: 1000, type: "-1–3600000 ms",
      doc: "`log_min_duration_statement`: statements slower than this are logged with their text; `0` logs every statement, `-1` none",
    }),
  }),
  audit: section({
    enabled: bool({ default: false, doc: "pgAudit, installed in the built image and preloaded (a change replaces the Postgres container)" }),
    classes: stringList({ type: "list", default: ["ddl", "role"], doc: `\`pgaudit.log\` classes: ${AUDIT_CLASSES.map((c) => `\`${c}\``).join(", ")}` }),
  }).check(
    rule((v, report) => {
      if (!Array.isArray(v.classes)) return;
      v.classes.forEach((c, i) => {
        if (isStr(c) && !(AUDIT_CLASSES as readonly string[]).includes(c)) report(["classes", i], `unknown pgAudit class ${JSON.stringify(c)}${suggest(c, new Set(AUDIT_CLASSES))}`);
      });
      if (v.enabled === true && v.classes.length === 0) report(["classes"], "audit is enabled: name at least one class");
    }),
  ),
  bootstrap: z.preprocess((v) => (v === null ? undefined : v), section({
    from: oneOf(["backup"] as const, { default: "backup", shown: "`backup` once the section is set", label: "backup (the only source so far)", doc: "where a new, empty data volume starts from instead of initdb: the backup repository (needs `backup.enabled`)" }),
    target: str({ type: "string", default: "latest", shown: "`latest` once the section is set", doc: `how far to recover before promoting: ${RESTORE_TARGET_FORMS}. A volume that is not empty is never overwritten: the bootstrap job refuses, and \`pulumi up\` fails with its log` }),
  }).optional()),
  external,
}).check(
  rule((v, report) => {
    // an existing server: its keys are checked by externalRules, the server-only ones refused (schema-external.ts)
    if (v.external !== undefined) return;
    if (v.image !== undefined) report(["image"], RETIRED_IMAGE_KEYS.postgres);
    imageRule("customImage")(v, report);
    const targetProblem = isObj(v.bootstrap) && isStr(v.bootstrap.target) ? restoreTargetProblem(v.bootstrap.target) : undefined;
    if (targetProblem !== undefined) report(["bootstrap", "target"], targetProblem);
    const major = isNum(v.majorVersion) ? v.majorVersion : DEFAULT_MAJOR;
    // outside the supported range the range problem says it all (no image of one's own would do)
    const inRange = major >= SUPPORTED_MAJORS.min && major <= SUPPORTED_MAJORS.max;
    if (v.customImage === undefined && inRange && POSTGRES_PACKAGES[major] === undefined) {
      report(["majorVersion"], `PostgreSQL ${major} has no Debian package this stack builds from (${buildableMajors().join(", ")}): choose one of those, or set postgres.customImage to an image of yours`);
    }
    const catalog = PG_CATALOGS[major as CatalogMajor];
    if (isObj(v.settings)) {
      for (const [k, val] of Object.entries(v.settings)) {
        if (!CONF_KEY.test(k)) report(["settings", k], "not a postgresql.conf parameter name");
        else if (isManagedSetting(k)) report(["settings", k], "is managed by the program and cannot be set here (listen/port/auth/TLS/archive/include/preload keys)");
        else if (typeof val !== "string" && typeof val !== "number" && typeof val !== "boolean") {
          report(["settings", k], `expected a string, number or boolean, got ${describeValue(val)}`);
        } else if (/[\r\n\0]/.test(String(val))) report(["settings", k], "value must be a single line");
        else if (catalog) {
          const p = settingProblem(catalog, k, val, suggest, enumValuesAcrossBuilds(k));
          if (p) report(["settings", k], p);
        }
      }
    }
  }),
);

const app = section({
  name: str({ type: "string", doc: "required: `^[a-z][a-z0-9_-]{0,47}$`, unique after `-` → `_`, not reserved; its roles (`<database>_owner`, `<database>_<user>`) may not fall in `pg_` or take a built-in or reserved role name (`current_user`, `pgbouncer_auth`, ...)" }),
  extensions: stringList({ type: "list", doc: "extensions created in the app's database, from a known list; typos are errors" }),
  connectionLimit: int({ min: 1, max: 10000, default: 20, type: "pool size–`maxConnections`", doc: "per login role of the app; at least the app's pool size (`pool.size`, else `pgbouncer.defaultPoolSize`) when pgBouncer is on (the pool connects as the app's roles)" }),
  databaseConnectionLimit: int({
    min: 1, max: 10000, type: "`connectionLimit`–`maxConnections`", shown: "none",
    doc: "`CONNECTION LIMIT` of the app's database: all its roles together (superusers are exempt); at least `connectionLimit` and the pool size, so every role can reach its own limit and the pooler its pool",
  }),
  pool: appPool,
  readonlyUsers: stringList({ type: "list", doc: "extra login roles `<database>_<user>` with SELECT only (every schema of the app, tables created later included); each user once" }),
  readwriteUsers: stringList({
    type: "list",
    doc: "extra login roles `<database>_<user>` with SELECT, INSERT, UPDATE, DELETE on the app's tables and USAGE, SELECT on its sequences (created later included), and no DDL; URLs in `databases.<app>.readwriteUsers`; a user in one list only",
  }),
  schemas: stringList({
    type: "list",
    doc: "extra schemas created in the app's database, owned by its owner; read-only and read-write users get the same grants there as in `public`. `^[a-z][a-z0-9_]{0,62}$`, not `public`, `information_schema` or `pg_*`",
  }),
  rotation: str({
    type: "string", default: "initial", numbers: true,
    doc: "a whole number ≥ 1 counts rotations: raise it by one to rotate without downtime (the other of the role's two logins gets a new password and becomes the output; the previous one keeps working until the next rotation). Any other value (`initial`, `\"2026-11\"`): changing it resets the role's own password at once, old credentials refused (docs/pooling.md, Rotating passwords)",
  }),
}).check(
  rule((v, report) => {
    // every check below that does not need the name runs without it: a missing
    // name must not hide the entry's other problems
    const db = isStr(v.name) && APP_NAME.test(v.name) && !isReservedDatabase(sqlName(v.name)) ? sqlName(v.name) : undefined;
    if (v.name === undefined) report(["name"], "required");
    else if (isStr(v.name)) {
      if (!APP_NAME.test(v.name)) report(["name"], `${JSON.stringify(v.name)} must match ${APP_NAME} (lower-case letter first; letters, digits, _ and -)`);
      else if (db === undefined) report(["name"], `${JSON.stringify(v.name)} is reserved`);
    }
    // the roles derived from the name must be creatable and must not pose as a built-in one
    if (db !== undefined) {
      const p = roleNameProblem(ownerRoleOf(db));
      if (p) report(["name"], `gives the owner role ${ownerRoleOf(db)}, which ${p}; choose another app name`);
    }
    if (Array.isArray(v.extensions)) {
      v.extensions.forEach((e, j) => {
        if (isStr(e) && !KNOWN_EXTENSIONS.has(e)) report(["extensions", j], `unknown extension ${JSON.stringify(e)}${suggest(e, KNOWN_EXTENSIONS)}`);
      });
      if (new Set(v.extensions).size !== v.extensions.length) report(["extensions"], "lists an extension twice");
    }
    if (isStr(v.rotation) && (v.rotation.length === 0 || v.rotation.length > 64)) report(["rotation"], "expected a short string such as \"2026-11\"");
    // read-only and read-write users share the `<database>_<user>` namespace
    const seen = new Map<string, string>();
    for (const list of ["readonlyUsers", "readwriteUsers"] as const) {
      const users: unknown[] = Array.isArray(v[list]) ? (v[list] as unknown[]) : [];
      users.forEach((u, j) => {
        if (!isStr(u)) return;
        if (!APP_USER.test(u) || u === "owner") report([list, j], `${JSON.stringify(u)} must match ${APP_USER} and not be 'owner'`);
        else if (seen.has(u)) report([list, j], `lists ${JSON.stringify(u)} ${seen.get(u) === list ? "twice" : `in ${seen.get(u)} too: a user is read-only or read-write`}`);
        else {
          seen.set(u, list);
          const p = db === undefined ? undefined : roleNameProblem(userRoleOf(db, u));
          if (p && db !== undefined) report([list, j], `gives the role ${userRoleOf(db, u)}, which ${p}; choose another user name`);
        }
      });
    }
    if (Array.isArray(v.schemas)) {
      const schemas: unknown[] = v.schemas;
      schemas.forEach((s, j) => {
        if (!isStr(s)) return;
        if (!SCHEMA_NAME.test(s)) report(["schemas", j], `${JSON.stringify(s)} must match ${SCHEMA_NAME}`);
        else if (s === "public" || s === "information_schema" || s.startsWith("pg_")) report(["schemas", j], `${JSON.stringify(s)} is a built-in or reserved schema name`);
        else if (schemas.indexOf(s) !== j) report(["schemas", j], `lists ${JSON.stringify(s)} twice`);
      });
    }
    if (isNum(v.databaseConnectionLimit) && isNum(v.connectionLimit) && v.databaseConnectionLimit < v.connectionLimit) {
      report(["databaseConnectionLimit"], `${v.databaseConnectionLimit} is below connectionLimit ${v.connectionLimit}: one role of the app could not reach its own limit; raise databaseConnectionLimit or lower connectionLimit`);
    }
  }),
);

/** Database names an app may not take (its roles are checked with roleNameProblem). */
function isReservedDatabase(db: string): boolean {
  return RESERVED_NAMES.has(db) || db.startsWith("pg_");
}

const apps = listOf(app, {
  what: "apps",
  doc: { type: "list", shown: "`[]`", doc: "one database + owner role each (see the app keys below)" },
});

const pgbouncer = section({
  enabled: bool({ default: true, doc: "pgBouncer in front of Postgres (`pooledUrl`, `poolerPort`)" }),
  image: str({ type: "–", shown: "retired", doc: "retired: the pgBouncer image is built from Debian packages on `images.trixie`; setting it is an error that says what to do" }),
  port: int({ min: 1024, max: 65535, default: 6432, doc: "published pooled port" }),
  poolMode: oneOf(POOL_MODES, { default: "transaction", doc: "pgBouncer `pool_mode` of every app without `pool.mode`" }),
  defaultPoolSize: int({
    min: 1, max: 1000, default: 10,
    doc: `server connections per app database (apps without \`pool.size\`); the sum of every app's pool + 1 must fit \`maxConnections − ${SUPERUSER_RESERVED} − ${DIRECT_HEADROOM}\``,
  }),
  maxClientConn: int({ min: 10, max: 100000, default: 1000, type: "≥ 10", doc: "client connections pgBouncer accepts" }),
}).check(rule((v, report) => {
  if (v.image !== undefined) report(["image"], RETIRED_IMAGE_KEYS.pgbouncer);
}));

/** A Debian base image for one suite: its tag must name the suite, since the packages are that suite's. */
function baseImage(suite: DebianSuite, release: string, uses: string) {
  return str({
    type: "image ref", default: DEFAULT_BASE_IMAGES[suite],
    doc: `the Debian ${release} (${suite}) base image ${uses} build on; pinned by digest in prod (policy rule images-pinned); its tag names the suite`,
  });
}

/** The Debian bases the stack's images build on, one per suite. */
const images = section({
  bookworm: baseImage("bookworm", "12", "the exporters and Postgres 15"),
  trixie: baseImage("trixie", "13", "Postgres 17 and pgBouncer"),
}).check(
  rule((v, report) => {
    for (const suite of DEBIAN_SUITES) {
      const ref = v[suite];
      if (!isStr(ref)) continue;
      imageRule(suite)(v, report);
      if (suiteOfBaseImage(ref) !== suite) report([suite], `${JSON.stringify(ref)} does not name Debian ${suite} in its tag (e.g. ${DEFAULT_BASE_IMAGES[suite]}@sha256:…): the packages are ${suite}'s`);
    }
  }),
);

const pgadmin = section({
  enabled: bool({ default: false, doc: "pgAdmin beside Postgres (`pgadminUrl`)" }),
  image: str({ type: "image ref", default: DEFAULT_PGADMIN_IMAGE, doc: "pinned pgAdmin image" }),
  port: int({ min: 1024, max: 65535, default: 5050, doc: "published pgAdmin port" }),
  email: str({ type: "email", default: "", shown: "–", doc: "login; required when enabled" }),
}).check(
  rule((v, report) => {
    imageRule("image")(v, report);
    if (v.enabled === true && isStr(v.email) && !EMAIL.test(v.email)) {
      report(["email"], v.email ? `${JSON.stringify(v.email)} is not an email address` : "required when pgadmin is enabled");
    }
  }),
);

const ci = section({
  tailnetKey: bool({ default: false, doc: "issue an ephemeral, tagged tailnet auth key for CI (output `ciTailnetAuthKey`)" }),
  tags: stringList({ type: "list of `tag:…`", default: ["tag:ci"], doc: "tags of that key" }),
}).check(
  rule((v, report) => {
    if (Array.isArray(v.tags)) {
      v.tags.forEach((t, i) => {
        if (isStr(t) && !TAILNET_TAG.test(t)) report(["tags", i], `${JSON.stringify(t)} is not a tailnet tag (tag:name)`);
      });
      if (v.tailnetKey === true && v.tags.length === 0) report(["tags"], "an auth key for CI must carry at least one tag");
    }
  }),
);

const monitoring = section({
  enabled: optBool({ shown: "prod: `true`, else `false`", doc: "postgres_exporter and a pgBouncer exporter beside Postgres (outputs `scrapeTargets`, `prometheusScrapeConfig`)" }),
  postgresExporterPort: int({ min: 1024, max: 65535, default: 9187, doc: "published port of postgres_exporter" }),
  pgbouncerExporterPort: int({ min: 1024, max: 65535, default: 9127, doc: "published port of the pgBouncer exporter (when pgBouncer is enabled)" }),
  scrapeInterval: int({ min: 5, max: 300, default: 30, type: "5–300 s", doc: "`scrape_interval` of the rendered Prometheus snippet" }),
});

const shape = {
  tailscale,
  dockerHost: str({
    type: "`unix://`, `ssh://`, `tcp://`, `npipe://`", shown: "local socket",
    doc: "Docker daemon: `unix:///abs/path.sock`, `ssh://[user@]host[:port][/socket]` (no password), `tcp://host[:port]`, `npipe:////./pipe/name`, with a real host name or IP; a remote one needs a tailnet bind (`tailscale.ip`/`device`), since the provider connects from your machine to the bind address",
  }),
  postgres,
  images,
  apps,
  pgbouncer,
  pgadmin,
  backup,
  monitoring,
  standby,
  ci,
};

/** The top-level keys, in the order the reference lists them. */
export const TOP_KEYS = Object.keys(shape) as (keyof typeof shape)[];

/** Sections by key, for the reference generator and the unknown-key suggestions. */
export const SECTIONS = shape;

type Output = z.output<z.ZodObject<typeof shape>>;

// ---------------------------------------------------------------- whole-config rules

/**
 * Rules across apps: connection limits against the server (against the pooler: schema-pool.ts), and
 * databases and roles that must not clash after `-` folds to `_`. The limits do not
 * need the app's name, so an entry without one still has them checked.
 */
function appListRules(list: unknown[], pg: Record<string, unknown>, report: Report): void {
  const claimed = new Map<string, string>();
  const claim = (name: string, where: string, path: PropertyKey[]) => {
    const prev = claimed.get(name);
    if (prev) report(path, `${JSON.stringify(name)} clashes with ${prev}`);
    else claimed.set(name, where);
  };
  // the image the stack builds for this major may lack pgvector (bookworm's 15): `vector` could not be created there
  const built = pg.external === undefined && pg.customImage === undefined && isNum(pg.majorVersion) ? POSTGRES_PACKAGES[pg.majorVersion] : undefined;
  list.forEach((a, i) => {
    if (!isObj(a)) return;
    if (built && built.pgvector === undefined && Array.isArray(a.extensions)) {
      a.extensions.forEach((e, j) => {
        if (e === "vector") report(["apps", i, "extensions", j], `vector: the PostgreSQL ${String(pg.majorVersion)} image is built from Debian ${built.suite}, which has no pgvector package; use postgres.majorVersion 17, or an image of yours with pgvector (postgres.customImage)`);
      });
    }
    const limit = a.connectionLimit;
    if (isNum(pg.maxConnections) && isNum(limit) && limit > pg.maxConnections) {
      report(["apps", i, "connectionLimit"], `must be between 1 and ${pg.maxConnections} (postgres.maxConnections), got ${limit}`);
    }
    if (isNum(pg.maxConnections) && isNum(a.databaseConnectionLimit) && a.databaseConnectionLimit > pg.maxConnections) {
      report(["apps", i, "databaseConnectionLimit"], `must be between connectionLimit and ${pg.maxConnections} (postgres.maxConnections), got ${a.databaseConnectionLimit}`);
    }
    const name = a.name;
    if (!isStr(name) || !APP_NAME.test(name) || isReservedDatabase(sqlName(name))) return;
    const db = sqlName(name);
    claim(db, `the database of app ${name}`, ["apps", i, "name"]);
    claim(ownerRoleOf(db), `owner role of ${name}`, ["apps", i, "name"]);
    claim(alternateLoginOf(ownerRoleOf(db)), `the owner's rotation login of ${name}`, ["apps", i, "name"]);
    const inApp = new Set<string>();
    for (const [list, kind] of [["readonlyUsers", "read-only"], ["readwriteUsers", "read-write"]] as const) {
      const users: unknown[] = Array.isArray(a[list]) ? (a[list] as unknown[]) : [];
      users.forEach((u, j) => {
        // a name twice within the app is reported by the app's own rule
        if (isStr(u) && APP_USER.test(u) && u !== "owner" && !inApp.has(u)) {
          inApp.add(u);
          claim(userRoleOf(db, u), `${kind} user ${u} of ${name}`, ["apps", i, list, j]);
          claim(alternateLoginOf(userRoleOf(db, u)), `the rotation login of ${kind} user ${u} of ${name}`, ["apps", i, list, j]);
        }
      });
    }
  });
}

/** The schema of one stack's config (prod rules need the stack name). */
export function stackSchema(stack: string) {
  const isProd = isProdStack(stack);
  return z.strictObject(shape).check(
    rule<Output>((v, report) => {
      const ts = isObj(v.tailscale) ? v.tailscale : {};
      const pg = isObj(v.postgres) ? v.postgres : {};
      const pb = isObj(v.pgbouncer) ? v.pgbouncer : {};
      const pa = isObj(v.pgadmin) ? v.pgadmin : {};
      const mo = isObj(v.monitoring) ? v.monitoring : {};
      // postgres.external: nothing is published but pgBouncer, and the provider connects to the external host
      const ext = isObj(pg.external);
      if (isProd && ts.ip === undefined && ts.device === undefined && !(ext && pb.enabled !== true)) {
        report(["tailscale"], "a prod stack must bind a tailnet address: set tailscale.ip or tailscale.device");
      }
      const dockerHostBad = isStr(v.dockerHost) ? dockerHostProblem(v.dockerHost) : undefined;
      if (dockerHostBad) report(["dockerHost"], `${dockerHostBad}, got ${describeValue(v.dockerHost)}`);
      // a loopback bind on a remote docker host is unreachable for the postgresql provider,
      // which connects from the machine running `pulumi up` to <bind address>:<port>
      const bindsLoopback = ts.device === undefined && (ts.ip === undefined || (isStr(ts.ip) && isLoopbackIPv4(ts.ip)));
      if (bindsLoopback && !ext && isStr(v.dockerHost) && !dockerHostBad && !/^(unix|npipe):\/\//.test(v.dockerHost)) {
        report(["dockerHost"], `${v.dockerHost} is remote but the bind address is loopback: set tailscale.ip or tailscale.device so this machine can reach Postgres`);
      }
      // published ports share one bind address
      const ports: [string, string, unknown][] = ext ? [] : [["postgres", "port", pg.port]];
      if (pb.enabled === true) ports.push(["pgbouncer", "port", pb.port]);
      if (pa.enabled === true) ports.push(["pgadmin", "port", pa.port]);
      if (mo.enabled === true || (mo.enabled === undefined && isProd && !ext)) {
        ports.push(["monitoring", "postgresExporterPort", mo.postgresExporterPort]);
        if (pb.enabled === true) ports.push(["monitoring", "pgbouncerExporterPort", mo.pgbouncerExporterPort]);
      }
      for (let i = 0; i < ports.length; i++) {
        for (let j = i + 1; j < ports.length; j++) {
          if (isNum(ports[j][2]) && ports[i][2] === ports[j][2]) {
            report([ports[j][0], ports[j][1]], `port ${ports[j][2]} is already used by ${P}:${ports[i][0]}.${ports[i][1]}`);
          }
        }
      }
      const appList = Array.isArray(v.apps) ? v.apps : [];
      appListRules(appList, pg, report);
      // pgBouncer opens up to the app's pool as each of its login roles (and that many into its database, max_db_connections)
      poolRules(appList, pg, pb, report);
      backupRules(isObj(v.backup) ? v.backup : {}, isProd && !ext, report);
      externalRules(v, report);
      standbyRules(v, report);
      // the restore runs in the Postgres image built with pgBackRest, from the stack's repository
      if (isObj(pg.bootstrap) && !(isObj(v.backup) && v.backup.enabled === true)) {
        report(["postgres", "bootstrap"], "restores from the backup repository: needs backup.enabled (and the same bucket/posix path and encryptionPassphrase as the lost cluster)");
      }
    }),
  );
}

export type ParsedConfig = z.output<ReturnType<typeof stackSchema>>;
