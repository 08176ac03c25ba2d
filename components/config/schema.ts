// The stack config as one zod schema: every key's type, default and doc line are
// declared once here (fields.ts builders); the TypeScript types are inferred from
// it; rules that need more than one key are checks on the object that holds them.
// Prod requirements depend on the stack name, so the schema is built per stack.
import { z } from "zod";
import { cronProblem } from "../lib/cron";
import { imagePinProblems, postgresMajorFromImage } from "../lib/image-ref";
import { RESTORE_TARGET_FORMS, parseRestoreTarget } from "../lib/restore-target";
import {
  ABS_PATH, AGE_RECIPIENT, APP_NAME, APP_USER, BUCKET, CONF_KEY, DEVICE_NAME, DOCKER_HOST, EMAIL, REGION, TAILNET_TAG, sqlName, suggest,
} from "../lib/names";
import { bindAddressProblem, ipVersion, isHostname, isLoopbackIPv4 } from "../lib/net";
import {
  DEFAULT_PGADMIN_IMAGE, DEFAULT_PGBOUNCER_IMAGE, DEFAULT_POSTGRES_IMAGE, DIRECT_HEADROOM, KNOWN_EXTENSIONS, PROJECT,
  RESERVED_NAMES, SUPERUSER_RESERVED, SUPPORTED_MAJORS, isManagedSetting, isProdStack,
} from "./constants";
import { PG_CATALOGS, enumValuesAcrossBuilds } from "./pg-settings-catalogs";
import { CatalogMajor, settingProblem } from "./pg-settings";
import { type Field, bool, describeValue, int, keyDocs, listOf, oneOf, section, str, stringList } from "./fields";
import { Report, isNum, isObj, isStr, rule } from "./rules";
import { BACKUP_JOBS, type BackupJobName } from "./backup-jobs";

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

