// What the standby is made of, as pure data: the replicator role's attributes, the
// slot's and the standby's names, the standby's recovery settings. The component
// (standby.ts) only wires these; the integration test applies the same values.
import * as path from "path";
import { REPLICATOR_ROLE } from "../config/constants";
import type { StandbyConfInput, StandbySslMode } from "../server/standby-conf";

/**
 * The replication role: LOGIN REPLICATION and nothing else. Its connection limit covers
 * pg_basebackup (two connections: the copy and the WAL stream), then the one walreceiver.
 */
export const REPLICATOR = {
  name: REPLICATOR_ROLE,
  login: true,
  replication: true,
  superuser: false,
  createDatabase: false,
  createRole: false,
  inherit: false,
  bypassRowLevelSecurity: false,
  connectionLimit: 3,
} as const;

export { defaultSlotName } from "../config/schema-standby";

/** How the primary lists the standby (pg_stat_replication.application_name), and the standby label of the metrics. */
export const STANDBY_APPLICATION_NAME = "hlpg_standby";

/** Paths inside the standby container (the same image and layout as the primary's). */
export const STANDBY_PATHS = {
  /** libpq password file of the replication role (0600, owned by postgres). */
  passfile: "/etc/postgresql/replication.pgpass",
  /** The failover tool, in both containers. */
  failover: "/usr/local/bin/hlpg-failover",
} as const;

/** The failover tool's text (hlpg-failover.sh beside this file). */
export const FAILOVER_SCRIPT_FILE = path.join(__dirname, "hlpg-failover.sh");

export interface StandbyModelInput {
  primary: { host: string; port: number };
  slot: string;
  sslmode: StandbySslMode;
  sslrootcert?: string;
  passfile: string;
  restoreCommand?: string;
}

/** The recovery settings of the standby (rendered by server/standby-conf.ts). */
export function standbyConf(input: StandbyModelInput): StandbyConfInput {
  return {
    primary: input.primary,
    user: REPLICATOR.name,
    passfile: input.passfile,
    sslmode: input.sslmode,
    sslrootcert: input.sslrootcert,
    slot: input.slot,
    applicationName: STANDBY_APPLICATION_NAME,
    restoreCommand: input.restoreCommand,
  };
}
