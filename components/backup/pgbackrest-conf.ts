// pgBackRest's side of the backups, pure: the stanza and repository path, the
// pgbackrest.conf both containers use, and the archive_command Postgres runs.
//
// Secrets never reach container env (docker inspect shows env in clear; policy
// no-passwords-in-container-config): the repo cipher pass and S3 key are rendered
// into pgbackrest.conf (renderPgBackRestConf's `secrets`), delivered 0600 and kept
// a Pulumi secret. Without `secrets` the conf is secret-free text for inspection
// and tests.
import type { Compression } from "../config";
import { STANZA, assertAbsPath } from "../lib/names";
import { confValueProblem } from "../lib/quote";
import { check, checkPort } from "./check";
import { S3Location, s3Target } from "./s3";

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

/** A repository on a filesystem path (a NAS mount, a second disk), mounted at `path` in both containers. */
export interface PosixRepo {
  /** Absolute path of the repository root inside the containers; the stanza's repository is `<path>/pgbackrest/<stanza>`. */
  path: string;
}

/** Which repositories a conf has, in pgBackRest's numbering: the bucket is repo1 when there is one. */
export interface RepoSpec {
  index: number;
  type: "s3" | "posix";
}

/** The repositories of a conf input: S3 first (repo1, as before posix existed), then posix. */
export function repoList(input: { s3?: S3Location; posix?: PosixRepo }): RepoSpec[] {
  const out: RepoSpec[] = [];
  if (input.s3) out.push({ index: out.length + 1, type: "s3" });
  if (input.posix) out.push({ index: out.length + 1, type: "posix" });
  if (out.length === 0) throw new Error("a pgBackRest conf needs at least one repository (s3 or posix)");
  return out;
}

/** Async archive-push: WAL segments queue in pg_wal while the repository is unreachable, up to this bound. */
export interface ArchiveQueue {
  /** spool-path: status files of the async archiver; on local disk (the data volume, outside PGDATA). */
  spoolPath: string;
  /** archive-push-queue-max in MiB: past it, pgBackRest reports queued WAL archived and DROPS it (PITR breaks there) so pg_wal cannot fill the disk. */
  maxMb: number;
}

export interface PgBackRestConfInput {
  /** The stanza (stanzaName of the stack). */
  stanza: string;
  /** Where the repository's bucket is; absent when the only repository is posix. */
  s3?: S3Location;
  /** A repository on a host path (repo2 beside S3, or repo1 alone). */
  posix?: PosixRepo;
  /** Async archiving's spool and queue bound; absent: synchronous archive-push. */
  archiveQueue?: ArchiveQueue;
  /** pgBackRest compress-type. */
  compression: Compression;
  /** Full backups kept; older fulls, their differentials and their WAL are expired. */
  retentionFull: number;
  /** Parallel compress/transfer processes for backup and restore. */
  processMax: number;
  /** PGDATA of the server (pg1-path). */
  pgPath: string;
  /** Directory of the server's unix socket. */
  socketPath: string;
  /** The server's port (the socket file's name carries it). */
  pgPort: number;
  /** pgBackRest's lock directory. */
  lockPath: string;
  /** CA bundle for a store with a private CA (the tests' throwaway certificate). */
  caFile?: string;
}

/** The secret pgBackRest options; rendered into pgbackrest.conf when given. */
export interface PgBackRestSecrets {
  /** repo1-cipher-pass: the backup passphrase. */
  cipherPass: string;
  /** repo1-s3-key (absent when there is no S3 repository). */
  s3Key?: string;
  /** repo1-s3-key-secret. */
  s3KeySecret?: string;
}

// pgBackRest takes the rest of the line literally (no quoting, no escapes) and trims its
// ends: any printable text survives but blanks at the ends and line breaks (confValueProblem).
function confSecret(value: string, what: string): string {
  const problem = confValueProblem(value);
  // never echo the value itself
  if (problem) throw new Error(`invalid ${what} for pgbackrest.conf: it ${problem}`);
  return value;
}

