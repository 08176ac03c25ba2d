# hlpg-backup, part 5 of 7 (jobs): init and the functions BACKUP_JOBS names
# (components/config/backup-jobs.ts). A new job is a row there and its function here.
# shellcheck shell=bash disable=SC2154  # settings come from the rendered header and the runtime file

# ------------------------------------------------------------------ jobs

# PostgreSQL 15+ starts its checkpointer while the server is still in recovery:
# its first sleep then skips archive_timeout and lasts checkpoint_timeout (5 min
# by default), so after every server start the first WAL segment can wait that
# long before it is archived. A configuration reload wakes the checkpointer,
# which recomputes its sleep with archive_timeout. Done once per postmaster start
# (remembered in the state volume), from init and from every scheduler minute.
wake_checkpointer() {
  local started marker="$STATE_DIR/woken-postmaster"
  started=$("$PG_BIN/psql" -X -q -h "$PG_SOCKET" -p "$PG_PORT" -U postgres -d postgres -At \
    -c "select pg_postmaster_start_time() where not pg_is_in_recovery()" 2>/dev/null) || return 0
  [[ -n $started ]] || return 0
  if [[ -f $marker && $(<"$marker") == "$started" ]]; then return 0; fi
  "$PG_BIN/psql" -X -q -h "$PG_SOCKET" -p "$PG_PORT" -U postgres -d postgres -At -c "select pg_reload_conf()" >/dev/null || return 0
  printf '%s\n' "$started" >"$marker"
  log "woke the checkpointer of the server started at $started: archive_timeout applies from now"
}

# repo_retry <pgbackrest command and options>: runs it until it succeeds, for at most
# REPO_RETRY_SECONDS. On a first deploy the bucket, its access key and the key's
# policy are seconds old, and IAM is eventually consistent: a new key can be
# refused (InvalidAccessKeyId, AccessDenied) for a while. Backoff 2, 4, 8, 16,
# 30, 30... s; after the bound it fails with the command's own errors above.
repo_retry() {
  local deadline=$(( $(date +%s) + REPO_RETRY_SECONDS )) delay=2 attempt=1
  while :; do
    capture pgbr "$@"
    (( CAPTURED_RC == 0 )) && return 0
    if (( $(date +%s) + delay > deadline )); then
      die "pgbackrest $* still failed after $attempt attempts in $REPO_RETRY_SECONDS s: giving up (its errors are above)"
    fi
    log "pgbackrest $* failed (exit $CAPTURED_RC, attempt $attempt); the bucket or its key may not be usable yet, retrying in $delay s"
    sleep "$delay"
    attempt=$(( attempt + 1 ))
    delay=$(( delay * 2 > 30 ? 30 : delay * 2 ))
  done
}

# conf_sum: checksum of pgbackrest.conf (empty when it cannot be read); init
# records the one it checked, the scheduler runs init again when it changes.
conf_sum() { cksum <"$PGBR_CONFIG" 2>/dev/null || true; }

job_init() {
  local deadline=$(( $(date +%s) + INIT_TIMEOUT ))
  until "$PG_BIN/pg_isready" -q -h "$PG_SOCKET" -p "$PG_PORT"; do
    (( $(date +%s) < deadline )) || die "postgres did not accept connections on $PG_SOCKET within $INIT_TIMEOUT s"
    sleep 2
  done
  [[ -r $PGBR_CONFIG ]] || die "cannot read $PGBR_CONFIG (delivered by the pgbackrest RuntimeFiles carrier)"
  conf_sum >"$STATE_DIR/init.conf"
  # Idempotent: creates the stanza on first deploy, verifies it on every later start
  # and after every change of pgbackrest.conf (bucket, key, retention...).
  repo_retry stanza-create
  repo_retry check
  wake_checkpointer
}

# repo_indexes: the repositories pgbackrest.conf defines (repo1 = the bucket when there
# is one, then the posix repository), one index a line.
repo_indexes() { sed -nE 's/^repo([1-4])-type=.*/\1/p' "$PGBR_CONFIG" | sort -un; }

