// Backup text, pure: pgbackrest.conf, the archive command, the age key of the
// logical dumps, the schedule arithmetic and the sidecar script (scheduler,
// jobs, health, restore runbooks). The container and the integration tests
// render the same functions; only paths, ports and the endpoint differ.
//
// Secrets never reach container env (docker inspect shows env in clear; policy
// no-passwords-in-container-config): the repo cipher pass and S3 key are rendered
// into pgbackrest.conf (renderPgBackRestConf's `secrets`), and the sidecar's own
// secrets into an env file the script sources (renderSidecarSecretsEnv); both are
// uploaded 0600 and are Pulumi secrets. Without `secrets` the conf is secret-free
// text for inspection and tests.
import { createHash, createPrivateKey, createPublicKey, hkdfSync } from "crypto";
import { readFileSync } from "fs";
import * as path from "path";
import type { BackupSchedule, Compression } from "../config";
import { cronProblem } from "../lib/cron";
import { assertIdent } from "../lib/quote";

// ---------------------------------------------------------------- constants

/**
 * pgBackRest's env form of its secret options (PGBACKREST_<OPTION>) plus the age
 * identity. The containers do not use them (the secrets are in the uploaded
 * files); they remain for manual runs and the tests' fixtures.
 */
export const SECRET_ENV = {
  cipherPass: "PGBACKREST_REPO1_CIPHER_PASS",
  s3Key: "PGBACKREST_REPO1_S3_KEY",
  s3KeySecret: "PGBACKREST_REPO1_S3_KEY_SECRET",
  /** age identity (AGE-SECRET-KEY-1...) the drill and restore-app decrypt logical dumps with. */
  ageIdentity: "HLPG_AGE_IDENTITY",
} as const;

/** Variables of the sidecar's secrets file (CONTAINER_PATHS.sidecarSecrets), which the script sources. */
export const SIDECAR_SECRET_VARS = {
  /** S3 access key id for the script's curl (SigV4) uploads of logical dumps. */
  s3Key: "HLPG_S3_KEY",
  s3KeySecret: "HLPG_S3_KEY_SECRET",
  /** age identity (AGE-SECRET-KEY-1...) the drill and restore-app decrypt logical dumps with. */
  ageIdentity: "HLPG_AGE_IDENTITY",
} as const;

/** Env variable naming the secrets file; the script sources it when set (also under `docker exec`). */
export const SECRETS_FILE_ENV = "HLPG_SECRETS_FILE";

/** Object-key prefix of the logical dumps; the bucket lifecycle expires it after `retention.days`. */
export const LOGICAL_PREFIX = "logical/";

/**
 * Backup paths inside the containers (the tests substitute temp dirs). PGDATA,
 * the socket directory and the port are the server's (components/server.ts CONTAINER).
 */
export const CONTAINER_PATHS = {
  /** pgBackRest's default config path: archive-push in the postgres container needs no --config. */
  pgbackrestConf: "/etc/pgbackrest/pgbackrest.conf",
  /** The sidecar's secrets (S3 key for curl, age identity) as `export NAME='value'` lines; 0600. */
  sidecarSecrets: "/etc/pgbackrest/sidecar-secrets.env",
  script: "/usr/local/bin/hlpg-backup",
  /** Sidecar-only volume: job state (health) and scratch space (drill restores, dump staging). */
  workDir: "/var/lib/hlpg-backup",
  lockPath: "/tmp/pgbackrest",
} as const;

/** Extra minutes a job may take beyond the longest gap of its schedule before health turns red. */
export const HEALTH_GRACE_MINUTES = 6 * 60;

// ---------------------------------------------------------------- validation helpers

const STANZA = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const ABS_PATH = /^\/[A-Za-z0-9._/-]*$/;
const BUCKET = /^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION = /^[a-z0-9-]{2,32}$/;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const AGE_RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;
const APP = /^[a-z][a-z0-9_-]{0,47}$/;

function check(ok: boolean, what: string, value: unknown): void {
  if (!ok) throw new Error(`invalid ${what}: ${JSON.stringify(value)}`);
}

