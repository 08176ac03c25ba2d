// The settings command: makes postgresql.auto.conf hold exactly the live settings
// (postgresql-conf.ts liveSettings) with ALTER SYSTEM, reloads, and restarts
// PostgreSQL once when a changed parameter needs it. Why not the uploaded file:
// the docker provider replaces a container whose uploads change (ForceNew, with
// delete-before-replace), so a reloadable setting would cost a restart and a bad
// value would leave the server down. ALTER SYSTEM checks every value (type, unit,
// range, enum) before it writes anything; a refused value restores the previous
// file and nothing is reloaded or restarted.
//
// The restart: PostgreSQL has no SQL to restart itself, so the superuser signals
// the postmaster (`COPY … TO PROGRAM 'kill -INT <pid>'`, a fast shutdown) and the
// container's restart policy (unless-stopped) starts it again, with the same
// container, uploads and volume. The script then waits until the server is back
// and no parameter is left pending a restart.
import type { ConfValue } from "../config";
import { CONF_KEY } from "../lib/names";
import { quoteIdent, quoteLiteral } from "../lib/quote";

/** `"pg_stat_statements"."track"`: each part a quoted identifier (the parser joins them with '.'). */
function guc(name: string): string {
  if (!CONF_KEY.test(name)) throw new Error(`invalid parameter name ${JSON.stringify(name)}`);
  return name.split(".").map((p) => quoteIdent(p)).join(".");
}

/**
 * The elements of a list value as postgresql.conf writes it (`"$user", public`):
 * split at commas outside double quotes, quotes removed ("" is a quote).
 */
export function listElements(value: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === '"') {
      if (quoted && value[i + 1] === '"') {
        cur += '"';
        i++;
      } else quoted = !quoted;
    } else if (ch === "," && !quoted) {
      out.push(cur.trim());
      cur = "";
    } else cur += ch;
  }
  if (quoted) throw new Error(`unbalanced double quote in list value ${JSON.stringify(value)}`);
  out.push(cur.trim());
  return out;
}

/** `ALTER SYSTEM SET x = …` right-hand side: one literal, or one per element for a list parameter. */
export function alterSystemValue(value: ConfValue, list: boolean): string {
  const text = typeof value === "boolean" ? (value ? "on" : "off") : String(value);
  if (/[\r\n\0]/.test(text)) throw new Error(`setting values must be one line, got ${JSON.stringify(text)}`);
  return list ? listElements(text).map(quoteLiteral).join(", ") : quoteLiteral(text);
}

export interface SettingsSqlInput {
  /** The live settings, name → value. */
  settings: Record<string, ConfValue>;
  /** Whether a parameter is list-valued (from the catalog of the server's major). */
  isList: (name: string) => boolean;
}

/**
 * psql script: remember what postgresql.auto.conf holds, set every live setting,
 * and either put the old file content back (a value was refused: exit non-zero)
 * or reset what is no longer configured and reload.
 */
