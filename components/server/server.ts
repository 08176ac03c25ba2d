// PostgresServer: network, data volume, image, container. The conf files are
// rendered by pure functions beside it (postgresql-conf.ts, pg-hba.ts, entrypoint.ts) and uploaded; this file only wires.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { REPLICATOR_ROLE, type PostgresConfig } from "../config";
import { hardenedContainerArgs, publishedPort, replacementKey } from "../lib/container";
import { labels } from "../lib/labels";
import { renderPgHba } from "./pg-hba";
import { BootstrapInput, JOB_ARG, bootstrapId, renderPostgresEntrypoint } from "./entrypoint";
import { renderImageCheck } from "./image-check";
import { OneShot } from "./one-shot";
import { liveSettings, renderPostgresqlConf, renderStaticConf } from "./postgresql-conf";
import { PostgresSettings } from "./settings";

/** Paths inside the container; the integration test renders the same files with temp paths. */
export const CONTAINER = {
  port: 5432,
  confDir: "/etc/postgresql",
  dataMount: "/var/lib/postgresql/data",
  // a subdirectory, so initdb never sees a non-empty mount point (lost+found)
  pgdata: "/var/lib/postgresql/data/pgdata",
  socketDir: "/var/run/postgresql",
  /** uid/gid of `postgres` in the official (Debian-based) image. */
  uid: "999",
  /** The image's own entrypoint (docker/postgres/hlpg-image-entrypoint.sh): initdb, then the command as postgres. */
  imageEntrypoint: "hlpg-image-entrypoint.sh",
  /** Wrapper around the image's entrypoint (entrypoint.ts). */
  entrypoint: "/usr/local/bin/hlpg-entrypoint.sh",
  /** Superuser password for the image's initdb (POSTGRES_PASSWORD_FILE). */
  passwordFile: "/run/secrets/postgres-password",
  /** Name other containers on the stack network reach Postgres by. */
  hostname: "postgres",
} as const;

export interface BackupWiring {
  /**
   * Read-only volumes with files archive_command reads (pgbackrest.conf from its
   * RuntimeFiles carrier): mounted, not uploaded, so a change of them does not
   * replace the container (uploads are ForceNew).
   */
  volumes: docker.types.input.ContainerVolume[];
  /** archive_command, e.g. `pgbackrest --config=/etc/pgbackrest/runtime/pgbackrest.conf --stanza=main archive-push %p`. */
  archiveCommand: string;
  /** archive_timeout in seconds: the recovery point objective. */
  archiveTimeoutSeconds: number;
  /** What the container waits for: the file's carrier, the bucket, the key archive-push signs with. */
  dependsOn: pulumi.Resource[];
}

export interface PostgresServerArgs {
  /** Stack name: prefixes every docker object so stacks can share a host. */
  stack: string;
  /** Validated postgres section of the stack config. */
  config: PostgresConfig;
  /** The only host address the port is published on (tailnet IP or loopback). */
  bindAddress: pulumi.Input<string>;
  /** The image to run: PostgresImage.imageName, or postgres.customImage's image id. */
  image: pulumi.Input<string>;
  /** WAL archiving and backup tooling, when backups are on. */
  backup?: BackupWiring;
  /** Extensions the apps ask for: the image check requires pgvector for `vector`. */
  extensions?: string[];
  /** Secret PEM key for TLS, when `config.tls.enabled` in `provided` mode. */
  tlsPrivateKey?: pulumi.Input<string>;
  /**
   * TLS in `stack-ca` mode: the volume holding server.crt and server.key (mounted at
   * confDir/tls, read-only) and what must run first. Not uploads: a renewed
   * certificate then replaces the carrier, not this container (components/tls).
   */
  tlsVolume?: { volumes: docker.types.input.ContainerVolume[]; dependsOn: pulumi.Resource[] };
  /**
   * postgres.bootstrap: an empty data volume is restored from the repository instead of
   * initdb (entrypoint.ts). Needs `backup` (the image with pgBackRest, the conf volume).
   */
  bootstrap?: Omit<BootstrapInput, "privatePort">;
  /**
   * The standby's tailnet address (components/replica): pg_hba.conf lets the replication
   * role stream from there only. A change of it is a new upload: the container is replaced.
   */
  replicationPeer?: pulumi.Input<string>;
  /**
   * What must run before each replacement of the Postgres container (pgBouncer's PAUSE):
   * called with the container's replacementKey, which changes exactly when the provider
   * replaces it, and with what must succeed first (the bootstrap job's check); the
   * container depends on what it returns.
   */
  beforeReplace?: (key: pulumi.Output<string>, after: pulumi.Resource[]) => pulumi.Resource[];
  /** The failover tool's text (components/replica hlpg-failover.sh), with a standby: uploaded as /usr/local/bin/hlpg-failover for a switchover back. */
  failoverScript?: string;
}