function absPath(p: string, what: string): string {
  check(ABS_PATH.test(p) && !p.split("/").includes(".."), `${what} (absolute path of [A-Za-z0-9._/-])`, p);
  return p;
}

function port(n: number, what: string): number {
  check(Number.isInteger(n) && n >= 1 && n <= 65535, `${what} (1-65535)`, n);
  return n;
}

/** A bash single-quoted word. Rejects NUL and newlines, which no value of ours needs. */
export function shellQuote(value: string): string {
  if (/[\0\r\n]/.test(value)) throw new Error(`refusing to shell-quote a value with a newline or NUL: ${JSON.stringify(value)}`);
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** pgBackRest stanza for a stack: lower-case, [a-z0-9_-]. */
export function stanzaName(stack: string): string {
  const s = stack.toLowerCase().replace(/[^a-z0-9_-]/g, "-");
  check(STANZA.test(s), "stanza name derived from the stack name", stack);
  return s;
}

/** Repository path inside the bucket: one per stanza, so a bucket could hold several clusters. */
export function repoPath(stanza: string): string {
  check(STANZA.test(stanza), "stanza", stanza);
  return `/pgbackrest/${stanza}`;
}

// ---------------------------------------------------------------- S3 addressing

export interface S3Location {
  bucket: string;
  region: string;
  /** https://host[:port] of an S3-compatible store; absent: AWS S3 in `region`. */
  endpoint?: string;
}

/** How both clients (pgBackRest, curl) address the bucket. */
export interface S3Target {
  bucket: string;
  region: string;
  host: string;
  port: number;
  /** path: https://host/bucket/key (custom endpoints, dotted bucket names); host: https://bucket.host/key. */
  uriStyle: "host" | "path";
  /** URL of the bucket without a trailing slash; objects are `${bucketUrl}/${key}`. */
  bucketUrl: string;
}

export function s3Target(loc: S3Location): S3Target {
  check(BUCKET.test(loc.bucket), "bucket name", loc.bucket);
  check(REGION.test(loc.region), "region", loc.region);
  let host = `s3.${loc.region}.amazonaws.com`;
  let p = 443;
  if (loc.endpoint !== undefined) {
    const m = /^https:\/\/([^/:]+)(?::(\d{1,5}))?\/?$/.exec(loc.endpoint);
    check(m !== null, "endpoint (https://host[:port])", loc.endpoint);
    host = m![1];
    p = port(m![2] === undefined ? 443 : Number(m![2]), "endpoint port");
  }
  check(HOSTNAME.test(host), "endpoint host", host);
  // A custom endpoint is MinIO/Garage-style (path). On AWS a dotted bucket name breaks the
  // *.s3 wildcard certificate in host style, so it goes path style too.
  const uriStyle = loc.endpoint !== undefined || loc.bucket.includes(".") ? "path" : "host";
  const authority = p === 443 ? host : `${host}:${p}`;
  const bucketUrl = uriStyle === "path" ? `https://${authority}/${loc.bucket}` : `https://${loc.bucket}.${authority}`;
  return { bucket: loc.bucket, region: loc.region, host, port: p, uriStyle, bucketUrl };
}

// ---------------------------------------------------------------- pgbackrest.conf

export interface PgBackRestConfInput {
  stanza: string;
  s3: S3Location;
  compression: Compression;
  /** Full backups kept; older fulls, their differentials and their WAL are expired. */
  retentionFull: number;
  /** Parallel compress/transfer processes for backup and restore. */
  processMax: number;
  pgPath: string;
  socketPath: string;
  pgPort: number;
  lockPath: string;
  /** CA bundle for a store with a private CA (the tests' throwaway certificate). */
  caFile?: string;
}

/** The secret pgBackRest options; rendered into pgbackrest.conf when given. */
export interface PgBackRestSecrets {
  cipherPass: string;
  s3Key: string;
  s3KeySecret: string;
}

// pgBackRest takes the rest of the line literally (no quoting, no escapes): one line of a
// conservative charset that still covers AWS secret keys (+ /) and base64 (=).
const CONF_SECRET = /^[A-Za-z0-9+/=._~:@-]{1,1024}$/;

function confSecret(value: string, what: string): string {
  // never echo the value itself
  if (!CONF_SECRET.test(value)) throw new Error(`invalid ${what} for pgbackrest.conf: one line of [A-Za-z0-9+/=._~:@-], 1-1024 characters`);
  return value;
}

/**
 * pgbackrest.conf. With `secrets` the text carries the cipher pass and S3 key
 * (upload it 0600 and keep it a Pulumi secret); without, it is secret-free.
 */
export function renderPgBackRestConf(input: PgBackRestConfInput, secrets?: PgBackRestSecrets): string {
  const stanza = input.stanza;
  check(STANZA.test(stanza), "stanza", stanza);
  check(["zst", "lz4", "gz"].includes(input.compression), "compression", input.compression);
  check(Number.isInteger(input.retentionFull) && input.retentionFull >= 1 && input.retentionFull <= 9999999, "retentionFull", input.retentionFull);
  check(Number.isInteger(input.processMax) && input.processMax >= 1 && input.processMax <= 32, "processMax", input.processMax);
  const t = s3Target(input.s3);
  const global: [string, string | number][] = [
    ["repo1-type", "s3"],
    ["repo1-s3-bucket", t.bucket],
    ["repo1-s3-region", t.region],
    ["repo1-s3-endpoint", t.host],
    ["repo1-storage-port", t.port],
    ["repo1-s3-uri-style", t.uriStyle],
    ...(input.caFile ? ([["repo1-storage-ca-file", absPath(input.caFile, "caFile")]] as [string, string][]) : []),
    ["repo1-path", repoPath(stanza)],
    // Encrypted before it leaves the host: the bucket (and whoever reads it) sees ciphertext only.
    ["repo1-cipher-type", "aes-256-cbc"],
    ["repo1-retention-full-type", "count"],
    ["repo1-retention-full", input.retentionFull],
    // Small files are bundled: far fewer PUTs, which is what makes an object store fast.
    ["repo1-bundle", "y"],
    ["compress-type", input.compression],
    ["process-max", input.processMax],
    // Checkpoint immediately instead of waiting for the next one: backups start now.
    ["start-fast", "y"],
    // One segment a minute at most (archive_timeout): synchronous push is simple and needs no spool volume.
    ["archive-async", "n"],
    ["lock-path", absPath(input.lockPath, "lockPath")],
    // Console only: docker logs is the log; no log files to rotate inside containers.
    ["log-level-console", "info"],
    ["log-level-stderr", "off"],
    ["log-level-file", "off"],
  ];
  const section: [string, string | number][] = [
    ["pg1-path", absPath(input.pgPath, "pgPath")],
    ["pg1-socket-path", absPath(input.socketPath, "socketPath")],
    ["pg1-port", port(input.pgPort, "pgPort")],
    ["pg1-user", "postgres"],
  ];
  const secretLines = secrets
    ? [
        `repo1-cipher-pass=${confSecret(secrets.cipherPass, "repo1-cipher-pass")}`,
        `repo1-s3-key=${confSecret(secrets.s3Key, "repo1-s3-key")}`,
        `repo1-s3-key-secret=${confSecret(secrets.s3KeySecret, "repo1-s3-key-secret")}`,
      ]
    : [];
  const lines = [
    secrets
      ? "# Rendered by homelab-postgres. Holds the repository cipher pass and S3 key: keep it 0600."
      : "# Rendered by homelab-postgres. Secret-free rendering: the deployed file adds repo1-cipher-pass, repo1-s3-key, repo1-s3-key-secret.",
    "[global]",
    ...global.map(([k, v]) => iniLine(k, v)),
    ...secretLines,
    "",
    // archive-push runs once per WAL segment inside Postgres: keep its console quiet unless it fails.
    "[global:archive-push]",
    iniLine("log-level-console", "warn"),
    "",
    `[${stanza}]`,
    ...section.map(([k, v]) => iniLine(k, v)),
  ];
  return lines.join("\n") + "\n";
}

function iniLine(key: string, value: string | number): string {
  const v = String(value);
  // pgBackRest takes the rest of the line literally: no quoting exists, so only plain values pass.
  check(/^[A-Za-z0-9._/:@-]+$/.test(v), `pgbackrest.conf value of ${key}`, v);
  return `${key}=${v}`;
}

// ---------------------------------------------------------------- sidecar secrets file

export interface SidecarSecrets {
  s3Key: string;
  s3KeySecret: string;
  ageIdentity: string;
}

/** The sidecar's secrets file: `export NAME='value'` lines the script sources (HLPG_SECRETS_FILE). */
export function renderSidecarSecretsEnv(secrets: SidecarSecrets): string {
  const line = (name: string, value: string, what: string) => {
    // a value with a newline or NUL would be refused by shellQuote with the value in the message
    if (value === "" || /[\0\r\n]/.test(value)) throw new Error(`invalid ${what} for the sidecar secrets file: empty or not one line`);
    return `export ${name}=${shellQuote(value)}`;
  };
  return [
    "# Rendered by homelab-postgres: secrets of the backup sidecar, sourced by hlpg-backup. Keep it 0600.",
    line(SIDECAR_SECRET_VARS.s3Key, secrets.s3Key, "S3 access key"),
    line(SIDECAR_SECRET_VARS.s3KeySecret, secrets.s3KeySecret, "S3 secret key"),
    line(SIDECAR_SECRET_VARS.ageIdentity, secrets.ageIdentity, "age identity"),
  ].join("\n") + "\n";
}

// ---------------------------------------------------------------- archive command

export interface ArchiveInput {
  stanza: string;
  /** Non-default config path (tests); the container uses pgBackRest's default path. */
  configFile?: string;
  /** archive_timeout in seconds: the RPO bound for a quiet database. */
  timeoutSeconds: number;
}

/** archive_command and archive_timeout for renderPostgresqlConf's `archive`. */
export function archiveSettings(input: ArchiveInput): { command: string; timeoutSeconds: number } {
  check(STANZA.test(input.stanza), "stanza", input.stanza);
  check(Number.isInteger(input.timeoutSeconds) && input.timeoutSeconds >= 1 && input.timeoutSeconds <= 60, "archive timeout (1-60 s)", input.timeoutSeconds);
  const config = input.configFile ? ` --config=${absPath(input.configFile, "configFile")}` : "";
  return { command: `pgbackrest${config} --stanza=${input.stanza} archive-push %p`, timeoutSeconds: input.timeoutSeconds };
}

// ---------------------------------------------------------------- age key from the passphrase

const BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

function bech32Polymod(values: number[]): number {
  const gen = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = (((chk & 0x1ffffff) << 5) ^ v) >>> 0;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk = (chk ^ gen[i]) >>> 0;
  }
  return chk;
}

