// PostgresStandby: a streaming hot standby on a second Docker host of the tailnet.
// Its own docker provider, image, volume and container (bound to that host's
// tailnet address only); on the primary, through the primary's postgresql
// provider, the replication role and the physical slot. The files are rendered by
// pure functions (server/standby-conf.ts, standby-bootstrap.ts, pg-hba.ts,
// postgresql-conf.ts); this file only wires.
import * as fs from "fs";
import * as docker from "@pulumi/docker";
import * as postgresql from "@pulumi/postgresql";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { PostgresConfig, StandbyConfig } from "../config";
import { hardenedContainerArgs, publishedPort } from "../lib/container";
import { labels } from "../lib/labels";
import { RuntimeFiles } from "../runtime";
import { PostgresImage } from "../server/image";
import { renderPgHba } from "../server/pg-hba";
import { JOB_ARG, renderPostgresEntrypoint } from "../server/entrypoint";
import { OneShot } from "../server/one-shot";
import { renderPostgresqlConf } from "../server/postgresql-conf";
import { CONTAINER, SHM_SIZE_MB } from "../server/server";
import { renderPgpass } from "../server/standby-conf";
import type { StandbyBootstrapInput } from "../server/standby-bootstrap";
import { FAILOVER_SCRIPT_FILE, REPLICATOR, STANDBY_PATHS, standbyConf } from "./model";

/** Seconds `pulumi up` waits for the standby's clone (one-shot job): a base backup of a large cluster takes a while. */
export const STANDBY_WAIT_SECONDS = 4 * 3600;
/**
 * Seconds the cloned standby may take to turn healthy: a hot standby answers once it is
 * consistent, after replaying the WAL written during the clone. The container's create
 * timeout (20 minutes, kreuzwerker resource_docker_container.go) bounds it too.
 */
export const STANDBY_CONSISTENT_WAIT_SECONDS = 20 * 60;

export interface PostgresStandbyArgs {
  /** Stack name: prefixes the docker objects on the standby host. */
  stack: string;
  /** The validated `standby` section. */
  config: StandbyConfig;
  /** The validated `postgres` section: the standby runs the same image, major, memory, settings and TLS. */
  postgres: PostgresConfig;
  /** The standby's bind address on its host (a tailnet IP, resolved from `standby.tailscale`). */
  bindAddress: pulumi.Output<string>;
  /** Where the standby streams from: the primary's tailnet address and published port. */
  primary: { host: pulumi.Input<string>; port: number };
  /** Secret: the superuser password (the standby's catalog is the primary's; a promoted standby restarts with it). */
  superuserPassword: pulumi.Input<string>;
  /** Secret PEM key of the TLS certificate (`postgres.tls`): the standby serves TLS too, and a rejoined old primary streams from it. */
  tlsPrivateKey: pulumi.Input<string>;
  /**
   * The Debian base the primary's image is built on (images.<suite>): the standby host
   * builds the same image. Absent with postgres.customImage, which it pulls instead.
   */
  baseImage?: string;
  /**
   * Backups on: restore_command (archive-get) from the repository, pgbackrest.conf (secret)
   * delivered on the standby host, the posix repository's mount, and what bootstrap `backup` needs.
   */
  backup?: {
    stanza: string;
    pgbackrestConfPath: string;
    pgbackrestConfDir: string;
    pgbackrestConfFileName: string;
    pgbackrestConf: pulumi.Output<string>;
    restoreCommand: string;
    /** archive_command and archive_timeout, as the primary's: idle on a standby, archiving once it is promoted. */
    archive: { command: string; timeoutSeconds: number };
    volumes: docker.types.input.ContainerVolume[];
  };
}

export class PostgresStandby extends pulumi.ComponentResource {
  /** The docker provider of the standby host. */
  readonly dockerProvider: docker.Provider;
  readonly dataVolume: docker.Volume;
  readonly container: docker.Container;
  /** The one-shot clone (server/one-shot.ts) the container starts after. */
  readonly cloneJob: OneShot;
  /** The replication role on the primary (LOGIN REPLICATION, nothing else). */
  readonly role: postgresql.Role;
  /** The physical replication slot on the primary. */
  readonly slot: postgresql.PhysicalReplicationSlot;
  /** Secret: the replication role's password. */
  readonly replicatorPassword: pulumi.Output<string>;
  /** The standby's tailnet address and published port. */
  readonly host: pulumi.Output<string>;
  readonly port: number;
  /** The full postgresql.conf of the standby (static + live + recovery settings). */
  readonly postgresqlConf: pulumi.Output<string>;
  readonly pgHbaConf: pulumi.Output<string>;