# backup_each_repo <type>: one backup per repository (pgBackRest backs up one repository per
# run); one repository's failure does not stop the other's, the job fails at the end.
backup_each_repo() {
  local repo failed=()
  for repo in $(repo_indexes); do
    capture pgbr "--repo=$repo" "--type=$1" backup
    (( CAPTURED_RC == 0 )) || { log "$1 backup to repo$repo FAILED"; failed+=("repo$repo"); }
  done
  (( ${#failed[@]} == 0 )) || die "$1 backup failed for: ${failed[*]}"
}

job_full() { backup_each_repo full; }
job_diff() { backup_each_repo diff; }

dump_app() { # dump_app <name> <database>
  local name=$1 db=$2 stamp staging key
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  staging="$SCRATCH_DIR/$name.dump.age"
  key="$LOGICAL_PREFIX$name/$stamp.dump.age"
  rm -f "$staging"
  # Encrypted before it touches the disk; staged because S3 needs the length up front.
  "$PG_BIN/pg_dump" -h "$PG_SOCKET" -p "$PG_PORT" -U postgres --format=custom --dbname="$db" \
    | age --encrypt --recipient "$AGE_RECIPIENT" --output "$staging"
  store_put "$staging" "$key"
  log "logical: $name -> $key ($(stat -c %s "$staging") bytes)"
  obs_add_size "$(stat -c %s "$staging")"
  rm -f "$staging"
  prune_dumps "$LOGICAL_PREFIX$name/" '\.dump\.age'
}

# The roles (with their password hashes), memberships and tablespaces that no per-database
# dump holds: what a logical restore into a new cluster needs first. Encrypted like the dumps.
dump_globals() {
  local stamp staging key
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  staging="$SCRATCH_DIR/globals.sql.age"
  key="$LOGICAL_PREFIX$GLOBALS_DIR/$stamp.sql.age"
  rm -f "$staging"
  "$PG_BIN/pg_dumpall" -h "$PG_SOCKET" -p "$PG_PORT" -U postgres --globals-only \
    | age --encrypt --recipient "$AGE_RECIPIENT" --output "$staging"
  store_put "$staging" "$key"
  log "logical: globals -> $key ($(stat -c %s "$staging") bytes)"
  rm -f "$staging"
  prune_dumps "$LOGICAL_PREFIX$GLOBALS_DIR/" '\.sql\.age'
}

job_logical() {
  local entry failed=()
  local -a f
  require_runtime
  capture dump_globals
  if (( CAPTURED_RC != 0 )); then log "logical: globals dump FAILED"; failed+=("(globals)"); fi
  for entry in "${APPS[@]}"; do
    IFS=: read -r -a f <<<"$entry"
    # One app's failure must not stop the others' dumps; the job still fails at the end.
    capture dump_app "${f[0]}" "${f[1]}"
    if (( CAPTURED_RC != 0 )); then log "logical: dump of ${f[0]} FAILED"; failed+=("${f[0]}"); fi
  done
  (( ${#failed[@]} == 0 )) || die "logical dumps failed for: ${failed[*]}"
}

drill_psql() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$DRILL_DIR/sock" -p "$DRILL_PORT" -U postgres -At "$@"; }

# Globals, not locals: the EXIT trap runs after job_drill has returned.
DRILL_DIR="$SCRATCH_DIR/drill"
DRILL_PID=''
drill_cleanup() {
  if [[ -n $DRILL_PID ]] && kill -0 "$DRILL_PID" 2>/dev/null; then
    kill -INT "$DRILL_PID"
    wait "$DRILL_PID" || true
  fi
  DRILL_PID=''
  rm -rf "$DRILL_DIR"
}

# Restores the latest backup and all archived WAL into scratch space, starts it
# socket-only with archiving off (it must never push WAL into the real
# repository), reads every table of every app database (data checksums are
# verified on read), then decrypts and lists the latest dump of every app.
job_drill() {
  local deadline label info entry name db key n out tables rows
  local -a f
  require_runtime
  trap drill_cleanup EXIT
  drill_cleanup
  mkdir -p "$DRILL_DIR/data" "$DRILL_DIR/sock"
  chmod 700 "$DRILL_DIR/data"
  info=$(repo_info_json)
  label=$(info_latest_label <<<"$info")
  [[ -n $label ]] || die "drill: the repository has no backup to restore"
  log "drill: restoring backup $label and archived WAL into $DRILL_DIR/data"
  pgbr --pg1-path="$DRILL_DIR/data" --archive-mode=off restore
  printf 'local all postgres peer\n' >"$DRILL_DIR/pg_hba.conf"
  printf '%s\n' \
    "listen_addresses = ''" \
    "port = $DRILL_PORT" \
    "unix_socket_directories = '$DRILL_DIR/sock'" \
    "hba_file = '$DRILL_DIR/pg_hba.conf'" \
    "archive_mode = off" \
    "hot_standby = off" \
    "shared_buffers = '128MB'" >"$DRILL_DIR/drill.conf"
  "$PG_BIN/postgres" -D "$DRILL_DIR/data" -c config_file="$DRILL_DIR/drill.conf" >"$DRILL_DIR/server.log" 2>&1 &
  DRILL_PID=$!
  deadline=$(( $(date +%s) + DRILL_TIMEOUT ))
  until "$PG_BIN/pg_isready" -q -h "$DRILL_DIR/sock" -p "$DRILL_PORT"; do
    kill -0 "$DRILL_PID" 2>/dev/null || { cat "$DRILL_DIR/server.log" >&2; die "drill: restored server exited during recovery"; }
    (( $(date +%s) < deadline )) || { tail -n 50 "$DRILL_DIR/server.log" >&2; die "drill: recovery did not finish within $DRILL_TIMEOUT s"; }
    sleep 1
  done
  [[ $(drill_psql -d postgres -c 'select pg_is_in_recovery()') == f ]] || die "drill: restored server is still in recovery"
  for entry in "${APPS[@]}"; do
    IFS=: read -r -a f <<<"$entry"
    name=${f[0]}; db=${f[1]} # validated identifiers, safe inside a literal
    n=$(drill_psql -d postgres -c "select count(*) from pg_database where datname = '$db'")
    [[ $n == 1 ]] || die "drill: database $db of app $name is missing from the restored cluster"
    out=$(drill_psql -d "$db" -F ' ' -f - <<<"select format('select %L, count(*) from %I.%I', c.oid::regclass::text, s.nspname, c.relname)
from pg_class c join pg_namespace s on s.oid = c.relnamespace
where c.relkind in ('r', 'm') and s.nspname not in ('pg_catalog', 'information_schema') and s.nspname !~ '^pg_toast'
\\gexec")
    tables=0; rows=0
    while read -r _ n; do
      [[ -n ${n:-} ]] || continue
      tables=$(( tables + 1 )); rows=$(( rows + n ))
    done <<<"$out"
    log "drill: $name: database $db restored, $tables tables read in full, $rows rows"
  done
  log "drill: physical restore of $label ok"
  drill_cleanup
  mkdir -p "$DRILL_DIR"
  for entry in "${APPS[@]}"; do
    name=${entry%%:*}
    key=$(latest_dump "$name")
    store_get "$DRILL_DIR/$name.age" "$key"
    if [[ $DUMP_KEY == external && -z ${HLPG_DUMP_IDENTITY:-} ]]; then
      # encrypted to backup.dumps.recipient: this host cannot read it, by design
      [[ $(head -c 22 "$DRILL_DIR/$name.age") == age-encryption.org/v1 ]] && grep -aq -- '-> X25519 ' "$DRILL_DIR/$name.age" \
        || die "drill: $key is not an age file encrypted to an X25519 recipient"
      log "drill: logical dump $key is encrypted to the external recipient; header ok (this host cannot decrypt it)"
      continue
    fi
    age_decrypt "$DRILL_DIR/$name.age" "$DRILL_DIR/$name.dump"
    "$PG_BIN/pg_restore" --list "$DRILL_DIR/$name.dump" >"$DRILL_DIR/$name.list"
    n=$(grep -vc '^;' "$DRILL_DIR/$name.list" || true)
    (( n > 0 )) || die "drill: $key decrypted to an empty archive"
    log "drill: logical dump $key decrypts, $n archive entries"
  done
  drill_cleanup
}
