// A real PostgreSQL 15 with the rendered archive settings, pgBackRest with the
// rendered config, the rendered sidecar script reading the rendered runtime file,
// and an S3 endpoint on loopback: the pieces the backup tests (and
// bench/backup.ts) share. Paths, ports and timeouts are the only things that
// differ from the container.
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import type { Compression } from "../../../components/config";
import {
  AgeKey, BackupApp, DEFAULT_BACKUP_SCHEDULE, JobSchedule, SECRETS_FILE_ENV, SIDECAR_SECRET_VARS, SidecarRuntimeInput, ageKeyFromPassphrase,
  archiveSettings, healthLimits, renderPgBackRestConf, renderSidecarRuntime, renderSidecarScript, renderSidecarSecretsEnv,
} from "../../../components/backup";
import type { PostgresConfInput } from "../../../components/server/postgresql-conf";
import { PgInstance, RunResult, StartPgOptions, chownTree, freePort, pgBinDir, requireBinary, run, startPostgres, tempDir, writeFile } from "../harness";
import { S3Endpoint, startS3 } from "./s3-endpoint";

/**
 * pgBackRest's env form of its secret options (PGBACKREST_<OPTION>): how most tests
 * hand the secrets to the secret-free conf. The containers never use env for them.
 */
export const PGBACKREST_SECRET_ENV = {
  cipherPass: "PGBACKREST_REPO1_CIPHER_PASS",
  s3Key: "PGBACKREST_REPO1_S3_KEY",
  s3KeySecret: "PGBACKREST_REPO1_S3_KEY_SECRET",
} as const;

export interface BackupFixture {
  s3: S3Endpoint;
  pg: PgInstance;
  dir: string;
  stanza: string;
  confFile: string;
  scriptFile: string;
  /** The runtime file both scripts read (apps, schedule, limits, bucket), as the carrier delivers it. */
  runtimeFile: string;
  workDir: string;
  passphrase: string;
  age: AgeKey;
  /**
   * The secrets as env (pgBackRest's PGBACKREST_* options + the script's HLPG_*): how
   * most tests hand them to the secret-free conf and script. The containers do not
   * do this; see secretsConfFile / scriptFromFiles for their way.
   */
  env: Record<string, string>;
  /** pgbackrest.conf rendered WITH the secrets (0600), as the containers get it. */
  secretsConfFile: string;
  /** The sidecar's secrets file (0600), as the sidecar gets it. */
  secretsEnvFile: string;
  /** The script as the container has it: its conf is secretsConfFile (what scriptFromFiles runs). */
  filesScriptFile: string;
  /** The container's env for it: HLPG_SECRETS_FILE and TZ, no secret. */
  filesEnv: Record<string, string>;
  /** The posix repository's root (when `posix`), as the containers mount backup.posix.path. */
  posixDir?: string;
  /** Async archive-push's spool. */
  spoolDir: string;
  /** Runs the rendered sidecar script as the service user. */
  script(args: string[], env?: Record<string, string>, timeoutMs?: number): Promise<RunResult>;
  /**
   * Runs the sidecar script the way the container does: its conf is secretsConfFile and
   * its only env is HLPG_SECRETS_FILE + TZ (no secret in the environment).
   */
  scriptFromFiles(args: string[], timeoutMs?: number): Promise<RunResult>;
  /** Runs pgbackrest with the rendered config as the service user. */
  pgbackrest(args: string[], env?: Record<string, string>): Promise<RunResult>;
  /** Runs pgbackrest with secretsConfFile and no secret env, as both containers do. */
  pgbackrestFromConf(args: string[]): Promise<RunResult>;
  /** Starts Postgres on an existing (restored) data dir with the secrets archive-push and restore_command need. */
  startPostgres(existingDataDir: string): Promise<PgInstance>;
  /** Re-renders pgbackrest.conf (both forms) with another compression, as the carrier would: write, then rename. */
  writeConf(compression: Compression): void;
  /** Re-renders the runtime file with changes, as the carrier would (write, then rename); returns the runtime input now in force. */
  writeRuntime(over: Partial<SidecarRuntimeInput>): SidecarRuntimeInput;
  destroy(): Promise<void>;
}

export interface FixtureOptions {
  apps?: BackupApp[];
  compression?: Compression;
  schedule?: JobSchedule;
  archiveTimeout?: number;
  processMax?: number;
  memoryMb?: number;
  /** Full backups pgBackRest keeps (bench: several fulls side by side). Default 2. */
  retentionFull?: number;
  /** Seconds init retries stanza-create and check. Default 20. */
  repoRetrySeconds?: number;
  /** More of the server's render input (logging, audit...); archive and memory stay the fixture's. */
  conf?: Partial<PostgresConfInput>;
  /** Repositories: S3 (repo1, default on) and/or a posix directory (repo2, or repo1 alone). */
  s3?: boolean;
  posix?: boolean;
  /** archive-push-queue-max in MiB (async archiving, as the program renders it). Default 4096. */
  archiveQueueMaxMb?: number;
  /** Dumps encrypted to an operator's recipient instead of the derived key (backup.dumps.recipient). */
  dumpRecipient?: string;
  /** Dumps kept per app. */
  keep?: { daily: number; weekly: number; monthly: number };
  /** More of the harness's start options for the server (a TLS key pair, the replication line of pg_hba.conf). */
  server?: Pick<StartPgOptions, "extraFiles" | "hbaReplication">;
}