const tls = section({
  enabled: bool({ default: false, doc: "`ssl = on`, `hostssl` rules, `sslmode=require` in URLs" }),
  certificate: str({ type: "PEM", doc: "server certificate; required when TLS is on" }),
  privateKey: str({ type: "PEM", secret: true, doc: "required when TLS is on; uploaded 0600" }),
}).check(
  rule((v, report) => {
    if (v.enabled !== true) return;
    if (!isStr(v.certificate) || !v.certificate.includes("BEGIN CERTIFICATE")) report(["certificate"], "TLS is enabled: a PEM certificate is required");
    if (!isStr(v.privateKey) || !v.privateKey.includes("PRIVATE KEY")) report(["privateKey"], "TLS is enabled: a PEM private key (secret) is required");
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

const postgres = section({
  image: str({ type: "image ref", default: DEFAULT_POSTGRES_IMAGE, doc: "pgvector-enabled by default; must have a tag other than `latest` (or a digest)" }),
  majorVersion: int({
    min: SUPPORTED_MAJORS.min, max: SUPPORTED_MAJORS.max, shown: "from the tag (`pg17`, `postgres:16…`)",
    doc: "major the conf files are rendered for; must agree with the tag. 18 is refused: its image moved the data volume to `/var/lib/postgresql`",
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
  bootstrap: z.preprocess((v) => (v === null ? undefined : v), section({
    from: oneOf(["backup"] as const, { default: "backup", shown: "`backup` once the section is set", label: "backup (the only source so far)", doc: "where a new, empty data volume starts from instead of initdb: the backup repository (needs `backup.enabled`)" }),
    target: str({ type: "string", default: "latest", shown: "`latest` once the section is set", doc: `how far to recover before promoting: ${RESTORE_TARGET_FORMS}. A volume that is not empty is never overwritten: the container refuses to start` }),
  }).optional()),
}).check(
  rule((v, report) => {
    imageRule("image")(v, report);
    if (isObj(v.bootstrap) && isStr(v.bootstrap.target) && parseRestoreTarget(v.bootstrap.target) === undefined) {
      report(["bootstrap", "target"], `${JSON.stringify(v.bootstrap.target)} is not a restore target: expected ${RESTORE_TARGET_FORMS}`);
    }
    const image = isStr(v.image) ? v.image : DEFAULT_POSTGRES_IMAGE;
    const derived = postgresMajorFromImage(image);
    if (v.majorVersion === undefined && derived === undefined) {
      report(["majorVersion"], `cannot tell the Postgres major version from ${JSON.stringify(image)}; set postgres.majorVersion (${SUPPORTED_MAJORS.min}-${SUPPORTED_MAJORS.max})`);
    } else if (derived !== undefined && isNum(v.majorVersion) && derived !== v.majorVersion) {
      report(["majorVersion"], `says ${v.majorVersion} but the image tag says ${derived}`);
    } else if (derived !== undefined && (derived < SUPPORTED_MAJORS.min || derived > SUPPORTED_MAJORS.max)) {
      report(["image"], `Postgres ${derived} is not supported (${SUPPORTED_MAJORS.min}-${SUPPORTED_MAJORS.max})`);
    }
    const major = isNum(v.majorVersion) ? v.majorVersion : derived;
    const catalog = major === undefined ? undefined : PG_CATALOGS[major as CatalogMajor];
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
  name: str({ type: "string", doc: "required: `^[a-z][a-z0-9_-]{0,47}$`, unique after `-` → `_`, not reserved" }),
  extensions: stringList({ type: "list", doc: "extensions created in the app's database, from a known list; typos are errors" }),
  connectionLimit: int({ min: 1, max: 10000, default: 20, type: "1–`maxConnections`", doc: "per role of the app" }),
  readonlyUsers: stringList({ type: "list", doc: "extra login roles `<database>_<user>` with SELECT only" }),
  rotation: str({ type: "string", default: "initial", numbers: true, doc: "change it to rotate this app's passwords (e.g. `\"2026-11\"`)" }),
}).check(
  rule((v, report) => {
    if (v.name === undefined) report(["name"], "required");
    else if (isStr(v.name)) {
      if (!APP_NAME.test(v.name)) report(["name"], `${JSON.stringify(v.name)} must match ${APP_NAME} (lower-case letter first; letters, digits, _ and -)`);
      else if (RESERVED_NAMES.has(sqlName(v.name)) || sqlName(v.name).startsWith("pg_")) report(["name"], `${JSON.stringify(v.name)} is reserved`);
    }
    if (Array.isArray(v.extensions)) {
      v.extensions.forEach((e, j) => {
        if (isStr(e) && !KNOWN_EXTENSIONS.has(e)) report(["extensions", j], `unknown extension ${JSON.stringify(e)}${suggest(e, KNOWN_EXTENSIONS)}`);
      });
      if (new Set(v.extensions).size !== v.extensions.length) report(["extensions"], "lists an extension twice");
    }
    if (isStr(v.rotation) && (v.rotation.length === 0 || v.rotation.length > 64)) report(["rotation"], "expected a short string such as \"2026-11\"");
    if (Array.isArray(v.readonlyUsers)) {
      v.readonlyUsers.forEach((u, j) => {
        if (isStr(u) && (!APP_USER.test(u) || u === "owner")) report(["readonlyUsers", j], `${JSON.stringify(u)} must match ${APP_USER} and not be 'owner'`);
      });
    }
  }),
);

const apps = listOf(app, {
  what: "apps",
  doc: { type: "list", shown: "`[]`", doc: "one database + owner role each (see the app keys below)" },
});

const pgbouncer = section({
  enabled: bool({ default: true, doc: "pgBouncer in front of Postgres (`pooledUrl`, `poolerPort`)" }),
  image: str({ type: "image ref", default: DEFAULT_PGBOUNCER_IMAGE, doc: "pinned pgBouncer image" }),
  port: int({ min: 1024, max: 65535, default: 6432, doc: "published pooled port" }),
  poolMode: oneOf(["session", "transaction", "statement"] as const, { default: "transaction", doc: "pgBouncer `pool_mode`" }),
  defaultPoolSize: int({
    min: 1, max: 1000, default: 10,
    doc: `server connections per app database; apps × pool + 1 must fit \`maxConnections − ${SUPERUSER_RESERVED} − ${DIRECT_HEADROOM}\``,
  }),
  maxClientConn: int({ min: 10, max: 100000, default: 1000, type: "≥ 10", doc: "client connections pgBouncer accepts" }),
}).check(rule(imageRule("image")));

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

// one key per row of the jobs table: a new job is a new schedule key with its default and doc
const schedule = section(
  Object.fromEntries(BACKUP_JOBS.map((j) => [j.name, str({ type: "cron", default: j.defaultSchedule, doc: j.description })])) as Record<
    BackupJobName,
    Field<string>
  >,
);

const backup = section({
  enabled: bool({ default: false, doc: "must be `true` in a prod stack" }),
  bucket: str({ type: "S3 name", default: "", shown: "–", doc: "required when enabled; created by the stack" }),
  region: str({
    type: "string", shown: "from `aws:region`, else `us-east-1`",
    doc: "the bucket's region; its aws provider also takes `aws:profile`, `aws:sharedCredentialsFiles`, `aws:sharedConfigFiles` and `aws:accessKey`/`secretKey`/`token` from the stack",
  }),
  endpoint: str({ type: "`https://host[:port]`", shown: "AWS", doc: "S3-compatible endpoint (MinIO, Garage), path-style" }),
  schedule,
  retention: section({
    full: int({ min: 1, max: 365, default: 4, doc: "full backups kept (and the WAL to replay them)" }),
    days: int({ min: 1, max: 3650, default: 35, doc: "logical dumps and non-current object versions" }),
  }),
  posix: z.preprocess((v) => (v === null ? undefined : v), section({
    path: str({ type: "absolute host path", doc: "a second repository (or the only one) on a host directory, e.g. a NAS mount or a second disk, owned by uid 999; mounted into Postgres and the sidecar" }),
    offDataDisk: bool({ default: false, shown: "`false` once `posix` is set", doc: "you state that `path` is not on the disk holding the Docker volumes: then it counts as the off-disk copy a prod stack must have" }),
  }).optional()),
  compression: oneOf(["zst", "lz4", "gz"] as const, { default: "zst", doc: "pgBackRest compression" }),
  archiveTimeout: int({ min: 1, max: 60, default: 60, type: "1–60 s", doc: "`archive_timeout`: the recovery point objective" }),
  archiveQueueMaxMb: int({
    min: 64, max: 1024 * 1024, default: 4096, type: "MiB",
    doc: "WAL that may queue in `pg_wal` while a repository is unreachable (async archive-push); past it pgBackRest drops the queue (PITR gap until the next backup) rather than fill the disk",
  }),
  dumps: section({
    keepDaily: int({ min: 1, max: 366, default: 7, doc: "logical dumps kept per app: the newest of each of the last N days with a dump" }),
    keepWeekly: int({ min: 0, max: 520, default: 4, doc: "and the newest of each of the last N ISO weeks" }),
    keepMonthly: int({ min: 0, max: 120, default: 3, doc: "and the newest of each of the last N months" }),
    recipient: str({
      type: "`age1…`", shown: "derived from the passphrase",
      doc: "encrypt logical dumps (and the globals) to this age public key only: the host can write them but not read them; restores need the matching identity",
    }),
  }).check(
    rule((v, report) => {
      if (isStr(v.recipient) && !AGE_RECIPIENT.test(v.recipient)) report(["recipient"], "not an age recipient (age1 followed by 58 bech32 characters; `age-keygen -y key.txt` prints it)");
    }),
  ),
  encryptionPassphrase: str({
    type: "≥ 20 chars", secret: true, shown: "generated in non-prod stacks",
    doc: "repository (aes-256-cbc) and dump (age) encryption; **required in prod**",
  }),
  endpointCredentials: z.preprocess((v) => (v === null ? undefined : v), section({
    accessKeyId: str({ type: "string", doc: "access key of the S3-compatible store" }),
    secretAccessKey: str({ type: "string", secret: true, doc: "its secret key" }),
  }).optional()),
});

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

const shape = {
  tailscale,
  dockerHost: str({
    type: "`unix://`, `ssh://`, `tcp://`, `npipe://`", shown: "local socket",
    doc: "Docker daemon; a remote one needs a tailnet bind (`tailscale.ip`/`device`), since the provider connects from your machine to the bind address",
  }),
  postgres,
  apps,
  pgbouncer,
  pgadmin,
  backup,
  ci,
};

/** The top-level keys, in the order the reference lists them. */
export const TOP_KEYS = Object.keys(shape) as (keyof typeof shape)[];

/** Sections by key, for the reference generator and the unknown-key suggestions. */
export const SECTIONS = shape;

type Output = z.output<z.ZodObject<typeof shape>>;

// ---------------------------------------------------------------- whole-config rules

/** The bucket's keys, when there is a bucket. */
function s3Rules(b: Record<string, unknown>, report: Report): void {
  if (isStr(b.bucket) && !BUCKET.test(b.bucket)) report(["backup", "bucket"], `${JSON.stringify(b.bucket)} is not a valid S3 bucket name`);
  if (isStr(b.region) && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(b.region) && !REGION.test(b.region)) report(["backup", "region"], `${JSON.stringify(b.region)} is not a region name`);
  const endpoint = b.endpoint;
  if (isStr(endpoint)) {
    const m = /^https:\/\/([A-Za-z0-9.-]+)(:\d{1,5})?\/?$/.exec(endpoint);
    if (m && ipVersion(m[1]) !== 0) {
      report(["backup", "endpoint"], "use a DNS name: pgBackRest verifies the certificate by name, not by IP address");
    } else if (!m || !isHostname(m[1])) {
      report(["backup", "endpoint"], "must be an https:// URL with host and optional port (pgBackRest's S3 client speaks HTTPS only)");
    }
    if (b.endpointCredentials === undefined) {
      report(["backup", "endpointCredentials"], "required with an S3-compatible endpoint (no IAM is managed there): accessKeyId and secretAccessKey (secret)");
    }
  }
  if (isObj(b.endpointCredentials) && (!b.endpointCredentials.accessKeyId || !b.endpointCredentials.secretAccessKey)) {
    report(["backup", "endpointCredentials"], "needs accessKeyId and secretAccessKey (secret)");
  }
}

function backupRules(b: Record<string, unknown>, isProd: boolean, report: Report): void {
  if (isProd && b.enabled === false) report(["backup", "enabled"], "a prod stack must have backups enabled");
  if (b.enabled !== true) return;
  const posix = isObj(b.posix) ? b.posix : undefined;
  const hasBucket = isStr(b.bucket) && b.bucket !== "";
  if (!hasBucket && posix === undefined) report(["backup", "bucket"], "required when backups are enabled, unless backup.posix.path names a repository directory");
  if (posix !== undefined) {
    if (!isStr(posix.path)) report(["backup", "posix", "path"], "required: the host directory of the repository");
    else if (!ABS_PATH.test(posix.path) || posix.path.split("/").includes("..") || posix.path === "/") {
      report(["backup", "posix", "path"], `${JSON.stringify(posix.path)} must be an absolute path of [A-Za-z0-9._/-], not /`);
    } else if (/^\/var\/lib\/docker(\/|$)/.test(posix.path)) {
      report(["backup", "posix", "path"], "is inside Docker's own directory, on the disk of the data volume: use a NAS mount or another disk");
    }
  }
  // Prod: at least one copy that survives the data disk. S3 always does; a host path
  // only when the operator says so (the program cannot see the host's disks).
  if (isProd && !hasBucket && posix !== undefined && posix.offDataDisk !== true) {
    report(["backup", "posix", "offDataDisk"], "a prod stack needs a copy off the data disk: add backup.bucket, or set offDataDisk: true once backup.posix.path is a NAS mount or another disk");
  }
  if (!hasBucket) {
    // no bucket: the S3-only keys have nothing to apply to
    for (const k of ["endpoint", "endpointCredentials", "region"] as const) if (b[k] !== undefined) report(["backup", k], "applies to the bucket; set backup.bucket or remove it");
  } else {
    s3Rules(b, report);
  }
  if (isObj(b.schedule)) {
    for (const [job, expr] of Object.entries(b.schedule)) {
      const p = isStr(expr) ? cronProblem(expr) : undefined;
      if (p) report(["backup", "schedule", job], p);
    }
  }
  const pass = b.encryptionPassphrase;
  if (pass === undefined && isProd) {
    report(["backup", "encryptionPassphrase"], "required in prod: `pulumi config set --secret --path backup.encryptionPassphrase ...`");
  } else if (isStr(pass) && pass.length < 20) {
    report(["backup", "encryptionPassphrase"], "must be at least 20 characters");
  } else if (isStr(pass) && !/^[A-Za-z0-9+/=._~:@-]{20,1024}$/.test(pass)) {
    // it lands in pgbackrest.conf, which has no quoting: e.g. `openssl rand -base64 33`
    report(["backup", "encryptionPassphrase"], "may only use letters, digits and + / = . _ ~ : @ - (try `openssl rand -base64 33`)");
  }
}

/** Names across apps: databases and roles must not clash after `-` folds to `_`. */
function appNameRules(list: unknown[], maxConnections: unknown, report: Report): void {
  const claimed = new Map<string, string>();
  const claim = (name: string, where: string, path: PropertyKey[]) => {
    const prev = claimed.get(name);
    if (prev) report(path, `${JSON.stringify(name)} clashes with ${prev}`);
    else claimed.set(name, where);
  };
  list.forEach((a, i) => {
    if (!isObj(a)) return;
    if (isNum(maxConnections) && isNum(a.connectionLimit) && a.connectionLimit > maxConnections) {
      report(["apps", i, "connectionLimit"], `must be between 1 and ${maxConnections} (postgres.maxConnections), got ${a.connectionLimit}`);
    }
    const name = a.name;
    if (!isStr(name) || !APP_NAME.test(name) || RESERVED_NAMES.has(sqlName(name)) || sqlName(name).startsWith("pg_")) return;
    const db = sqlName(name);
    claim(db, `the database of app ${name}`, ["apps", i, "name"]);
    claim(`${db}_owner`, `owner role of ${name}`, ["apps", i, "name"]);
    if (Array.isArray(a.readonlyUsers)) {
      a.readonlyUsers.forEach((u, j) => {
        if (isStr(u) && APP_USER.test(u) && u !== "owner") claim(`${db}_${u}`, `read-only user ${u} of ${name}`, ["apps", i, "readonlyUsers", j]);
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
      if (isProd && ts.ip === undefined && ts.device === undefined) {
        report(["tailscale"], "a prod stack must bind a tailnet address: set tailscale.ip or tailscale.device");
      }
      if (isStr(v.dockerHost) && !DOCKER_HOST.test(v.dockerHost)) {
        report(["dockerHost"], `expected unix://, ssh://, tcp:// or npipe:// URL, got ${describeValue(v.dockerHost)}`);
      }
      // a loopback bind on a remote docker host is unreachable for the postgresql provider,
      // which connects from the machine running `pulumi up` to <bind address>:<port>
      const bindsLoopback = ts.device === undefined && (ts.ip === undefined || (isStr(ts.ip) && isLoopbackIPv4(ts.ip)));
      if (bindsLoopback && isStr(v.dockerHost) && DOCKER_HOST.test(v.dockerHost) && !/^(unix|npipe):\/\//.test(v.dockerHost)) {
        report(["dockerHost"], `${v.dockerHost} is remote but the bind address is loopback: set tailscale.ip or tailscale.device so this machine can reach Postgres`);
      }
      // published ports share one bind address
      const ports: [string, unknown][] = [["postgres", pg.port]];
      if (pb.enabled === true) ports.push(["pgbouncer", pb.port]);
      if (pa.enabled === true) ports.push(["pgadmin", pa.port]);
      for (let i = 0; i < ports.length; i++) {
        for (let j = i + 1; j < ports.length; j++) {
          if (isNum(ports[j][1]) && ports[i][1] === ports[j][1]) {
            report([ports[j][0], "port"], `port ${ports[j][1]} is already used by ${P}:${ports[i][0]}.port`);
          }
        }
      }
      const appList = Array.isArray(v.apps) ? v.apps : [];
      appNameRules(appList, pg.maxConnections, report);
      // every app's pool plus one for the auth lookup must fit what Postgres leaves after reserved slots
      if (pb.enabled === true && isNum(pg.maxConnections) && isNum(pb.defaultPoolSize)) {
        const budget = pg.maxConnections - SUPERUSER_RESERVED - DIRECT_HEADROOM;
        const needed = appList.length * pb.defaultPoolSize + 1;
        if (needed > budget) {
          report(
            ["pgbouncer", "defaultPoolSize"],
            `${appList.length} app pool(s) × ${pb.defaultPoolSize} + 1 auth connection = ${needed} server connections, ` +
              `but postgres.maxConnections ${pg.maxConnections} leaves only ${budget} ` +
              `(minus ${SUPERUSER_RESERVED} superuser-reserved and ${DIRECT_HEADROOM} direct). Lower defaultPoolSize or raise postgres.maxConnections`,
          );
        }
      }
      backupRules(isObj(v.backup) ? v.backup : {}, isProd, report);
      // the restore runs in the Postgres image built with pgBackRest, from the stack's repository
      if (isObj(pg.bootstrap) && !(isObj(v.backup) && v.backup.enabled === true)) {
        report(["postgres", "bootstrap"], "restores from the backup repository: needs backup.enabled (and the same bucket/posix path and encryptionPassphrase as the lost cluster)");
      }
    }),
  );
}

export type ParsedConfig = z.output<ReturnType<typeof stackSchema>>;
