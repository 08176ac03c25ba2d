#!/usr/bin/env bash
# Pooling benchmark: pgbench against a real PostgreSQL 15 directly and through a
# real pgBouncer, both configured by the program's render functions
# (bench/render-bench-config.ts). Loopback only, bounded duration, always exits 0.
# A benchmark, not a test: it prints tables; nothing asserts on it.
#
# Every cell (direct and pooled, per workload and client count, plus connect per
# transaction and a connection storm) runs REPS times, direct and pooled
# alternating (which goes first alternates too), so that a noisy neighbour hits
# both sides alike. Printed per cell: median [min-max] of TPS, the pooled/direct
# ratio of each direct+pooled pair, and the memory Postgres uses meanwhile.
#
#   bench/pooler.sh                                  # defaults below
#   DURATION=5 CLIENTS="10 100" REPS=1 bench/pooler.sh
#   RAW_OUT=/tmp/raw.csv bench/pooler.sh             # also every single run, as CSV
#
# Needs: postgresql-15 (server, psql, pgbench), pgbouncer, node_modules (ts-node).
# As root, the servers run as the `postgres` OS user (they refuse to run as root).
set -uo pipefail

DURATION=${DURATION:-10}          # seconds per cell
CLIENTS=${CLIENTS:-"10 100 500"}
STORM_CLIENTS=${STORM_CLIENTS:-1000}
CONNECT_CLIENTS=${CONNECT_CLIENTS:-100}  # clients of the connect-per-transaction cell (-C)
REPS=${REPS:-3}                   # runs per cell (direct and pooled each)
LOGIN_MS=${LOGIN_MS:-60}          # time allowed per client for the logins before the DURATION starts
RAW_OUT=${RAW_OUT:-}              # optional CSV of every run
SCALE=${SCALE:-10}                # pgbench scale factor (100k accounts per unit)
JOBS=${JOBS:-2}                   # pgbench threads
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PGBOUNCER_BIN=${PGBOUNCER_BIN:-/usr/sbin/pgbouncer}
export POOL_SIZE=${POOL_SIZE:-10} POOL_MODE=${POOL_MODE:-transaction} MAX_CLIENT_CONN=${MAX_CLIENT_CONN:-2000}
export MAX_CONNECTIONS=${MAX_CONNECTIONS:-600} STORM_MAX_CONNECTIONS=${STORM_MAX_CONNECTIONS:-100} MEMORY_MB=${MEMORY_MB:-1024}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
for bin in "$PG_BIN/postgres" "$PG_BIN/pgbench" "$PG_BIN/psql" "$PGBOUNCER_BIN"; do
  [ -x "$bin" ] || { echo "missing $bin (apt-get install postgresql-15 pgbouncer)"; exit 0; }
done

