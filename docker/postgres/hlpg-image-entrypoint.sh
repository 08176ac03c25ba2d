#!/usr/bin/env bash
# The image's entrypoint: makes PGDATA and the socket directory postgres's, runs initdb
# on an empty PGDATA, and starts the command as postgres. The program's rendered
# wrapper (components/server/entrypoint.ts) runs first and hands over to it.
#
# It reads the variables the official postgres image reads, with the same meaning, so
# the program's container inputs and an existing volume work unchanged:
#   PGDATA                  where the cluster lives (required)
#   POSTGRES_PASSWORD_FILE  the superuser's password, for initdb (required for initdb)
#   POSTGRES_USER           the superuser's name (default postgres)
#   POSTGRES_INITDB_ARGS    more initdb arguments (word-split)
# Unlike the official image it runs no init scripts and creates no database: roles and
# databases are the program's.
set -Eeuo pipefail

if [ "${1:-}" = postgres ]; then
  : "${PGDATA:?PGDATA is not set}"
  if [ "$(id -u)" = 0 ]; then
    install -d -o postgres -g postgres -m 0700 "$PGDATA"
    chown postgres:postgres "$PGDATA"
    chmod 0700 "$PGDATA"
    install -d -o postgres -g postgres -m 3777 /var/run/postgresql
    exec gosu postgres "$BASH_SOURCE" "$@"
  fi
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    file="${POSTGRES_PASSWORD_FILE:?POSTGRES_PASSWORD_FILE is not set: initdb needs the superuser password}"
    [ -s "$file" ] || { echo "hlpg-image-entrypoint: $file is empty or missing" >&2; exit 1; }
    # checksums on, so corruption is reported instead of read; en_US.UTF-8 as the
    # official image, so clusters from either image run on the other
    # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of words, as in the official image
    initdb --username="${POSTGRES_USER:-postgres}" --pwfile="$file" --auth=scram-sha-256 \
      --data-checksums --encoding=UTF8 --locale=en_US.UTF-8 ${POSTGRES_INITDB_ARGS:-} -D "$PGDATA"
    echo "hlpg-image-entrypoint: initialised $PGDATA"
  fi
fi
exec "$@"