/** Port of the entrypoint's private recovery server (socket only, in a private directory). */
export const BOOTSTRAP_PRIVATE_PORT = 5433;
/** Seconds `pulumi up` waits for the bootstrap job (restore and WAL replay of a large cluster take a while) before it fails. */
export const BOOTSTRAP_WAIT_SECONDS = 4 * 3600;

/** Size of /dev/shm: fixed, so a memory change is an in-place update, not a new container (it is tmpfs, bounded by the memory limit). */
export const SHM_SIZE_MB = 1024;

export class PostgresServer extends pulumi.ComponentResource {
  readonly network: docker.Network;
  readonly dataVolume: docker.Volume;
  readonly socketVolume: docker.Volume;
  readonly container: docker.Container;
  /** Superuser password; secret. */
  readonly superuserPassword: pulumi.Output<string>;
  /** The whole configuration (static + live), for inspection and tests. */
  readonly postgresqlConf: string;
  /** The uploaded postgresql.conf: the static part only. */
  readonly staticConf: string;
  /** Applies the live settings (ALTER SYSTEM, reload, restart when needed); SQL resources wait for it. */
  readonly settings: PostgresSettings;
  readonly pgHbaConf: pulumi.Output<string>;
  readonly bindAddress: pulumi.Output<string>;
  /** Published port on the bind address. */
  readonly port: number;
  /** The one-shot check of the image (image-check.ts) the container waits for. */
  readonly imageCheck: OneShot;
  /** The one-shot restore (one-shot.ts), when postgres.bootstrap is set. */
  readonly bootstrapJob?: OneShot;
  /** The bootstrap's identity (entrypoint.ts bootstrapId), when postgres.bootstrap is set. */
  readonly bootstrapId?: string;
  /** How containers on the stack network reach Postgres. */
  readonly internal = { host: CONTAINER.hostname, port: CONTAINER.port };