/** BIP-173 bech32 (not bech32m) without the 90-character limit, as age uses it. */
export function bech32Encode(hrp: string, data5: number[]): string {
  const expand = [...hrp].map((c) => c.charCodeAt(0) >> 5).concat([0], [...hrp].map((c) => c.charCodeAt(0) & 31));
  const mod = bech32Polymod([...expand, ...data5, 0, 0, 0, 0, 0, 0]) ^ 1;
  const checksum = Array.from({ length: 6 }, (_, i) => (mod >>> (5 * (5 - i))) & 31);
  return `${hrp}1${[...data5, ...checksum].map((d) => BECH32[d]).join("")}`;
}

/** 8-bit bytes to 5-bit groups, padded (bech32 data part). */
export function toFiveBit(bytes: Uint8Array): number[] {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push((acc >>> bits) & 31);
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out.push((acc << (5 - bits)) & 31);
  return out;
}

export interface AgeKey {
  /** AGE-SECRET-KEY-1...: decrypts; secret. */
  identity: string;
  /** age1...: encrypts; public. */
  recipient: string;
}

/**
 * The age X25519 key of the logical dumps, derived from the backup passphrase with
 * HKDF-SHA256. age 1.1 reads passphrases only from a terminal, so unattended
 * encryption needs a recipient key; deriving it means the one passphrase the
 * operator already escrows for pgBackRest also recovers every dump (no second
 * secret that could be lost with the Pulumi state).
 */
