// BackupSidecar: the container that runs the rendered hlpg-backup script beside
// Postgres (scheduler, jobs, drill, health).
//
// stanza-create runs in the sidecar's entrypoint (idempotent, on every start),
// not through @pulumi/command: `docker exec` from the machine running Pulumi
// would need a docker CLI there and access to a possibly remote daemon, while
// the entrypoint runs wherever the container runs, also after a restart or a
// restore. `wait: true` on the sidecar makes `pulumi up` fail when stanza-create
// or `pgbackrest check` fails, which is the post-deploy check.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { AppConfig } from "../config";
import { hardenedContainerArgs } from "../lib/container";
import { labels } from "../lib/labels";
import { RuntimeFiles } from "../runtime";
import { CONTAINER } from "../server/server";
import { healthLimits } from "../config";
import { CONTAINER_PATHS, RUNTIME_FILE_NAMES, SECRETS_FILE_ENV } from "./layout";
import type { BackupRepository } from "./repository";
import { renderSidecarScript } from "./sidecar-script";
import { BackupApp, renderSidecarRuntime } from "./sidecar-runtime";

/** Seconds the drill may spend restoring and recovering before it counts as failed. */
export const DRILL_TIMEOUT_SECONDS = 4 * 3600;
/** Memory limit of the sidecar in MiB: the drill runs a whole Postgres in it. */
export const SIDECAR_MEMORY_MB = 768;
/** Port of the drill's throwaway server (socket only, never TCP). */
export const DRILL_PORT = 5499;
/** Seconds `init` waits for Postgres to accept connections. */
export const INIT_TIMEOUT_SECONDS = 300;
/** Seconds `init` retries stanza-create and check: a new IAM key can take a minute or two to work. */
export const REPO_RETRY_SECONDS = 120;

export interface BackupSidecarArgs {
  /** Stack name: container and volume names. */
  stack: string;
  /** The repository settings, secrets and conf volume the sidecar shares with Postgres. */
  repository: BackupRepository;
  /** The image the postgres container runs (PostgresImage.imageName); the sidecar's carrier runs it too. */
  image: pulumi.Input<string>;
  /** Postgres major of the image: /usr/lib/postgresql/<major>/bin. */
  majorVersion: number;
  /** The stack's docker network (name): outbound to S3. */
  network: pulumi.Input<string>;
  /** PostgresServer.dataVolume's name (<stack>-pgdata); mounted where the server mounts it. */
  dataVolume: pulumi.Input<string>;
  /** PostgresServer.socketVolume's name (<stack>-pgsocket). */
  socketVolume: pulumi.Input<string>;
  /** Apps whose databases get a nightly logical dump. */
  apps: AppConfig[];
  /** Logical dumps kept per app (backup.dumps); default 7 daily, 4 weekly, 3 monthly. */
  dumpKeep?: { daily: number; weekly: number; monthly: number };
}

/**
 * The backup sidecar: the rendered hlpg-backup script as entrypoint (init =
 * stanza-create + check, a first full backup when the repository has none, then
 * the schedule), sharing PGDATA and the socket with Postgres and running as its
 * uid so `local all postgres peer` lets it in without a password. Health is the
 * script's `health`: red when a job failed or a job group is overdue. Construct
 * it with `dependsOn: [server.container]`: init waits for the server, but the
 * server should exist first.
 *
 * The script is the same text for every stack config. The apps, the schedule,
 * the health limits and the bucket are in a runtime file, and the sidecar's
 * secrets in a secrets file, both delivered by a RuntimeFiles carrier
 * (`<stack>-backup-config`) into a volume mounted read-only: the scheduler reads
 * them every minute, so adding an app or changing the schedule replaces that
 * carrier and restarts nothing. The sidecar itself is replaced only by a new
 * image, a new script (a code change) or a change of its mounts.
 */
export class BackupSidecar extends pulumi.ComponentResource {
  /** `<stack>-backup`. */
  readonly container: docker.Container;
  /** `<stack>-pgbackup`: job state and scratch space, disposable. */
  readonly workVolume: docker.Volume;
  /** The rendered script (for inspection and tests): static, no config in it. */
  readonly script: string;
  /** The runtime file (for inspection and tests). */
  readonly runtime: pulumi.Output<string>;
  /** The carrier of the runtime file and the sidecar's secrets file. */
  readonly runtimeFiles: RuntimeFiles;

