# hlpg-backup, part 7 of 7 (commands): the scheduler entrypoint, health, the restore
# runbooks, and main.
# shellcheck shell=bash disable=SC2154  # settings come from the rendered header and the runtime file

# ------------------------------------------------------------------ commands

# reload_runtime: load_runtime for the scheduler's minute: a refused file is logged
# (once per distinct error) and the last good values stay; health shows it red.
LAST_RUNTIME_ERROR=''
reload_runtime() {
  if load_runtime; then
    LAST_RUNTIME_ERROR=''
    if (( RUNTIME_CHANGED )); then log "scheduler: runtime file changed; apps: $(printf '%s ' "${APPS[@]%%:*}")schedule: ${SCHEDULE[*]}"; fi
    # the groups' age limits in hlpg.backup_group follow the file (observe.sh)
    if (( RUNTIME_CHANGED )); then capture obs_sync; fi
  elif [[ $RUNTIME_ERROR != "$LAST_RUNTIME_ERROR" ]]; then
    LAST_RUNTIME_ERROR=$RUNTIME_ERROR
    log "scheduler: ERROR: $RUNTIME_ERROR; keeping the last good values"
  fi
}

cmd_scheduler() {
  mkdir -p "$STATE_DIR" "$SCRATCH_DIR"
  date +%s >"$STATE_DIR/started"
  trap 'log "scheduler: stopping"; kill $(jobs -p) 2>/dev/null; exit 0' TERM INT
  load_runtime || die "scheduler: $RUNTIME_ERROR"
  set +e; run_job init job_init; local rc=$?; set -e
  (( rc == 0 )) || die "scheduler: init failed; the container exits so the failure is seen (restart policy retries)"
  local info conf_checked
  conf_checked=$(<"$STATE_DIR/init.conf")
  info=$(repo_info_json 0 2)
  if [[ $(info_has_backup <<<"$info") != true ]]; then
    log "scheduler: the repository has no backup yet, taking a full backup now"
    run_table_job full &
  fi
  local last now m job conf
  last=$(( $(date +%s) / 60 ))
  log "scheduler: running; apps: $(printf '%s ' "${APPS[@]%%:*}")schedule (container time zone ${TZ:-UTC}): ${SCHEDULE[*]}"
  while :; do
    sleep $(( 60 - $(date +%s) % 60 )) & wait $!
    now=$(( $(date +%s) / 60 ))
    (( now - last > 60 )) && last=$(( now - 60 )) # after a long stall, catch up one hour at most
    wake_checkpointer # the server may have restarted since the last minute
    reload_runtime    # apps, schedule, limits, bucket and keys may have changed
    # a new pgbackrest.conf (bucket, key, retention...) is checked like a new start;
    # a failure shows in health and is not retried until the file changes again
    conf=$(conf_sum)
    if [[ $conf != "$conf_checked" ]]; then
      conf_checked=$conf
      log "scheduler: $PGBR_CONFIG changed; running init again (stanza-create, check)"
      set +e; run_job init job_init; set -e
    fi
    for (( m = last + 1; m <= now; m++ )); do
      while read -r job; do
        [[ -n $job ]] || continue
        run_table_job "$job" &
      done < <(due_jobs $(( m * 60 )))
    done
    last=$now
  done
}

cmd_health() {
  local now started bad=0 group limit last
  now=$(date +%s)
  started=$(cat "$STATE_DIR/started" 2>/dev/null || echo "$now")
  if ! load_runtime; then echo "$RUNTIME_ERROR"; return 1; fi
  if [[ ! -f $STATE_DIR/init.ok ]]; then echo "init (stanza-create, check) has not succeeded"; bad=1; fi
  if [[ -f $STATE_DIR/init.failed ]]; then echo "init: last run failed ($(cat "$STATE_DIR/init.failed"))"; bad=1; fi
  archive_health || bad=1
  for group in "${HEALTH_GROUPS[@]}"; do
    limit=${HEALTH_LIMIT_MINUTES[$group]}
    if [[ -f $STATE_DIR/$group.failed ]]; then
      echo "$group: last run failed ($(cat "$STATE_DIR/$group.failed"))"; bad=1; continue
    fi
    last=$(cat "$STATE_DIR/$group.ok" 2>/dev/null || echo "$started")
    if (( now - last > limit * 60 )); then
      echo "$group: no successful run for $(( (now - last) / 60 )) min (limit $limit min)"; bad=1
    fi
  done
  (( bad == 0 )) && echo "healthy"
  return "$bad"
}

