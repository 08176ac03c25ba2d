#!/usr/bin/env bash
# Pooling benchmark: pgbench against a real PostgreSQL 15 directly and through a
# real pgBouncer, both configured by the program's render functions
# (bench/render-bench-config.ts). Loopback only, bounded duration, always exits 0.
# A benchmark, not a test: it prints a table; nothing asserts on it.
#
#   bench/pooler.sh                      # defaults below
#   DURATION=5 CLIENTS="10 100" bench/pooler.sh
#
# Needs: postgresql-15 (server, psql, pgbench), pgbouncer, node_modules (ts-node).
# As root, the servers run as the `postgres` OS user (they refuse to run as root).
set -uo pipefail

DURATION=${DURATION:-10}          # seconds per cell
CLIENTS=${CLIENTS:-"10 100 500"}
STORM_CLIENTS=${STORM_CLIENTS:-1000}
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
# PBKDF2 (~5 ms per thread here): give every cell that much extra time, so that it
# measures DURATION seconds of work. pgbench's TPS excludes the connection time.
cell_seconds() { echo $((DURATION + (${1} * 20 + 999) / 1000)); }

# runs pgbench; prints "tps|latency_ms|login_s|failed_note"
bench() { # $1 port, $2 clients, rest: workload args
  local port=$1 clients=$2; shift 2
  local out rc t
  t=$(cell_seconds "$clients")
  out=$(timeout $((t + 120)) "$PG_BIN/pgbench" -n -c "$clients" -j "$JOBS" -T "$t" -D "scale=$SCALE" \
    -h 127.0.0.1 -p "$port" -U "$APP_USER" "$@" "$APP_DB" 2>&1)
  rc=$?
  local tps lat conn
  tps=$(sed -n 's/^tps = \([0-9.]*\) (.*)$/\1/p' <<<"$out")
  lat=$(sed -n 's/^latency average = \([0-9.]*\) ms$/\1/p' <<<"$out")
  # all logins at start, or the average per login with -C
  conn=$(sed -n 's/^\(initial\|average\) connection time = \([0-9.]*\) ms$/\2/p' <<<"$out")
  if [ "$rc" -ne 0 ] || [ -z "$tps" ]; then
    local why
    # the server's own words (FATAL: too many clients / reserved slots), else pgbench's first error
    why=$(grep -m1 -oE 'FATAL: +.*' <<<"$out" | sed 's/  */ /g' | cut -c1-110)
    [ -z "$why" ] && why=$(grep -m1 -E 'error' <<<"$out" | cut -c1-110)
    echo "FAILED|-|-|${why:-exit $rc}"
  else
    printf '%.0f|%.2f|%.2f|\n' "$tps" "$lat" "$(awk -v c="${conn:-0}" 'BEGIN { print c / 1000 }')"
  fi
}

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
echo
echo "Machine: $(nproc) cores ($cpu), $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo) RAM, $(uname -sr)"
echo "Servers: $("$PG_BIN/postgres" --version), $("$PGBOUNCER_BIN" --version | head -1); loopback TCP, no TLS"
echo "pgBouncer: pool_mode=$POOL_MODE default_pool_size=$POOL_SIZE max_client_conn=$MAX_CLIENT_CONN (auth_query + SCRAM)"
echo "pgbench: scale $SCALE, -j $JOBS, $DURATION s per cell + 20 ms per client for the logins; Postgres max_connections=$MAX_CONNECTIONS for the sweep"
echo "TPS excludes the initial connection time; 'login s' is that time (all clients), or the average per login with -C"
echo
printf '%-24s %7s | %10s %9s %8s | %10s %9s %8s\n' "workload" "clients" "direct TPS" "lat ms" "login s" "pooled TPS" "lat ms" "login s"
printf '%s\n' "---------------------------------------------------------------------------------------------------"
row() { # label clients args...
  local label=$1 clients=$2; shift 2
  local d p
  d=$(bench "$PG_PORT" "$clients" "$@")
  p=$(bench "$PGB_PORT" "$clients" "$@")
  IFS='|' read -r dt dl dc dn <<<"$d"
  IFS='|' read -r pt pl pc pn <<<"$p"
  printf '%-24s %7s | %10s %9s %8s | %10s %9s %8s\n' "$label" "$clients" "$dt" "$dl" "$dc" "$pt" "$pl" "$pc"
  [ -n "$dn" ] && echo "    direct: $dn"
  [ -n "$pn" ] && echo "    pooled: $pn"
}
for c in $CLIENTS; do row "select-only (-S)" "$c" -S; done
for c in $CLIENTS; do row "write (UPDATE+INSERT)" "$c" -f "$WORK/write.sql"; done
# what a web app without its own pool does: a new connection per transaction
row "select, connect per txn" 100 -S -C

echo
echo "Connection storm: $STORM_CLIENTS clients, Postgres restarted with max_connections=$STORM_MAX_CONNECTIONS"
stop_postgres
start_postgres "$CONF/postgresql-storm.conf"
d=$(bench "$PG_PORT" "$STORM_CLIENTS" -S)
# sample how many server connections Postgres sees while the pooled storm runs
( max=0
  while :; do
    n=$(super -d postgres -tAc "select count(*) from pg_stat_activity where datname = '$APP_DB' and backend_type = 'client backend'" 2>/dev/null) || n=0
    [ "${n:-0}" -gt "$max" ] && max=$n && echo "$max" >"$WORK/storm-max"
    sleep 0.5
  done ) &
SAMPLER=$!
p=$(bench "$PGB_PORT" "$STORM_CLIENTS" -S)
kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null
seen=$(cat "$WORK/storm-max" 2>/dev/null || echo "?")
IFS='|' read -r dt dl dc dn <<<"$d"
IFS='|' read -r pt pl pc pn <<<"$p"
if [ "$dt" = FAILED ]; then echo "  direct: FAILED ($dn)"; else echo "  direct: $dt TPS, $dl ms"; fi
if [ "$pt" = FAILED ]; then echo "  pooled: FAILED ($pn)"; else
  echo "  pooled: completed, $pt TPS, $pl ms average latency, logins took $pc s; Postgres saw at most $seen server connections (pool $POOL_SIZE)"
fi
exit 0