  constructor(name: string, args: BackupSidecarArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:postgres:BackupSidecar", name, {}, opts);
    const repo = args.repository;
    const apps: BackupApp[] = args.apps.map((a) => ({ name: a.name, database: a.database, owner: a.owner }));
    this.script = renderSidecarScript({
      stanza: repo.stanza,
      pgbackrestConf: CONTAINER_PATHS.pgbackrestConf,
      runtimeFile: CONTAINER_PATHS.runtimeFile,
      pgData: CONTAINER.pgdata,
      socketDir: CONTAINER.socketDir,
      pgPort: CONTAINER.port,
      pgBinDir: `/usr/lib/postgresql/${args.majorVersion}/bin`,
      workDir: CONTAINER_PATHS.workDir,
      drillPort: DRILL_PORT,
      drillTimeoutSeconds: DRILL_TIMEOUT_SECONDS,
      initTimeoutSeconds: INIT_TIMEOUT_SECONDS,
      repoRetrySeconds: REPO_RETRY_SECONDS,
    });
    this.runtime = repo.ageRecipient.apply((recipient) => renderSidecarRuntime({
      s3: repo.location,
      // without a bucket the dumps go to the posix repository's directory
      dumpDir: repo.location ? undefined : repo.posixVolume?.containerPath,
      dumpKey: repo.dumpKey,
      keep: args.dumpKeep,
      ageRecipient: recipient,
      apps,
      schedule: repo.schedule,
      limits: healthLimits(repo.schedule),
    }));
    this.runtimeFiles = new RuntimeFiles(`${name}-runtime`, {
      stack: args.stack,
      purpose: "backup",
      image: args.image,
      user: `${CONTAINER.uid}:${CONTAINER.uid}`,
      files: {
        [RUNTIME_FILE_NAMES.runtimeFile]: { content: this.runtime },
        [RUNTIME_FILE_NAMES.sidecarSecrets]: { content: repo.sidecarSecretsEnv, mode: "0600" },
      },
    }, { parent: this });
    // State (health) and scratch space (drill restores, dump staging); disposable.
    this.workVolume = new docker.Volume(`${name}-work`, {
      name: `${args.stack}-pgbackup`,
      labels: labels(args.stack, "backup"),
    }, { parent: this });
    this.container = new docker.Container(`${name}-container`, {
      name: `${args.stack}-backup`,
      image: args.image,
      user: `${CONTAINER.uid}:${CONTAINER.uid}`,
      entrypoints: [CONTAINER_PATHS.script],
      command: ["scheduler"],
      // tini as PID 1: reaps job processes and forwards SIGTERM to the scheduler
      init: true,
      // where its secrets file is (the script sources it, also under `docker exec`), and
      // the schedule's time zone (the health limits are computed in UTC too). No secrets.
      envs: [`${SECRETS_FILE_ENV}=${CONTAINER_PATHS.sidecarSecrets}`, "TZ=UTC"],
      uploads: [{ file: CONTAINER_PATHS.script, content: this.script, permissions: "0755" }],
      volumes: [
        { volumeName: args.dataVolume, containerPath: CONTAINER.dataMount },
        { volumeName: args.socketVolume, containerPath: CONTAINER.socketDir },
        { volumeName: this.workVolume.name, containerPath: CONTAINER_PATHS.workDir },
        repo.confVolume,
        ...(repo.posixVolume ? [repo.posixVolume] : []),
        { volumeName: this.runtimeFiles.volume.name, containerPath: CONTAINER_PATHS.sidecarRuntimeDir, readOnly: true },
      ],
      networksAdvanced: [{ name: args.network }],
      // the drill's Postgres uses posix shared memory
      shmSize: 256,
      ...hardenedContainerArgs({
        role: "backup",
        stack: args.stack,
        memoryMb: SIDECAR_MEMORY_MB,
        healthcheck: ["CMD", CONTAINER_PATHS.script, "health"],
        // pulumi up fails if init (stanza-create + check, retried for REPO_RETRY_SECONDS) does not succeed in time
        waitTimeoutSeconds: 600,
      }),
    }, {
      parent: this,
      deleteBeforeReplace: true,
      // the bucket, its key and policy, pgbackrest.conf's carrier, and its own carrier
      dependsOn: [...repo.dependsOn, this.runtimeFiles.container],
    });
    this.registerOutputs({ containerName: this.container.name, workVolumeName: this.workVolume.name, script: this.script, runtime: this.runtime });
  }
}
