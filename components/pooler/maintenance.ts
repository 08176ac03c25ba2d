// pgBouncer PAUSE and RESUME around a replacement of the Postgres container, so that
// clients of the pooler wait instead of failing while Postgres stops and starts again
// (a new image, a new conf upload). PAUSE lets each server connection finish its
// transaction, closes them, and holds every query that comes after until RESUME
// (pgBouncer's usage.md, admin console: PAUSE, RESUME).
//
// The order comes from the engine: the pause command is a dependency of the Postgres
// container and is keyed on the inputs whose change replaces it (lib/container.ts
// replacementKey), so it runs before each replacement and at no other time; the resume
// command depends on the container and is keyed on its id, so it runs once the new
// container is healthy (`wait`). Both run where `pulumi up` runs, with psql, and log in
// to the admin console over TCP as POOLER_ADMIN_USER, a user that exists only in
// pgBouncer's auth file, with its own random password.
//
// Neither fails the deploy when pgBouncer cannot be reached (the first deploy, before
// pgBouncer exists; a pooler that is down anyway): clients then see the restart.
// A PAUSE that a long transaction holds past PAUSE_WAIT_SECONDS is given up (RESUME)
// rather than block `pulumi up`.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";

/** pgBouncer's admin-console user for PAUSE and RESUME (admin_users); in the `hlpg_` namespace no app can take. */
export const POOLER_ADMIN_USER = "hlpg_pooler_admin";

/** Seconds PAUSE may wait for open transactions before it is given up. */
export const PAUSE_WAIT_SECONDS = 60;

/** Prefix of the scripts' own lines in `pulumi up`'s output. */
const LOG = "hlpg-pgbouncer-maintenance:";

/**
 * POSIX sh: PAUSE pgBouncer (connection from PG* env). PAUSE returns once every server
 * connection is closed; a transaction still open after `waitSeconds` makes the script
 * RESUME and go on, so Postgres restarts under the clients as it would without a pause.
 */
export function renderPauseScript(waitSeconds = PAUSE_WAIT_SECONDS): string {
  if (!Number.isInteger(waitSeconds) || waitSeconds < 1 || waitSeconds > 3600) throw new Error(`waitSeconds must be 1-3600, got ${waitSeconds}`);
  return `set -u
if ! psql -X -q -At -c 'SHOW VERSION' >/dev/null 2>&1; then
  echo "${LOG} pgBouncer is not reachable: nothing to pause (its clients will see the restart)"
  exit 0
fi
psql -X -q -At -c PAUSE >/dev/null 2>&1 &
pause=$!
i=0
while kill -0 "$pause" 2>/dev/null; do
  i=$((i + 1))
  if [ "$i" -gt ${waitSeconds} ]; then
    kill "$pause" 2>/dev/null || true
    psql -X -q -At -c RESUME >/dev/null 2>&1 || true
    echo "${LOG} PAUSE still waited for open transactions after ${waitSeconds} s: resumed, clients will see the restart" >&2
    exit 0
  fi
  sleep 1
done
if wait "$pause"; then echo "${LOG} paused: clients wait until the new server is up"; else echo "${LOG} PAUSE failed: clients will see the restart" >&2; fi
exit 0
`;
}

/** POSIX sh: RESUME pgBouncer; a pooler that is not paused (or not there) is fine. */
export function renderResumeScript(): string {
  return `set -u
if out=$(psql -X -q -At -c RESUME 2>&1); then echo "${LOG} resumed"; exit 0; fi
case "$out" in
  *"not paused"*|*"pooler is not paused"*) exit 0 ;;
esac
if ! psql -X -q -At -c 'SHOW VERSION' >/dev/null 2>&1; then echo "${LOG} pgBouncer is not reachable: nothing to resume"; exit 0; fi
echo "${LOG} RESUME failed: $out" >&2
exit 1
`;
}

export interface PoolerConsole {
  /** Where pgBouncer is published: the bind address and the pooler port. */
  host: pulumi.Input<string>;
  port: number;
  /** Secret: POOLER_ADMIN_USER's password. */
  password: pulumi.Input<string>;
  /** libpq sslmode toward pgBouncer (`require` when client TLS is on). */
  sslmode: "disable" | "require";
}

function consoleEnvironment(c: PoolerConsole): Record<string, pulumi.Input<string>> {
  return {
    PGHOST: c.host,
    PGPORT: String(c.port),
    PGUSER: POOLER_ADMIN_USER,
    PGPASSWORD: pulumi.secret(c.password),
    PGDATABASE: "pgbouncer",
    PGSSLMODE: c.sslmode,
    PGCONNECT_TIMEOUT: "10",
    PGAPPNAME: "homelab-postgres-maintenance",
  };
}

/** A command on pgBouncer's admin console that runs again (is replaced) whenever `trigger` changes (pulumi-command: only triggers replace). */
function consoleCommand(name: string, script: string, c: PoolerConsole, trigger: pulumi.Input<string>, opts: pulumi.CustomResourceOptions): command.local.Command {
  return new command.local.Command(name, { create: script, environment: consoleEnvironment(c), triggers: [trigger] }, { ...opts, additionalSecretOutputs: ["environment"] });
}

/** The PAUSE command: make the Postgres container depend on it; `key` is its replacementKey. */
export function pauseCommand(name: string, c: PoolerConsole, key: pulumi.Input<string>, opts: pulumi.CustomResourceOptions): command.local.Command {
  return consoleCommand(name, renderPauseScript(), c, key, opts);
}

/** The RESUME command: after the Postgres container (and its settings), keyed on its id. */
export function resumeCommand(name: string, c: PoolerConsole, containerId: pulumi.Input<string>, opts: pulumi.CustomResourceOptions): command.local.Command {
  return consoleCommand(name, renderResumeScript(), c, containerId, opts);
}
