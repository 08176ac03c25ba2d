// Typed, validated stack config. `parseConfig` is pure: it takes the raw values
// of the `homelab-postgres:*` keys and returns either a typed config or every
// problem at once, each with the key path it sits at. `loadStackConfig` reads the
// Pulumi config and throws a single ConfigError before any resource exists.
import * as net from "net";
import { isManagedSetting, SUPERUSER_RESERVED } from "../server/postgresql-conf";
import { CONF_KEY } from "../lib/quote";

export const PROJECT = "homelab-postgres";

// ---------------------------------------------------------------- types

export interface TlsConfig {
  enabled: boolean;
  /** PEM server certificate (public). */
  certificate?: string;
  /** PEM private key; secret in Pulumi config. */
  privateKey?: string;
}

export type ConfValue = string | number | boolean;

export interface PostgresConfig {
  image: string;
  /** Major version the conf files are rendered for (from the image tag unless set). */
  majorVersion: number;
  port: number;
  maxConnections: number;
  memoryMb: number;
  settings: Record<string, ConfValue>;
  tls: TlsConfig;
}

export interface AppConfig {
  /** Name as written in config (may contain '-'). */
  name: string;
  /** Database name: `name` with '-' folded to '_'. */
  database: string;
  /** Owner login role: `<database>_owner`. */
  owner: string;
  extensions: string[];
  connectionLimit: number;
  /** Read-only login roles, already expanded to `<database>_<user>`. */
  readonlyUsers: { user: string; role: string }[];
  rotation: string;
}

export type PoolMode = "session" | "transaction" | "statement";

export interface PgBouncerConfig {
  enabled: boolean;
  image: string;
  port: number;
  poolMode: PoolMode;
  defaultPoolSize: number;
  maxClientConn: number;
}

export interface PgAdminConfig {
  enabled: boolean;
  image: string;
  port: number;
  email: string;
}

export type Compression = "zst" | "lz4" | "gz";

export interface BackupSchedule {
  /** cron: full physical backup */
  full: string;
  /** cron: differential physical backup */
  diff: string;
  /** cron: per-app logical dumps */
  logical: string;
  /** cron: restore drill into a scratch directory */
  drill: string;
}

export interface BackupRetention {
  /** Full physical backups pgBackRest keeps (older ones and their WAL are expired). */
  full: number;
  /** Days logical dumps and non-current object versions are kept by the bucket lifecycle. */
  days: number;
}

export interface BackupConfig {
  enabled: boolean;
  bucket: string;
  region: string;
  endpoint?: string;
  schedule: BackupSchedule;
  retention: BackupRetention;
  compression: Compression;
  /** Seconds; bounds the recovery point objective. */
  archiveTimeout: number;
  /** Secret. Absent in a non-prod stack: the program generates one and keeps it in state. */
  encryptionPassphrase?: string;
  /** Keys for an S3-compatible `endpoint` (no IAM is managed there); secretAccessKey is secret. */
  endpointCredentials?: { accessKeyId: string; secretAccessKey: string };
}

export interface CiConfig {
  /** Issue an ephemeral, tagged tailnet auth key for CI runners (output `ciTailnetAuthKey`). */
  tailnetKey: boolean;
  tags: string[];
}

export interface StackConfig {
  stack: string;
  isProd: boolean;
  tailscale: { ip?: string; device?: string };
  dockerHost?: string;
  postgres: PostgresConfig;
  apps: AppConfig[];
  pgbouncer: PgBouncerConfig;
  pgadmin: PgAdminConfig;
  backup: BackupConfig;
  ci: CiConfig;
}

// ---------------------------------------------------------------- defaults

/** pgvector-enabled, pinned. Tag names the Postgres major the files are rendered for. */
export const DEFAULT_POSTGRES_IMAGE = "pgvector/pgvector:0.8.0-pg17";
/** 1.26.0 fixes CVE-2026-19888 (unauthenticated crash via SCRAM) and the 1.25.2 crash fixes. */
export const DEFAULT_PGBOUNCER_IMAGE = "edoburu/pgbouncer:v1.26.0-p0";
export const DEFAULT_PGADMIN_IMAGE = "dpage/pgadmin4:9.17";

