// The shape of the `databases` stack output: written by the platform, read by
// app stacks (consumer.ts). Types only, so the consumer pulls in no providers.

/** Credentials of one login role. */
export interface RoleCredentials {
  user: string;
  password: string;
  /** postgresql://user:password@host:port/database, user and password percent-encoded. */
  url: string;
  /** The same through pgBouncer; absent when pgBouncer is disabled. */
  pooledUrl?: string;
  /**
   * Read-only users only, when a standby runs (`standby.enabled`): the same login on the
   * hot standby. Reads only; it may lag the primary by the replication lag (docs/replication.md).
   */
  standbyUrl?: string;
}

/** One entry of the `databases` output. */
export interface DatabaseEntry extends RoleCredentials {
  database: string;
  /** Read-only login roles of this app, by the name given in config. */
  readonlyUsers: Record<string, RoleCredentials>;
  /** Read-write (DML, no DDL) login roles of this app, by the name given in config. */
  readwriteUsers: Record<string, RoleCredentials>;
}
