// postgres_exporter's custom queries (`--extend.query-path`), as YAML. Pure: the
// exporter container gets this text, and the integration test runs Debian's
// postgres_exporter 0.11.1 with the same text against a real PostgreSQL 15.
// Everything here reads what pg_monitor may read (pg_stat_archiver,
// pg_ls_archive_statusdir, pg_database, pg_stat_replication) or what the backup
// sidecar grants pg_monitor (hlpg.backup_job and hlpg.backup_group, written by
// hlpg-backup/observe.sh): the exporter's role needs nothing else.

/** One metric column of a custom query. */
interface Column {
  usage: "LABEL" | "GAUGE" | "COUNTER";
  description: string;
}

interface Query {
  /** Metric prefix: `<namespace>_<column>`. */
  namespace: string;
  sql: string;
  columns: Record<string, Column>;
}

const gauge = (description: string): Column => ({ usage: "GAUGE", description });
const counter = (description: string): Column => ({ usage: "COUNTER", description });
const label = (description: string): Column => ({ usage: "LABEL", description });

/** WAL archiving, whatever collector version: failures, the last success and what waits. */
export const ARCHIVER_QUERY: Query = {
  namespace: "hlpg_archiver",
  sql: `SELECT a.archived_count, a.failed_count,
  COALESCE(EXTRACT(EPOCH FROM a.last_archived_time), 0) AS last_archived_time_seconds,
  COALESCE(EXTRACT(EPOCH FROM a.last_failed_time), 0) AS last_failed_time_seconds,
  (SELECT count(*) FROM pg_catalog.pg_ls_archive_statusdir() s WHERE s.name LIKE '%.ready') AS pending_segments,
  CASE WHEN pg_catalog.current_setting('archive_mode') = 'off' THEN 0 ELSE 1 END AS enabled
FROM pg_catalog.pg_stat_archiver a`,
  columns: {
    archived_count: counter("WAL segments archived since the statistics reset"),
    failed_count: counter("failed archive_command runs since the statistics reset"),
    last_archived_time_seconds: gauge("when the last segment was archived (Unix time; 0: never)"),
    last_failed_time_seconds: gauge("when archive_command last failed (Unix time; 0: never)"),
    pending_segments: gauge("WAL segments waiting to be archived (.ready files): the archive lag"),
    enabled: gauge("1 when archive_mode is on"),
  },
};

/** Transaction-id age per database: how close it is to wraparound. */
export const DATABASE_QUERY: Query = {
  namespace: "hlpg_database",
  sql: `SELECT d.datname, pg_catalog.age(d.datfrozenxid) AS xid_age
FROM pg_catalog.pg_database d WHERE d.datallowconn`,
  columns: {
    datname: label("database"),
    xid_age: gauge("age(datfrozenxid): transactions since the oldest unfrozen one (wraparound at 2^31)"),
  },
};

/** Replication, from either side: standbys' lag on a primary, replay delay on a standby. */
export const REPLICATION_QUERY: Query = {
  namespace: "hlpg_replication",
  sql: `SELECT CASE WHEN pg_catalog.pg_is_in_recovery() THEN 1 ELSE 0 END AS is_standby,
  CASE WHEN pg_catalog.pg_is_in_recovery()
    THEN COALESCE(EXTRACT(EPOCH FROM pg_catalog.now() - pg_catalog.pg_last_xact_replay_timestamp()), 0)
    ELSE 0 END AS standby_replay_delay_seconds,
  (SELECT COALESCE(max(EXTRACT(EPOCH FROM r.replay_lag)), 0) FROM pg_catalog.pg_stat_replication r) AS max_standby_replay_lag_seconds,
  (SELECT count(*) FROM pg_catalog.pg_stat_replication r) AS standbys`,
  columns: {
    is_standby: gauge("1 on a standby (in recovery)"),
    standby_replay_delay_seconds: gauge("on a standby: seconds since the last replayed transaction committed on the primary"),
    max_standby_replay_lag_seconds: gauge("on a primary: the largest replay_lag of its standbys"),
    standbys: gauge("on a primary: connected standbys"),
  },
};

/**
 * Physical replication slots (the standby's, components/replica): whether a standby
 * streams through each, and how much WAL it holds back in pg_wal. An abandoned slot
 * keeps every segment from its restart_lsn on until the disk is full.
 */
export const SLOT_QUERY: Query = {
  namespace: "hlpg_replication_slot",
  sql: `SELECT s.slot_name,
  CASE WHEN s.active THEN 1 ELSE 0 END AS active,
  COALESCE(pg_catalog.pg_wal_lsn_diff(
    CASE WHEN pg_catalog.pg_is_in_recovery() THEN pg_catalog.pg_last_wal_receive_lsn() ELSE pg_catalog.pg_current_wal_lsn() END,
    s.restart_lsn), 0) AS retained_wal_bytes,
  CASE WHEN s.wal_status = 'lost' THEN 1 ELSE 0 END AS lost
FROM pg_catalog.pg_replication_slots s WHERE s.slot_type = 'physical'`,
  columns: {
    slot_name: label("replication slot"),
    active: gauge("1 while a standby streams through the slot"),
    retained_wal_bytes: gauge("WAL the slot keeps in pg_wal (bytes from its restart_lsn to the current position; 0 before first use)"),
    lost: gauge("1 when the WAL the slot needed was removed (max_slot_wal_keep_size): the standby must catch up from the archive or be re-cloned"),
  },
};