# 1000 clients need 1000+ descriptors in pgbench and in pgBouncer
want_fds=$((STORM_CLIENTS * 2 + 1024))
ulimit -n "$want_fds" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# exec + setpriv: no process in between, so `as_service ... &` leaves the server's own pid in $!
as_service() {
  if [ "$(id -u)" = 0 ]; then exec setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; else exec "$@"; fi
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

WORK=$(mktemp -d /tmp/hlpg-bench-XXXXXX)
chmod 755 "$WORK"
PG_PID= PGB_PID=
cleanup() {
  # only the processes this script started, by pid
  [ -n "$PGB_PID" ] && kill "$PGB_PID" 2>/dev/null
  [ -n "$PG_PID" ] && kill -INT "$PG_PID" 2>/dev/null
  for _ in $(seq 1 50); do
    { [ -n "$PG_PID" ] && kill -0 "$PG_PID" 2>/dev/null; } || break
    sleep 0.2
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

PG_PORT=$(free_port)
PGB_PORT=$(free_port)
CONF="$WORK/conf"
SOCK="$WORK/sock"
mkdir -p "$CONF" "$SOCK"
vars=$(cd "$ROOT" && OUT="$CONF" PG_PORT="$PG_PORT" PGB_PORT="$PGB_PORT" SOCKET_DIR="$SOCK" \
  npx --no-install ts-node --transpile-only bench/render-bench-config.ts) || { echo "rendering failed"; exit 0; }
eval "$vars"
[ "$(id -u)" = 0 ] && chown -R postgres: "$WORK"

start_postgres() { # $1: conf file
  as_service "$PG_BIN/postgres" -D "$WORK/data" -c "config_file=$1" >>"$WORK/postgres.log" 2>&1 &
  PG_PID=$!
  for _ in $(seq 1 100); do
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" && return 0
    sleep 0.2
  done
  echo "postgres did not start:"; tail -20 "$WORK/postgres.log"; exit 0
}
stop_postgres() {
  kill -INT "$PG_PID" 2>/dev/null
  while kill -0 "$PG_PID" 2>/dev/null; do sleep 0.2; done
  PG_PID=
}

echo "initdb + pgbench -i (scale $SCALE)..." >&2
(as_service "$PG_BIN/initdb" -D "$WORK/data" -U postgres --auth=scram-sha-256 --pwfile="$CONF/superuser.pw" -E UTF8 --locale=C >/dev/null)
start_postgres "$CONF/postgresql.conf"
super() { PGPASSWORD="$SUPER_PASSWORD" "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"; }
super -d postgres -f "$CONF/cluster.sql" >/dev/null
super -d "$APP_DB" -f "$CONF/db-$APP_DB.sql" >/dev/null
super -d postgres -f "$CONF/auth-setup.sql" >/dev/null
export PGPASSWORD="$APP_PASSWORD"
"$PG_BIN/pgbench" -q -i -s "$SCALE" -h 127.0.0.1 -p "$PG_PORT" -U "$APP_USER" "$APP_DB" >/dev/null 2>&1

as_service "$PGBOUNCER_BIN" "$CONF/pgbouncer.ini" >>"$WORK/pgbouncer.log" 2>&1 &
PGB_PID=$!
for _ in $(seq 1 50); do "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PGB_PORT" && break; sleep 0.1; done

# a simple write: one UPDATE and one INSERT per transaction (tpcb-like, without the hot branch/teller rows)
cat >"$WORK/write.sql" <<'SQL'
\set aid random(1, 100000 * :scale)
\set delta random(-5000, 5000)
BEGIN;
UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, :aid, :delta, CURRENT_TIMESTAMP);
END;
SQL

# -T includes opening the connections, and each SCRAM login costs the client a
# PBKDF2 (~5 ms on an idle core, 30-40 ms per login with the machine's load at 16):
# every run gets LOGIN_MS per client on top, so that it measures about DURATION
# seconds of work; with too little, a run ends before its clients are in (0
# transactions). pgbench's TPS excludes the connection time.
login_allowance() { echo $(((${1} * LOGIN_MS + 999) / 1000)); }

# Memory of the Postgres cluster right now: the postmaster and all its children
# (client backends and the auxiliary processes), from /proc/<pid>/status only.
# - private: the sum of RssAnon + VmPTE, each process's own memory (heap, catalog
#   and plan caches, work_mem) and its page tables (which map shared_buffers once
#   per process). This is what grows with every connection. The shared part
#   (shared_buffers, at most 256 MB here, and the binary) comes on top once,
#   whatever the number of connections.
# - VmRSS summed: counts every shared page again in every process that touched it,
#   so it overstates (it is what adding up ps/top gives).
# Not smaps_rollup's Pss: reading it walks the page tables, and for 500 busy
# backends on this loaded machine it took longer than the rest of the run (the
# backends exited mid-read); the status counters cost nothing.
# Prints "private_kb|vmrss_kb|processes|pgbouncer_private_kb".
mem_sample() {
  local pids p statuses=()
  pids="$PG_PID $(ps -o pid= --ppid "$PG_PID" 2>/dev/null)"
  for p in $pids; do statuses+=("/proc/$p/status"); done
  # one cat: a backend that exits meanwhile is skipped, not fatal
  local sums pgb
  sums=$(cat "${statuses[@]}" 2>/dev/null | awk '
    /^VmRSS:/ { rss += $2; n++ } /^(RssAnon|VmPTE):/ { priv += $2 }
    END { printf "%d|%d|%d", priv, rss, n }')
  pgb=$(awk '/^(RssAnon|VmPTE):/ { s += $2 } END { print s }' "/proc/$PGB_PID/status" 2>/dev/null)
  echo "$sums|${pgb:-0}"
}

# pgBouncer keeps its server connections open between runs (server_idle_timeout):
# every run starts without them, so that a direct run does not share Postgres with
# idle pool backends (memory, connection slots). The built-in admin user may log in
# over the Unix socket as the OS user pgBouncer runs as.
drop_pool() {
  (as_service "$PG_BIN/psql" -X -q -h "$SOCK" -p "$PGB_PORT" -U pgbouncer -d pgbouncer \
    -c "KILL $APP_DB" -c "RESUME $APP_DB" >/dev/null 2>>"$WORK/admin.log")
}

# One pgbench run; the memory is sampled once, half-way through the measured part.
# Prints "tps|latency_ms|login_s|private_kb|vmrss_kb|processes|pgbouncer_private_kb|failure"
# (tps FAILED and the reason when pgbench could not finish).
bench() { # $1 port, $2 clients, rest: workload args
  local port=$1 clients=$2; shift 2
  local allow t out rc pid mem
  allow=$(login_allowance "$clients")
  t=$((DURATION + allow))
  out="$WORK/pgbench.out"
  drop_pool
  [ "$port" = "$PGB_PORT" ] && touch "$WORK/pooled-running"
  timeout $((t + 120)) "$PG_BIN/pgbench" -n -c "$clients" -j "$JOBS" -T "$t" -D "scale=$SCALE" \
    -h 127.0.0.1 -p "$port" -U "$APP_USER" "$@" "$APP_DB" >"$out" 2>&1 &
  pid=$!
  # a run that fails early (the storm, direct) is not waited for
  local waited=0
  while [ "$waited" -lt $((allow + DURATION / 2)) ] && kill -0 "$pid" 2>/dev/null; do sleep 1; waited=$((waited + 1)); done
  mem="-|-|-|-"
  kill -0 "$pid" 2>/dev/null && mem=$(mem_sample)
  wait "$pid"; rc=$?
  rm -f "$WORK/pooled-running"
  local tps lat conn
  tps=$(sed -n 's/^tps = \([0-9.]*\) (.*)$/\1/p' "$out")
  lat=$(sed -n 's/^latency average = \([0-9.]*\) ms$/\1/p' "$out")
  # all logins at start, or the average per login with -C
  conn=$(sed -n 's/^\(initial\|average\) connection time = \([0-9.]*\) ms$/\2/p' "$out")
  if [ "$rc" -ne 0 ] || [ -z "$tps" ]; then
    local why
    # the server's own words (FATAL: too many clients / reserved slots), else pgbench's first error
    why=$(grep -m1 -oE 'FATAL: +.*' "$out" | sed 's/  */ /g' | cut -c1-110)
    [ -z "$why" ] && why=$(grep -m1 -E 'error' "$out" | cut -c1-110)
    [ -z "$why" ] && why="exit $rc: $(tail -n 3 "$out" | tr '\n' ' ' | cut -c1-200)"
    echo "FAILED|-|-|-|-|-|-|${why:-exit $rc}"
  else
    printf '%.0f|%.2f|%.2f|%s|\n' "$tps" "$lat" "$(awk -v c="${conn:-0}" 'BEGIN { print c / 1000 }')" "$mem"
  fi
}

# "median min max" of the numeric arguments (FAILED and - are left out); "- - -" if none
stats() {
  printf '%s\n' "$@" | grep -E '^[0-9.]+$' | sort -g |
    awk '{ a[NR] = $1 } END { if (NR == 0) { print "- - -"; exit }
      m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; print m, a[1], a[NR] }'
}
# "median [min-max]" with the given printf format for each number
spread() { # $1 format, rest: values
  local f=$1; shift
  local m lo hi
  read -r m lo hi <<<"$(stats "$@")"
  if [ "$m" = - ]; then echo "-"; else printf "$f [$f-$f]" "$m" "$lo" "$hi"; fi
}
median() { # $1 format, rest: values
  local f=$1; shift
  local m _
  read -r m _ <<<"$(stats "$@")"
  if [ "$m" = - ]; then echo "-"; else printf "$f" "$m"; fi
}
kb_to_mb() { for v in "$@"; do if [[ $v =~ ^[0-9]+$ ]]; then awk -v k="$v" 'BEGIN { printf "%.0f\n", k / 1024 }'; else echo -; fi; done; }

[ -n "$RAW_OUT" ] && echo "cell,clients,rep,side,tps,latency_ms,login_s,private_kb,vmrss_kb,processes,pgbouncer_private_kb,failure" >"$RAW_OUT"
MEM_ROWS=()
FAIL_NOTES=()
# Runs one cell REPS times, direct and pooled alternating, and prints its table row.
cell() { # $1 label, $2 clients, rest: workload args
  local label=$1 clients=$2; shift 2
  local rep first d p
  local dt=() pt=() ratio=() dl=() pl=() dc=() pc=() dmem=() pmem=() drss=() prss=() dn=() pn=() pgb=()
  local dfail=0 pfail=0 dwhy="" pwhy=""
  for rep in $(seq 1 "$REPS"); do
    first=$((rep % 2))
    if [ "$first" = 1 ]; then d=$(bench "$PG_PORT" "$clients" "$@"); p=$(bench "$PGB_PORT" "$clients" "$@")
    else p=$(bench "$PGB_PORT" "$clients" "$@"); d=$(bench "$PG_PORT" "$clients" "$@"); fi
    local a b
    IFS='|' read -r -a a <<<"$d"
    IFS='|' read -r -a b <<<"$p"
    if [ -n "$RAW_OUT" ]; then
      printf '"%s",%s,%s,direct,%s\n' "$label" "$clients" "$rep" "$(IFS=,; echo "${a[*]:0:7},\"${a[7]:-}\"")" >>"$RAW_OUT"
      printf '"%s",%s,%s,pooled,%s\n' "$label" "$clients" "$rep" "$(IFS=,; echo "${b[*]:0:7},\"${b[7]:-}\"")" >>"$RAW_OUT"
    fi
    [ "${a[0]}" = FAILED ] && dfail=$((dfail + 1)) && dwhy=${a[7]:-}
    [ "${b[0]}" = FAILED ] && pfail=$((pfail + 1)) && pwhy=${b[7]:-}
    dt+=("${a[0]}"); dl+=("${a[1]}"); dc+=("${a[2]}"); dmem+=("${a[3]}"); drss+=("${a[4]}"); dn+=("${a[5]}")
    pt+=("${b[0]}"); pl+=("${b[1]}"); pc+=("${b[2]}"); pmem+=("${b[3]}"); prss+=("${b[4]}"); pn+=("${b[5]}"); pgb+=("${b[6]}")
    if [ "${a[0]}" != FAILED ] && [ "${b[0]}" != FAILED ]; then
      ratio+=("$(awk -v p="${b[0]}" -v d="${a[0]}" 'BEGIN { printf "%.2f", (d > 0) ? p / d : 0 }')")
    fi
  done
  local dcol pcol
  dcol=$(spread %.0f "${dt[@]}"); [ "$dfail" -gt 0 ] && dcol="$dcol, FAILED $dfail/$REPS"
  pcol=$(spread %.0f "${pt[@]}"); [ "$pfail" -gt 0 ] && pcol="$pcol, FAILED $pfail/$REPS"
  printf '%-26s %5s | %-24s %-24s | %-18s | %8s %8s | %6s %6s\n' "$label" "$clients" "$dcol" "$pcol" \
    "$(spread %.2f "${ratio[@]}")" "$(median %.2f "${dl[@]}")" "$(median %.2f "${pl[@]}")" \
    "$(median %.2f "${dc[@]}")" "$(median %.2f "${pc[@]}")"
  [ -n "$dwhy" ] && FAIL_NOTES+=("$label, $clients clients, direct: $dwhy")
  [ -n "$pwhy" ] && FAIL_NOTES+=("$label, $clients clients, pooled: $pwhy")
  MEM_ROWS+=("$(printf '%-26s %5s | %6s %9s %10s | %6s %9s %10s %9s' "$label" "$clients" \
    "$(median %.0f "${dn[@]}")" "$(median %.0f $(kb_to_mb "${dmem[@]}"))" "$(median %.0f $(kb_to_mb "${drss[@]}"))" \
    "$(median %.0f "${pn[@]}")" "$(median %.0f $(kb_to_mb "${pmem[@]}"))" "$(median %.0f $(kb_to_mb "${prss[@]}"))" \
    "$(median %.1f $(for v in "${pgb[@]}"; do [[ $v =~ ^[0-9]+$ ]] && awk -v k="$v" 'BEGIN { printf "%.1f\n", k / 1024 }'; done))")")
}