export function ageKeyFromPassphrase(passphrase: string): AgeKey {
  if (passphrase.length < 20) throw new Error("backup passphrase must be at least 20 characters");
  const seed = Buffer.from(hkdfSync("sha256", Buffer.from(passphrase, "utf8"), "homelab-postgres", "logical-dump age identity v1", 32));
  // PKCS#8 wrapper of a raw X25519 private key (RFC 8410).
  const der = Buffer.concat([Buffer.from("302e020100300506032b656e04220420", "hex"), seed]);
  const pub = createPublicKey(createPrivateKey({ key: der, format: "der", type: "pkcs8" })).export({ format: "der", type: "spki" });
  const raw = pub.subarray(pub.length - 32); // SPKI = 12-byte header + 32-byte key
  return {
    identity: bech32Encode("age-secret-key-", toFiveBit(seed)).toUpperCase(),
    recipient: bech32Encode("age", toFiveBit(raw)),
  };
}

// ---------------------------------------------------------------- cron arithmetic

interface CronSets {
  minute: Set<number>;
  hour: Set<number>;
  dom: Set<number>;
  month: Set<number>;
  dow: Set<number>;
  domRestricted: boolean;
  dowRestricted: boolean;
}

function cronField(field: string, lo: number, hi: number): Set<number> {
  const out = new Set<number>();
  for (const part of field.split(",")) {
    const [range, stepText] = part.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    let a: number;
    let b: number;
    if (range === "*") [a, b] = [lo, hi];
    else if (range.includes("-")) [a, b] = range.split("-").map(Number) as [number, number];
    else [a, b] = [Number(range), stepText === undefined ? Number(range) : hi]; // "5/20" = 5-hi/20
    for (let v = a; v <= b; v += step) out.add(v);
  }
  return out;
}

