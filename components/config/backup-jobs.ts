// TEMPORARY: replaced by the jobs table at merge.
export const DEFAULT_BACKUP_SCHEDULE = { full: "15 2 * * 0", diff: "15 2 * * 1-6", logical: "45 2 * * *", drill: "30 4 * * 6" } as const;