load() { cut -d' ' -f1-3 /proc/loadavg; }
LOAD_START=$(load)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
echo
echo "Machine: $(nproc) cores ($cpu), $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo) RAM, $(uname -sr)"
echo "Servers: $("$PG_BIN/postgres" --version), $("$PGBOUNCER_BIN" --version | head -1); loopback TCP, no TLS"
echo "pgBouncer: pool_mode=$POOL_MODE default_pool_size=$POOL_SIZE max_client_conn=$MAX_CLIENT_CONN (auth_query + SCRAM)"
echo "Postgres: max_connections=$MAX_CONNECTIONS for the sweep, $STORM_MAX_CONNECTIONS for the storm; $(grep -m1 '^shared_buffers' "$CONF/postgresql.conf")"
echo "pgbench: scale $SCALE, -j $JOBS, $DURATION s per run + $LOGIN_MS ms per client for the logins; $REPS runs per cell, direct and pooled alternating"
echo "Load average (1/5/15 min) at start: $LOAD_START"
echo
echo "TPS: median [min-max] of $REPS runs; TPS excludes the initial connection time (with -C it includes the reconnections)."
echo "pooled/direct: median [min-max] of the ratio of each direct+pooled pair, run back to back."
echo "lat: median of the average latency (ms); login: median seconds for all logins at start, or per login with -C."
echo
printf '%-26s %5s | %-24s %-24s | %-18s | %8s %8s | %6s %6s\n' "workload" "cl" "direct TPS" "pooled TPS" "pooled/direct" "lat d" "lat p" "login d" "login p"
printf '%s\n' "-------------------------------------------------------------------------------------------------------------------------------------"
for c in $CLIENTS; do cell "select-only (-S)" "$c" -S; done
for c in $CLIENTS; do cell "write (UPDATE+INSERT)" "$c" -f "$WORK/write.sql"; done
# what a web app without its own pool does: a new connection per transaction
cell "select, connect per txn -C" "$CONNECT_CLIENTS" -S -C

