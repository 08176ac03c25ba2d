# hlpg-backup, part 1 of 7 (core): state directories, logging, pgbackrest with the
# rendered config, and the job runner that records each run for the health check.
#
# The sidecar script is components/backup/sidecar-script.ts's header (validated,
# quoted settings fixed for the stack's life: STANZA, PGBR_CONFIG, RUNTIME_FILE,
# PG_*, WORK_DIR, timeouts, and the jobs table of components/config/backup-jobs.ts
# as data: JOBS, JOB_FUNCTION, JOB_GROUP, HEALTH_GROUPS) followed by the parts of
# this directory in order (SCRIPT_PARTS there), uploaded into the sidecar as
# /usr/local/bin/hlpg-backup. What changes with the stack (S3_*, AGE_RECIPIENT,
# APPS, SCHEDULE, HEALTH_LIMIT_MINUTES) comes from the runtime file (runtime.sh).
# No part runs on its own.
# shellcheck shell=bash disable=SC2154  # settings come from the rendered header and the runtime file

readonly STATE_DIR="$WORK_DIR/state"
readonly SCRATCH_DIR="$WORK_DIR/scratch"

log() { printf '%s [hlpg-backup] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

pgbr() { pgbackrest --config="$PGBR_CONFIG" --stanza="$STANZA" "$@"; }

require_env() {
  local v
  for v in "$@"; do [[ -n ${!v:-} ]] || die "$v is not set (secrets file: ${HLPG_SECRETS_FILE:-none})"; done
}

# ------------------------------------------------------------------ job state (health)

# bash ignores "set -e" inside anything run from an if/&&/|| context, so jobs
# never run there: capture runs a command in a subshell with errexit in force
# and leaves its status in CAPTURED_RC. Call it as a plain statement only.
CAPTURED_RC=0
capture() {
  set +e
  ( set -e; "$@" )
  CAPTURED_RC=$?
  set -e
}

# run_job <group> <function>: one run at a time per group, result recorded for health.
run_job() {
  local group=$1 fn=$2 started lock
  mkdir -p "$STATE_DIR" "$SCRATCH_DIR"
  exec {lock}>"$STATE_DIR/$group.lock"
  if ! flock -n "$lock"; then
    log "$fn: skipped, the previous $group run is still going"
    return 0
  fi
  started=$(date +%s)
  log "$fn: begin"
  job_event start "$group" "$fn" "$started" # metrics row and notification (observe.sh); never fails
  capture "$fn"
  local rc=$CAPTURED_RC
  if (( rc == 0 )); then
    date +%s >"$STATE_DIR/$group.ok"
    rm -f "$STATE_DIR/$group.failed"
    log "$fn: ok ($(( $(date +%s) - started ))s)"
    job_event success "$group" "$fn" "$started"
  else
    printf '%s exit=%s job=%s\n' "$(date +%s)" "$rc" "$fn" >"$STATE_DIR/$group.failed"
    log "$fn: FAILED with exit $rc after $(( $(date +%s) - started ))s"
    job_event failure "$group" "$fn" "$started" "$rc"
  fi
  exec {lock}>&-
  return "$rc"
}
