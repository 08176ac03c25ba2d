// The postgres container's entrypoint: a wrapper around the image's own
// docker-entrypoint.sh. The image applies POSTGRES_PASSWORD(_FILE) only when it
// runs initdb, so a retained volume (re-created stack, lost state, new password)
// would keep an old superuser password the provider cannot log in with. On every
// start of an existing cluster the wrapper sets the password from the file in
// single-user mode: before the server listens, with no network and no auth.
//
// With `bootstrap` (postgres.bootstrap), an EMPTY data directory is not left to
// initdb: the wrapper restores the backup repository into a staging directory
// beside PGDATA, recovers it privately (socket only, no hot standby) until it is
// promoted at the target, shuts it down cleanly, then moves it into place and
// writes a marker. A data directory that is not empty is never touched: the
// container refuses to start, unless the marker says this very bootstrap made it
// (a restart of the restored cluster). The one-shot job (one-shot.ts) runs this same
// script with JOB_ARG: the bootstrap alone, then exit; the server that starts after
// it finds the marker. A standby's clone runs the same way.
import { STANZA, assertAbsPath } from "../lib/names";
import { quoteConfValue, shellQuote } from "../lib/quote";
import { RestoreTarget, restoreTargetArgs, restoreTargetText } from "../lib/restore-target";
import { StandbyBootstrapInput, renderStandbyBootstrap } from "./standby-bootstrap";

/** Start a new data volume from the backup repository instead of initdb. */
export interface BootstrapInput {
  /** pgbackrest.conf with the secrets (the conf volume's file). */
  pgbackrestConf: string;
  /** The stanza to restore. */
  stanza: string;
  /** How far to recover before promoting. */
  target: RestoreTarget;
  /** Port of the private recovery server: socket only, in a private directory, so never reachable. */
  privatePort: number;
}

export interface EntrypointInput {
  /** postgresql.conf the server runs with (single-user mode loads it too). */
  configFile: string;
  /** The image's entrypoint to hand over to. */
  next: string;
  /** Restore an empty data directory from the repository (postgres.bootstrap). */
  bootstrap?: BootstrapInput;
  /** The standby container (components/replica): clone an empty data directory (standby-bootstrap.ts). */
  standby?: StandbyBootstrapInput;
}

/** What the bootstrap marker records: the repository's stanza and the target, so another target on the same volume is refused too. */
export function bootstrapId(b: Pick<BootstrapInput, "stanza" | "target">): string {
  return `backup stanza=${b.stanza} target=${restoreTargetText(b.target)}`;
}

/**
 * The entrypoint's first argument that runs the bootstrap alone and exits (0 once the
 * data directory is ready): the command of the one-shot job (one-shot.ts).
 */
export const JOB_ARG = "hlpg-bootstrap-job";

/** Suffixes beside PGDATA (in the volume, outside the cluster and its backups): the marker and the staging directory. */
export const BOOTSTRAP_MARKER_SUFFIX = ".hlpg-bootstrap";
export const BOOTSTRAP_STAGING_SUFFIX = ".hlpg-bootstrap-partial";

