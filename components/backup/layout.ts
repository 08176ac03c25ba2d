// Where the backup pieces live: paths inside the containers, the object-key
// prefix of the logical dumps, and the names of the sidecar's secret variables.
// Names only, no logic; the renderers and components share them.

/** Object-key prefix of the logical dumps; the bucket lifecycle expires it after `retention.days`. */
export const LOGICAL_PREFIX = "logical/";

/**
 * Backup paths inside the containers (the tests substitute temp dirs). PGDATA,
 * the socket directory and the port are the server's (components/server/server.ts CONTAINER).
 */
export const CONTAINER_PATHS = {
  /** pgBackRest's default config path: archive-push in the postgres container needs no --config. */
  pgbackrestConf: "/etc/pgbackrest/pgbackrest.conf",
  /** The sidecar's secrets (S3 key for curl, age identity) as `export NAME='value'` lines; 0600. */
  sidecarSecrets: "/etc/pgbackrest/sidecar-secrets.env",
  /** The rendered sidecar script, the sidecar's entrypoint and `docker exec` command. */
  script: "/usr/local/bin/hlpg-backup",
  /** Sidecar-only volume: job state (health) and scratch space (drill restores, dump staging). */
  workDir: "/var/lib/hlpg-backup",
  /** pgBackRest's lock files; per container, never shared. */
  lockPath: "/tmp/pgbackrest",
} as const;

/** Variables of the sidecar's secrets file (CONTAINER_PATHS.sidecarSecrets), which the script sources. */
export const SIDECAR_SECRET_VARS = {
  /** S3 access key id for the script's curl (SigV4) uploads of logical dumps. */
  s3Key: "HLPG_S3_KEY",
  /** S3 secret key, likewise. */
  s3KeySecret: "HLPG_S3_KEY_SECRET",
  /** age identity (AGE-SECRET-KEY-1...) the drill and restore-app decrypt logical dumps with. */
  ageIdentity: "HLPG_AGE_IDENTITY",
} as const;

/** Env variable naming the secrets file; the script sources it when set (also under `docker exec`). */
export const SECRETS_FILE_ENV = "HLPG_SECRETS_FILE";
