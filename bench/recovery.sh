#!/usr/bin/env bash
# Recovery benchmark: end-to-end time from an empty data volume to a server that
# accepts connections, through the rendered bootstrap entrypoint (restore + WAL
# replay + promote), for a pgbench scale-50 database, next to the full-backup time;
# median of 3 runs with the spread. Loopback only; prints numbers; always exits 0.
#
#   bench/recovery.sh                    # scale 50, 3 runs
#   SCALE=10 RUNS=3 TX_SECONDS=10 bench/recovery.sh
#
# Needs: postgresql-15 (server, pgbench), pgbackrest, age, curl, openssl, node_modules.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
for bin in /usr/lib/postgresql/15/bin/postgres /usr/lib/postgresql/15/bin/pgbench /usr/bin/pgbackrest /usr/bin/openssl; do
  [ -x "$bin" ] || { echo "missing $bin (apt-get install postgresql-15 pgbackrest openssl)"; exit 0; }
done
cd "$ROOT" || exit 0
export SCALE=${SCALE:-50} RUNS=${RUNS:-3} TX_SECONDS=${TX_SECONDS:-20}
npx ts-node --project tsconfig.json --transpile-only bench/recovery.ts || true
exit 0
