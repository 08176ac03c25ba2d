// Where the backup pieces live: paths inside the containers, the object-key
// prefix of the logical dumps, and the names of the sidecar's secret variables.
// Names only, no logic; the renderers and components share them.

/** Object-key prefix of the logical dumps; the bucket lifecycle expires it after `retention.days`. */
export const LOGICAL_PREFIX = "logical/";

/** Under LOGICAL_PREFIX: `pg_dumpall --globals-only` of every logical run (no app name can start with `_`). */
export const GLOBALS_DIR = "_globals";

/**
 * Backup paths inside the containers (the tests substitute temp dirs). PGDATA,
 * the socket directory and the port are the server's (components/server/server.ts CONTAINER).
 */
export const CONTAINER_PATHS = {
  /**
   * Mount point, in both containers (read-only), of the volume the pgbackrest
   * RuntimeFiles carrier writes pgbackrest.conf into. Not in the image: Docker
   * would otherwise give the volume that directory's owner when it mounts it.
   */
  pgbackrestDir: "/etc/pgbackrest/runtime",
  /** pgbackrest.conf (0600, uid 999): archive_command and the script name it with --config. */
  pgbackrestConf: "/etc/pgbackrest/runtime/pgbackrest.conf",
  /** Mount point, in the sidecar (read-only), of the volume of its own RuntimeFiles carrier. */
  sidecarRuntimeDir: "/etc/hlpg-backup",
  /** The runtime file (apps, schedule, limits, bucket) the script reads every minute; 0444. */
  runtimeFile: "/etc/hlpg-backup/hlpg-backup.conf",
  /** The sidecar's secrets (S3 key for curl, age identity) as `export NAME='value'` lines; 0600. */
  sidecarSecrets: "/etc/hlpg-backup/sidecar-secrets.env",
  /** The rendered sidecar script, the sidecar's entrypoint and `docker exec` command. */
  script: "/usr/local/bin/hlpg-backup",
  /** Sidecar-only volume: job state (health) and scratch space (drill restores, dump staging). */
  workDir: "/var/lib/hlpg-backup",
  /**
   * Mount point, in both containers, of backup.posix.path (a host directory): the posix
   * repository (`pgbackrest/<stanza>`) and, without a bucket, the logical dumps (`logical/`).
   */
  posixRepo: "/var/lib/pgbackrest-posix",
  /** pgBackRest's lock files; per container, never shared. */
  lockPath: "/tmp/pgbackrest",
} as const;

/** File names in the pgbackrest carrier's and the sidecar carrier's volumes (the basenames of the paths above). */
export const RUNTIME_FILE_NAMES = {
  pgbackrestConf: "pgbackrest.conf",
  runtimeFile: "hlpg-backup.conf",
  sidecarSecrets: "sidecar-secrets.env",
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

/** Env variable naming the secrets file; the script sources it with the runtime file when set (also under `docker exec`). */
export const SECRETS_FILE_ENV = "HLPG_SECRETS_FILE";

/**
 * Notification settings in the sidecar's secrets file (the URLs are credentials:
 * a healthchecks.io ping key, an ntfy topic). HLPG_NOTIFY_URL_<job> is one job's own URL.
 */
export const NOTIFY_VARS = {
  url: "HLPG_NOTIFY_URL",
  jobUrlPrefix: "HLPG_NOTIFY_URL_",
  style: "HLPG_NOTIFY_STYLE",
  events: "HLPG_NOTIFY_EVENTS",
} as const;