# archive_health: red while WAL is not reaching the repository: a segment has waited in
# pg_wal (archive_status/*.ready) longer than archive_timeout + ARCHIVE_GRACE seconds, or
# the server's last archive attempt failed (pg_stat_archiver). Async archive-push keeps
# retrying for pgBackRest's archive-timeout before Postgres sees a failure, so the age
# of the oldest waiting segment is what turns red within one archive interval. The
# segments wait there (bounded by archive-push-queue-max) and go up when the repository
# is back; health is green again then. A server that is down is the postgres container's
# health, not this one's.
ARCHIVE_GRACE=10
archive_health() {
  local out timeout oldest now since name
  out=$("$PG_BIN/psql" -X -q -h "$PG_SOCKET" -p "$PG_PORT" -U postgres -d postgres -At -F ' ' -c \
    "select (select setting from pg_settings where name = 'archive_timeout'), coalesce(last_archived_wal, '-'),
            coalesce(last_failed_wal, '-'), coalesce(last_failed_time > coalesce(last_archived_time, '-infinity'), false)
       from pg_stat_archiver where not pg_is_in_recovery()" 2>/dev/null) || return 0
  [[ -n $out ]] || return 0
  local -a f
  read -r -a f <<<"$out"
  timeout=${f[0]}
  [[ $timeout =~ ^[0-9]+$ ]] || return 0
  oldest=$(find "$PG_DATA/pg_wal/archive_status" -maxdepth 1 -name '*.ready' -printf '%T@ %f\n' 2>/dev/null | sort -n | head -n 1)
  now=$(date +%s)
  since=${oldest%%.*}
  name=${oldest#* }
  if [[ -n $oldest ]] && (( now - since > timeout + ARCHIVE_GRACE )); then
    echo "archive: ${name%.ready} has waited $(( now - since )) s in pg_wal for the repository; $(find "$PG_DATA/pg_wal/archive_status" -maxdepth 1 -name '*.ready' | wc -l) segment(s) queued (last archived ${f[1]}, last failed ${f[2]})"
    return 1
  fi
  if [[ ${f[3]} == t ]]; then
    echo "archive: the last attempt failed (${f[2]}; last archived ${f[1]})"
    return 1
  fi
  return 0
}

cmd_info() {
  pgbr info
  repo_info_json >/dev/null
}

# restore-cluster: the whole cluster to a target, as pgBackRest options. The forms are
# those of components/lib/restore-target.ts (the bootstrap's grammar); every one but
# --latest stops at the target and promotes onto a new timeline.
cmd_restore_cluster() {
  local path='' repo='' n=0
  local -a target=()
  while (( $# )); do
    case $1 in
      --target|--time) target=(--type=time "--target=${2:?$1 needs a value}" --target-action=promote); n=$(( n + 1 )); shift 2 ;;
      --label)
        [[ ${2:-} =~ ^[0-9]{8}-[0-9]{6}F(_[0-9]{8}-[0-9]{6}[DI])?$ ]] || die "restore-cluster: --label needs a backup label such as 20261130-021500F (hlpg-backup info lists them)"
        target=("--set=$2" --type=immediate --target-action=promote); n=$(( n + 1 )); shift 2 ;;
      --xid)
        [[ ${2:-} =~ ^[1-9][0-9]{0,18}$ ]] || die "restore-cluster: --xid needs a transaction id"
        target=(--type=xid "--target=$2" --target-action=promote); n=$(( n + 1 )); shift 2 ;;
      --lsn)
        [[ ${2:-} =~ ^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$ ]] || die "restore-cluster: --lsn needs an LSN such as 0/3000060"
        target=(--type=lsn "--target=$2" --target-action=promote); n=$(( n + 1 )); shift 2 ;;
      --latest) target=(--type=default); n=$(( n + 1 )); shift ;;
      --repo) [[ ${2:-} =~ ^[1-4]$ ]] || die "restore-cluster: --repo needs 1-4"; repo=$2; shift 2 ;;
      --pg1-path) path=${2:?--pg1-path needs a value}; shift 2 ;;
      *) die "restore-cluster: unknown argument $1" ;;
    esac
  done
  (( n == 1 )) || die 'usage: hlpg-backup restore-cluster --time "YYYY-MM-DD HH:MM:SS+00" | --label LABEL | --xid XID | --lsn X/Y | --latest [--repo N] [--pg1-path DIR]'
  if [[ -z $path ]] && "$PG_BIN/pg_isready" -q -h "$PG_SOCKET" -p "$PG_PORT"; then
    die "postgres is running on $PG_SOCKET with data in $PG_DATA: stop the postgres container first"
  fi
  local -a args=(--delta "${target[@]}")
  [[ -n $repo ]] && args=("--repo=$repo" "${args[@]}")
  [[ -n $path ]] && args=("--pg1-path=$path" "${args[@]}")
  log "restore-cluster: pgbackrest --stanza=$STANZA ${args[*]} restore"
  pgbr "${args[@]}" restore
  log "restore-cluster: done; start postgres: it replays WAL to the target, then promotes onto a new timeline"
}

