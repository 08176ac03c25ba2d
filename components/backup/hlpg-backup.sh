# Body of hlpg-backup, the backup sidecar's scheduler, jobs, health check and
# restore runbooks. Not run on its own: components/backup/sidecar-script.ts
# prepends the validated, quoted settings (STANZA, PG_*, S3_*, APPS) and the jobs
# table of components/backup/jobs.ts as data (SCHEDULE, JOBS, JOB_FUNCTION,
# JOB_GROUP, HEALTH_GROUPS, HEALTH_LIMIT_MINUTES), and the result is uploaded into
# the sidecar as /usr/local/bin/hlpg-backup. JSON is read with jq and S3's XML
# listings with xmllint (libxml2-utils), both installed by docker/postgres/Dockerfile.
# shellcheck disable=SC2154  # settings come from the rendered header

readonly STATE_DIR="$WORK_DIR/state"
readonly SCRATCH_DIR="$WORK_DIR/scratch"

log() { printf '%s [hlpg-backup] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

pgbr() { pgbackrest --config="$PGBR_CONFIG" --stanza="$STANZA" "$@"; }

require_env() {
  local v
  for v in "$@"; do [[ -n ${!v:-} ]] || die "$v is not set (secrets file: ${HLPG_SECRETS_FILE:-none})"; done
}

# ------------------------------------------------------------------ S3 (curl, SigV4)
# pgBackRest cannot store arbitrary objects, so dumps go up with curl's SigV4
# signer using the same key pgBackRest uses (HLPG_S3_KEY*, from the secrets file
# the rendered header sources). The secret reaches curl through a
# config on a pipe, never argv (which other processes can read).
s3_curl() {
  local url=$1; shift
  require_env HLPG_S3_KEY HLPG_S3_KEY_SECRET
  local user="$HLPG_S3_KEY:$HLPG_S3_KEY_SECRET"
  user=${user//\\/\\\\}; user=${user//\"/\\\"}
  local -a args=(--silent --show-error --fail-with-body --retry 3 --retry-delay 2 --aws-sigv4 "aws:amz:$S3_REGION:s3")
  [[ -n $S3_CA_FILE ]] && args+=(--cacert "$S3_CA_FILE")
  curl "${args[@]}" --config <(printf 'user = "%s"\n' "$user") "$@" "$url"
}

urlencode() {
  local s=$1 out='' c i
  for (( i = 0; i < ${#s}; i++ )); do
    c=${s:i:1}
    case $c in [A-Za-z0-9._~-]) out+=$c ;; *) out+=$(printf '%%%02X' "'$c") ;; esac
  done
  printf '%s' "$out"
}

# ListObjectsV2 answers are XML in S3's namespace; local-name() matches the
# elements whatever namespace (or none) a store puts them in.
readonly XP_RESULT="/*[local-name()='ListBucketResult']"
readonly XP_KEYS="$XP_RESULT/*[local-name()='Contents']/*[local-name()='Key']"

# xml_string <xpath> < xml: the XPath 1.0 string value, entities decoded by the parser.
xml_string() { xmllint --nonet --xpath "string($1)" -; }

# list_page_keys < xml: the keys of one ListObjectsV2 page, one a line, in document order.
# One xmllint run prints every Key element on its own line, re-serialized
# (`<Key>a&amp;b</Key>`): a line whose content has no markup and no '&' is the key
# verbatim; any other key (an entity, CDATA, a comment) is read exactly with
# string(). If the lines do not pair up with the keys (a key with a line break),
# every key is read with string().
list_page_keys() {
  local xml n i key re='^<[^<>]*>([^<>&]*)</[^<>]*>$'
  local -a lines=()
  xml=$(cat)
  [[ $(xml_string "count($XP_RESULT)" <<<"$xml") == 1 ]] || die "S3 listing is not a ListBucketResult: $(head -c 300 <<<"$xml")"
  n=$(xml_string "count($XP_KEYS)" <<<"$xml")
  (( n > 0 )) || return 0
  mapfile -t lines < <(xmllint --nonet --xpath "$XP_KEYS" - <<<"$xml")
  (( ${#lines[@]} == n )) || lines=()
  for (( i = 1; i <= n; i++ )); do
    if [[ ${lines[i - 1]:-} =~ $re ]]; then key=${BASH_REMATCH[1]}; else key=$(xml_string "($XP_KEYS)[$i]" <<<"$xml"); fi
    [[ -n $key && $key != *$'\n'* ]] || die "S3 listing has an empty key or one with a line break (key $i of $n)"
    printf '%s\n' "$key"
  done
}

# list_page_next < xml: the continuation token when the page is truncated, else nothing.
list_page_next() {
  local xml cont
  xml=$(cat)
  [[ $(xml_string "$XP_RESULT/*[local-name()='IsTruncated']" <<<"$xml") == true ]] || return 0
  cont=$(xml_string "$XP_RESULT/*[local-name()='NextContinuationToken']" <<<"$xml")
  [[ -n $cont ]] || die "truncated listing without a continuation token"
  printf '%s' "$cont"
}

# Keys under a prefix, ascending (S3 lists in key order), following continuation tokens.
# (`cont`, not `token`: the policy no-passwords-in-container-config reads `token=...` in an upload as a credential.)
s3_list() {
  local prefix=$1 cont='' body query
  while :; do
    query="list-type=2&prefix=$(urlencode "$prefix")"
    [[ -n $cont ]] && query="continuation-token=$(urlencode "$cont")&$query"
    body=$(s3_curl "$S3_BUCKET_URL/?$query" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD')
    list_page_keys <<<"$body"
    cont=$(list_page_next <<<"$body")
    [[ -n $cont ]] || break
  done
}

# PUT with the body's SHA-256 signed: the store rejects a corrupted upload.
s3_put() {
  local file=$1 key=$2 sha
  sha=$(sha256sum "$file" | cut -d' ' -f1)
  s3_curl "$S3_BUCKET_URL/$key" -T "$file" -H "x-amz-content-sha256: $sha" -o /dev/null
}

s3_get() { s3_curl "$S3_BUCKET_URL/$2" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' -o "$1"; }

# pgbackrest info exits 0 even when it cannot read or decrypt the repository
# (it reports "status: error" instead); this prints the JSON only when every
# status code in it is one of the allowed ones (default 0 = ok; 2 = "no valid
# backups" is fine for a repository that is new) and fails otherwise.
repo_info_json() {
  local json codes code allowed=" ${*:-0} "
  # pgBackRest 2.45 leaves control characters unescaped in error messages (the bytes of
  # a failed decryption), which JSON forbids in strings; outside strings they can only be
  # whitespace, so mapping them to spaces keeps every valid document valid.
  json=$(pgbr --output=json info | tr '\000-\037' ' ')
  # every status object: the stanza's and each repository's
  codes=$(jq -r '[.. | objects | .status | objects | .code | numbers] | unique | .[]' <<<"$json") \
    || die "pgbackrest info did not return JSON: $(head -c 300 <<<"$json")"
  [[ -n $codes ]] || die "pgbackrest info returned no status"
  for code in $codes; do
    [[ $allowed == *" $code "* ]] || die "repository status is not ok (status codes: ${codes//$'\n'/ }): $(jq -r '[.. | objects | .status | objects | .message | strings] | unique | join("; ")' <<<"$json")"
  done
  printf '%s\n' "$json"
}

# info_latest_label < json: label of the newest backup of this stanza (pgbackrest lists them oldest first), or nothing.
info_latest_label() { jq -r --arg stanza "$STANZA" '[.[] | select(.name == $stanza) | .backup[]?.label] | last // empty'; }

# info_has_backup < json: "true" when the stanza has at least one backup.
info_has_backup() { jq -r --arg stanza "$STANZA" '[.[] | select(.name == $stanza) | .backup[]?] | length > 0'; }

# ------------------------------------------------------------------ apps and dumps

app_field() { # app_field <name> <1=name|2=database|3=owner>
  local entry
  local -a f
  for entry in "${APPS[@]}"; do
    IFS=: read -r -a f <<<"$entry"
    if [[ ${f[0]} == "$1" ]]; then printf '%s' "${f[$(( $2 - 1 ))]}"; return 0; fi
  done
  die "unknown app '$1' (configured: $(printf '%s ' "${APPS[@]%%:*}"))"
}

list_dumps() {
  local keys
  keys=$(s3_list "$LOGICAL_PREFIX$1/") # a failed listing fails here, not as "no dumps"
  grep -E '\.dump\.age$' <<<"$keys" || true
}

latest_dump() {
  local keys key
  keys=$(list_dumps "$1")
  key=$(tail -n 1 <<<"$keys")
  [[ -n $key ]] || die "no logical dump of app '$1' under $LOGICAL_PREFIX$1/"
  printf '%s' "$key"
}

# Decrypts with the identity from the environment (never written to disk).
age_decrypt() { # age_decrypt <in> <out>
  require_env HLPG_AGE_IDENTITY
  age --decrypt --identity <(printf '%s\n' "$HLPG_AGE_IDENTITY") --output "$2" "$1"
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
  capture "$fn"
  if (( CAPTURED_RC == 0 )); then
    date +%s >"$STATE_DIR/$group.ok"
    rm -f "$STATE_DIR/$group.failed"
    log "$fn: ok ($(( $(date +%s) - started ))s)"
  else
    printf '%s exit=%s job=%s\n' "$(date +%s)" "$CAPTURED_RC" "$fn" >"$STATE_DIR/$group.failed"
    log "$fn: FAILED with exit $CAPTURED_RC after $(( $(date +%s) - started ))s"
  fi
  exec {lock}>&-
  return "$CAPTURED_RC"
}

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

job_init() {
  local deadline=$(( $(date +%s) + INIT_TIMEOUT ))
  until "$PG_BIN/pg_isready" -q -h "$PG_SOCKET" -p "$PG_PORT"; do
    (( $(date +%s) < deadline )) || die "postgres did not accept connections on $PG_SOCKET within $INIT_TIMEOUT s"
    sleep 2
  done
  # Idempotent: creates the stanza on first deploy, verifies it on every later start.
  pgbr stanza-create
  pgbr check
  wake_checkpointer
}

job_full() { pgbr --type=full backup; }
job_diff() { pgbr --type=diff backup; }

dump_app() { # dump_app <name> <database>
  local name=$1 db=$2 stamp staging key
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  staging="$SCRATCH_DIR/$name.dump.age"
  key="$LOGICAL_PREFIX$name/$stamp.dump.age"
  rm -f "$staging"
  # Encrypted before it touches the disk; staged because S3 needs the length up front.
  "$PG_BIN/pg_dump" -h "$PG_SOCKET" -p "$PG_PORT" -U postgres --format=custom --dbname="$db" \
    | age --encrypt --recipient "$AGE_RECIPIENT" --output "$staging"
  s3_put "$staging" "$key"
  log "logical: $name -> $key ($(stat -c %s "$staging") bytes)"
  rm -f "$staging"
}

job_logical() {
  local entry failed=()
  local -a f
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
    s3_get "$DRILL_DIR/$name.age" "$key"
    age_decrypt "$DRILL_DIR/$name.age" "$DRILL_DIR/$name.dump"
    "$PG_BIN/pg_restore" --list "$DRILL_DIR/$name.dump" >"$DRILL_DIR/$name.list"
    n=$(grep -vc '^;' "$DRILL_DIR/$name.list" || true)
    (( n > 0 )) || die "drill: $key decrypted to an empty archive"
    log "drill: logical dump $key decrypts, $n archive entries"
  done
  drill_cleanup
}

# ------------------------------------------------------------------ cron

# cron_field <value> <field> <lo> <hi>: does one field match? Parameter
# expansion only (no subshells, no here-strings, no globbing of '*').
cron_field() {
  local v=$1 rest=$2 lo=$3 hi=$4 part range step a b
  while [[ -n $rest ]]; do
    part=${rest%%,*}
    if [[ $rest == *,* ]]; then rest=${rest#*,}; else rest=''; fi
    step=1; range=$part
    if [[ $part == */* ]]; then step=${part#*/}; range=${part%/*}; fi
    if [[ $range == '*' ]]; then a=$lo; b=$hi
    elif [[ $range == *-* ]]; then a=${range%-*}; b=${range#*-}
    else
      a=$range; b=$range
      if [[ $part == */* ]]; then b=$hi; fi # "5/20" means 5-hi/20
    fi
    if (( v >= 10#$a && v <= 10#$b && (v - 10#$a) % 10#$step == 0 )); then return 0; fi
  done
  return 1
}

# cron_match "<m h dom mon dow>" <epoch>: croner's semantics (components/lib/cron.ts,
# legacy mode): when both day fields are restricted, either may match; a day field
# counts as unrestricted only when it is exactly '*' (so '*/2' restricts, unlike
# Vixie cron). In the container's time zone (UTC unless TZ is set). Fields are
# separated by single spaces (rendered so). The unit tests compare this with the
# TypeScript evaluation minute by minute.
cron_match() {
  local expr=$1 now mi h dom mon dow
  local f_mi f_h f_dom f_mon f_dow
  f_mi=${expr%% *}; expr=${expr#* }
  f_h=${expr%% *}; expr=${expr#* }
  f_dom=${expr%% *}; expr=${expr#* }
  f_mon=${expr%% *}; f_dow=${expr#* }
  printf -v now '%(%M %H %d %m %w)T' "$2"
  mi=${now%% *}; now=${now#* }
  h=${now%% *}; now=${now#* }
  dom=${now%% *}; now=${now#* }
  mon=${now%% *}; dow=${now#* }
  cron_field $(( 10#$mi )) "$f_mi" 0 59 || return 1
  cron_field $(( 10#$h )) "$f_h" 0 23 || return 1
  cron_field $(( 10#$mon )) "$f_mon" 1 12 || return 1
  local dom_ok=1 dow_ok=1
  cron_field $(( 10#$dom )) "$f_dom" 1 31 || dom_ok=0
  if ! cron_field "$dow" "$f_dow" 0 7; then
    if (( dow != 0 )) || ! cron_field 7 "$f_dow" 0 7; then dow_ok=0; fi # 7 is Sunday too
  fi
  # both day fields restricted: either may match; otherwise both must
  if [[ $f_dom != '*' && $f_dow != '*' ]]; then (( dom_ok || dow_ok )); else (( dom_ok && dow_ok )); fi
}

# due_jobs <epoch> [prefix]: jobs whose schedule fires in that minute, one a line.
due_jobs() {
  local entry
  for entry in "${SCHEDULE[@]}"; do
    if cron_match "${entry%|*}" "$1"; then printf '%s%s\n' "${2:-}" "${entry##*|}"; fi
  done
}

# is_job <name>: one of the jobs of the table (JOBS).
is_job() {
  local job
  for job in "${JOBS[@]}"; do [[ $job == "$1" ]] && return 0; done
  return 1
}

# run_table_job <job>: run a job of the table in its health group.
run_table_job() { run_job "${JOB_GROUP[$1]}" "${JOB_FUNCTION[$1]}"; }

# ------------------------------------------------------------------ commands

cmd_scheduler() {
  mkdir -p "$STATE_DIR" "$SCRATCH_DIR"
  date +%s >"$STATE_DIR/started"
  trap 'log "scheduler: stopping"; kill $(jobs -p) 2>/dev/null; exit 0' TERM INT
  set +e; run_job init job_init; local rc=$?; set -e
  (( rc == 0 )) || die "scheduler: init failed; the container exits so the failure is seen (restart policy retries)"
  local info
  info=$(repo_info_json 0 2)
  if [[ $(info_has_backup <<<"$info") != true ]]; then
    log "scheduler: the repository has no backup yet, taking a full backup now"
    run_table_job full &
  fi
  local last now m job
  last=$(( $(date +%s) / 60 ))
  log "scheduler: running; schedule (container time zone ${TZ:-UTC}): ${SCHEDULE[*]}"
  while :; do
    sleep $(( 60 - $(date +%s) % 60 )) & wait $!
    now=$(( $(date +%s) / 60 ))
    (( now - last > 60 )) && last=$(( now - 60 )) # after a long stall, catch up one hour at most
    wake_checkpointer # the server may have restarted since the last minute
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
  if [[ ! -f $STATE_DIR/init.ok ]]; then echo "init (stanza-create, check) has not succeeded"; bad=1; fi
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

cmd_info() {
  pgbr info
  repo_info_json >/dev/null
}

cmd_restore_cluster() {
  local target='' path=''
  while (( $# )); do
    case $1 in
      --target) target=${2:?--target needs a value}; shift 2 ;;
      --pg1-path) path=${2:?--pg1-path needs a value}; shift 2 ;;
      *) die "restore-cluster: unknown argument $1" ;;
    esac
  done
  [[ -n $target ]] || die 'usage: hlpg-backup restore-cluster --target "YYYY-MM-DD HH:MM:SS+00" [--pg1-path DIR]'
  if [[ -z $path ]] && "$PG_BIN/pg_isready" -q -h "$PG_SOCKET" -p "$PG_PORT"; then
    die "postgres is running on $PG_SOCKET with data in $PG_DATA: stop the postgres container first"
  fi
  local -a args=(--delta --type=time "--target=$target" --target-action=promote)
  [[ -n $path ]] && args=("--pg1-path=$path" "${args[@]}")
  log "restore-cluster: pgbackrest --stanza=$STANZA ${args[*]} restore"
  pgbr "${args[@]}" restore
  log "restore-cluster: done; start postgres: it replays WAL up to $target, then promotes"
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
  s3_get "$dir/dump.age" "$key"
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
  restore-cluster --target "YYYY-MM-DD HH:MM:SS+00" [--pg1-path DIR]
  due <epoch> [minutes]     which jobs the schedule runs in each minute from <epoch>
EOF
  } >&2
  exit 2
}

main() {
  local cmd=${1:-}
  (( $# )) && shift
  case $cmd in
    scheduler) cmd_scheduler ;;
    init) run_job init job_init ;;
    check) pgbr check ;;
    info) cmd_info ;;
    health) cmd_health ;;
    list-dumps) (( $# == 1 )) || usage; app_field "$1" 1 >/dev/null; list_dumps "$1" ;;
    restore-app) cmd_restore_app "$@" ;;
    restore-cluster) cmd_restore_cluster "$@" ;;
    due)
      local from=${1:?epoch} n=${2:-1} i
      for (( i = 0; i < n; i++ )); do due_jobs $(( from + i * 60 )) "$(( from + i * 60 )) "; done ;;
    *) if is_job "$cmd"; then run_table_job "$cmd"; else usage; fi ;;
  esac
}

# Sourced (the tests' harness), it only defines the functions.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then main "$@"; fi
