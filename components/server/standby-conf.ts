// The recovery settings of a streaming standby, and the libpq password file it
// logs in with. Pure: the standby container (components/replica) and the
// integration test render the same text. A standby cannot run ALTER SYSTEM, so it
// gets the whole configuration (static + live + these) as one uploaded file.
import * as net from "net";
import type { ConfValue } from "../config";
import { isHostname } from "../lib/net";
import { SLOT_NAME, assertAbsPath } from "../lib/names";

/** The sslmodes a standby may stream with: never one that allows plain text. */
export const STANDBY_SSLMODES = ["require", "verify-ca", "verify-full"] as const;
export type StandbySslMode = (typeof STANDBY_SSLMODES)[number];

export { SLOT_NAME };

export interface StandbyConfInput {
  /** The server to stream from: its tailnet address (or loopback in tests) and published port. */
  primary: { host: string; port: number };
  /** The replication role (REPLICATOR_ROLE). */
  user: string;
  /** libpq password file holding the role's password (renderPgpass): the password never sits in postgresql.conf. */
  passfile: string;
  /** TLS to the primary: at least `require`. A parameter so that verify-full can be wired with a CA. */
  sslmode: StandbySslMode;
  /** CA file for verify-ca/verify-full. */
  sslrootcert?: string;
  /** The physical slot on the primary that keeps the WAL this standby has not received. */
  slot: string;
  /** How the primary lists this standby (pg_stat_replication.application_name). */
  applicationName: string;
  /**
   * WAL from the archive when the primary no longer has it (a standby that fell behind a
   * dropped or lost slot, or bootstrapped from a backup): pgBackRest archive-get.
   */
  restoreCommand?: string;
}

/** A libpq conninfo value: single-quoted, `\` and `'` escaped (libpq's conninfo syntax). */
function conninfoValue(v: string): string {
  if (/[\0\r\n]/.test(v)) throw new Error("newline or NUL in a conninfo value");
  return /^[A-Za-z0-9_./:-]+$/.test(v) ? v : `'${v.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/** primary_conninfo: keyword=value pairs; no password (it is in the passfile). */
export function primaryConninfo(input: StandbyConfInput): string {
  const { host, port } = input.primary;
  if (!net.isIP(host) && !isHostname(host)) throw new Error(`invalid primary host ${JSON.stringify(host)}`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid primary port ${port}`);
  if (!(STANDBY_SSLMODES as readonly string[]).includes(input.sslmode)) throw new Error(`sslmode ${JSON.stringify(input.sslmode)} would allow plain text`);
  if (input.sslmode !== "require" && input.sslrootcert === undefined) throw new Error(`sslmode ${input.sslmode} needs sslrootcert`);
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(input.user)) throw new Error(`invalid replication role ${JSON.stringify(input.user)}`);
  if (!/^[A-Za-z0-9_.-]{1,63}$/.test(input.applicationName)) throw new Error(`invalid application_name ${JSON.stringify(input.applicationName)}`);
  const pairs: [string, string][] = [
    ["host", host],
    ["port", String(port)],
    ["user", input.user],
    ["passfile", assertAbsPath(input.passfile, "passfile")],
    ["sslmode", input.sslmode],
    ...(input.sslrootcert !== undefined ? ([["sslrootcert", assertAbsPath(input.sslrootcert, "sslrootcert")]] as [string, string][]) : []),
    ["application_name", input.applicationName],
    // a dead primary must not hang the walreceiver's reconnect loop
    ["connect_timeout", "10"],
    ["keepalives_idle", "30"],
  ];
  return pairs.map(([k, v]) => `${k}=${conninfoValue(v)}`).join(" ");
}

/**
 * The settings that make a server a streaming standby once `standby.signal` is in
 * its data directory (the entrypoint writes it at bootstrap only, so a promoted
 * standby that restarts stays promoted: these are ignored outside standby mode).
 */
export function standbySettings(input: StandbyConfInput): [string, ConfValue][] {
  if (!SLOT_NAME.test(input.slot)) throw new Error(`invalid replication slot name ${JSON.stringify(input.slot)}`);
  return [
    ["primary_conninfo", primaryConninfo(input)],
    ["primary_slot_name", input.slot],
    ["hot_standby", "on"],
    // read-only users' long queries are not cancelled by vacuum on the primary; the cost is
    // bloat on the primary while such a query runs (docs/replication.md)
    ["hot_standby_feedback", "on"],
    // follow a promotion upstream (the default since 12; explicit, as rejoin depends on it)
    ["recovery_target_timeline", "latest"],
    ...(input.restoreCommand !== undefined ? ([["restore_command", input.restoreCommand]] as [string, ConfValue][]) : []),
  ];
}

/**
 * The libpq password file: `host:port:replication:user:password`, `:` and `\` escaped
 * (libpq's passfile syntax). Replication connections match the database field
 * `replication`. Mode 0600 or libpq ignores it.
 */
export function renderPgpass(entries: { host: string; port: number; database: string; user: string; password: string }[]): string {
  const esc = (v: string) => {
    if (/[\r\n\0]/.test(v)) throw new Error("newline or NUL in a passfile field");
    return v.replace(/\\/g, "\\\\").replace(/:/g, "\\:");
  };
  return entries.map((e) => [e.host, String(e.port), e.database, e.user, e.password].map(esc).join(":")).join("\n") + "\n";
}
