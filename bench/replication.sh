#!/usr/bin/env bash
# Replication-lag benchmark: a primary and a streaming standby on loopback, each
# configured by the program's rendered files (TLS, the replication line, the
# standby's recovery settings, the slot, the replication role), a pgbench write
# load on the primary, and the standby's replay lag sampled every 100 ms from
# pg_stat_replication (replay_lag) and as bytes behind. RUNS runs (default 3);
# per run the median and the max; then the median and spread across runs, next
# to the archive-based RPO of docs/backup.md. Prints numbers; always exits 0.
#
#   bench/replication.sh                           # scale 10, 20 s of load, 3 runs
#   SCALE=10 TX_SECONDS=20 CLIENTS=4 RUNS=3 bench/replication.sh
#
# Needs: postgresql-15 (server, pg_basebackup, pgbench), openssl, node_modules.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
for bin in /usr/lib/postgresql/15/bin/postgres /usr/lib/postgresql/15/bin/pgbench /usr/lib/postgresql/15/bin/pg_basebackup /usr/bin/openssl; do
  [ -x "$bin" ] || { echo "missing $bin (apt-get install postgresql-15 openssl)"; exit 0; }
done
cd "$ROOT" || exit 0
export SCALE=${SCALE:-10} RUNS=${RUNS:-3} TX_SECONDS=${TX_SECONDS:-20} CLIENTS=${CLIENTS:-4}
npx ts-node --project tsconfig.json --transpile-only bench/replication.ts || true
exit 0
