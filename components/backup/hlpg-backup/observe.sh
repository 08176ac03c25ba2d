# hlpg-backup, observe part (after schedule, before commands; SCRIPT_PARTS): what each job run tells the world outside
# the sidecar. run_job (core.sh) calls job_event on start, success and failure.
#
# Metrics: one row per job in hlpg.backup_job and one per health group (with its
# age limit) in hlpg.backup_group, in the `postgres` database, written over the
# socket as postgres. postgres_exporter reads them with the custom queries of
# components/monitoring/queries.ts (SELECT granted to pg_monitor, nothing to
# PUBLIC). A write that fails (server down, in recovery) is logged and the job
# goes on: the metrics then go stale, which the BackupStale alert sees.
#
# Notifications: HLPG_NOTIFY_URL (base) or HLPG_NOTIFY_URL_<job> (that job's own),
# HLPG_NOTIFY_STYLE (healthchecks | ntfy) and HLPG_NOTIFY_EVENTS come from the
# secrets file (the URL is a secret: a healthchecks ping key or an ntfy topic is
# the whole credential). curl reads the URL from a config on a pipe, never argv.
# A ping that fails is logged; it never fails the job.
# shellcheck shell=bash disable=SC2154  # settings come from the rendered header and the runtime file

obs_psql() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET" -p "$PG_PORT" -U postgres -d postgres -At "$@"; }

# The tables, idempotent; the group rows follow the runtime file's limits (minutes).
obs_setup_sql() {
  local group
  cat <<'SQL'
SET client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS hlpg;
CREATE TABLE IF NOT EXISTS hlpg.backup_job (
  job text PRIMARY KEY,
  job_group text NOT NULL,
  registered_at timestamptz NOT NULL DEFAULT now(),
  last_start timestamptz,
  last_success timestamptz,
  last_failure timestamptz,
  last_duration_seconds double precision,
  last_size_bytes bigint,
  last_exit integer,
  running boolean NOT NULL DEFAULT false
);
CREATE TABLE IF NOT EXISTS hlpg.backup_group (
  job_group text PRIMARY KEY,
  registered_at timestamptz NOT NULL DEFAULT now(),
  max_age_seconds integer NOT NULL
);
REVOKE ALL ON SCHEMA hlpg FROM PUBLIC;
REVOKE ALL ON hlpg.backup_job, hlpg.backup_group FROM PUBLIC;
GRANT USAGE ON SCHEMA hlpg TO pg_monitor;
GRANT SELECT ON hlpg.backup_job, hlpg.backup_group TO pg_monitor;
SQL
  # group names are plain words (the rendered header), limits digits (runtime.sh checked them)
  for group in "${!HEALTH_LIMIT_MINUTES[@]}"; do
    printf "INSERT INTO hlpg.backup_group (job_group, max_age_seconds) VALUES ('%s', %d) ON CONFLICT (job_group) DO UPDATE SET max_age_seconds = EXCLUDED.max_age_seconds;\n" \
      "$group" "$(( HEALTH_LIMIT_MINUTES[$group] * 60 ))"
  done
}

# obs_sync: tables and group limits only (scheduler start, a changed runtime file).
obs_sync() { obs_setup_sql | obs_psql -f - >/dev/null; }

# obs_record <job> <group> <SET list>: upserts the job's row and sets the columns.
obs_record() {
  {
    obs_setup_sql
    printf "INSERT INTO hlpg.backup_job (job, job_group) VALUES ('%s', '%s') ON CONFLICT (job) DO UPDATE SET job_group = EXCLUDED.job_group;\n" "$1" "$2"
    printf "UPDATE hlpg.backup_job SET %s WHERE job = '%s';\n" "$3" "$1"
  } | obs_psql -f - >/dev/null
}

# obs_add_size <bytes>: a job adds what it stored (logical: each dump); summed on success.
obs_add_size() { [[ -n ${JOB_SIZE_FILE:-} ]] && printf '%s\n' "$1" >>"$JOB_SIZE_FILE"; return 0; }