function parseCron(expr: string): CronSets {
  const problem = cronProblem(expr);
  if (problem) throw new Error(`invalid cron expression: ${problem}`);
  const [mi, h, dom, mo, dow] = expr.trim().split(/\s+/);
  const dows = cronField(dow, 0, 7);
  if (dows.has(7)) dows.add(0); // 7 is Sunday too
  return {
    minute: cronField(mi, 0, 59),
    hour: cronField(h, 0, 23),
    dom: cronField(dom, 1, 31),
    month: cronField(mo, 1, 12),
    dow: dows,
    domRestricted: !dom.startsWith("*"),
    dowRestricted: !dow.startsWith("*"),
  };
}

function matchesSets(c: CronSets, d: Date): boolean {
  return c.minute.has(d.getUTCMinutes()) && c.hour.has(d.getUTCHours()) && matchesDay(c, d);
}

function matchesDay(c: CronSets, d: Date): boolean {
  if (!c.month.has(d.getUTCMonth() + 1)) return false;
  const domOk = c.dom.has(d.getUTCDate());
  const dowOk = c.dow.has(d.getUTCDay());
  // Vixie cron: when both day fields are restricted, either may match.
  if (c.domRestricted && c.dowRestricted) return domOk || dowOk;
  return domOk && dowOk;
}

/** Whether a 5-field cron expression fires at the minute of `at` (UTC, the container's time zone). */
export function cronMatches(expr: string, at: Date): boolean {
  return matchesSets(parseCron(expr), at);
}

/**
 * Longest time in minutes between two consecutive firings of any of `exprs`,
 * over four years from `from` (covers leap years and every weekday/date pairing
 * that matters for health thresholds). Throws if nothing fires in that window.
 */