export { SUPERUSER_RESERVED };
/** Connections left outside pgBouncer's pools: migrations, backup, pgAdmin, admin shells. */
export const DIRECT_HEADROOM = 10;

export const RESERVED_NAMES = new Set([
  "postgres", "template0", "template1", "public", "pgbouncer", "pg_monitor", "pg_signal_backend",
  "pg_read_all_data", "pg_write_all_data", "pg_database_owner", "information_schema", "admin",
  "root", "replication", "all", "sameuser", "samerole", "pgbackrest", "pgadmin", "pgbouncer_auth",
]);

/** Extensions an app may request: what contrib + the pgvector image provide. */
export const KNOWN_EXTENSIONS = new Set([
  "vector", "uuid-ossp", "pg_trgm", "pg_stat_statements", "pgcrypto", "citext", "hstore",
  "btree_gin", "btree_gist", "unaccent", "fuzzystrmatch", "intarray", "ltree", "tablefunc",
  "cube", "earthdistance", "pg_buffercache", "tsm_system_rows", "isn", "seg",
]);

export const APP_NAME = /^[a-z][a-z0-9_-]{0,47}$/;
const READONLY_USER = /^[a-z][a-z0-9_]{0,13}$/;
const EMAIL = /^[^\s@'"\\]+@[^\s@'"\\]+\.[a-z]{2,}$/i;
const BUCKET = /^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
// [registry[:port]/]path[:tag][@sha256:digest]
const IMAGE_REF = /^(?:[a-z0-9][a-z0-9.-]*(?::\d{1,5})?\/)?[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$/;

// ---------------------------------------------------------------- errors

export interface ConfigProblem {
  /** Key path, e.g. `homelab-postgres:apps[1].name`. */
  path: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly stack: string, readonly problems: ConfigProblem[]) {
    super(
      `invalid stack config for stack '${stack}' (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p.path}: ${p.message}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

// ---------------------------------------------------------------- reader

type Obj = Record<string, unknown>;

/** Collects problems while reading an untyped value tree. */
class Reader {
  readonly problems: ConfigProblem[] = [];

  problem(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  /** An object with only `allowed` keys; unknown keys (typos) are problems. */
  object(value: unknown, path: string, allowed: readonly string[]): Obj {
    if (value === undefined || value === null) return {};
    if (typeof value !== "object" || Array.isArray(value)) {
      this.problem(path, `expected an object, got ${describe(value)}`);
      return {};
    }
    const obj = value as Obj;
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key)) {
        this.problem(`${path}.${key}`, `unknown key${suggest(key, allowed)}; allowed: ${allowed.join(", ")}`);
      }
    }
    return obj;
  }

  string(obj: Obj, key: string, path: string, fallback: string): string;
  string(obj: Obj, key: string, path: string, fallback?: undefined): string | undefined;
  string(obj: Obj, key: string, path: string, fallback?: string): string | undefined {
    const v = obj[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "string") {
      this.problem(`${path}.${key}`, `expected a string, got ${describe(v)}`);
      return fallback;
    }
    return v;
  }

  bool(obj: Obj, key: string, path: string, fallback: boolean): boolean {
    const v = obj[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v === "boolean") return v;
    if (v === "true" || v === "false") return v === "true";
    this.problem(`${path}.${key}`, `expected true or false, got ${describe(v)}`);
    return fallback;
  }

  int(obj: Obj, key: string, path: string, fallback: number, min: number, max: number): number {
    const v = obj[key];
    if (v === undefined || v === null) return fallback;
    const n = typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : v;
    if (typeof n !== "number" || !Number.isInteger(n)) {
      this.problem(`${path}.${key}`, `expected an integer, got ${describe(v)}`);
      return fallback;
    }
    if (n < min || n > max) {
      this.problem(`${path}.${key}`, `must be between ${min} and ${max}, got ${n}`);
      return fallback;
    }
    return n;
  }

  stringList(obj: Obj, key: string, path: string): string[] {
    const v = obj[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.problem(`${path}.${key}`, `expected a list, got ${describe(v)}`);
      return [];
    }
    const out: string[] = [];
    v.forEach((item, i) => {
      if (typeof item === "string") out.push(item);
      else this.problem(`${path}.${key}[${i}]`, `expected a string, got ${describe(item)}`);
    });
    return out;
  }
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "an object";
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** "did you mean" for typos within edit distance 2. */
function suggest(key: string, allowed: readonly string[]): string {
  const best = allowed
    .map((a) => ({ a, d: editDistance(key.toLowerCase(), a.toLowerCase()) }))
    .sort((x, y) => x.d - y.d)[0];
  return best && best.d <= 2 ? ` (did you mean '${best.a}'?)` : "";
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      dp[i][j] = Math.min(dp[i - 1][j] + 1, dp[i][j - 1] + 1, dp[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return dp[a.length][b.length];
}

// ---------------------------------------------------------------- helpers

/** 100.64.0.0/10, the CGNAT range Tailscale assigns IPv4 addresses from. */
export function isTailnetIPv4(ip: string): boolean {
  if (!net.isIPv4(ip)) return false;
  const [a, b] = ip.split(".").map(Number);
  return a === 100 && b >= 64 && b <= 127;
}

export function isLoopbackIPv4(ip: string): boolean {
  return net.isIPv4(ip) && ip.startsWith("127.");
}

/** Problems with a bind address, or undefined when it is acceptable. */
export function bindAddressProblem(ip: string): string | undefined {
  if (ip === "" || ip === "0.0.0.0" || ip === "::" || ip === "[::]") { // rejected: these publish on every interface
    return `must not be ${ip === "" ? "empty" : ip}: that publishes on every interface`;
  }
  if (!net.isIP(ip)) return `${JSON.stringify(ip)} is not a valid IP address`;
  if (net.isIPv6(ip)) return `use the device's IPv4 tailnet address (100.64.0.0/10), not ${ip}`;
  if (!isTailnetIPv4(ip) && !isLoopbackIPv4(ip)) {
    return `${ip} is neither a tailnet address (100.64.0.0/10) nor loopback`;
  }
  return undefined;
}

// Cron validation lives in components/lib/cron.ts (croner); re-exported here for config's users.
import { cronProblem } from "../lib/cron";
export { cronProblem };

/** Postgres major from tags like `pgvector/pgvector:0.8.0-pg17`, `postgres:16.4`, `postgres:15-bookworm`. */
export function majorFromImage(image: string): number | undefined {
  const ref = image.split("@")[0];
  const last = ref.slice(ref.lastIndexOf("/") + 1);
  const tag = last.split(":")[1] ?? "";
  const pg = /(?:^|[-_])pg(\d{2})(?:$|[-_.])/.exec(tag);
  if (pg) return Number(pg[1]);
  if (/^postgres$/.test(last.split(":")[0])) {
    const m = /^(\d{2})(?:$|[.-])/.exec(tag);
    if (m) return Number(m[1]);
  }
  return undefined;
}

/** An image reference with an explicit, non-`latest` tag or a digest. */
export function imageProblem(image: string): string | undefined {
  if (!IMAGE_REF.test(image)) return `${JSON.stringify(image)} is not an image reference`;
  const [ref, digest] = image.split("@");
  // a ':' after the last '/' is a tag; before it, a registry port
  const last = ref.slice(ref.lastIndexOf("/") + 1);
  const tag = last.includes(":") ? last.split(":").pop() : undefined;
  if (!digest && !tag) return `${JSON.stringify(image)} has no tag: pin a version`;
  if (tag === "latest") return `${JSON.stringify(image)} uses 'latest': pin a version`;
  return undefined;
}

/** `-` folds to `_`: the one normalisation between app names and SQL identifiers. */
export function sqlName(appName: string): string {
  return appName.replace(/-/g, "_");
}

// ---------------------------------------------------------------- parse

/** Raw values of the project's config keys, without the `homelab-postgres:` prefix. */
export type RawConfig = Record<string, unknown>;

const TOP_KEYS = ["tailscale", "dockerHost", "postgres", "apps", "pgbouncer", "pgadmin", "backup", "ci"] as const;

export function isProdStack(stack: string): boolean {
  return stack === "prod" || stack.startsWith("prod-");
}

/** Pure: raw config → typed config, or ConfigError with every problem. */
export function parseConfig(stack: string, raw: RawConfig): StackConfig {
  const r = new Reader();
  const P = PROJECT;
  for (const key of Object.keys(raw)) {
    if (!(TOP_KEYS as readonly string[]).includes(key)) {
      r.problem(`${P}:${key}`, `unknown key${suggest(key, TOP_KEYS)}; allowed: ${TOP_KEYS.join(", ")}`);
    }
  }
  const isProd = isProdStack(stack);

  // tailscale
  const ts = r.object(raw.tailscale, `${P}:tailscale`, ["ip", "device"]);
  const tailscale = { ip: r.string(ts, "ip", `${P}:tailscale`), device: r.string(ts, "device", `${P}:tailscale`) };
  if (tailscale.ip !== undefined) {
    const p = bindAddressProblem(tailscale.ip);
    if (p) r.problem(`${P}:tailscale.ip`, p);
  }
  if (tailscale.ip !== undefined && tailscale.device !== undefined) {
    r.problem(`${P}:tailscale`, "set either ip or device, not both");
  }
  if (tailscale.device !== undefined && !/^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/.test(tailscale.device)) {
    r.problem(`${P}:tailscale.device`, `${JSON.stringify(tailscale.device)} is not a device name`);
  }
  if (isProd && tailscale.ip === undefined && tailscale.device === undefined) {
    r.problem(`${P}:tailscale`, "a prod stack must bind a tailnet address: set tailscale.ip or tailscale.device");
  }

  // dockerHost
  let dockerHost: string | undefined;
  if (raw.dockerHost !== undefined) {
    if (typeof raw.dockerHost !== "string" || !/^(unix|ssh|tcp|npipe):\/\/\S+$/.test(raw.dockerHost)) {
      r.problem(`${P}:dockerHost`, `expected unix://, ssh://, tcp:// or npipe:// URL, got ${describe(raw.dockerHost)}`);
    } else dockerHost = raw.dockerHost;
  }

  const postgres = parsePostgres(r, raw.postgres);
  const apps = parseApps(r, raw.apps, postgres);
  const pgbouncer = parsePgBouncer(r, raw.pgbouncer, postgres, apps.length);
  const pgadmin = parsePgAdmin(r, raw.pgadmin);
  const backup = parseBackup(r, raw.backup, isProd);

  const ciRaw = r.object(raw.ci, `${P}:ci`, ["tailnetKey", "tags"]);
  const ci: CiConfig = {
    tailnetKey: r.bool(ciRaw, "tailnetKey", `${P}:ci`, false),
    tags: ciRaw.tags === undefined ? ["tag:ci"] : r.stringList(ciRaw, "tags", `${P}:ci`),
  };
  ci.tags.forEach((t, i) => {
    if (!/^tag:[a-z0-9-]+$/.test(t)) r.problem(`${P}:ci.tags[${i}]`, `${JSON.stringify(t)} is not a tailnet tag (tag:name)`);
  });
  if (ci.tailnetKey && ci.tags.length === 0) r.problem(`${P}:ci.tags`, "an auth key for CI must carry at least one tag");

  // a loopback bind on a remote docker host is unreachable for the postgresql provider,
  // which connects from the machine running `pulumi up` to <bind address>:<port>
  const bindsLoopback = tailscale.device === undefined && (tailscale.ip === undefined || isLoopbackIPv4(tailscale.ip));
  if (bindsLoopback && dockerHost !== undefined && !dockerHost.startsWith("unix://") && !dockerHost.startsWith("npipe://")) {
    r.problem(`${P}:dockerHost`, `${dockerHost} is remote but the bind address is loopback: set tailscale.ip or tailscale.device so this machine can reach Postgres`);
  }

  // published ports must not clash (they share one bind address)
  const ports: [string, number][] = [[`${P}:postgres.port`, postgres.port]];
  if (pgbouncer.enabled) ports.push([`${P}:pgbouncer.port`, pgbouncer.port]);
  if (pgadmin.enabled) ports.push([`${P}:pgadmin.port`, pgadmin.port]);
  for (let i = 0; i < ports.length; i++) {
    for (let j = i + 1; j < ports.length; j++) {
      if (ports[i][1] === ports[j][1]) {
        r.problem(ports[j][0], `port ${ports[j][1]} is already used by ${ports[i][0]}`);
      }
    }
  }

  if (r.problems.length > 0) throw new ConfigError(stack, r.problems);
  return { stack, isProd, tailscale, dockerHost, postgres, apps, pgbouncer, pgadmin, backup, ci };
}

function parsePostgres(r: Reader, raw: unknown): PostgresConfig {
  const path = `${PROJECT}:postgres`;
  const o = r.object(raw, path, ["image", "majorVersion", "port", "maxConnections", "memoryMb", "settings", "tls"]);
  const image = r.string(o, "image", path, DEFAULT_POSTGRES_IMAGE);
  const imgProblem = imageProblem(image);
  if (imgProblem) r.problem(`${path}.image`, imgProblem);
  const derived = majorFromImage(image);
  // 18 moved the image's data volume to /var/lib/postgresql; the server mounts 15-17's layout
  const majorVersion = r.int(o, "majorVersion", path, derived ?? 0, 15, 17);
  if (majorVersion === 0 && o.majorVersion === undefined) {
    r.problem(`${path}.majorVersion`, `cannot tell the Postgres major version from ${JSON.stringify(image)}; set postgres.majorVersion (15-17)`);
  } else if (derived !== undefined && o.majorVersion !== undefined && derived !== majorVersion) {
    r.problem(`${path}.majorVersion`, `says ${majorVersion} but the image tag says ${derived}`);
  } else if (derived !== undefined && (derived < 15 || derived > 17)) {
    r.problem(`${path}.image`, `Postgres ${derived} is not supported (15-17)`);
  }
  const settings: Record<string, ConfValue> = {};
  const rawSettings = o.settings;
  if (rawSettings !== undefined) {
    if (typeof rawSettings !== "object" || rawSettings === null || Array.isArray(rawSettings)) {
      r.problem(`${path}.settings`, `expected an object of postgresql.conf keys, got ${describe(rawSettings)}`);
    } else {
      for (const [k, v] of Object.entries(rawSettings as Obj)) {
        const kp = `${path}.settings.${k}`;
        if (!CONF_KEY.test(k)) r.problem(kp, "not a postgresql.conf parameter name");
        else if (isManagedSetting(k)) r.problem(kp, "is managed by the program and cannot be set here (listen/port/auth/TLS/archive/include/preload keys)");
        else if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") {
          r.problem(kp, `expected a string, number or boolean, got ${describe(v)}`);
        } else if (/[\r\n\0]/.test(String(v))) r.problem(kp, "value must be a single line");
        else settings[k] = v;
      }
    }
  }
  const tlsRaw = r.object(o.tls, `${path}.tls`, ["enabled", "certificate", "privateKey"]);
  const tls: TlsConfig = {
    enabled: r.bool(tlsRaw, "enabled", `${path}.tls`, false),
    certificate: r.string(tlsRaw, "certificate", `${path}.tls`),
    privateKey: r.string(tlsRaw, "privateKey", `${path}.tls`),
  };
  if (tls.enabled) {
    if (!tls.certificate?.includes("BEGIN CERTIFICATE")) r.problem(`${path}.tls.certificate`, "TLS is enabled: a PEM certificate is required");
    if (!tls.privateKey?.includes("PRIVATE KEY")) r.problem(`${path}.tls.privateKey`, "TLS is enabled: a PEM private key (secret) is required");
  }
  return {
    image,
    majorVersion,
    port: r.int(o, "port", path, 5432, 1024, 65535),
    maxConnections: r.int(o, "maxConnections", path, 100, 20, 10000),
    memoryMb: r.int(o, "memoryMb", path, 1024, 256, 1024 * 1024),
    settings,
    tls,
  };
}

function parseApps(r: Reader, raw: unknown, pg: PostgresConfig): AppConfig[] {
  const path = `${PROJECT}:apps`;
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    r.problem(path, `expected a list of apps, got ${describe(raw)}`);
    return [];
  }
  const apps: AppConfig[] = [];
  const roleOwners = new Map<string, string>(); // role or database name → where it came from
  const claim = (name: string, where: string, p: string) => {
    const prev = roleOwners.get(name);
    if (prev) r.problem(p, `${JSON.stringify(name)} clashes with ${prev}`);
    else roleOwners.set(name, where);
  };
  raw.forEach((item, i) => {
    const p = `${path}[${i}]`;
    const o = r.object(item, p, ["name", "extensions", "connectionLimit", "readonlyUsers", "rotation"]);
    const name = r.string(o, "name", p);
    if (name === undefined) {
      r.problem(`${p}.name`, "required");
      return;
    }
    let ok = true;
    if (!APP_NAME.test(name)) {
      r.problem(`${p}.name`, `${JSON.stringify(name)} must match ${APP_NAME} (lower-case letter first; letters, digits, _ and -)`);
      ok = false;
    } else if (RESERVED_NAMES.has(sqlName(name)) || sqlName(name).startsWith("pg_")) {
      r.problem(`${p}.name`, `${JSON.stringify(name)} is reserved`);
      ok = false;
    }
    const database = sqlName(name);
    const owner = `${database}_owner`;
    if (ok) {
      claim(database, `the database of app ${name}`, `${p}.name`);
      claim(owner, `owner role of ${name}`, `${p}.name`);
    }
    const extensions = r.stringList(o, "extensions", p);
    extensions.forEach((e, j) => {
      if (!KNOWN_EXTENSIONS.has(e)) {
        r.problem(`${p}.extensions[${j}]`, `unknown extension ${JSON.stringify(e)}${suggest(e, [...KNOWN_EXTENSIONS])}`);
      }
    });
    if (new Set(extensions).size !== extensions.length) r.problem(`${p}.extensions`, "lists an extension twice");
    const connectionLimit = r.int(o, "connectionLimit", p, 20, 1, pg.maxConnections);
    const readonlyUsers: AppConfig["readonlyUsers"] = [];
    r.stringList(o, "readonlyUsers", p).forEach((user, j) => {
      const up = `${p}.readonlyUsers[${j}]`;
      if (!READONLY_USER.test(user) || user === "owner") {
        r.problem(up, `${JSON.stringify(user)} must match ${READONLY_USER} and not be 'owner'`);
        return;
      }
      const role = `${database}_${user}`;
      if (ok) claim(role, `read-only user ${user} of ${name}`, up);
      readonlyUsers.push({ user, role });
    });
    const rotation = o.rotation === undefined ? "initial" : String(o.rotation);
    if (typeof o.rotation === "object" || rotation.length === 0 || rotation.length > 64) {
      r.problem(`${p}.rotation`, "expected a short string such as \"2026-11\"");
    }
    if (ok) apps.push({ name, database, owner, extensions, connectionLimit, readonlyUsers, rotation });
  });
  return apps;
}

function parsePgBouncer(r: Reader, raw: unknown, pg: PostgresConfig, appCount: number): PgBouncerConfig {
  const path = `${PROJECT}:pgbouncer`;
  const o = r.object(raw, path, ["enabled", "image", "port", "poolMode", "defaultPoolSize", "maxClientConn"]);
  const image = r.string(o, "image", path, DEFAULT_PGBOUNCER_IMAGE);
  const imgProblem = imageProblem(image);
  if (imgProblem) r.problem(`${path}.image`, imgProblem);
  const poolMode = r.string(o, "poolMode", path, "transaction");
  if (!["session", "transaction", "statement"].includes(poolMode)) {
    r.problem(`${path}.poolMode`, `must be session, transaction or statement, got ${JSON.stringify(poolMode)}`);
  }
  const cfg: PgBouncerConfig = {
    enabled: r.bool(o, "enabled", path, true),
    image,
    port: r.int(o, "port", path, 6432, 1024, 65535),
    poolMode: poolMode as PoolMode,
    defaultPoolSize: r.int(o, "defaultPoolSize", path, 10, 1, 1000),
    maxClientConn: r.int(o, "maxClientConn", path, 1000, 10, 100000),
  };
  if (cfg.enabled) {
    // every app's pool plus one for the auth lookup must fit what Postgres leaves after reserved slots
    const budget = pg.maxConnections - SUPERUSER_RESERVED - DIRECT_HEADROOM;
    const needed = appCount * cfg.defaultPoolSize + 1;
    if (needed > budget) {
      r.problem(
        `${path}.defaultPoolSize`,
        `${appCount} app pool(s) × ${cfg.defaultPoolSize} + 1 auth connection = ${needed} server connections, ` +
          `but postgres.maxConnections ${pg.maxConnections} leaves only ${budget} ` +
          `(minus ${SUPERUSER_RESERVED} superuser-reserved and ${DIRECT_HEADROOM} direct). Lower defaultPoolSize or raise postgres.maxConnections`,
      );
    }
  }
  return cfg;
}

function parsePgAdmin(r: Reader, raw: unknown): PgAdminConfig {
  const path = `${PROJECT}:pgadmin`;
  const o = r.object(raw, path, ["enabled", "image", "port", "email"]);
  const image = r.string(o, "image", path, DEFAULT_PGADMIN_IMAGE);
  const imgProblem = imageProblem(image);
  if (imgProblem) r.problem(`${path}.image`, imgProblem);
  const cfg: PgAdminConfig = {
    enabled: r.bool(o, "enabled", path, false),
    image,
    port: r.int(o, "port", path, 5050, 1024, 65535),
    email: r.string(o, "email", path, ""),
  };
  if (cfg.enabled && !EMAIL.test(cfg.email)) {
    r.problem(`${path}.email`, cfg.email ? `${JSON.stringify(cfg.email)} is not an email address` : "required when pgadmin is enabled");
  }
  return cfg;
}

function parseBackup(r: Reader, raw: unknown, isProd: boolean): BackupConfig {
  const path = `${PROJECT}:backup`;
  const o = r.object(raw, path, [
    "enabled", "bucket", "region", "endpoint", "schedule", "retention", "compression", "archiveTimeout", "encryptionPassphrase",
    "endpointCredentials",
  ]);
  const enabled = r.bool(o, "enabled", path, false);
  const bucket = r.string(o, "bucket", path, "");
  const endpoint = r.string(o, "endpoint", path);
  const sched = r.object(o.schedule, `${path}.schedule`, ["full", "diff", "logical", "drill"]);
  const schedule: BackupSchedule = {
    full: r.string(sched, "full", `${path}.schedule`, "15 2 * * 0"),
    diff: r.string(sched, "diff", `${path}.schedule`, "15 2 * * 1-6"),
    logical: r.string(sched, "logical", `${path}.schedule`, "45 2 * * *"),
    drill: r.string(sched, "drill", `${path}.schedule`, "30 4 * * 6"),
  };
  const ret = r.object(o.retention, `${path}.retention`, ["full", "days"]);
  const retention: BackupRetention = {
    full: r.int(ret, "full", `${path}.retention`, 4, 1, 365),
    days: r.int(ret, "days", `${path}.retention`, 35, 1, 3650),
  };
  const compression = r.string(o, "compression", path, "zst");
  const passphrase = r.string(o, "encryptionPassphrase", path);
  const cfg: BackupConfig = {
    enabled,
    bucket,
    region: r.string(o, "region", path, "us-east-1"),
    endpoint,
    schedule,
    retention,
    compression: compression as Compression,
    archiveTimeout: r.int(o, "archiveTimeout", path, 60, 1, 60),
    encryptionPassphrase: passphrase,
  };
  if (o.endpointCredentials !== undefined) {
    const ec = r.object(o.endpointCredentials, `${path}.endpointCredentials`, ["accessKeyId", "secretAccessKey"]);
    const accessKeyId = r.string(ec, "accessKeyId", `${path}.endpointCredentials`);
    const secretAccessKey = r.string(ec, "secretAccessKey", `${path}.endpointCredentials`);
    if (accessKeyId && secretAccessKey) cfg.endpointCredentials = { accessKeyId, secretAccessKey };
    else r.problem(`${path}.endpointCredentials`, "needs accessKeyId and secretAccessKey (secret)");
  }
  if (!["zst", "lz4", "gz"].includes(compression)) r.problem(`${path}.compression`, `must be zst, lz4 or gz, got ${JSON.stringify(compression)}`);
  if (isProd && !enabled) r.problem(`${path}.enabled`, "a prod stack must have backups enabled");
  if (!enabled) return cfg;
  if (!bucket) r.problem(`${path}.bucket`, "required when backups are enabled");
  else if (!BUCKET.test(bucket)) r.problem(`${path}.bucket`, `${JSON.stringify(bucket)} is not a valid S3 bucket name`);
  if (!/^[a-z]{2}(-[a-z]+)+-\d$|^[a-z0-9-]{2,32}$/.test(cfg.region)) r.problem(`${path}.region`, `${JSON.stringify(cfg.region)} is not a region name`);
  if (endpoint !== undefined && !/^https:\/\/[A-Za-z0-9.-]+(:\d{1,5})?\/?$/.test(endpoint)) {
    r.problem(`${path}.endpoint`, "must be an https:// URL with host and optional port (pgBackRest's S3 client speaks HTTPS only)");
  } else if (endpoint !== undefined && net.isIP(endpoint.replace(/^https:\/\//, "").replace(/(:\d+)?\/?$/, "")) !== 0) {
    r.problem(`${path}.endpoint`, "use a DNS name: pgBackRest verifies the certificate by name, not by IP address");
  }
  if (endpoint !== undefined && cfg.endpointCredentials === undefined) {
    r.problem(`${path}.endpointCredentials`, "required with an S3-compatible endpoint (no IAM is managed there): accessKeyId and secretAccessKey (secret)");
  }
  for (const k of Object.keys(schedule) as (keyof BackupSchedule)[]) {
    const p = cronProblem(schedule[k]);
    if (p) r.problem(`${path}.schedule.${k}`, p);
  }
  if (passphrase === undefined && isProd) {
    r.problem(`${path}.encryptionPassphrase`, "required in prod: `pulumi config set --secret --path backup.encryptionPassphrase ...`");
  } else if (passphrase !== undefined && passphrase.length < 20) {
    r.problem(`${path}.encryptionPassphrase`, "must be at least 20 characters");
  } else if (passphrase !== undefined && !/^[A-Za-z0-9+/=._~:@-]{20,1024}$/.test(passphrase)) {
    // it lands in pgbackrest.conf, which has no quoting: e.g. `openssl rand -base64 33`
    r.problem(`${path}.encryptionPassphrase`, "may only use letters, digits and + / = . _ ~ : @ - (try `openssl rand -base64 33`)");
  }
  return cfg;
}

// ---------------------------------------------------------------- Pulumi glue

/**
 * Reads every `homelab-postgres:*` key from the Pulumi config (JSON for structured
 * values) and parses it. Throws ConfigError listing every problem.
 */
export function loadStackConfig(stack: string, all: Record<string, string>): StackConfig {
  const raw: RawConfig = {};
  for (const [fullKey, value] of Object.entries(all)) {
    const [ns, key] = splitKey(fullKey);
    if (ns !== PROJECT) continue;
    raw[key] = parseMaybeJson(value);
  }
  return parseConfig(stack, raw);
}

function splitKey(fullKey: string): [string, string] {
  const i = fullKey.indexOf(":");
  // the engine may hand keys over as `project:config:key` (legacy) or `project:key`
  const ns = fullKey.slice(0, i);
  const rest = fullKey.slice(i + 1).replace(/^config:/, "");
  return [ns, rest];
}

function parseMaybeJson(value: string): unknown {
  const t = value.trim();
  if (t.startsWith("{") || t.startsWith("[")) {
    try {
      return JSON.parse(t);
    } catch {
      return value;
    }
  }
  return value;
}