export function renderSettingsSql(input: SettingsSqlInput): string {
  const names = Object.keys(input.settings).sort();
  const listNames = names.filter((n) => input.isList(n));
  const arr = (xs: string[]) => (xs.length === 0 ? "ARRAY[]::text[]" : `ARRAY[${xs.map(quoteLiteral).join(", ")}]`);
  const out = [
    "-- Rendered by homelab-postgres: postgresql.auto.conf holds exactly these settings (it is the program's).",
    "\\set ON_ERROR_STOP on",
    "SET client_min_messages = warning;",
    "CREATE TEMP TABLE hlpg_before AS SELECT name, setting FROM pg_catalog.pg_file_settings",
    "  WHERE sourcefile LIKE '%/postgresql.auto.conf' AND error IS NULL;",
    "\\set hlpg_failed false",
    // each statement stands alone: ALTER SYSTEM cannot run in a transaction block
    "\\set ON_ERROR_STOP off",
  ];
  for (const n of names) {
    out.push(`ALTER SYSTEM SET ${guc(n)} = ${alterSystemValue(input.settings[n], input.isList(n))};`, "\\if :ERROR", "\\set hlpg_failed true", "\\endif");
  }
  out.push(
    "\\set ON_ERROR_STOP on",
    "\\if :hlpg_failed",
    // back to what the file held; a list value goes back element by element, each a
    // literal (the same split as listElements: commas outside double quotes)
    "SELECT CASE WHEN b.name IS NULL THEN format('ALTER SYSTEM RESET %I', d.name)",
    `  WHEN d.name = ANY (${arr(listNames)}) THEN format('ALTER SYSTEM SET %I = %s', d.name, (SELECT string_agg(quote_literal(`,
    `    CASE WHEN m[1] LIKE '"%' THEN replace(substr(m[1], 2, length(m[1]) - 2), '""', '"') ELSE btrim(m[1]) END), ', ')`,
    `    FROM regexp_matches(b.setting, '\\s*("(?:[^"]|"")*"|[^,]+)\\s*', 'g') AS m))`,
    "  ELSE format('ALTER SYSTEM SET %I = %L', d.name, b.setting) END",
    `FROM unnest(${arr(names)}) AS d(name) LEFT JOIN hlpg_before b USING (name) \\gexec`,
    "DO $$ BEGIN RAISE EXCEPTION 'hlpg-settings: PostgreSQL refused a value (see above); postgresql.auto.conf is as it was, nothing was reloaded'; END $$;",
    "\\endif",
    // what the config no longer sets goes back to the server default
    `SELECT format('ALTER SYSTEM RESET %I', name) FROM hlpg_before WHERE NOT (name = ANY (${arr(names)})) \\gexec`,
    "SELECT pg_catalog.pg_reload_conf();",
  );
  return out.join("\n") + "\n";
}

export interface SettingsScriptInput {
  /** Seconds to wait for the server to come back after a restart. */
  restartTimeoutSeconds: number;
}

/**
 * The command's shell script (POSIX sh, run where `pulumi up` runs, with PGHOST,
 * PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE in the environment and the
 * settings SQL on stdin).
 */
export function renderSettingsScript(input: SettingsScriptInput): string {
  const t = input.restartTimeoutSeconds;
  if (!Number.isInteger(t) || t < 10 || t > 3600) throw new Error(`restartTimeoutSeconds must be 10-3600, got ${t}`);
  return `set -eu
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
before=$(q -c 'select pg_conf_load_time()')
psql -X -q -v ON_ERROR_STOP=1 -f -
# new sessions see the postmaster's reload time once it has re-read its files
i=0
while [ "$(q -c 'select pg_conf_load_time()')" = "$before" ]; do
  i=$((i + 1)); [ "$i" -le 100 ] || { echo "hlpg-settings: the server did not reload its configuration" >&2; exit 1; }
  sleep 0.1
done
pending=$(q -c "select coalesce(string_agg(name, ', ' order by name), '') from pg_catalog.pg_settings where pending_restart")
if [ -n "$pending" ]; then
  echo "hlpg-settings: restarting PostgreSQL once for: $pending"
  started=$(q -c 'select pg_postmaster_start_time()')
  # fast shutdown of the postmaster; the container's restart policy starts it again
  printf '%s\\n' "select format('copy (select 1) to program %L', 'kill -INT ' || split_part(pg_catalog.pg_read_file('postmaster.pid'), chr(10), 1)) \\gexec" \\
    | psql -X -q -At >/dev/null 2>&1 || true
  deadline=$(( $(date +%s) + ${t} ))
  until now=$(q -c 'select pg_postmaster_start_time() where not pg_is_in_recovery()' 2>/dev/null) && [ -n "$now" ] && [ "$now" != "$started" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "hlpg-settings: PostgreSQL did not come back within ${t} s" >&2; exit 1; }
    sleep 1
  done
  pending=$(q -c "select coalesce(string_agg(name, ', ' order by name), '') from pg_catalog.pg_settings where pending_restart")
  [ -z "$pending" ] || { echo "hlpg-settings: still pending a restart: $pending" >&2; exit 1; }
  echo "hlpg-settings: PostgreSQL restarted at $now"
else
  echo "hlpg-settings: applied and reloaded, no restart needed"
fi
`;
}