  constructor(name: string, args: PostgresStandbyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:postgres:PostgresStandby", name, {}, opts);
    const { stack, config, postgres: pg } = args;
    const child = { parent: this };
    if (!pg.tls.enabled || !pg.tls.certificate) throw new Error("a standby streams with TLS: postgres.tls must be enabled");
    if (config.bootstrap === "backup" && !args.backup) throw new Error("standby.bootstrap backup needs backups");

    this.dockerProvider = new docker.Provider(`${name}-docker`, { host: config.dockerHost }, child);
    const onHost = { parent: this, provider: this.dockerProvider };

    // the replication role and its slot live on the primary (the postgresql provider the platform hands in)
    const pw = new random.RandomPassword(`${name}-replicator-password`, { length: 40, special: false }, child);
    this.replicatorPassword = pulumi.secret(pw.result);
    this.role = new postgresql.Role(
      `${name}-replicator`,
      {
        name: REPLICATOR.name, login: REPLICATOR.login, replication: REPLICATOR.replication, superuser: REPLICATOR.superuser,
        createDatabase: REPLICATOR.createDatabase, createRole: REPLICATOR.createRole, inherit: REPLICATOR.inherit,
        bypassRowLevelSecurity: REPLICATOR.bypassRowLevelSecurity, connectionLimit: REPLICATOR.connectionLimit, password: this.replicatorPassword,
      },
      { ...child, additionalSecretOutputs: ["password"] },
    );
    // Create leaves immediately_reserve false (provider source, test/helpers/provider-sql.ts):
    // WAL is kept from the standby's first connection (pg_basebackup's) on
    this.slot = new postgresql.PhysicalReplicationSlot(`${name}-slot`, { name: config.slotName }, { ...child, dependsOn: [this.role] });

    this.dataVolume = new docker.Volume(`${name}-data`, { name: `${stack}-pgstandby`, labels: labels(stack) }, { ...onHost, retainOnDelete: true });
    const image = args.baseImage !== undefined
      ? new PostgresImage(`${name}-image`, { majorVersion: pg.majorVersion, baseImage: args.baseImage, platform: pg.platform }, { parent: this, providers: [this.dockerProvider] }).imageName
      : new docker.RemoteImage(`${name}-image`, { name: pg.customImage as string, keepLocally: true }, onHost).imageId;

    let confFiles: RuntimeFiles | undefined;
    if (args.backup) {
      // pgbackrest.conf with its secrets, delivered on this host as on the primary's (a carrier, not an upload)
      confFiles = new RuntimeFiles(`${name}-pgbackrest`, {
        stack, purpose: "pgbackrest-standby", image, user: `${CONTAINER.uid}:${CONTAINER.uid}`,
        files: { [args.backup.pgbackrestConfFileName]: { content: args.backup.pgbackrestConf, mode: "0600" } },
      }, { parent: this, providers: [this.dockerProvider] });
    }

    const tls = { certFile: `${CONTAINER.confDir}/tls/server.crt`, keyFile: `${CONTAINER.confDir}/tls/server.key` };
    const primary = pulumi.output(args.primary.host);
    const recovery = primary.apply((host) => standbyConf({
      primary: { host, port: args.primary.port }, slot: config.slotName, sslmode: "require", passfile: STANDBY_PATHS.passfile,
      restoreCommand: args.backup?.restoreCommand,
    }));
    this.postgresqlConf = recovery.apply((standby) => renderPostgresqlConf({
      majorVersion: pg.majorVersion, listenAddresses: "*", port: CONTAINER.port, maxConnections: pg.maxConnections, memoryMb: pg.memoryMb,
      hbaFile: `${CONTAINER.confDir}/pg_hba.conf`, unixSocketDirectory: CONTAINER.socketDir, tls, settings: pg.settings, logging: pg.logging,
      audit: pg.audit.enabled ? { classes: pg.audit.classes } : undefined,
      // archive_mode on with the primary's command: idle on a standby, archiving once promoted
      archive: args.backup?.archive,
      standby,
    }));
    // the peer is the primary: a rejoined old primary streams from here after a failover
    this.pgHbaConf = primary.apply((address) => renderPgHba({ tls: true, replication: { user: REPLICATOR.name, address } }));
    const bootstrap: pulumi.Output<StandbyBootstrapInput> = config.bootstrap === "backup" && args.backup
      ? pulumi.output({ from: "backup" as const, pgbackrestConf: args.backup.pgbackrestConfPath, stanza: args.backup.stanza })
      : recovery.apply((conf) => ({ from: "basebackup" as const, conf }));
    const entrypoint = bootstrap.apply((standby) => renderPostgresEntrypoint({ configFile: `${CONTAINER.confDir}/postgresql.conf`, next: CONTAINER.imageEntrypoint, standby }));
    const pgpass = pulumi.secret(pulumi.all([primary, this.replicatorPassword]).apply(([host, password]) =>
      renderPgpass([{ host, port: args.primary.port, database: "replication", user: REPLICATOR.name, password }])));

    const own = { owner: CONTAINER.uid, group: CONTAINER.uid };
    this.host = args.bindAddress;
    this.port = config.port;
    const containerArgs: docker.ContainerArgs = {
      name: `${stack}-postgres-standby`,
      image,
      entrypoints: [CONTAINER.entrypoint],
      command: ["postgres", "-c", `config_file=${CONTAINER.confDir}/postgresql.conf`],
      envs: [`POSTGRES_PASSWORD_FILE=${CONTAINER.passwordFile}`, "POSTGRES_USER=postgres", `PGDATA=${CONTAINER.pgdata}`],
      ports: [publishedPort(CONTAINER.port, config.port, args.bindAddress)],
      volumes: [
        { volumeName: this.dataVolume.name, containerPath: CONTAINER.dataMount },
        ...(confFiles ? [{ volumeName: confFiles.volume.name, containerPath: args.backup!.pgbackrestConfDir, readOnly: true }] : []),
        ...(args.backup?.volumes ?? []),
      ],
      uploads: [
        { file: CONTAINER.passwordFile, content: pulumi.secret(args.superuserPassword), permissions: "0600", ...own },
        { file: `${CONTAINER.confDir}/postgresql.conf`, content: this.postgresqlConf, permissions: "0644" },
        { file: `${CONTAINER.confDir}/pg_hba.conf`, content: this.pgHbaConf, permissions: "0644" },
        { file: CONTAINER.entrypoint, content: entrypoint, permissions: "0755" },
        { file: STANDBY_PATHS.passfile, content: pgpass, permissions: "0600", ...own },
        { file: STANDBY_PATHS.failover, content: fs.readFileSync(FAILOVER_SCRIPT_FILE, "utf8"), permissions: "0755" },
        { file: tls.certFile, content: pg.tls.certificate, permissions: "0644", ...own },
        { file: tls.keyFile, content: pulumi.secret(args.tlsPrivateKey), permissions: "0600", ...own },
      ],
      shmSize: SHM_SIZE_MB,
      ...hardenedContainerArgs({
        role: "postgres",
        stack,
        memoryMb: pg.memoryMb,
        // a hot standby answers once consistent: after the clone and the first replay
        healthcheck: ["CMD", "pg_isready", "-h", "127.0.0.1", "-p", String(CONTAINER.port), "-U", "postgres"],
        waitTimeoutSeconds: STANDBY_CONSISTENT_WAIT_SECONDS,
      }),
      stopSignal: "SIGINT",
      // an init as PID 1: pgBackRest's async archive-get forks, and an orphan reaped by the postmaster restarts it (server.ts)
      init: true,
    };
    // the slot first: pg_basebackup streams through it
    const prerequisites = [this.slot, this.role, ...(confFiles ? [confFiles.container] : [])];
    // The clone runs in a one-shot job (server/one-shot.ts): a failed pg_basebackup or
    // restore ends `pulumi up` at once with its log, instead of a restarting container
    // waited for until the create timeout. The standby starts on the cloned directory.
    this.cloneJob = new OneShot(`${name}-clone`, {
      container: containerArgs,
      containerName: `${stack}-postgres-standby-clone`,
      jobArg: JOB_ARG,
      what: "the standby's clone",
      timeoutSeconds: STANDBY_WAIT_SECONDS,
    }, { ...onHost, dependsOn: prerequisites });
    this.container = new docker.Container(
      `${name}-container`,
      containerArgs,
      // on delete the container goes first (a slot in use cannot be dropped)
      { ...onHost, additionalSecretOutputs: ["uploads"], deleteBeforeReplace: true, dependsOn: [...prerequisites, this.cloneJob.check] },
    );

    this.registerOutputs({
      host: this.host,
      port: this.port,
      slot: this.slot.name,
      replicatorPassword: this.replicatorPassword,
      dataVolume: this.dataVolume.name,
    });
  }
}
