#!/usr/bin/env bash
# Backup benchmark: full backup and restore time and repository size for a
# pgbench database at each scale, per pgBackRest compress-type (lz4, zst, gz),
# through the program's rendered pgbackrest.conf into an encrypted repository on
# a loopback S3 endpoint (s3rver over HTTPS); then the RPO the rendered
# archive_timeout gives. Loopback only; prints tables; always exits 0.
#
#   bench/backup.sh                                  # scales 10 and 50, all three
#   SCALES=10 COMPRESSIONS="zst" bench/backup.sh     # a quick run
#   PROCESS_MAX=4 ARCHIVE_TIMEOUT=30 RPO_SAMPLES=3 bench/backup.sh
#
# Needs: postgresql-15 (server, pgbench), pgbackrest, age, curl, openssl,
# node_modules (ts-node, s3rver). As root, servers and pgBackRest run as the
# `postgres` OS user.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
for bin in /usr/lib/postgresql/15/bin/postgres /usr/lib/postgresql/15/bin/pgbench /usr/bin/pgbackrest /usr/bin/age /usr/bin/curl /usr/bin/openssl; do
  [ -x "$bin" ] || { echo "missing $bin (apt-get install postgresql-15 pgbackrest age curl openssl)"; exit 0; }
done

cd "$ROOT" || exit 0
export SCALES=${SCALES:-"10 50"} COMPRESSIONS=${COMPRESSIONS:-"lz4 zst gz"}
export PROCESS_MAX=${PROCESS_MAX:-2} ARCHIVE_TIMEOUT=${ARCHIVE_TIMEOUT:-60} RPO_SAMPLES=${RPO_SAMPLES:-2}
npx ts-node --project tsconfig.json --transpile-only bench/backup.ts || true
exit 0