  constructor(name: string, args: PostgresServerArgs, opts?: pulumi.ComponentResourceOptions) {
    // inputs deliberately not passed to super: they would be stored in state as the component's inputs
    super("homelab:postgres:PostgresServer", name, {}, opts);
    const { stack, config } = args;
    const child = { parent: this };
    if (args.bootstrap && !args.backup) throw new Error("postgres.bootstrap needs backups: the image with pgBackRest and pgbackrest.conf");
    const bootstrap = args.bootstrap ? { ...args.bootstrap, privatePort: BOOTSTRAP_PRIVATE_PORT } : undefined;
    this.bootstrapId = bootstrap ? bootstrapId(bootstrap) : undefined;

    this.network = new docker.Network(`${name}-network`, { name: `${stack}-pg`, driver: "bridge", attachable: true }, child);

    // Named, retained on delete, and independent of the image and container: an image
    // upgrade replaces the container, never the data. retainOnDelete rather than protect
    // so that `pulumi destroy` of a stack works yet leaves the data on the host, and a
    // re-created stack re-attaches to the same named volume.
    const volumeOpts = { ...child, retainOnDelete: true };
    this.dataVolume = new docker.Volume(`${name}-data`, { name: `${stack}-pgdata`, labels: labels(stack) }, volumeOpts);
    this.socketVolume = new docker.Volume(`${name}-socket`, { name: `${stack}-pgsocket`, labels: labels(stack) }, child);

    const password = new random.RandomPassword(`${name}-superuser-password`, { length: 40, special: false }, child);
    // setMocks and some engines do not mark provider secrets; mark it ourselves
    this.superuserPassword = pulumi.secret(password.result);

    const tls = config.tls.enabled
      ? { certFile: `${CONTAINER.confDir}/tls/server.crt`, keyFile: `${CONTAINER.confDir}/tls/server.key` }
      : undefined;
    const confInput = {
      majorVersion: config.majorVersion,
      listenAddresses: "*", // inside the container's own network namespace; the host side binds one address
      port: CONTAINER.port,
      maxConnections: config.maxConnections,
      memoryMb: config.memoryMb,
      hbaFile: `${CONTAINER.confDir}/pg_hba.conf`,
      unixSocketDirectory: CONTAINER.socketDir,
      tls,
      archive: args.backup ? { command: args.backup.archiveCommand, timeoutSeconds: args.backup.archiveTimeoutSeconds } : undefined,
      settings: config.settings,
      logging: config.logging,
      audit: config.audit.enabled ? { classes: config.audit.classes } : undefined,
    };
    this.postgresqlConf = renderPostgresqlConf(confInput);
    this.staticConf = renderStaticConf(confInput);
    this.pgHbaConf = pulumi.output(args.replicationPeer).apply((address) =>
      renderPgHba({ tls: config.tls.enabled, replication: address === undefined ? undefined : { user: REPLICATOR_ROLE, address } }));

    const image = args.image;

    const uploads: pulumi.Input<docker.types.input.ContainerUpload>[] = [
      // a file, not POSTGRES_PASSWORD: env is readable by anyone who can `docker inspect`
      { file: CONTAINER.passwordFile, content: this.superuserPassword, permissions: "0600", owner: CONTAINER.uid, group: CONTAINER.uid },
      { file: `${CONTAINER.confDir}/postgresql.conf`, content: this.staticConf, permissions: "0644" },
      {
        file: CONTAINER.entrypoint,
        content: renderPostgresEntrypoint({ configFile: `${CONTAINER.confDir}/postgresql.conf`, next: CONTAINER.imageEntrypoint, bootstrap }),
        permissions: "0755",
      },
      { file: `${CONTAINER.confDir}/pg_hba.conf`, content: this.pgHbaConf, permissions: "0644" },
      ...(args.failoverScript ? [{ file: "/usr/local/bin/hlpg-failover", content: args.failoverScript, permissions: "0755" }] : []),
    ];
    if (tls && !args.tlsVolume) {
      if (!config.tls.certificate || !args.tlsPrivateKey) throw new Error("TLS enabled without certificate and key");
      uploads.push(
        { file: tls.certFile, content: config.tls.certificate, permissions: "0644", owner: CONTAINER.uid, group: CONTAINER.uid },
        // Postgres refuses a key readable by others
        { file: tls.keyFile, content: pulumi.secret(args.tlsPrivateKey), permissions: "0600", owner: CONTAINER.uid, group: CONTAINER.uid },
      );
    }

    this.bindAddress = pulumi.output(args.bindAddress);
    this.port = config.port;
    const containerArgs: docker.ContainerArgs = {
      name: `${stack}-postgres`,
      image,
      entrypoints: [CONTAINER.entrypoint],
      command: ["postgres", "-c", `config_file=${CONTAINER.confDir}/postgresql.conf`],
      envs: [
        `POSTGRES_PASSWORD_FILE=${CONTAINER.passwordFile}`,
        "POSTGRES_USER=postgres",
        `PGDATA=${CONTAINER.pgdata}`,
        "POSTGRES_INITDB_ARGS=--data-checksums --encoding=UTF8",
      ],
      ports: [publishedPort(CONTAINER.port, config.port, args.bindAddress)],
      networksAdvanced: [{ name: this.network.name, aliases: [CONTAINER.hostname] }],
      volumes: [
        { volumeName: this.dataVolume.name, containerPath: CONTAINER.dataMount },
        { volumeName: this.socketVolume.name, containerPath: CONTAINER.socketDir },
        ...(args.backup?.volumes ?? []),
        ...(tls ? (args.tlsVolume?.volumes ?? []) : []),
      ],
      uploads,
      // parallel query and sorts use /dev/shm; Docker's 64 MiB default is too small
      shmSize: SHM_SIZE_MB,
      ...hardenedContainerArgs({
        role: "postgres",
        stack,
        memoryMb: config.memoryMb,
        // over TCP, so it only passes once the real server (not the init-time one) listens
        healthcheck: ["CMD", "pg_isready", "-h", "127.0.0.1", "-p", String(CONTAINER.port), "-U", "postgres"],
      }),
      stopSignal: "SIGINT", // fast shutdown: abort sessions, checkpoint, exit
      // An init (Docker's docker-init, tini) as PID 1, not the postmaster: pgBackRest's
      // asynchronous archive-push and archive-get fork a process that outlives the
      // archive_command, and an orphan is re-parented to PID 1. A postmaster that reaps
      // a child it does not know, exited other than 0 or 1, treats it as a crashed
      // backend and restarts every process (postmaster.c CleanupBackend): without an
      // init, each failed archive-push restarted the server (found on the engine,
      // test/engine/backups.test.ts).
      init: true,
    };
    // The image runs once first, to check it keeps the contract (image-check.ts): a wrong
    // image fails `pulumi up` at once with what is wrong, not after the wait below.
    this.imageCheck = new OneShot(`${name}-image-check`, {
      container: {
        image,
        entrypoints: ["/bin/sh", "-c"],
        // the hardening every container has; its healthcheck and wait the job drops (oneShotContainerArgs)
        ...hardenedContainerArgs({ role: "postgres", stack, memoryMb: 128, healthcheck: ["CMD", "true"] }),
      },
      containerName: `${stack}-postgres-image-check`,
      jobArg: renderImageCheck({
        majorVersion: config.majorVersion,
        backup: args.backup !== undefined,
        audit: config.audit.enabled,
        vector: (args.extensions ?? []).includes("vector"),
      }),
      what: "the Postgres image check",
      timeoutSeconds: 600,
    }, child);
    const prerequisites = [...(args.backup?.dependsOn ?? []), ...(args.tlsVolume?.dependsOn ?? [])];
    // A bootstrap restores and replays WAL in a one-shot job first, the same entrypoint
    // with the job's argument: a refusal or a failure ends `pulumi up` with its log at
    // once, and the server then starts a restored cluster like any other (one-shot.ts).
    this.bootstrapJob = bootstrap
      ? new OneShot(`${name}-bootstrap`, {
          container: containerArgs,
          containerName: `${stack}-postgres-bootstrap`,
          jobArg: JOB_ARG,
          what: "postgres.bootstrap",
          timeoutSeconds: BOOTSTRAP_WAIT_SECONDS,
        }, { ...child, dependsOn: [...prerequisites, this.imageCheck.check] })
      : undefined;
    const jobDone = [this.imageCheck.check, ...(this.bootstrapJob ? [this.bootstrapJob.check] : [])];
    // pgBouncer's PAUSE runs before every replacement of this container, and only then;
    // after the jobs, so a wrong image or a refused bootstrap leaves pgBouncer (and the
    // running server) as they were
    const guards = args.beforeReplace?.(replacementKey(containerArgs), jobDone) ?? [];
    const waitFor = [...prerequisites, ...guards, ...jobDone];
    this.container = new docker.Container(
      `${name}-container`,
      containerArgs,
      { ...child, additionalSecretOutputs: ["uploads"], deleteBeforeReplace: true, dependsOn: waitFor },
    );

    this.settings = new PostgresSettings(
      `${name}-settings`,
      {
        settings: liveSettings(confInput),
        majorVersion: config.majorVersion,
        host: args.bindAddress,
        port: config.port,
        password: this.superuserPassword,
        sslmode: config.tls.enabled ? "require" : "disable",
        container: this.container,
      },
      child,
    );

    this.registerOutputs({
      settings: this.settings.applied.id,
      network: this.network.name,
      dataVolume: this.dataVolume.name,
      bindAddress: this.bindAddress,
      port: this.port,
      superuserPassword: this.superuserPassword,
    });
  }
}