export function maxCronGapMinutes(exprs: string[], from = new Date(Date.UTC(2024, 0, 1))): number {
  const sets = exprs.map(parseCron);
  const startDay = Math.floor(from.getTime() / 86_400_000);
  const days = 4 * 366;
  const firings = new Set<number>(); // minutes since the epoch
  for (let day = startDay; day < startDay + days; day++) {
    const midnight = new Date(day * 86_400_000);
    for (const s of sets) {
      if (!matchesDay(s, midnight)) continue;
      for (const h of s.hour) for (const m of s.minute) firings.add(day * 1440 + h * 60 + m);
    }
  }
  if (firings.size === 0) throw new Error(`schedule ${JSON.stringify(exprs)} never fires`);
  // Once in four years (29 February): the window itself is the gap.
  if (firings.size === 1) return days * 1440;
  const sorted = [...firings].sort((x, y) => x - y);
  let gap = 0;
  for (let i = 1; i < sorted.length; i++) gap = Math.max(gap, sorted[i] - sorted[i - 1]);
  return gap;
}

export interface HealthLimits {
  /** Minutes since the last good physical backup (full or diff) before health turns red. */
  backup: number;
  logical: number;
  drill: number;
}

export function healthLimits(schedule: BackupSchedule, graceMinutes = HEALTH_GRACE_MINUTES): HealthLimits {
  return {
    backup: maxCronGapMinutes([schedule.full, schedule.diff]) + graceMinutes,
    logical: maxCronGapMinutes([schedule.logical]) + graceMinutes,
    drill: maxCronGapMinutes([schedule.drill]) + graceMinutes,
  };
}

// ---------------------------------------------------------------- the sidecar script

export interface BackupApp {
  /** App name as configured (may contain '-'); names the dump prefix. */
  name: string;
  database: string;
  owner: string;
}

export interface SidecarScriptInput {
  stanza: string;
  pgbackrestConf: string;
  pgData: string;
  socketDir: string;
  pgPort: number;
  /** Directory of postgres, psql, pg_dump, pg_restore, pg_isready, pg_ctl. */
  pgBinDir: string;
  /** Job state (health) and scratch space. */
  workDir: string;
  s3: S3Location;
  /** CA bundle for curl (same as pgBackRest's repo1-storage-ca-file). */
  caFile?: string;
  ageRecipient: string;
  apps: BackupApp[];
  schedule: BackupSchedule;
  limits: HealthLimits;
  /** Port of the throwaway drill server (socket only, never TCP). */
  drillPort: number;
  /** Seconds the drill may take to restore and recover before it counts as failed. */
  drillTimeoutSeconds: number;
  /** Seconds `init` waits for Postgres to accept connections. */
  initTimeoutSeconds: number;
}

/** Subcommands of the script, for runbooks and tests (argv after the script path). */
export const runbook = {
  /** Whole cluster to a point in time. Postgres must be stopped; `pgPath` restores elsewhere (tests, rehearsal). */
  restoreCluster: (target: string, pgPath?: string): string[] => ["restore-cluster", "--target", target, ...(pgPath ? ["--pg1-path", pgPath] : [])],
  /** One app's latest (or a named) logical dump into a new database on the live server. */
  restoreApp: (app: string, targetDatabase: string, key = "latest"): string[] => ["restore-app", app, key, targetDatabase],
  listDumps: (app: string): string[] => ["list-dumps", app],
  info: (): string[] => ["info"],
  drill: (): string[] => ["drill"],
  health: (): string[] => ["health"],
} as const;