# Connection storm: more clients than Postgres has connection slots.
stop_postgres
start_postgres "$CONF/postgresql-storm.conf"
# sample how many server connections Postgres sees while the pooled storms run
( max=0
  while :; do
    [ -e "$WORK/pooled-running" ] || { sleep 0.5; continue; }
    n=$(super -d postgres -tAc "select count(*) from pg_stat_activity where datname = '$APP_DB' and backend_type = 'client backend'" 2>/dev/null) || n=0
    [ "${n:-0}" -gt "$max" ] && max=$n && echo "$max" >"$WORK/storm-max"
    sleep 0.5
  done ) &
SAMPLER=$!
cell "storm (max_conn=$STORM_MAX_CONNECTIONS) -S" "$STORM_CLIENTS" -S
kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null
echo
echo "Storm: Postgres restarted with max_connections=$STORM_MAX_CONNECTIONS; it saw at most $(cat "$WORK/storm-max" 2>/dev/null || echo "?") client backends in the app database during the storms (pool $POOL_SIZE)."
for n in "${FAIL_NOTES[@]}"; do echo "  failed: $n"; done

echo
echo "Postgres memory, sampled half-way through each run (median of $REPS): processes (postmaster, aux, backends),"
echo "private = summed RssAnon + VmPTE (each process's own memory and page tables: what grows per connection;"
echo "shared_buffers comes on top once); VmRSS = summed VmRSS (shared pages counted again in every process: what"
echo "adding up ps/top gives). Pooled: pgBouncer's own private memory in the last column."
printf '%-26s %5s | %6s %9s %10s | %6s %9s %10s %9s\n' "" "" "direct" "" "" "pooled" "" "" ""
printf '%-26s %5s | %6s %9s %10s | %6s %9s %10s %9s\n' "workload" "cl" "procs" "private" "VmRSS MB" "procs" "private" "VmRSS MB" "pgb MB"
printf '%s\n' "-------------------------------------------------------------------------------------------------"
for r in "${MEM_ROWS[@]}"; do echo "$r"; done
echo
echo "Load average (1/5/15 min) at start: $LOAD_START, at end: $(load)"
exit 0
