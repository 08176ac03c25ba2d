// The backup jobs, declared once. The sidecar script's schedule, job→group map
// and per-group health limits, the config defaults and the jobs table in
// docs/backup.md are all produced from BACKUP_JOBS. Adding a job: one row here
// and its bash function in hlpg-backup/jobs.sh (plus its key in the config schema).
// Pure; imports only components/lib.
import { maxCronGapMinutes } from "../lib/cron";

export interface BackupJob {
  /** `hlpg-backup <name>` runs it now; `backup.schedule.<name>` schedules it. */
  readonly name: string;
  /** Default cron expression (5 fields, UTC). */
  readonly defaultSchedule: string;
  /**
   * Health group: jobs of one group share a lock (one run at a time), a state
   * file and an age limit; a success of any of them keeps the group green.
   */
  readonly group: string;
  /** The bash function in hlpg-backup/jobs.sh that does the work. */
  readonly run: string;
  /** One line for the docs. */
  readonly description: string;
}

export const BACKUP_JOBS = [
  {
    name: "full", defaultSchedule: "15 2 * * 0", group: "backup", run: "job_full",
    description: "full physical backup (`pgbackrest --type=full backup`); expires fulls beyond `retention.full`",
  },
  {
    name: "diff", defaultSchedule: "15 2 * * 1-6", group: "backup", run: "job_diff",
    description: "differential physical backup against the last full",
  },
  {
    name: "logical", defaultSchedule: "45 2 * * *", group: "logical", run: "job_logical",
    description: "per app: `pg_dump -Fc`, age-encrypted, uploaded to `logical/<app>/<UTC stamp>.dump.age`",
  },
  {
    name: "drill", defaultSchedule: "30 4 * * 6", group: "drill", run: "job_drill",
    description: "restore drill: latest backup + WAL into scratch, read every app table, decrypt the latest dump of every app",
  },
] as const satisfies readonly BackupJob[];

export type BackupJobName = (typeof BACKUP_JOBS)[number]["name"];
export type HealthGroup = (typeof BACKUP_JOBS)[number]["group"];
/** A cron expression per job (config's `backup.schedule`). */
export type JobSchedule = Record<BackupJobName, string>;
/** Minutes since the last good run of a group before health turns red. */
export type HealthLimits = Record<HealthGroup, number>;

export const DEFAULT_BACKUP_SCHEDULE: JobSchedule = Object.fromEntries(BACKUP_JOBS.map((j) => [j.name, j.defaultSchedule])) as JobSchedule;

/** The health groups in table order. */
export const HEALTH_GROUPS: readonly HealthGroup[] = [...new Set(BACKUP_JOBS.map((j) => j.group))];

/** Extra minutes a group may take beyond the longest gap of its schedule before health turns red. */
export const HEALTH_GRACE_MINUTES = 6 * 60;

/** Per group: the longest gap between firings of its jobs' schedules, plus the grace. */
export function healthLimits(schedule: JobSchedule, graceMinutes = HEALTH_GRACE_MINUTES): HealthLimits {
  return Object.fromEntries(
    HEALTH_GROUPS.map((g) => [g, maxCronGapMinutes(BACKUP_JOBS.filter((j) => j.group === g).map((j) => schedule[j.name])) + graceMinutes]),
  ) as HealthLimits;
}

/** "30 h", "7 d 6 h": how the docs say a limit. */
export function formatMinutes(minutes: number): string {
  if (minutes % 60 !== 0) return `${minutes} min`;
  const hours = minutes / 60;
  if (hours < 48) return `${hours} h`;
  return hours % 24 === 0 ? `${hours / 24} d` : `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** The jobs table of docs/backup.md (Markdown), from BACKUP_JOBS and the default schedule's limits. */
export function renderJobsTable(): string {
  const limits = healthLimits(DEFAULT_BACKUP_SCHEDULE);
  return [
    "| job | default `backup.schedule.<job>` (UTC) | health group | group red after (defaults) | bash function | what it does |",
    "|---|---|---|---|---|---|",
    ...BACKUP_JOBS.map((j) =>
      `| \`${j.name}\` | \`${j.defaultSchedule}\` | \`${j.group}\` | ${formatMinutes(limits[j.group])} | \`${j.run}\` | ${j.description} |`),
  ].join("\n");
}

export const JOBS_TABLE_BEGIN = "<!-- BEGIN jobs table: generated from components/backup/jobs.ts (renderJobsTable); do not edit by hand -->";
export const JOBS_TABLE_END = "<!-- END jobs table -->";

/** `markdown` with the text between the jobs-table markers replaced by renderJobsTable(). */
export function withJobsTable(markdown: string): string {
  const begin = markdown.indexOf(JOBS_TABLE_BEGIN);
  const end = markdown.indexOf(JOBS_TABLE_END);
  if (begin < 0 || end < begin) throw new Error("the jobs-table markers are missing or out of order");
  return `${markdown.slice(0, begin + JOBS_TABLE_BEGIN.length)}\n${renderJobsTable()}\n${markdown.slice(end)}`;
}