function iniLine(key: string, value: string | number): string {
  const v = String(value);
  // pgBackRest takes the rest of the line literally: no quoting exists, so only plain values pass.
  check(/^[A-Za-z0-9._/:@-]+$/.test(v), `pgbackrest.conf value of ${key}`, v);
  return `${key}=${v}`;
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
  const repos = repoList(input);
  const global: [string, string | number][] = [];
  const secretLines: string[] = [];
  for (const r of repos) {
    const k = `repo${r.index}`;
    if (r.type === "s3") {
      const t = s3Target(input.s3!);
      global.push(
        [`${k}-type`, "s3"],
        [`${k}-s3-bucket`, t.bucket],
        [`${k}-s3-region`, t.region],
        [`${k}-s3-endpoint`, t.host],
        [`${k}-storage-port`, t.port],
        [`${k}-s3-uri-style`, t.uriStyle],
        ...(input.caFile ? ([[`${k}-storage-ca-file`, assertAbsPath(input.caFile, "caFile")]] as [string, string][]) : []),
        [`${k}-path`, repoPath(stanza)],
      );
    } else {
      global.push([`${k}-type`, "posix"], [`${k}-path`, posixRepoPath(input.posix!.path, stanza)]);
    }
    global.push(
      // Encrypted before it leaves the host: the bucket (and whoever reads it) sees ciphertext only.
      [`${k}-cipher-type`, "aes-256-cbc"],
      [`${k}-retention-full-type`, "count"],
      [`${k}-retention-full`, input.retentionFull],
    );
    // Small files are bundled: far fewer PUTs, which is what makes an object store fast.
    if (r.type === "s3") global.push([`${k}-bundle`, "y"]);
    if (secrets) {
      secretLines.push(`${k}-cipher-pass=${confSecret(secrets.cipherPass, `${k}-cipher-pass`)}`);
      if (r.type === "s3") {
        if (secrets.s3Key === undefined || secrets.s3KeySecret === undefined) throw new Error(`${k} is an S3 repository: its key and secret are required`);
        secretLines.push(`${k}-s3-key=${confSecret(secrets.s3Key, `${k}-s3-key`)}`, `${k}-s3-key-secret=${confSecret(secrets.s3KeySecret, `${k}-s3-key-secret`)}`);
      }
    }
  }
  global.push(
    ["compress-type", input.compression],
    ["process-max", input.processMax],
    // Checkpoint immediately instead of waiting for the next one: backups start now.
    ["start-fast", "y"],
    ["lock-path", assertAbsPath(input.lockPath, "lockPath")],
    // Console only: docker logs is the log; no log files to rotate inside containers.
    ["log-level-console", "info"],
    ["log-level-stderr", "off"],
    ["log-level-file", "off"],
  );
  const q = input.archiveQueue;
  if (q) check(Number.isInteger(q.maxMb) && q.maxMb >= 16 && q.maxMb <= 1024 * 1024, "archive queue max (MiB)", q.maxMb);
  // archive-push runs once per WAL segment inside Postgres. Async (only for push: archive-get
  // stays synchronous): an unreachable repository makes segments queue in pg_wal, up to
  // archive-push-queue-max, and every queued one goes up when it is back. Without a queue: sync.
  const push: [string, string | number][] = q
    ? [["archive-async", "y"], ["spool-path", assertAbsPath(q.spoolPath, "spoolPath")], ["archive-push-queue-max", `${q.maxMb}MiB`]]
    : [["archive-async", "n"]];
  const section: [string, string | number][] = [
    ["pg1-path", assertAbsPath(input.pgPath, "pgPath")],
    ["pg1-socket-path", assertAbsPath(input.socketPath, "socketPath")],
    ["pg1-port", checkPort(input.pgPort, "pgPort")],
    ["pg1-user", "postgres"],
  ];
  const secretNames = repos.flatMap((r) => [`repo${r.index}-cipher-pass`, ...(r.type === "s3" ? [`repo${r.index}-s3-key`, `repo${r.index}-s3-key-secret`] : [])]);
  const lines = [
    secrets
      ? "# Rendered by homelab-postgres. Holds the repository cipher pass and S3 key: keep it 0600."
      : `# Rendered by homelab-postgres. Secret-free rendering: the deployed file adds ${secretNames.join(", ")}.`,
    "[global]",
    ...global.map(([k, v]) => iniLine(k, v)),
    ...secretLines,
    "",
    "[global:archive-push]",
    // keep its console quiet unless it fails
    iniLine("log-level-console", "warn"),
    ...push.map(([k, v]) => iniLine(k, v)),
    "",
    `[${stanza}]`,
    ...section.map(([k, v]) => iniLine(k, v)),
  ];
  return lines.join("\n") + "\n";
}

/** The stanza's repository inside a posix repository root. */
export function posixRepoPath(root: string, stanza: string): string {
  return `${assertAbsPath(root, "posix repository path").replace(/\/+$/, "")}${repoPath(stanza)}`;
}

export interface ArchiveInput {
  /** The stanza archive-push writes to. */
  stanza: string;
  /**
   * The config archive-push reads (on every call, so a new file applies to the next
   * segment): CONTAINER_PATHS.pgbackrestConf in the container, a temp file in tests.
   * Absent: pgBackRest's default /etc/pgbackrest/pgbackrest.conf.
   */
  configFile?: string;
  /** archive_timeout in seconds: the RPO bound for a quiet database. */
  timeoutSeconds: number;
}

/** archive_command and archive_timeout for renderPostgresqlConf's `archive`. */
export function archiveSettings(input: ArchiveInput): { command: string; timeoutSeconds: number } {
  check(STANZA.test(input.stanza), "stanza", input.stanza);
  check(Number.isInteger(input.timeoutSeconds) && input.timeoutSeconds >= 1 && input.timeoutSeconds <= 60, "archive timeout (1-60 s)", input.timeoutSeconds);
  const config = input.configFile ? ` --config=${assertAbsPath(input.configFile, "configFile")}` : "";
  return { command: `pgbackrest${config} --stanza=${input.stanza} archive-push %p`, timeoutSeconds: input.timeoutSeconds };
}

/**
 * restore_command of a standby (or any recovery): pgBackRest archive-get of the
 * segment PostgreSQL asks for, from the first repository that has it.
 */
export function archiveGetCommand(input: { stanza: string; configFile: string }): string {
  check(STANZA.test(input.stanza), "stanza", input.stanza);
  return `pgbackrest --config=${assertAbsPath(input.configFile, "configFile")} --stanza=${input.stanza} archive-get %f "%p"`;
}
