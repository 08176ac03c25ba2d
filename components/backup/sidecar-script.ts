// The sidecar script, pure: a header of validated, single-quoted settings that
// are fixed for the stack's life (stanza, paths, ports, timeouts, and the jobs
// table of the code: which function each job runs and its health group)
// followed by the static body, the bash parts in hlpg-backup/ (core, runtime, S3,
// repository, jobs, schedule, commands). What changes with the stack config (apps,
// schedule, health limits, bucket) is not in it: the script reads that from the
// runtime file (sidecar-runtime.ts) when it runs, so the same text serves every
// config and an app or schedule change does not replace the sidecar. The
// container and the integration tests render the same function; only paths,
// ports and timeouts differ.
import { readFileSync } from "fs";
import * as path from "path";
import { STANZA, assertAbsPath } from "../lib/names";
import { shellQuote } from "../lib/quote";
import { check, checkPort } from "./check";
import { BACKUP_JOBS, HEALTH_GROUPS } from "../config";
import { GLOBALS_DIR, LOGICAL_PREFIX, SECRETS_FILE_ENV, SIDECAR_SECRET_VARS } from "./layout";
import { RestoreTarget, restoreTargetText } from "../lib/restore-target";

export interface SidecarScriptInput {
  /** pgBackRest stanza. */
  stanza: string;
  /** pgbackrest.conf the script passes to every pgbackrest call. */
  pgbackrestConf: string;
  /** The runtime file (renderSidecarRuntime) the script reads the stack's apps, schedule, limits and bucket from. */
  runtimeFile: string;
  /** The server's PGDATA (restore-cluster refuses while a server runs on it). */
  pgData: string;
  /** Directory of the server's unix socket. */
  socketDir: string;
  /** The server's port. */
  pgPort: number;
  /** Directory of postgres, psql, pg_dump, pg_restore, pg_isready, pg_ctl. */
  pgBinDir: string;
  /** Job state (health) and scratch space. */
  workDir: string;
  /** Port of the throwaway drill server (socket only, never TCP). */
  drillPort: number;
  /** Seconds the drill may take to restore and recover before it counts as failed. */
  drillTimeoutSeconds: number;
  /** Seconds `init` waits for Postgres to accept connections. */
  initTimeoutSeconds: number;
  /**
   * Seconds `init` keeps retrying stanza-create and check (with backoff) before it
   * fails: a new bucket's key and policy take a while to work (IAM is eventually consistent).
   */
  repoRetrySeconds: number;
}

/** Subcommands of the script, for runbooks and tests (argv after the script path). */
export const runbook = {
  /** Whole cluster to a point in time. Postgres must be stopped; `pgPath` restores elsewhere (tests, rehearsal). */
  restoreCluster: (target: string, pgPath?: string): string[] => ["restore-cluster", "--target", target, ...(pgPath ? ["--pg1-path", pgPath] : [])],
  /** Whole cluster to any target form (time, backup label, xid, LSN, latest), from one repository if `repo` is given. */
  restoreClusterTo: (target: RestoreTarget, opts: { pgPath?: string; repo?: number } = {}): string[] => [
    "restore-cluster",
    ...(target.kind === "latest" ? ["--latest"] : [`--${target.kind}`, target.kind === "xid" || target.kind === "lsn" ? target.value : restoreTargetText(target)]),
    ...(opts.repo !== undefined ? ["--repo", String(opts.repo)] : []),
    ...(opts.pgPath ? ["--pg1-path", opts.pgPath] : []),
  ],
  /** One app's latest (or a named) logical dump into a new database on the live server. */
  restoreApp: (app: string, targetDatabase: string, key = "latest"): string[] => ["restore-app", app, key, targetDatabase],
  listDumps: (app: string): string[] => ["list-dumps", app],
  info: (): string[] => ["info"],
  drill: (): string[] => ["drill"],
  health: (): string[] => ["health"],
} as const;

// Job, group and function names become bash array subscripts and words: plain only.
const JOB_WORD = /^[a-z][a-z0-9_]{0,31}$/;
const JOB_FUNCTION = /^job_[a-z0-9_]{1,32}$/;

/** `declare -rA NAME=([key]='value' ...)`; keys are checked plain words. */
function assocArray(name: string, entries: [string, string][]): string {
  for (const [k] of entries) check(JOB_WORD.test(k), `${name} key`, k);
  return `declare -rA ${name}=(${entries.map(([k, v]) => `[${k}]=${shellQuote(v)}`).join(" ")})`;
}