function renderBootstrap(b: BootstrapInput, configFile: string): string {
  if (!STANZA.test(b.stanza)) throw new Error(`invalid stanza ${JSON.stringify(b.stanza)}`);
  if (!Number.isInteger(b.privatePort) || b.privatePort < 1024 || b.privatePort > 65535) throw new Error(`invalid private port ${b.privatePort}`);
  const conf = shellQuote(assertAbsPath(b.pgbackrestConf, "pgbackrestConf"));
  const args = restoreTargetArgs(b.target).map(shellQuote).join(" ");
  const port = String(b.privatePort);
  return `
readonly BOOTSTRAP_ID=${shellQuote(bootstrapId(b))}
readonly BOOTSTRAP_RESTORE=(${args})

bootstrap_fail() {
  echo "hlpg-entrypoint: bootstrap FAILED: $*" >&2
  echo "hlpg-entrypoint: the data directory was left as it was; the next start tries again (docs/backup.md, The host died)" >&2
  exit 1
}

bootstrap_from_backup() {
  local pgdata="\${PGDATA:?PGDATA is not set}"
  local marker="$pgdata${BOOTSTRAP_MARKER_SUFFIX}" staging="$pgdata${BOOTSTRAP_STAGING_SUFFIX}"
  # a command prefix, not a function: the server below must be the background job itself,
  # or the signal that stops it would reach a subshell (which ignores SIGINT) instead
  local -a as=()
  if [ "$(id -u)" = 0 ]; then as=(gosu postgres); fi
  if [ -d "$pgdata" ] && [ -n "$(ls -A "$pgdata" 2>/dev/null)" ]; then
    if [ -f "$marker" ] && [ "$(cat "$marker")" = "$BOOTSTRAP_ID" ]; then
      echo "hlpg-entrypoint: $pgdata was restored by this bootstrap earlier ($BOOTSTRAP_ID); starting it as it is"
      return 0
    fi
    {
      echo "hlpg-entrypoint: REFUSED: postgres.bootstrap is set ($BOOTSTRAP_ID) but $pgdata is not empty."
      if [ -f "$marker" ]; then echo "hlpg-entrypoint: it was restored by another bootstrap: $(cat "$marker")"; fi
      echo "hlpg-entrypoint: a bootstrap never overwrites a data directory. To run the cluster that is there, remove postgres.bootstrap"
      echo "hlpg-entrypoint: from the stack config; to restore over it, move its content away yourself first (docs/backup.md)."
    } >&2
    exit 1
  fi
  echo "hlpg-entrypoint: $pgdata is empty and postgres.bootstrap is set: restoring from the backup repository ($BOOTSTRAP_ID)"
  # an attempt that did not finish left this: it never ran as a primary, so it is ours to remove
  rm -rf "$staging"
  "\${as[@]}" mkdir -m 0700 "$staging" || bootstrap_fail "cannot create $staging"
  "\${as[@]}" pgbackrest --config=${conf} --stanza=${b.stanza} --pg1-path="$staging" "\${BOOTSTRAP_RESTORE[@]}" restore \
    || bootstrap_fail "pgbackrest restore failed (its errors are above)"
  # Recover privately: socket only in a private directory, no hot standby, so no client
  # sees or writes a half-recovered cluster; the target's recovery_target_action promotes it.
  local sock pid rec timeline
  sock=$("\${as[@]}" mktemp -d) || bootstrap_fail "no temp directory"
  "\${as[@]}" postgres -D "$staging" -c config_file=${quoteConfValue(configFile)} -c listen_addresses= -c port=${port} \
    -c unix_socket_directories="$sock" -c hot_standby=off &
  pid=$!
  until "\${as[@]}" pg_isready -q -h "$sock" -p ${port}; do
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid" || true
      bootstrap_fail "the server exited during recovery (its log is above: a target after the end of the archived WAL, or WAL missing)"
    fi
    sleep 1
  done
  rec=$("\${as[@]}" psql -X -At -h "$sock" -p ${port} -U postgres -d postgres -c 'select pg_is_in_recovery()') || rec=error
  [ "$rec" = f ] || { kill -INT "$pid"; wait "$pid" || true; bootstrap_fail "the restored server is not promoted (pg_is_in_recovery: $rec)"; }
  "\${as[@]}" psql -X -q -h "$sock" -p ${port} -U postgres -d postgres -c checkpoint
  timeline=$("\${as[@]}" psql -X -At -h "$sock" -p ${port} -U postgres -d postgres -c 'select timeline_id from pg_control_checkpoint()')
  kill -INT "$pid"
  wait "$pid" || bootstrap_fail "the recovered server did not shut down cleanly"
  rm -rf "$sock"
  if [ -d "$pgdata" ]; then rmdir "$pgdata"; fi
  mv "$staging" "$pgdata"
  printf '%s\\n' "$BOOTSTRAP_ID" | "\${as[@]}" tee "$marker" >/dev/null
  echo "hlpg-entrypoint: restored and promoted on timeline $timeline; archiving continues there, the history it came from stays as it is"
}
`;
}

export function renderPostgresEntrypoint(input: EntrypointInput): string {
  for (const p of [input.configFile, input.next]) {
    if (!/^[A-Za-z0-9_./-]+$/.test(p)) throw new Error(`unsafe path ${JSON.stringify(p)}`);
  }
  // quoteConfValue gives a single-quoted, shell-safe token for these plain paths
  const configFile = quoteConfValue(input.configFile);
  if (input.bootstrap && input.standby) throw new Error("a standby is cloned from its primary, not bootstrapped as a new primary");
  const bootstrap = input.bootstrap ? renderBootstrap(input.bootstrap, input.configFile) : input.standby ? renderStandbyBootstrap(input.standby) : "";
  return `#!/usr/bin/env bash
# Rendered by homelab-postgres. Sets the superuser password from
# POSTGRES_PASSWORD_FILE on every start of an existing cluster, then runs ${input.next}.
set -Eeuo pipefail

sync_superuser_password() {
  local pgdata="\${PGDATA:?PGDATA is not set}" file="\${POSTGRES_PASSWORD_FILE:?POSTGRES_PASSWORD_FILE is not set}"
  # first start: the image's initdb sets the password itself
  [ -s "$pgdata/PG_VERSION" ] || return 0
  # a standby's catalog is the primary's (replicated, password included) and read-only
  [ ! -f "$pgdata/standby.signal" ] || return 0
  local pw out
  pw="$(< "$file")"
  pw="\${pw//\\'/\\'\\'}"
  local run_as=()
  if [ "$(id -u)" = 0 ]; then run_as=(gosu postgres); fi
  # the statement goes in on stdin (never argv) and is never logged (log_min_error_statement=panic)
  if ! out="$(printf "ALTER ROLE postgres PASSWORD '%s';\\n" "$pw" \\
      | "\${run_as[@]}" postgres --single -D "$pgdata" -c config_file=${configFile} \\
          -c log_min_error_statement=panic -c log_statement=none -c log_min_messages=warning postgres 2>&1)" \\
    || grep -q 'ERROR:' <<< "$out"; then
    echo "hlpg-entrypoint: could not set the superuser password:" >&2
    grep -v 'PASSWORD' <<< "$out" >&2 || true
    exit 1
  fi
  echo "hlpg-entrypoint: superuser password set from $file"
}
${bootstrap}
${bootstrap === "" ? "" : `if [ "\${1:-}" = ${JOB_ARG} ]; then
  ${input.bootstrap ? "bootstrap_from_backup" : "standby_bootstrap"}
  exit 0
fi
`}if [ "\${1:-}" = postgres ]; then
${input.bootstrap ? "  bootstrap_from_backup\n" : ""}${input.standby ? "  standby_bootstrap\n" : ""}  sync_superuser_password
fi
exec ${input.next} "$@"
`;
}