cmd_restore_app() {
  (( $# == 3 )) || die "usage: hlpg-backup restore-app <app> <latest|object-key> <new-database>"
  local app=$1 key=$2 target=$3 owner dir
  owner=$(app_field "$app" 3)
  [[ $target =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die "new database name '$target' must match ^[a-z_][a-z0-9_]{0,62}$"
  if [[ $key == latest ]]; then key=$(latest_dump "$app"); fi
  [[ $key == "$LOGICAL_PREFIX$app/"*.dump.age ]] || die "key '$key' is not a dump of app '$app'"
  mkdir -p "$SCRATCH_DIR"
  dir=$(mktemp -d "$SCRATCH_DIR/restore-app.XXXXXX")
  # expanded now: the trap runs after this function's locals are gone
  # shellcheck disable=SC2064
  trap "rm -rf $(printf '%q' "$dir")" EXIT
  log "restore-app: $key -> new database $target (owner $owner)"
  store_get "$dir/dump.age" "$key"
  age_decrypt "$dir/dump.age" "$dir/dump"
  # createdb fails if the database exists: a restore never overwrites anything.
  "$PG_BIN/createdb" -h "$PG_SOCKET" -p "$PG_PORT" -U postgres --owner="$owner" --template=template0 "$target"
  # As the superuser, keeping the dump's owners (the app's roles exist): extensions
  # that are not trusted (pg_stat_statements) need it, and ownership stays the app's.
  "$PG_BIN/pg_restore" -h "$PG_SOCKET" -p "$PG_PORT" -U postgres --exit-on-error --dbname="$target" "$dir/dump"
  log "restore-app: done; compare, then swap names (see docs/backup.md)"
}

usage() {
  local jobs
  printf -v jobs ' | %s' "${JOBS[@]}"
  {
    echo "usage: hlpg-backup <command>"
    echo "  scheduler                 entrypoint: init, first full backup, then the schedule"
    echo "  init$jobs"
    echo "                            run one job now (recorded for the health check)"
    cat <<'EOF'
  check | info              pgbackrest check / info (info fails on a bad repository)
  health                    exit 1 when a job failed or is overdue
  list-dumps <app>          logical dumps of an app, oldest first
  restore-app <app> <latest|key> <new-database>
  restore-cluster --time "YYYY-MM-DD HH:MM:SS+00" | --label LABEL | --xid XID | --lsn X/Y | --latest
                  [--repo N] [--pg1-path DIR]
  due <epoch> [minutes]     which jobs the schedule runs in each minute from <epoch>
EOF
  } >&2
  exit 2
}

# need_runtime: load_runtime or die with why (commands that list or restore dumps).
need_runtime() { load_runtime || die "$RUNTIME_ERROR"; }

# Commands that need only pgbackrest.conf (init, check, info, restore-cluster) do
# not read the runtime file: a broken one must not stand in the way of a restore.
main() {
  local cmd=${1:-}
  (( $# )) && shift
  case $cmd in
    scheduler) cmd_scheduler ;;
    init) run_job init job_init ;;
    check) pgbr check ;;
    info) cmd_info ;;
    health) cmd_health ;;
    restore-cluster) cmd_restore_cluster "$@" ;;
    list-dumps) (( $# == 1 )) || usage; need_runtime; app_field "$1" 1 >/dev/null; list_dumps "$1" ;;
    restore-app) need_runtime; cmd_restore_app "$@" ;;
    due)
      need_runtime
      local from=${1:?epoch} n=${2:-1} i
      for (( i = 0; i < n; i++ )); do due_jobs $(( from + i * 60 )) "$(( from + i * 60 )) "; done ;;
    *)
      is_job "$cmd" || usage
      # full and diff need only pgbackrest.conf; logical and drill refuse to run without the file
      load_runtime || log "$RUNTIME_ERROR"
      run_table_job "$cmd" ;;
  esac
}

# Sourced (the tests' harness), it only defines the functions.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then main "$@"; fi