export function renderSidecarScript(input: SidecarScriptInput): string {
  check(STANZA.test(input.stanza), "stanza", input.stanza);
  for (const j of BACKUP_JOBS) {
    check(JOB_WORD.test(j.name) && JOB_WORD.test(j.group), "job or group name", j);
    check(JOB_FUNCTION.test(j.run), "job function", j.run);
  }
  for (const [what, n] of [["drillTimeoutSeconds", input.drillTimeoutSeconds], ["initTimeoutSeconds", input.initTimeoutSeconds], ["repoRetrySeconds", input.repoRetrySeconds]] as const) {
    check(Number.isInteger(n) && n > 0, what, n);
  }
  const q = shellQuote;
  const vars: [string, string][] = [
    ["STANZA", q(input.stanza)],
    ["PGBR_CONFIG", q(assertAbsPath(input.pgbackrestConf, "pgbackrestConf"))],
    ["RUNTIME_FILE", q(assertAbsPath(input.runtimeFile, "runtimeFile"))],
    ["PG_DATA", q(assertAbsPath(input.pgData, "pgData"))],
    ["PG_SOCKET", q(assertAbsPath(input.socketDir, "socketDir"))],
    ["PG_PORT", q(String(checkPort(input.pgPort, "pgPort")))],
    ["PG_BIN", q(assertAbsPath(input.pgBinDir, "pgBinDir"))],
    ["WORK_DIR", q(assertAbsPath(input.workDir, "workDir"))],
    ["LOGICAL_PREFIX", q(LOGICAL_PREFIX)],
    ["GLOBALS_DIR", q(GLOBALS_DIR)],
    ["DRILL_PORT", q(String(checkPort(input.drillPort, "drillPort")))],
    ["DRILL_TIMEOUT", q(String(input.drillTimeoutSeconds))],
    ["INIT_TIMEOUT", q(String(input.initTimeoutSeconds))],
    ["REPO_RETRY_SECONDS", q(String(input.repoRetrySeconds))],
  ];
  return [
    "#!/usr/bin/env bash",
    "# hlpg-backup: scheduler, jobs, health check and restore runbooks of the backup sidecar.",
    "# Rendered by homelab-postgres (components/backup/sidecar-script.ts); do not edit in the container.",
    "# The stack's apps, schedule, health limits and bucket are read from $RUNTIME_FILE when it runs.",
    "# Secrets are not in the container env: pgBackRest reads the cipher pass and S3 key from",
    "# its config file, and this script sources the file named by $" + SECRETS_FILE_ENV + " (when set) with",
    `# the runtime file, for ${Object.values(SIDECAR_SECRET_VARS).join(", ")}.`,
    "set -Eeuo pipefail",
    "shopt -s inherit_errexit",
    "umask 077",
    "",
    ...vars.map(([k, v]) => `readonly ${k}=${v}`),
    "# The jobs table of the code (components/config/backup-jobs.ts): the jobs in table order, what",
    "# each runs and its health group. Their schedules and the groups' limits are in the runtime file.",
    `readonly JOBS=(${BACKUP_JOBS.map((j) => q(j.name)).join(" ")})`,
    assocArray("JOB_FUNCTION", BACKUP_JOBS.map((j) => [j.name, j.run])),
    assocArray("JOB_GROUP", BACKUP_JOBS.map((j) => [j.name, j.group])),
    `readonly HEALTH_GROUPS=(${HEALTH_GROUPS.map((g) => q(g)).join(" ")})`,
    "",
    sidecarScriptBody(),
  ].join("\n");
}

// The static part of the script lives in hlpg-backup/ beside this file, one bash
// file per concern (`bash -n` clean, exercised by the tests through the rendered
// script). Every value it uses is one of the validated, quoted variables rendered
// above, a line of the runtime file it validates itself, or comes from the
// environment at run time.
const SCRIPT_DIR = path.join(__dirname, "hlpg-backup");
/** The parts in the order they are concatenated: later parts use what earlier ones define. */
export const SCRIPT_PARTS = ["core.sh", "runtime.sh", "s3.sh", "repository.sh", "jobs.sh", "schedule.sh", "observe.sh", "commands.sh"] as const;
let scriptBody: string | undefined;

/** The static body of the script (the parts of hlpg-backup/, in order), read once. */
export function sidecarScriptBody(): string {
  scriptBody ??= SCRIPT_PARTS.map((part) => readFileSync(path.join(SCRIPT_DIR, part), "utf8")).join("\n");
  return scriptBody;
}
