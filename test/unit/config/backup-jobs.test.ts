// The backup jobs table: the one declaration the sidecar script, the config
// defaults, the health limits and docs/backup.md are produced from.
import { readFileSync } from "fs";
import * as path from "path";
import { BackupSchedule, parseConfig } from "../../../components/config";
// the modules themselves, not the components/backup barrel: that one loads the
// docker/aws/command providers, seconds per test file under `npm run mutation`
import {
  BACKUP_JOBS, BackupJobName, DEFAULT_BACKUP_SCHEDULE, HEALTH_GRACE_MINUTES, HEALTH_GROUPS, JOBS_TABLE_BEGIN, JOBS_TABLE_END, JobSchedule,
  formatMinutes, healthLimits, renderJobsTable, withJobsTable,
} from "../../../components/config/backup-jobs";
import { sidecarScriptBody } from "../../../components/backup/sidecar-script";
import { maxCronGapMinutes } from "../../../components/lib/cron";

const DOCS = path.join(__dirname, "..", "..", "..", "docs", "backup.md");

// config's schedule type and the table's must name the same jobs (compile-time, both ways)
const fromConfig: JobSchedule = {} as BackupSchedule;
const toConfig: BackupSchedule = {} as JobSchedule;
void fromConfig;
void toConfig;

describe("the backup jobs table", () => {
  it("names each job once, with a bash function hlpg-backup/jobs.sh defines", () => {
    const names = BACKUP_JOBS.map((j) => j.name);
    expect(new Set(names).size).toBe(names.length);
    const body = sidecarScriptBody();
    const jobsPart = readFileSync(path.join(__dirname, "..", "..", "..", "components", "backup", "hlpg-backup", "jobs.sh"), "utf8");
    expect(body).toContain(jobsPart);
    for (const j of BACKUP_JOBS) {
      expect(j.run).toMatch(/^job_[a-z0-9_]+$/);
      expect(jobsPart).toMatch(new RegExp(`^${j.run}\\(\\) \\{`, "m"));
      expect(j.description).not.toMatch(/\n|\|/); // one table cell
    }
    // the bash reads groups and limits from the rendered data, not from its own copy
    expect(body).not.toMatch(/LIMIT_BACKUP|LIMIT_LOGICAL|LIMIT_DRILL|group_of|full\|diff\)/);
  });

  it("keeps today's defaults, and the config's defaults are the table's", () => {
    expect(DEFAULT_BACKUP_SCHEDULE).toEqual({ full: "15 2 * * 0", diff: "15 2 * * 1-6", logical: "45 2 * * *", drill: "30 4 * * 6" });
    expect(parseConfig("dev", { backup: { enabled: true, bucket: "b-1" } }).backup.schedule).toEqual(DEFAULT_BACKUP_SCHEDULE);
  });

  it("groups full and diff as `backup`; logical and drill are their own groups", () => {
    const group = Object.fromEntries(BACKUP_JOBS.map((j) => [j.name, j.group])) as Record<BackupJobName, string>;
    expect(group).toEqual({ full: "backup", diff: "backup", logical: "logical", drill: "drill" });
    expect(HEALTH_GROUPS).toEqual(["backup", "logical", "drill"]);
  });

  it("computes the health limit of each group from its jobs' schedules", () => {
    expect(healthLimits(DEFAULT_BACKUP_SCHEDULE)).toEqual({ backup: 1440 + HEALTH_GRACE_MINUTES, logical: 1440 + HEALTH_GRACE_MINUTES, drill: 7 * 1440 + HEALTH_GRACE_MINUTES });
    const schedule: JobSchedule = { ...DEFAULT_BACKUP_SCHEDULE, full: "0 1 1 * *", diff: "0 1 15 * *" };
    expect(healthLimits(schedule, 0).backup).toBe(maxCronGapMinutes(["0 1 1 * *", "0 1 15 * *"]));
    expect(healthLimits(schedule, 0).backup).toBe(17 * 1440); // 15th → 1st of a 31-day month
  });

  it("says limits the way the docs do", () => {
    expect(formatMinutes(1800)).toBe("30 h");
    expect(formatMinutes(10440)).toBe("7 d 6 h");
    expect(formatMinutes(2880)).toBe("2 d");
    expect(formatMinutes(95)).toBe("95 min");
  });

  it("is the jobs table of docs/backup.md", () => {
    const docs = readFileSync(DOCS, "utf8");
    const expected = withJobsTable(docs);
    const between = (text: string) => text.slice(text.indexOf(JOBS_TABLE_BEGIN), text.indexOf(JOBS_TABLE_END));
    if (between(docs) !== between(expected)) {
      throw new Error(`docs/backup.md's jobs table differs from components/config/backup-jobs.ts: run \`npm run docs\`\nexpected:\n${renderJobsTable()}`);
    }
    expect(withJobsTable(expected)).toBe(expected); // idempotent
    for (const j of BACKUP_JOBS) expect(renderJobsTable()).toContain(`| \`${j.name}\` | \`${j.defaultSchedule}\` | \`${j.group}\` |`);
  });
});