/** Writes a file the way RuntimeFiles' carrier does: a temp file beside it, then rename. */
function replaceFile(file: string, text: string, mode: number): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
  writeFile(tmp, text, mode);
  fs.renameSync(tmp, file);
}

/** Binaries the backup layer runs; missing ones fail the test with the package to install. */
export function requireBackupBinaries(): void {
  requireBinary("/usr/bin/pgbackrest", "pgbackrest");
  requireBinary("/usr/bin/age", "age");
  requireBinary("/usr/bin/curl", "curl");
  requireBinary("/usr/bin/openssl", "openssl");
  requireBinary("/usr/bin/flock", "util-linux");
  requireBinary("/usr/bin/jq", "jq");
  requireBinary("/usr/bin/xmllint", "libxml2-utils");
}

/**
 * Sets env vars only while Postgres is spawned (the harness hands process.env to
 * the server), so archive_command and restore_command see the secrets the
 * postgres container would get, and nothing else in the test process keeps them.
 */
async function withEnv<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

export async function startBackupFixture(opts: FixtureOptions = {}): Promise<BackupFixture> {
  requireBackupBinaries();
  // run() passes process.env on: a secret there would hide whether the files suffice
  for (const k of [...Object.values(PGBACKREST_SECRET_ENV), ...Object.values(SIDECAR_SECRET_VARS)]) {
    if (process.env[k] !== undefined) throw new Error(`${k} is set in the test environment; unset it`);
  }
  const s3 = await startS3();
  const dir = tempDir("backup");
  const stanza = "itest";
  const confFile = path.join(dir, "pgbackrest.conf");
  const scriptFile = path.join(dir, "hlpg-backup");
  const runtimeFile = path.join(dir, "runtime", "hlpg-backup.conf");
  const secretsConfFile = path.join(dir, "pgbackrest-secrets.conf");
  const secretsEnvFile = path.join(dir, "sidecar-secrets.env");
  const filesScriptFile = path.join(dir, "hlpg-backup-files");
  const workDir = path.join(dir, "work");
  const lockPath = path.join(dir, "lock");
  const spoolDir = path.join(dir, "spool");
  const posixDir = opts.posix ? path.join(dir, "posix-repo") : undefined;
  if (posixDir) {
    fs.mkdirSync(posixDir, { mode: 0o700 });
    chownTree(posixDir);
  }
  const useS3 = opts.s3 !== false;

  const passphrase = randomBytes(24).toString("base64url");
  const age = ageKeyFromPassphrase(passphrase);
  const env: Record<string, string> = {
    // repo1 is the bucket when there is one; a posix repository is repo2 beside it
    [PGBACKREST_SECRET_ENV.cipherPass]: passphrase,
    ...(useS3 ? { [PGBACKREST_SECRET_ENV.s3Key]: s3.accessKey, [PGBACKREST_SECRET_ENV.s3KeySecret]: s3.secretKey } : {}),
    ...(useS3 && posixDir ? { PGBACKREST_REPO2_CIPHER_PASS: passphrase } : {}),
    [SIDECAR_SECRET_VARS.ageIdentity]: age.identity,
    [SIDECAR_SECRET_VARS.s3Key]: s3.accessKey,
    [SIDECAR_SECRET_VARS.s3KeySecret]: s3.secretKey,
    TZ: "UTC",
  };
  const archive = archiveSettings({ stanza, configFile: confFile, timeoutSeconds: opts.archiveTimeout ?? 60 });
  const superPassword = `super-${randomBytes(12).toString("hex")}`;
  // A restored cluster carries the source's pg_authid: same superuser password.
  const start = (existingDataDir?: string) =>
    withEnv(env, () => startPostgres({ ...opts.server, conf: { ...opts.conf, archive, memoryMb: opts.memoryMb ?? 1024 }, existingDataDir, superPassword }));
  const pg = await start();
  const s3loc = { bucket: s3.bucket, region: s3.region, endpoint: s3.endpoint };
  const writeConf = (compression: Compression) => {
    const confInput = {
      stanza, s3: useS3 ? s3loc : undefined, posix: posixDir ? { path: posixDir } : undefined,
      archiveQueue: { spoolPath: spoolDir, maxMb: opts.archiveQueueMaxMb ?? 4096 }, compression, retentionFull: opts.retentionFull ?? 2, processMax: opts.processMax ?? 2,
      pgPath: pg.dataDir, socketPath: pg.socketDir, pgPort: pg.port, lockPath, caFile: s3.caFile,
    };
    replaceFile(confFile, renderPgBackRestConf(confInput), 0o644);
    replaceFile(secretsConfFile, renderPgBackRestConf(confInput, { cipherPass: passphrase, ...(useS3 ? { s3Key: s3.accessKey, s3KeySecret: s3.secretKey } : {}) }), 0o600);
  };
  writeConf(opts.compression ?? "zst");
  writeFile(secretsEnvFile, renderSidecarSecretsEnv({ s3Key: s3.accessKey, s3KeySecret: s3.secretKey, ageIdentity: age.identity }), 0o600);
  const schedule = opts.schedule ?? DEFAULT_BACKUP_SCHEDULE;
  let runtime: SidecarRuntimeInput = {
    s3: useS3 ? s3loc : undefined, caFile: useS3 ? s3.caFile : undefined, dumpDir: useS3 ? undefined : posixDir,
    ageRecipient: opts.dumpRecipient ?? age.recipient, dumpKey: opts.dumpRecipient ? "external" : "derived", keep: opts.keep,
    apps: opts.apps ?? [], schedule, limits: healthLimits(schedule),
  };
  const writeRuntime = (over: Partial<SidecarRuntimeInput>) => {
    runtime = { ...runtime, ...over };
    replaceFile(runtimeFile, renderSidecarRuntime(runtime), 0o444);
    return runtime;
  };
  writeRuntime({});
  const scriptInput = {
    stanza, pgbackrestConf: confFile, runtimeFile, pgData: pg.dataDir, socketDir: pg.socketDir, pgPort: pg.port, pgBinDir: pgBinDir(),
    workDir, drillPort: await freePort(), drillTimeoutSeconds: 120, initTimeoutSeconds: 30, repoRetrySeconds: opts.repoRetrySeconds ?? 20,
  };
  writeFile(scriptFile, renderSidecarScript(scriptInput), 0o755);
  writeFile(filesScriptFile, renderSidecarScript({ ...scriptInput, pgbackrestConf: secretsConfFile }), 0o755);
  // what the containers' env holds: no secret
  const filesEnv = { [SECRETS_FILE_ENV]: secretsEnvFile, TZ: "UTC" };
  const fixture: BackupFixture = {
    s3, pg, dir, stanza, confFile, scriptFile, runtimeFile, workDir, passphrase, age, env, secretsConfFile, secretsEnvFile, filesScriptFile, filesEnv, posixDir, spoolDir,
    script: (args, extra = {}, timeoutMs = 150_000) => run(scriptFile, args, { env: { ...env, ...extra }, timeoutMs }),
    scriptFromFiles: (args, timeoutMs = 150_000) => run(filesScriptFile, args, { env: filesEnv, timeoutMs }),
    pgbackrest: (args, extra = {}) => run("/usr/bin/pgbackrest", [`--config=${confFile}`, `--stanza=${stanza}`, ...args], { env: { ...env, ...extra } }),
    pgbackrestFromConf: (args) => run("/usr/bin/pgbackrest", [`--config=${secretsConfFile}`, `--stanza=${stanza}`, ...args], { env: { TZ: "UTC" } }),
    startPostgres: (existingDataDir) => start(existingDataDir),
    writeConf,
    writeRuntime,
    async destroy() {
      await pg.destroy();
      await s3.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return fixture;
}

/** Fails with the script's output unless it exited 0. */
export function expectOk(r: RunResult, what: string): RunResult {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r;
}

/** Server-clock timestamp in UTC, in the form pgBackRest's --target and Postgres accept. */
export async function serverNow(pg: PgInstance): Promise<string> {
  const c = await pg.connect();
  try {
    const { rows } = await c.query("select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00' as t");
    return rows[0].t as string;
  } finally {
    await c.end();
  }
}

/** Switches WAL and waits until the segment holding everything so far is in the archive. */
export async function archiveCurrentWal(pg: PgInstance, timeoutMs = 60_000): Promise<string> {
  const c = await pg.connect();
  try {
    const { rows } = await c.query("select pg_walfile_name(pg_switch_wal()) as wal");
    const wal = rows[0].wal as string;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await c.query("select last_archived_wal, last_failed_wal from pg_stat_archiver");
      const last = s.rows[0].last_archived_wal as string | null;
      if (last !== null && last >= wal) return wal;
      if (Date.now() > deadline) throw new Error(`WAL ${wal} not archived within ${timeoutMs} ms (last archived ${last}, last failed ${s.rows[0].last_failed_wal})`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await c.end();
  }
}

/** Per table: row count and md5 of all rows in primary-key order. */
export async function tableFingerprints(pg: PgInstance, database: string): Promise<Record<string, { rows: number; md5: string }>> {
  const c = await pg.connect({ database });
  try {
    const { rows: tables } = await c.query(
      "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind = 'r' and n.nspname = 'public' order by 1",
    );
    const out: Record<string, { rows: number; md5: string }> = {};
    for (const { relname } of tables as { relname: string }[]) {
      const ident = `"${relname.replace(/"/g, '""')}"`;
      const { rows } = await c.query(`select count(*)::int as n, coalesce(md5(string_agg(t::text, '|' order by t::text)), '') as h from ${ident} t`);
      out[relname] = { rows: rows[0].n as number, md5: rows[0].h as string };
    }
    return out;
  } finally {
    await c.end();
  }
}
