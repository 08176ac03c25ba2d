// The pgBouncer container's entrypoint: a small POSIX sh script (busybox sh in the
// Alpine image) that runs pgbouncer on the ini the config carrier keeps up to date
// (components/runtime) and reloads it when that file changes. pgBouncer 1.18 and
// later re-read their config on SIGHUP: pool_mode, default_pool_size,
// max_db_connections and max_client_conn take effect, [databases] entries are added
// and dropped, open client connections stay. Pure and static: the text depends on
// nothing in the stack config, so the uploaded file never changes and never
// replaces the container (uploads are ForceNew in the docker provider).
import { shellQuote } from "../lib/quote";

export interface PgBouncerWrapperInput {
  /** The pgbouncer binary: `pgbouncer` on the image's PATH; an absolute path in tests. */
  pgbouncer?: string;
  /** Seconds between two checksums of the ini. */
  pollSeconds?: number;
}

/** Prefix of the wrapper's own log lines (pgBouncer's are its own). */
export const WRAPPER_LOG_PREFIX = "hlpg-pgbouncer:";

/**
 * The wrapper script. Usage: `sh wrapper <pgbouncer.ini>`. Starts pgbouncer in the
 * background, forwards TERM and INT to it, and sends SIGHUP whenever the ini's
 * checksum (cksum, in busybox and coreutils) changes. Exits with pgbouncer's status.
 */
export function renderPgBouncerWrapper(input: PgBouncerWrapperInput = {}): string {
  const bin = shellQuote(input.pgbouncer ?? "pgbouncer");
  const poll = input.pollSeconds ?? 2;
  if (!Number.isInteger(poll) || poll < 1 || poll > 60) throw new Error(`pollSeconds must be a whole number of seconds in 1..60, got ${poll}`);
  const log = (msg: string) => `echo "${WRAPPER_LOG_PREFIX} ${msg}" >&2`;
  return [
    "#!/bin/sh",
    "# Rendered by homelab-postgres: runs pgbouncer and reloads it (SIGHUP) when its",
    "# config changes, so that apps and pool sizes never restart the container.",
    "set -u",
    `ini=\${1:?usage: $0 <pgbouncer.ini>}`,
    // busybox has both in the Alpine image; without either there would be no reloads: refuse to start
    "if command -v cksum >/dev/null 2>&1; then",
    `  sum() { cksum < "$ini" 2>/dev/null; }`,
    "elif command -v md5sum >/dev/null 2>&1; then",
    `  sum() { md5sum < "$ini" 2>/dev/null; }`,
    "else",
    `  ${log("neither cksum nor md5sum found: cannot watch $ini for changes")}`,
    "  exit 1",
    "fi",
    // the carrier writes the file; after a host reboot both containers start at once
    // (PID 1 ignores a signal it has no trap for: docker stop must work while waiting)
    "trap 'exit 143' TERM INT",
    `if [ ! -r "$ini" ]; then`,
    `  ${log("waiting for $ini")}`,
    `  while [ ! -r "$ini" ]; do sleep 1; done`,
    "fi",
    // taken before pgbouncer reads the file: a change in between still gets a reload
    "last=$(sum)",
    `${bin} "$ini" &`,
    "pid=$!",
    // docker stop signals this shell (PID 1); what TERM and INT mean is pgbouncer's to decide
    `trap 'kill -TERM "$pid" 2>/dev/null' TERM`,
    `trap 'kill -INT "$pid" 2>/dev/null' INT`,
    `while kill -0 "$pid" 2>/dev/null; do`,
    // sleep in the background: a trapped signal interrupts `wait` at once
    `  sleep ${poll} &`,
    "  wait $!",
    // the carrier replaces the file by rename, so a read sees the old or the new one
    "  now=$(sum) || continue",
    `  if [ -n "$now" ] && [ "$now" != "$last" ]; then`,
    `    ${log("$ini changed, reloading pgbouncer")}`,
    `    kill -HUP "$pid" 2>/dev/null`,
    "    last=$now",
    "  fi",
    "done",
    `wait "$pid"`,
  ].join("\n") + "\n";
}
