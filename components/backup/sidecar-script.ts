// The sidecar script, pure: a header of validated, single-quoted settings (paths,
// S3 target, apps, and the schedule, job groups and health limits from the jobs
// table) followed by the static body, the bash parts in hlpg-backup/ (core, S3,
// repository, jobs, schedule, commands). The container and the integration tests render the same
// function; only paths, ports and the endpoint differ.
import { readFileSync } from "fs";
import * as path from "path";
import { cronProblem } from "../lib/cron";
import { APP_NAME, STANZA, assertAbsPath, assertIdent } from "../lib/names";
import { shellQuote } from "../lib/quote";
import { AGE_RECIPIENT } from "./age-key";
import { check, checkPort } from "./check";
import { BACKUP_JOBS, HEALTH_GROUPS, HealthLimits, JobSchedule } from "../config";
import { LOGICAL_PREFIX, SECRETS_FILE_ENV, SIDECAR_SECRET_VARS } from "./layout";
import { S3Location, s3Target } from "./s3";

export interface BackupApp {
  /** App name as configured (may contain '-'); names the dump prefix. */
  name: string;
  /** The app's database. */
  database: string;
  /** The app's owner role; restore-app creates the new database owned by it. */
  owner: string;
}

export interface SidecarScriptInput {
  /** pgBackRest stanza. */
  stanza: string;
  /** pgbackrest.conf the script passes to every pgbackrest call. */
  pgbackrestConf: string;
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
  /** Where the dumps go (curl). */
  s3: S3Location;
  /** CA bundle for curl (same as pgBackRest's repo1-storage-ca-file). */
  caFile?: string;
  /** age1...: the dumps are encrypted to it. */
  ageRecipient: string;
  /** Apps whose databases are dumped, drilled and restorable. */
  apps: BackupApp[];
  /** A cron expression per job of BACKUP_JOBS (UTC). */
  schedule: JobSchedule;
  /** Minutes per health group (healthLimits of the schedule). */
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
  check(AGE_RECIPIENT.test(input.ageRecipient), "age recipient", input.ageRecipient);
  for (const a of input.apps) {
    check(APP_NAME.test(a.name), "app name", a.name);
    assertIdent(a.database, "database name");
    assertIdent(a.owner, "role name");
  }
  for (const j of BACKUP_JOBS) {
    check(JOB_WORD.test(j.name) && JOB_WORD.test(j.group), "job or group name", j);
    check(JOB_FUNCTION.test(j.run), "job function", j.run);
    const problem = cronProblem(input.schedule[j.name]);
    if (problem !== undefined) throw new Error(`invalid schedule of job ${j.name}: ${problem}`);
  }
  for (const g of HEALTH_GROUPS) check(Number.isInteger(input.limits[g]) && input.limits[g] > 0, `health limit ${g}`, input.limits[g]);
  check(Number.isInteger(input.drillTimeoutSeconds) && input.drillTimeoutSeconds > 0, "drillTimeoutSeconds", input.drillTimeoutSeconds);
  check(Number.isInteger(input.initTimeoutSeconds) && input.initTimeoutSeconds > 0, "initTimeoutSeconds", input.initTimeoutSeconds);
  const t = s3Target(input.s3);
  const q = shellQuote;
  const vars: [string, string][] = [
    ["STANZA", q(input.stanza)],
    ["PGBR_CONFIG", q(assertAbsPath(input.pgbackrestConf, "pgbackrestConf"))],
    ["PG_DATA", q(assertAbsPath(input.pgData, "pgData"))],
    ["PG_SOCKET", q(assertAbsPath(input.socketDir, "socketDir"))],
    ["PG_PORT", q(String(checkPort(input.pgPort, "pgPort")))],
    ["PG_BIN", q(assertAbsPath(input.pgBinDir, "pgBinDir"))],
    ["WORK_DIR", q(assertAbsPath(input.workDir, "workDir"))],
    ["S3_BUCKET_URL", q(t.bucketUrl)],
    ["S3_REGION", q(t.region)],
    ["S3_CA_FILE", q(input.caFile ? assertAbsPath(input.caFile, "caFile") : "")],
    ["LOGICAL_PREFIX", q(LOGICAL_PREFIX)],
    ["AGE_RECIPIENT", q(input.ageRecipient)],
    ["DRILL_PORT", q(String(checkPort(input.drillPort, "drillPort")))],
    ["DRILL_TIMEOUT", q(String(input.drillTimeoutSeconds))],
    ["INIT_TIMEOUT", q(String(input.initTimeoutSeconds))],
  ];
  const apps = input.apps.map((a) => q(`${a.name}:${a.database}:${a.owner}`)).join(" ");
  // one space between fields: cron_match splits on single spaces
  const sched = BACKUP_JOBS.map((j) => q(`${input.schedule[j.name].trim().split(/\s+/).join(" ")}|${j.name}`)).join(" ");
  return [
    "#!/usr/bin/env bash",
    "# hlpg-backup: scheduler, jobs, health check and restore runbooks of the backup sidecar.",
    "# Rendered by homelab-postgres (components/backup/sidecar-script.ts); do not edit in the container.",
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
    "# The jobs table (components/config/backup-jobs.ts): cron|job, the jobs in table order, what each",
    "# runs and its health group, and per group the minutes after which health turns red.",
    `readonly SCHEDULE=(${sched})`,
    `readonly JOBS=(${BACKUP_JOBS.map((j) => q(j.name)).join(" ")})`,
    assocArray("JOB_FUNCTION", BACKUP_JOBS.map((j) => [j.name, j.run])),
    assocArray("JOB_GROUP", BACKUP_JOBS.map((j) => [j.name, j.group])),
    `readonly HEALTH_GROUPS=(${HEALTH_GROUPS.map((g) => q(g)).join(" ")})`,
    assocArray("HEALTH_LIMIT_MINUTES", HEALTH_GROUPS.map((g) => [g, String(input.limits[g])])),
    "",
    sidecarScriptBody(),
  ].join("\n");
}

// The static part of the script lives in hlpg-backup/ beside this file, one bash
// file per concern (`bash -n` clean, exercised by the tests through the rendered
// script). Every value it uses is one of the validated, quoted variables rendered
// above or comes from the environment at run time.
const SCRIPT_DIR = path.join(__dirname, "hlpg-backup");
/** The parts in the order they are concatenated: later parts use what earlier ones define. */
export const SCRIPT_PARTS = ["core.sh", "s3.sh", "repository.sh", "jobs.sh", "schedule.sh", "commands.sh"] as const;
let scriptBody: string | undefined;

/** The static body of the script (the parts of hlpg-backup/, in order), read once. */
export function sidecarScriptBody(): string {
  scriptBody ??= SCRIPT_PARTS.map((part) => readFileSync(path.join(SCRIPT_DIR, part), "utf8")).join("\n");
  return scriptBody;
}