/** The backup sidecar's job table (hlpg-backup/observe.sh). */
export const BACKUP_JOB_QUERY: Query = {
  namespace: "hlpg_backup_job",
  sql: `SELECT j.job AS backup_job, j.job_group AS "group",
  COALESCE(EXTRACT(EPOCH FROM j.last_success), 0) AS last_success_timestamp_seconds,
  COALESCE(EXTRACT(EPOCH FROM j.last_failure), 0) AS last_failure_timestamp_seconds,
  COALESCE(EXTRACT(EPOCH FROM j.last_start), 0) AS last_start_timestamp_seconds,
  COALESCE(j.last_duration_seconds, 0) AS last_duration_seconds,
  COALESCE(j.last_size_bytes, 0) AS last_size_bytes,
  CASE WHEN j.running THEN 1 ELSE 0 END AS running,
  CASE WHEN j.last_failure IS NOT NULL AND (j.last_success IS NULL OR j.last_failure > j.last_success) THEN 1 ELSE 0 END AS failed
FROM hlpg.backup_job j`,
  columns: {
    // not `job`: Prometheus would rename it to exported_job (the scrape job owns that label)
    backup_job: label("backup job (backup.schedule key, or init)"),
    group: label("health group"),
    last_success_timestamp_seconds: gauge("end of the last successful run (Unix time; 0: never)"),
    last_failure_timestamp_seconds: gauge("end of the last failed run (Unix time; 0: never)"),
    last_start_timestamp_seconds: gauge("start of the last run (Unix time; 0: never)"),
    last_duration_seconds: gauge("duration of the last finished run"),
    last_size_bytes: gauge("bytes the last successful run stored (full/diff: repository delta; logical: the dumps)"),
    running: gauge("1 while a run is in progress"),
    failed: gauge("1 when the last finished run failed"),
  },
};

/** Per health group: the last success and the age limit (the schedule's longest gap plus grace). */
export const BACKUP_GROUP_QUERY: Query = {
  namespace: "hlpg_backup_group",
  sql: `SELECT g.job_group AS "group", g.max_age_seconds,
  EXTRACT(EPOCH FROM COALESCE(max(j.last_success), g.registered_at)) AS last_success_timestamp_seconds
FROM hlpg.backup_group g LEFT JOIN hlpg.backup_job j ON j.job_group = g.job_group
GROUP BY g.job_group, g.max_age_seconds, g.registered_at`,
  columns: {
    group: label("health group"),
    max_age_seconds: gauge("how old the last success may get before the group is overdue"),
    last_success_timestamp_seconds: gauge("last success of any job of the group; before the first, when the sidecar first ran (Unix time)"),
  },
};

export interface ExporterQueriesInput {
  /** Backups on: the sidecar's tables exist, so their queries are included. */
  backup: boolean;
}

/** The queries a stack's exporter runs. */
export function exporterQueries(input: ExporterQueriesInput): Query[] {
  return [ARCHIVER_QUERY, DATABASE_QUERY, REPLICATION_QUERY, SLOT_QUERY, ...(input.backup ? [BACKUP_JOB_QUERY, BACKUP_GROUP_QUERY] : [])];
}

/** Every metric name the custom queries produce (not the label columns). */
export function customMetricNames(input: ExporterQueriesInput): string[] {
  return exporterQueries(input).flatMap((q) =>
    Object.entries(q.columns).filter(([, c]) => c.usage !== "LABEL").map(([name]) => `${q.namespace}_${name}`));
}

const yamlString = (s: string) => JSON.stringify(s); // a JSON string is a YAML double-quoted scalar

/** The queries file, in postgres_exporter's `--extend.query-path` format. */
export function renderExporterQueries(input: ExporterQueriesInput): string {
  const lines = ["# Rendered by homelab-postgres (components/monitoring/queries.ts): postgres_exporter custom queries."];
  for (const q of exporterQueries(input)) {
    if (!/^[a-z][a-z0-9_]*$/.test(q.namespace)) throw new Error(`invalid metric namespace ${q.namespace}`);
    lines.push(`${q.namespace}:`, `  query: ${yamlString(q.sql)}`, "  master: true", "  metrics:");
    for (const [name, c] of Object.entries(q.columns)) {
      if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`invalid column ${name}`);
      lines.push(`    - ${name}:`, `        usage: ${yamlString(c.usage)}`, `        description: ${yamlString(c.description)}`);
    }
  }
  return lines.join("\n") + "\n";
}
