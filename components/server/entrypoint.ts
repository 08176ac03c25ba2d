// The postgres container's entrypoint: a wrapper around the image's own
// docker-entrypoint.sh. The image applies POSTGRES_PASSWORD(_FILE) only when it
// runs initdb, so a retained volume (re-created stack, lost state, new password)
// would keep an old superuser password the provider cannot log in with. On every
// start of an existing cluster the wrapper sets the password from the file in
// single-user mode: before the server listens, with no network and no auth.
import { quoteConfValue } from "../lib/quote";

export interface EntrypointInput {
  /** postgresql.conf the server runs with (single-user mode loads it too). */
  configFile: string;
  /** The image's entrypoint to hand over to. */
  next: string;
}

export function renderPostgresEntrypoint(input: EntrypointInput): string {
  for (const p of [input.configFile, input.next]) {
    if (!/^[A-Za-z0-9_./-]+$/.test(p)) throw new Error(`unsafe path ${JSON.stringify(p)}`);
  }
  // quoteConfValue gives a single-quoted, shell-safe token for these plain paths
  const configFile = quoteConfValue(input.configFile);
  return `#!/usr/bin/env bash
# Rendered by homelab-postgres. Sets the superuser password from
# POSTGRES_PASSWORD_FILE on every start of an existing cluster, then runs ${input.next}.
set -Eeuo pipefail

sync_superuser_password() {
  local pgdata="\${PGDATA:?PGDATA is not set}" file="\${POSTGRES_PASSWORD_FILE:?POSTGRES_PASSWORD_FILE is not set}"
  # first start: the image's initdb sets the password itself
  [ -s "$pgdata/PG_VERSION" ] || return 0
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

if [ "\${1:-}" = postgres ]; then
  sync_superuser_password
fi
exec ${input.next} "$@"
`;
}
