#!/usr/bin/env bash
# hlpg-failover: promote a streaming standby, or rejoin an old primary as the new
# primary's standby with pg_rewind. Uploaded into both Postgres containers as
# /usr/local/bin/hlpg-failover; docs/replication.md runs exactly these commands, and
# test/integration/replica/standby.test.ts runs this file on real servers.
#
#   hlpg-failover status                  role, timeline, LSNs, replication peers
#   hlpg-failover promote [seconds]       the server this connects to leaves recovery
#   hlpg-failover rejoin PGDATA SOURCE FOLLOW SLOT
#       PGDATA  the stopped old primary's data directory
#       SOURCE  conninfo of the new primary as a superuser (pg_rewind reads it): PGPASSWORD or a passfile
#       FOLLOW  conninfo the rejoined standby streams with (the replication role, its passfile)
#       SLOT    physical slot created on the new primary for it (kept if it exists)
#
# psql's connection comes from the libpq environment (PGHOST, PGPORT, PGUSER, ...);
# inside the container the socket and the postgres user are the defaults.
set -Eeuo pipefail

die() { echo "hlpg-failover: $*" >&2; exit 1; }
q() { psql -X -At -v ON_ERROR_STOP=1 -d "${PGDATABASE:-postgres}" -c "$1"; }

status() {
  q "select case when pg_is_in_recovery() then 'standby' else 'primary' end,
            case when pg_is_in_recovery() then (select timeline_id from pg_control_checkpoint())
                 else ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int end,
            case when pg_is_in_recovery() then pg_last_wal_replay_lsn() else pg_current_wal_lsn() end" | tr '|' ' ' \
    | { read -r role tli lsn; echo "role=$role timeline=$tli lsn=$lsn"; }
  q "select application_name, client_addr, state, coalesce(replay_lag::text, '0') from pg_stat_replication" \
    | while IFS='|' read -r app addr state lag; do echo "peer=$app addr=$addr state=$state replay_lag=$lag"; done
}

promote() {
  local wait="${1:-60}"
  [[ "$wait" =~ ^[0-9]+$ ]] || die "promote: seconds must be a number, got $wait"
  [ "$(q 'select pg_is_in_recovery()')" = t ] || die "promote: this server is not a standby (already a primary?)"
  # pg_promote waits until the server accepts writes, or returns false after `wait` seconds
  [ "$(q "select pg_promote(true, $wait)")" = t ] || die "promote: not promoted within ${wait}s (see the server log)"
  [ "$(q 'select pg_is_in_recovery()')" = f ] || die "promote: still in recovery"
  echo "hlpg-failover: promoted; $(status | head -1)"
}

rejoin() {
  [ $# -eq 4 ] || die "usage: hlpg-failover rejoin PGDATA SOURCE FOLLOW SLOT"
  local pgdata="$1" source="$2" follow="$3" slot="$4"
  [[ "$slot" =~ ^[a-z0-9_]{1,63}$ ]] || die "rejoin: invalid slot name $slot"
  [ -s "$pgdata/PG_VERSION" ] || die "rejoin: $pgdata is not a data directory"
  if pg_ctl -D "$pgdata" status >/dev/null 2>&1; then die "rejoin: the server on $pgdata is running: stop it first (docker stop)"; fi
  # pg_rewind needs hint bits in the WAL: data checksums (the image's initdb has
  # --data-checksums) or wal_log_hints. Neither: re-clone (docs/replication.md).
  local control
  control=$(pg_controldata "$pgdata")
  if grep -q '^Data page checksum version: *0$' <<< "$control" && grep -q '^wal_log_hints setting: *off$' <<< "$control"; then
    die "rejoin: $pgdata has neither data checksums nor wal_log_hints: pg_rewind cannot work; re-clone it (empty the volume, the standby bootstrap clones it)"
  fi
  [ "$(psql -X -At -v ON_ERROR_STOP=1 -d "$source" -c 'select pg_is_in_recovery()')" = f ] || die "rejoin: the source is not a primary"
  # the slot first, so WAL from here on is kept for the rejoining standby
  # (the name matched the pattern above: safe inside the literal)
  psql -X -q -v ON_ERROR_STOP=1 -d "$source" \
    -c "select pg_create_physical_replication_slot('$slot', true) where not exists (select 1 from pg_replication_slots where slot_name = '$slot')" >/dev/null
  # a just-promoted source may not have checkpointed yet: its control file would still show
  # the old timeline and pg_rewind would wrongly find nothing to rewind (pg_rewind's docs)
  psql -X -q -v ON_ERROR_STOP=1 -d "$source" -c checkpoint
  # --no-ensure-shutdown is not given: a crashed old primary is first recovered in single-user mode
  pg_rewind --target-pgdata="$pgdata" --source-server="$source" --progress
  # follow the new primary: standby mode, its conninfo and slot (ALTER SYSTEM's file, read last)
  touch "$pgdata/standby.signal"
  local esc_follow="${follow//\'/\'\'}"
  {
    echo "# hlpg-failover rejoin $(date -u +%FT%TZ): follows the new primary"
    echo "primary_conninfo = '$esc_follow'"
    echo "primary_slot_name = '$slot'"
    echo "recovery_target_timeline = 'latest'"
  } >> "$pgdata/postgresql.auto.conf"
  echo "hlpg-failover: rewound; $pgdata starts as a standby of the new primary through slot $slot"
}

cmd="${1:-}"
shift || true
case "$cmd" in
  status) status ;;
  promote) promote "$@" ;;
  rejoin) rejoin "$@" ;;
  *) die "usage: hlpg-failover status | promote [seconds] | rejoin PGDATA SOURCE FOLLOW SLOT" ;;
esac
