// The sidecar's runtime file, pure: what changes with the stack (the bucket the
// dumps go to, the dumps' age recipient, the apps, the schedule and the health
// limits) as tab-separated data lines. RuntimeFiles delivers it into a volume the
// sidecar mounts read-only; hlpg-backup reads it every scheduler minute and at
// the start of every command (hlpg-backup/runtime.sh, which validates every line
// again), so a change of apps or schedule replaces only the small carrier and
// restarts no container. The script itself stays the same text.
import { cronProblem } from "../lib/cron";
import { APP_NAME, assertAbsPath, assertIdent } from "../lib/names";
import { AGE_RECIPIENT } from "./age-key";
import { check } from "./check";
import { BACKUP_JOBS, HEALTH_GROUPS, HealthLimits, JobSchedule } from "../config";
import { S3Location, s3Target } from "./s3";

export interface BackupApp {
  /** App name as configured (may contain '-'); names the dump prefix. */
  name: string;
  /** The app's database. */
  database: string;
  /** The app's owner role; restore-app creates the new database owned by it. */
  owner: string;
}

/** Logical dumps kept per app (and for the globals): grandfather-father-son. */
export interface DumpKeep {
  daily: number;
  weekly: number;
  monthly: number;
}

export interface SidecarRuntimeInput {
  /** Where the dumps go (curl); absent: `dumpDir`. */
  s3?: S3Location;
  /** Without a bucket: the directory (the posix repository's mount) the dumps go to. */
  dumpDir?: string;
  /** `external`: ageRecipient is the operator's (backup.dumps.recipient), the sidecar cannot decrypt. Default derived. */
  dumpKey?: "derived" | "external";
  /** Dumps kept; default 7/4/3. */
  keep?: DumpKeep;
  /** CA bundle for curl (same as pgBackRest's repo1-storage-ca-file); the tests' throwaway certificate. */
  caFile?: string;
  /** age1...: the dumps are encrypted to it. */
  ageRecipient: string;
  /** Apps whose databases are dumped, drilled and restorable. */
  apps: BackupApp[];
  /** A cron expression per job of BACKUP_JOBS (UTC). */
  schedule: JobSchedule;
  /** Minutes per health group (healthLimits of the schedule). */
  limits: HealthLimits;
}

/** One data line: fields joined by tabs; no field may hold a tab or a line break. */
function line(...fields: string[]): string {
  for (const f of fields) check(f !== "" && !/[\t\r\n\0]/.test(f), "runtime file field", f);
  return fields.join("\t");
}

/**
 * The runtime file: `kind<TAB>field...` lines (`s3-url`, `s3-region`, `s3-ca-file`,
 * `age-recipient`, `app name database owner`, `schedule job cron`, `limit group
 * minutes`). Every value is validated here and again by the script.
 */
export function renderSidecarRuntime(input: SidecarRuntimeInput): string {
  check(AGE_RECIPIENT.test(input.ageRecipient), "age recipient", input.ageRecipient);
  for (const a of input.apps) {
    check(APP_NAME.test(a.name), "app name", a.name);
    assertIdent(a.database, "database name");
    assertIdent(a.owner, "role name");
  }
  check(new Set(input.apps.map((a) => a.name)).size === input.apps.length, "app list (a name twice)", input.apps.map((a) => a.name));
  for (const j of BACKUP_JOBS) {
    const problem = cronProblem(input.schedule[j.name]);
    if (problem !== undefined) throw new Error(`invalid schedule of job ${j.name}: ${problem}`);
  }
  for (const g of HEALTH_GROUPS) check(Number.isInteger(input.limits[g]) && input.limits[g] > 0, `health limit ${g}`, input.limits[g]);
  const t = input.s3 ? s3Target(input.s3) : undefined;
  check(t !== undefined || input.dumpDir !== undefined, "runtime: a bucket or a dump directory", input.dumpDir);
  const keep = input.keep ?? { daily: 7, weekly: 4, monthly: 3 };
  check(Number.isInteger(keep.daily) && keep.daily >= 1 && keep.daily <= 999, "keep.daily", keep.daily);
  for (const n of [keep.weekly, keep.monthly]) check(Number.isInteger(n) && n >= 0 && n <= 999, "keep", n);
  return [
    "# hlpg-backup runtime file, rendered by homelab-postgres (components/backup/sidecar-runtime.ts) and",
    "# delivered by a RuntimeFiles carrier. hlpg-backup reads it every scheduler minute and when a command",
    "# starts; a change needs no restart. Tab-separated: kind, then its fields.",
    ...(t ? [line("s3-url", t.bucketUrl), line("s3-region", t.region)] : []),
    ...(t && input.caFile ? [line("s3-ca-file", assertAbsPath(input.caFile, "caFile"))] : []),
    ...(!t && input.dumpDir ? [line("dump-dir", assertAbsPath(input.dumpDir, "dumpDir"))] : []),
    line("age-recipient", input.ageRecipient),
    ...(input.dumpKey === "external" ? [line("dump-key", "external")] : []),
    line("keep", String(keep.daily), String(keep.weekly), String(keep.monthly)),
    ...input.apps.map((a) => line("app", a.name, a.database, a.owner)),
    // one space between cron fields: the script's cron_match splits on single spaces
    ...BACKUP_JOBS.map((j) => line("schedule", j.name, input.schedule[j.name].trim().split(/\s+/).join(" "))),
    ...HEALTH_GROUPS.map((g) => line("limit", g, String(input.limits[g]))),
  ].join("\n") + "\n";
}