export function renderSidecarScript(input: SidecarScriptInput): string {
  check(STANZA.test(input.stanza), "stanza", input.stanza);
  check(AGE_RECIPIENT.test(input.ageRecipient), "age recipient", input.ageRecipient);
  for (const a of input.apps) {
    check(APP.test(a.name), "app name", a.name);
    assertIdent(a.database, "database name");
    assertIdent(a.owner, "role name");
  }
  for (const [k, v] of Object.entries(input.limits)) check(Number.isInteger(v) && v > 0, `health limit ${k}`, v);
  check(Number.isInteger(input.drillTimeoutSeconds) && input.drillTimeoutSeconds > 0, "drillTimeoutSeconds", input.drillTimeoutSeconds);
  check(Number.isInteger(input.initTimeoutSeconds) && input.initTimeoutSeconds > 0, "initTimeoutSeconds", input.initTimeoutSeconds);
  const schedule: [string, string][] = [
    [input.schedule.full, "full"],
    [input.schedule.diff, "diff"],
    [input.schedule.logical, "logical"],
    [input.schedule.drill, "drill"],
  ];
  for (const [expr] of schedule) parseCron(expr); // throws on a bad expression
  const t = s3Target(input.s3);
  const q = shellQuote;
  const vars: [string, string][] = [
    ["STANZA", q(input.stanza)],
    ["PGBR_CONFIG", q(absPath(input.pgbackrestConf, "pgbackrestConf"))],
    ["PG_DATA", q(absPath(input.pgData, "pgData"))],
    ["PG_SOCKET", q(absPath(input.socketDir, "socketDir"))],
    ["PG_PORT", q(String(port(input.pgPort, "pgPort")))],
    ["PG_BIN", q(absPath(input.pgBinDir, "pgBinDir"))],
    ["WORK_DIR", q(absPath(input.workDir, "workDir"))],
    ["S3_BUCKET_URL", q(t.bucketUrl)],
    ["S3_REGION", q(t.region)],
    ["S3_CA_FILE", q(input.caFile ? absPath(input.caFile, "caFile") : "")],
    ["LOGICAL_PREFIX", q(LOGICAL_PREFIX)],
    ["AGE_RECIPIENT", q(input.ageRecipient)],
    ["DRILL_PORT", q(String(port(input.drillPort, "drillPort")))],
    ["DRILL_TIMEOUT", q(String(input.drillTimeoutSeconds))],
    ["INIT_TIMEOUT", q(String(input.initTimeoutSeconds))],
    ["LIMIT_BACKUP", q(String(input.limits.backup))],
    ["LIMIT_LOGICAL", q(String(input.limits.logical))],
    ["LIMIT_DRILL", q(String(input.limits.drill))],
  ];
  const apps = input.apps.map((a) => q(`${a.name}:${a.database}:${a.owner}`)).join(" ");
  const sched = schedule.map(([expr, job]) => q(`${expr.trim().split(/\s+/).join(" ")}|${job}`)).join(" ");
  return [
    "#!/usr/bin/env bash",
    "# hlpg-backup: scheduler, jobs, health check and restore runbooks of the backup sidecar.",
    "# Rendered by homelab-postgres (components/render/backup.ts); do not edit in the container.",
    "# Secrets are not in the container env: pgBackRest reads the cipher pass and S3 key from",
    "# its config file, and this script sources the file named by $" + SECRETS_FILE_ENV + " (when set) for",
    `# ${Object.values(SIDECAR_SECRET_VARS).join(", ")}.`,
    "set -Eeuo pipefail",
    "shopt -s inherit_errexit",
    "umask 077",
    `if [[ -n \${${SECRETS_FILE_ENV}:-} ]]; then`,
    `  [[ -r $${SECRETS_FILE_ENV} ]] || { echo "hlpg-backup: cannot read the secrets file $${SECRETS_FILE_ENV}" >&2; exit 1; }`,
    "  # shellcheck source=/dev/null",
    `  source "$${SECRETS_FILE_ENV}"`,
    "fi",
    "",
    ...vars.map(([k, v]) => `readonly ${k}=${v}`),
    `readonly APPS=(${apps})`,
    `readonly SCHEDULE=(${sched})`,
    "",
    sidecarScriptBody(),
  ].join("\n");
}

// The static part of the script lives in sidecar/hlpg-backup.sh (bash, `bash -n`
// clean, exercised by the tests through the rendered script). Every value it uses
// is one of the validated, quoted variables rendered above or comes from the
// environment at run time.
const SCRIPT_BODY_FILE = path.join(__dirname, "hlpg-backup.sh");
let scriptBody: string | undefined;
function sidecarScriptBody(): string {
  scriptBody ??= readFileSync(SCRIPT_BODY_FILE, "utf8");
  return scriptBody;
}

/** Stable digest of rendered text, for image tags and change triggers. */
export function digest(...parts: string[]): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(p).update("\0");
  return h.digest("hex");
}
