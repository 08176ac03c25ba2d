// The standby container's first start: an EMPTY data directory is cloned from the
// primary (pg_basebackup through the managed slot) or restored from the backup
// repository as a standby (pgBackRest --type=standby), in a staging directory
// beside PGDATA, then moved into place with `standby.signal`. A data directory that
// is not empty is never touched: it starts as it is (a standby that restarts, or
// one that was promoted and must stay promoted). Rendered into the entrypoint
// (entrypoint.ts) as a bash function; the integration test runs the same text.
import { STANZA, assertAbsPath } from "../lib/names";
import { shellQuote } from "../lib/quote";
import { SLOT_NAME, StandbyConfInput, primaryConninfo } from "./standby-conf";

export type StandbyBootstrapInput =
  | { from: "basebackup"; conf: StandbyConfInput }
  | { from: "backup"; pgbackrestConf: string; stanza: string };

/** Prefix of pgBackRest's restore_command line, commented out in a standby restored from the repository (no quote, slash or &: it sits in a sed expression). */
export const AUTO_CONF_RESTORE_REMOVED = "removed by hlpg-entrypoint (the one in postgresql.conf applies):";

/** Suffix beside PGDATA of the staging directory (in the volume, outside the cluster). */
export const STANDBY_STAGING_SUFFIX = ".hlpg-standby-partial";

function cloneCommand(b: StandbyBootstrapInput): string {
  if (b.from === "basebackup") {
    if (!SLOT_NAME.test(b.conf.slot)) throw new Error(`invalid slot ${JSON.stringify(b.conf.slot)}`);
    // -X stream through the slot: the WAL written during the copy is kept for it and
    // streamed alongside; --no-password: the passfile in the conninfo or nothing
    return `"\${as[@]}" pg_basebackup --dbname=${shellQuote(primaryConninfo(b.conf))} --pgdata="$staging" --wal-method=stream --slot=${b.conf.slot} --checkpoint=fast --no-password --progress \\
    || standby_fail "pg_basebackup from the primary failed (its errors are above: address, TLS, password, slot)"`;
  }
  if (!STANZA.test(b.stanza)) throw new Error(`invalid stanza ${JSON.stringify(b.stanza)}`);
  // the newest backup, as a standby: recovery continues from the archive, then streams
  return `"\${as[@]}" pgbackrest --config=${shellQuote(assertAbsPath(b.pgbackrestConf, "pgbackrestConf"))} --stanza=${b.stanza} --pg1-path="$staging" --type=standby restore \\
    || standby_fail "pgbackrest restore --type=standby failed (its errors are above)"
  # restore wrote its own restore_command into postgresql.auto.conf, which overrides postgresql.conf's:
  # it carries --pg1-path of this staging directory, gone after the move, so every archive-get would
  # fail and the archive fallback with it. Commented out: the program's restore_command applies.
  "\${as[@]}" sed -i 's/^restore_command[[:space:]]*=/# ${AUTO_CONF_RESTORE_REMOVED} &/' "$staging/postgresql.auto.conf" \\
    || standby_fail "cannot edit $staging/postgresql.auto.conf"`;
}

export function renderStandbyBootstrap(b: StandbyBootstrapInput): string {
  return `
standby_fail() {
  echo "hlpg-entrypoint: standby bootstrap FAILED: $*" >&2
  echo "hlpg-entrypoint: the data directory was left empty; the next start tries again (docs/replication.md)" >&2
  exit 1
}

standby_bootstrap() {
  local pgdata="\${PGDATA:?PGDATA is not set}"
  local staging="$pgdata${STANDBY_STAGING_SUFFIX}"
  local -a as=()
  if [ "$(id -u)" = 0 ]; then as=(gosu postgres); fi
  if [ -d "$pgdata" ] && [ -n "$(ls -A "$pgdata" 2>/dev/null)" ]; then
    if [ -f "$pgdata/standby.signal" ]; then
      echo "hlpg-entrypoint: $pgdata holds a standby; starting it as it is"
    else
      echo "hlpg-entrypoint: $pgdata holds a cluster without standby.signal (promoted): starting it as a primary; it is never overwritten"
    fi
    return 0
  fi
  echo "hlpg-entrypoint: $pgdata is empty: cloning the standby (${b.from})"
  # an attempt that did not finish left this: it never ran, so it is ours to remove
  rm -rf "$staging"
  "\${as[@]}" mkdir -m 0700 "$staging" || standby_fail "cannot create $staging"
  ${cloneCommand(b)}
  "\${as[@]}" touch "$staging/standby.signal"
  if [ -d "$pgdata" ]; then rmdir "$pgdata"; fi
  mv "$staging" "$pgdata"
  echo "hlpg-entrypoint: standby cloned; it streams once the server starts"
}
`;
}