# obs_job_size <job>: bytes the run stored: the new backup's repository delta for
# full and diff (pgbackrest info), else what the job added with obs_add_size.
obs_job_size() {
  local n=0 line
  case $1 in
    full | diff)
      pgbr --output=json info 2>/dev/null \
        | jq -r --arg stanza "$STANZA" '[.[] | select(.name == $stanza) | .backup[]?] | last | .info.repository.delta // empty' 2>/dev/null || true ;;
    *)
      [[ -s ${JOB_SIZE_FILE:-} ]] || return 0
      while IFS= read -r line; do [[ $line =~ ^[0-9]+$ ]] && n=$(( n + line )); done <"$JOB_SIZE_FILE"
      printf '%s' "$n" ;;
  esac
}

# notify <start|success|failure> <job> <message>: one ping, if configured for this job and event.
notify() {
  local event=$1 job=$2 msg=$3 url var style=${HLPG_NOTIFY_STYLE:-healthchecks} target prio tags
  [[ " ${HLPG_NOTIFY_EVENTS:-start success failure} " == *" $event "* ]] || return 0
  var="HLPG_NOTIFY_URL_$job"
  url=${!var:-}
  if [[ -z $url && -n ${HLPG_NOTIFY_URL:-} ]]; then
    url=$HLPG_NOTIFY_URL
    # healthchecks.io ping-key URLs take the check's slug: <ping-key>/<job>
    [[ $style == healthchecks ]] && url="${url%/}/$job"
  fi
  [[ -n $url ]] || return 0
  if [[ ! $url =~ ^https?://[^[:space:]\"\\]+$ ]]; then log "notify: the URL for $job is not an http(s) URL; nothing sent"; return 0; fi
  local -a args=(--silent --show-error --fail --max-time 10 --retry 2 --retry-delay 1 -o /dev/null --data-binary @-)
  case $style in
    healthchecks)
      # healthchecks.io: /start, the bare URL for success, /fail; the body lands in the check's log
      case $event in start) target="$url/start" ;; success) target=$url ;; *) target="$url/fail" ;; esac
      printf '%s\n' "$msg" | curl "${args[@]}" --config <(printf 'url = "%s"\n' "$target") ;;
    ntfy)
      prio=default; tags=hourglass_flowing_sand
      [[ $event == success ]] && tags=white_check_mark
      [[ $event == failure ]] && { prio=high; tags=rotating_light; }
      printf '%s\n' "$msg" | curl "${args[@]}" -H "Title: hlpg-backup $STANZA: $job $event" -H "Priority: $prio" -H "Tags: $tags" \
        --config <(printf 'url = "%s"\n' "$url") ;;
    *) log "notify: unknown style '$style'; nothing sent" ;;
  esac
}

# job_event <start|success|failure> <group> <function> <started epoch> [exit]: record, then notify.
job_event() {
  local event=$1 group=$2 job=${3#job_} started=$4 rc=${5:-0} now dur size='' sets msg
  now=$(date +%s)
  dur=$(( now - started ))
  case $event in
    start)
      JOB_SIZE_FILE="$STATE_DIR/$group.size"
      rm -f "$JOB_SIZE_FILE"
      sets="last_start = to_timestamp($started), running = true"
      msg="hlpg-backup $STANZA: $job started" ;;
    success)
      size=$(obs_job_size "$job")
      [[ $size =~ ^[0-9]+$ ]] || size=''
      sets="last_success = to_timestamp($now), last_duration_seconds = $dur, last_size_bytes = ${size:-NULL}, last_exit = 0, running = false"
      msg="hlpg-backup $STANZA: $job succeeded in ${dur}s${size:+, $size bytes}" ;;
    *)
      sets="last_failure = to_timestamp($now), last_duration_seconds = $dur, last_exit = $rc, running = false"
      msg="hlpg-backup $STANZA: $job FAILED with exit $rc after ${dur}s; see the sidecar's log (docker logs)" ;;
  esac
  capture obs_record "$job" "$group" "$sets"
  (( CAPTURED_RC == 0 )) || log "observe: could not record the $event of $job in hlpg.backup_job"
  capture notify "$event" "$job" "$msg"
  (( CAPTURED_RC == 0 )) || log "notify: the $event ping of $job failed (exit $CAPTURED_RC)"
  return 0
}
