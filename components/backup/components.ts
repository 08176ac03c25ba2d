// Backups: the bucket (aws), the repository settings Postgres and the sidecar
// share, the sidecar container (docker) and the image both run.
//
//   PostgresImage     the configured pgvector image + pgBackRest, age, curl
//   BackupBucket      bucket, versioning, SSE, public access block, ownership,
//                     lifecycle, and an IAM user whose key reaches only this bucket
//   BackupRepository  passphrase (config or generated), pgbackrest.conf (with the
//                     secrets, 0600), the sidecar's secrets file, archive command,
//                     and the uploads the postgres container needs (no secret env)
//   BackupSidecar     scheduler + jobs + drill + health, beside Postgres
//
// stanza-create runs in the sidecar's entrypoint (idempotent, on every start),
// not through @pulumi/command: `docker exec` from the machine running Pulumi
// would need a docker CLI there and access to a possibly remote daemon, while
// the entrypoint runs wherever the container runs, also after a restart or a
// restore. `wait: true` on the sidecar makes `pulumi up` fail when stanza-create
// or `pgbackrest check` fails, which is the post-deploy check.
import * as aws from "@pulumi/aws";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { readFileSync } from "fs";
import * as path from "path";
import type { AppConfig, BackupConfig } from "../config";
import { ROLE_LABEL, hardenedContainerArgs } from "../lib/container";
import { BackupWiring, CONTAINER } from "../server/server";
import {
  BackupApp, CONTAINER_PATHS, LOGICAL_PREFIX, PgBackRestConfInput, S3Location, SECRETS_FILE_ENV, ageKeyFromPassphrase, archiveSettings,
  digest, healthLimits, renderPgBackRestConf, renderSidecarScript, renderSidecarSecretsEnv, stanzaName,
} from "./render";

// ---------------------------------------------------------------- PostgresImage

export const DOCKERFILE_DIR = path.join(__dirname, "..", "..", "docker", "postgres");

export interface PostgresImageArgs {
  /** The configured pgvector/postgres image (postgres.image); the build's BASE_IMAGE. */
  baseImage: string;
}

/**
 * The image both the postgres container and the backup sidecar run. Built
 * locally on the docker host (never pushed). Its tag carries a digest of the
 * Dockerfile and the base image, so a change to either is a new tag and the
 * containers are replaced; an unchanged build keeps its tag.
 */
export class PostgresImage extends pulumi.ComponentResource {
  /** Local image reference for docker.Container `image`. */
  readonly imageName: pulumi.Output<string>;
  /** The same reference as a plain string (known at preview). */
  readonly ref: string;

  constructor(name: string, args: PostgresImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:postgres:PostgresImage", name, {}, opts);
    const dockerfile = path.join(DOCKERFILE_DIR, "Dockerfile");
    this.ref = postgresImageRef(args.baseImage, readFileSync(dockerfile, "utf8"));
    const image = new docker.Image(`${name}`, {
      imageName: this.ref,
      build: { context: DOCKERFILE_DIR, dockerfile, args: { BASE_IMAGE: args.baseImage } },
      skipPush: true,
      // previews on pull requests must not need a docker daemon that can build
      buildOnPreview: false,
    }, { parent: this });
    this.imageName = image.imageName;
    this.registerOutputs({ imageName: this.imageName });
  }
}

/** `homelab-postgres/postgres:<base tag>-<12 hex of Dockerfile + base>`. */
export function postgresImageRef(baseImage: string, dockerfileText: string): string {
  const tag = (baseImage.split("@")[0].split(":")[1] ?? "untagged").replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, 80);
  return `homelab-postgres/postgres:${tag}-${digest(baseImage, dockerfileText).slice(0, 12)}`;
}

// ---------------------------------------------------------------- BackupBucket

export interface BackupBucketArgs {
  /** Stack name, for tags. */
  stack: string;
  /** The validated `backup` config: bucket, region, endpoint, retention. */
  backup: BackupConfig;
  /**
   * Keys for an S3-compatible `endpoint` (MinIO, Garage), where this component
   * manages no IAM. Required when `backup.endpoint` is set; ignored otherwise.
   */
  endpointCredentials?: { accessKeyId: pulumi.Input<string>; secretAccessKey: pulumi.Input<string> };
}

/** Days before a multipart upload that never completed is removed. */
export const ABORT_MULTIPART_DAYS = 7;

/**
 * The IAM policy of the backup key: this bucket only, objects only. No
 * DeleteObjectVersion and no bucket configuration rights: with versioning on, a
 * stolen key can hide objects behind delete markers but cannot destroy a
 * version before the lifecycle's `retention.days` have passed.
 */
export function backupUserPolicy(bucketArn: string): { Version: string; Statement: { Sid: string; Effect: "Allow"; Action: string[]; Resource: string[] }[] } {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "Bucket", Effect: "Allow", Action: ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"], Resource: [bucketArn] },
      {
        Sid: "Objects",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
        Resource: [`${bucketArn}/*`],
      },
    ],
  };
}

/** Lifecycle rules from retention: pgBackRest expires its own files; the bucket expires what it leaves behind. */
export function lifecycleRules(days: number): aws.types.input.s3.BucketLifecycleConfigurationRule[] {
  return [
    {
      id: "expire-noncurrent-versions",
      status: "Enabled",
      filter: {},
      noncurrentVersionExpiration: { noncurrentDays: days },
      abortIncompleteMultipartUpload: { daysAfterInitiation: ABORT_MULTIPART_DAYS },
    },
    { id: "remove-expired-delete-markers", status: "Enabled", filter: {}, expiration: { expiredObjectDeleteMarker: true } },
    { id: "expire-logical-dumps", status: "Enabled", filter: { prefix: LOGICAL_PREFIX }, expiration: { days } },
  ];
}

/**
 * The backup bucket. On AWS: versioned, SSE-S3 encrypted, every public access
 * block on, BucketOwnerEnforced, lifecycle from retention, and an IAM user with a
 * key for this bucket only. With a custom `endpoint`: an explicit provider with
 * path-style addressing; only bucket, versioning and lifecycle are managed
 * (docs/backup.md says why), and the keys come from `endpointCredentials`.
 * The bucket survives `pulumi destroy` (retainOnDelete): backups outlive the stack.
 */
export class BackupBucket extends pulumi.ComponentResource {
  readonly bucketName: pulumi.Output<string>;
  readonly accessKeyId: pulumi.Output<string>;
  /** Secret. */
  readonly secretAccessKey: pulumi.Output<string>;
  /** Where clients find the bucket (plain values from config). */
  readonly location: S3Location;
  readonly provider: aws.Provider;

  constructor(name: string, args: BackupBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:postgres:BackupBucket", name, {}, opts);
    const cfg = args.backup;
    const custom = cfg.endpoint !== undefined;
    if (custom && !args.endpointCredentials) {
      throw new Error("backup.endpoint is set: an S3-compatible store needs endpointCredentials (its IAM is not managed here)");
    }
    this.location = { bucket: cfg.bucket, region: cfg.region, endpoint: cfg.endpoint };
    // Explicit provider: the bucket lives in backup.region whatever aws:region says.
    this.provider = new aws.Provider(`${name}-aws`, custom
      ? {
          region: cfg.region,
          endpoints: [{ s3: cfg.endpoint }],
          s3UsePathStyle: true,
          accessKey: args.endpointCredentials!.accessKeyId,
          secretKey: args.endpointCredentials!.secretAccessKey,
          skipCredentialsValidation: true,
          skipRequestingAccountId: true,
          skipMetadataApiCheck: true,
          skipRegionValidation: true,
        }
      : { region: cfg.region }, { parent: this });
    const child = { parent: this, provider: this.provider };
    const tags = { "homelab-postgres:stack": args.stack, "homelab-postgres:purpose": "backup" };

    const bucket = new aws.s3.Bucket(`${name}`, { bucket: cfg.bucket, forceDestroy: false, tags: custom ? undefined : tags }, { ...child, retainOnDelete: true });
    const versioning = new aws.s3.BucketVersioning(`${name}-versioning`, {
      bucket: bucket.id,
      versioningConfiguration: { status: "Enabled" },
    }, child);
    const hardening: pulumi.Resource[] = [versioning];
    if (!custom) {
      hardening.push(
        new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-sse`, {
          bucket: bucket.id,
          // SSE-S3: at-rest encryption at no cost; the content is already encrypted client-side.
          rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
        }, child),
        new aws.s3.BucketPublicAccessBlock(`${name}-public-access`, {
          bucket: bucket.id,
          blockPublicAcls: true,
          blockPublicPolicy: true,
          ignorePublicAcls: true,
          restrictPublicBuckets: true,
        }, child),
        new aws.s3.BucketOwnershipControls(`${name}-ownership`, {
          bucket: bucket.id,
          rule: { objectOwnership: "BucketOwnerEnforced" },
        }, child),
      );
    }
    // After versioning: noncurrent-version rules need a versioned bucket.
    new aws.s3.BucketLifecycleConfiguration(`${name}-lifecycle`, {
      bucket: bucket.id,
      rules: lifecycleRules(cfg.retention.days),
    }, { ...child, dependsOn: [versioning] });

    if (custom) {
      this.accessKeyId = pulumi.output(args.endpointCredentials!.accessKeyId);
      this.secretAccessKey = pulumi.secret(args.endpointCredentials!.secretAccessKey);
    } else {
      const user = new aws.iam.User(`${name}-user`, { path: "/homelab-postgres/", tags }, child);
      new aws.iam.UserPolicy(`${name}-policy`, {
        user: user.name,
        policy: bucket.arn.apply((arn) => JSON.stringify(backupUserPolicy(arn))),
      }, child);
      const key = new aws.iam.AccessKey(`${name}-key`, { user: user.name }, { ...child, additionalSecretOutputs: ["secret"] });
      this.accessKeyId = key.id;
      this.secretAccessKey = pulumi.secret(key.secret);
    }
    this.bucketName = bucket.bucket;
    this.registerOutputs({ bucketName: this.bucketName, accessKeyId: this.accessKeyId, secretAccessKey: this.secretAccessKey });
  }
}

// ---------------------------------------------------------------- BackupRepository

export interface BackupRepositoryArgs {
  /** Stack name: the pgBackRest stanza and the repository path derive from it. */
  stack: string;
  /** The validated `backup` config. */
  backup: BackupConfig;
  /** Where the bucket is and the key to reach it (a BackupBucket fits). */
  bucket: { location: S3Location; accessKeyId: pulumi.Input<string>; secretAccessKey: pulumi.Input<string> };
  /** pgBackRest process-max for backup and restore. Default 2. */
  processMax?: number;
}

/**
 * What Postgres and the sidecar share: the repository passphrase (from config,
 * or generated once and kept secret in state for a non-prod stack), the age key
 * of the logical dumps derived from it, pgbackrest.conf and the archive
 * settings. Secrets never travel as container env (docker inspect shows env):
 * the cipher pass and S3 key are in the uploaded pgbackrest.conf, the sidecar's
 * own secrets in an uploaded env file, both 0600 owned by postgres (999).
 */
export class BackupRepository extends pulumi.ComponentResource {
  readonly stanza: string;
  /** Secret. Repository cipher pass; the age identity derives from it. */
  readonly passphrase: pulumi.Output<string>;
  /** Secret. AGE-SECRET-KEY-1...: decrypts the logical dumps. */
  readonly ageIdentity: pulumi.Output<string>;
  /** age1...: the sidecar encrypts dumps to it. Public. */
  readonly ageRecipient: pulumi.Output<string>;
  /** pgbackrest.conf without the secrets (for inspection and tests). */
  readonly pgbackrestConf: string;
  /** Secret. The pgbackrest.conf deployed to /etc/pgbackrest/pgbackrest.conf in both containers: pgbackrestConf + cipher pass + S3 key. */
  readonly pgbackrestConfWithSecrets: pulumi.Output<string>;
  /** Secret. The sidecar's secrets file (S3 key for curl, age identity). */
  readonly sidecarSecretsEnv: pulumi.Output<string>;
  /**
   * For PostgresServer's `backup`: archive_command + archive_timeout and the
   * pgbackrest.conf upload (with the secrets archive-push and archive-get need,
   * 0600, secret). No env: `envs` is empty.
   */
  readonly serverWiring: BackupWiring;
  /** Env for the sidecar: where its secrets file is, and TZ. No secrets. */
  readonly sidecarEnvs: string[];
  /** Uploads both containers share: the secret pgbackrest.conf. The sidecar adds sidecarSecretsUpload. */
  readonly confUpload: docker.types.input.ContainerUpload;
  /** The sidecar's secrets file upload (0600, secret). */
  readonly sidecarSecretsUpload: docker.types.input.ContainerUpload;
  readonly backup: BackupConfig;
  readonly location: S3Location;

  constructor(name: string, args: BackupRepositoryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:postgres:BackupRepository", name, {}, opts);
    this.backup = args.backup;
    this.location = args.bucket.location;
    this.stanza = stanzaName(args.stack);
    if (args.backup.encryptionPassphrase !== undefined) {
      this.passphrase = pulumi.secret(args.backup.encryptionPassphrase);
    } else {
      // Non-prod only (config makes it required in prod). No keepers: it must never change,
      // or the repository and every dump become unreadable.
      const generated = new random.RandomPassword(`${name}-passphrase`, { length: 48, special: false }, { parent: this, additionalSecretOutputs: ["result"] });
      this.passphrase = pulumi.secret(generated.result);
    }
    const key = this.passphrase.apply((p) => ageKeyFromPassphrase(p));
    this.ageIdentity = pulumi.secret(key.apply((k) => k.identity));
    // A public key: unsecret so it can sit in the rendered script in clear.
    this.ageRecipient = pulumi.unsecret(key.apply((k) => k.recipient));
    const confInput: PgBackRestConfInput = {
      stanza: this.stanza,
      s3: args.bucket.location,
      compression: args.backup.compression,
      retentionFull: args.backup.retention.full,
      processMax: args.processMax ?? 2,
      // the same paths in both containers: PGDATA, socket and port are the server's
      pgPath: CONTAINER.pgdata,
      socketPath: CONTAINER.socketDir,
      pgPort: CONTAINER.port,
      lockPath: CONTAINER_PATHS.lockPath,
    };
    this.pgbackrestConf = renderPgBackRestConf(confInput);
    this.pgbackrestConfWithSecrets = pulumi.secret(
      pulumi.all([this.passphrase, args.bucket.accessKeyId, args.bucket.secretAccessKey]).apply(([cipherPass, s3Key, s3KeySecret]) =>
        renderPgBackRestConf(confInput, { cipherPass, s3Key, s3KeySecret })),
    );
    this.sidecarSecretsEnv = pulumi.secret(
      pulumi.all([args.bucket.accessKeyId, args.bucket.secretAccessKey, this.ageIdentity]).apply(([s3Key, s3KeySecret, ageIdentity]) =>
        renderSidecarSecretsEnv({ s3Key, s3KeySecret, ageIdentity })),
    );
    // owned by postgres (uid 999 in the image), readable by nobody else
    const secretFile = { permissions: "0600", owner: CONTAINER.uid, group: CONTAINER.uid };
    this.confUpload = { file: CONTAINER_PATHS.pgbackrestConf, content: this.pgbackrestConfWithSecrets, ...secretFile };
    this.sidecarSecretsUpload = { file: CONTAINER_PATHS.sidecarSecrets, content: this.sidecarSecretsEnv, ...secretFile };
    const archive = archiveSettings({ stanza: this.stanza, timeoutSeconds: args.backup.archiveTimeout });
    this.serverWiring = {
      envs: [],
      uploads: [this.confUpload],
      archiveCommand: archive.command,
      archiveTimeoutSeconds: archive.timeoutSeconds,
    };
    this.sidecarEnvs = [
      `${SECRETS_FILE_ENV}=${CONTAINER_PATHS.sidecarSecrets}`,
      "TZ=UTC", // the schedule is UTC (the health limits are computed in UTC too)
    ];
    this.registerOutputs({ stanza: this.stanza, ageRecipient: this.ageRecipient });
  }
}

// ---------------------------------------------------------------- BackupSidecar

export interface BackupSidecarArgs {
  /** Stack name: container and volume names. */
  stack: string;
  repository: BackupRepository;
  /** The image the postgres container runs (PostgresImage.imageName). */
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
  /** Memory limit in MB (the drill runs a Postgres in it). Default 768. */
  memoryMb?: number;
}

/** Seconds the drill may spend restoring and recovering before it counts as failed. */
export const DRILL_TIMEOUT_SECONDS = 4 * 3600;

/**
 * The backup sidecar: the rendered hlpg-backup script as entrypoint (init =
 * stanza-create + check, a first full backup when the repository has none, then
 * the schedule), sharing PGDATA and the socket with Postgres and running as its
 * uid so `local all postgres peer` lets it in without a password. Health is the
 * script's `health`: red when a job failed or a job group is overdue. Construct
 * it with `dependsOn: [server.container]`: init waits for the server, but the
 * server should exist first.
 */
export class BackupSidecar extends pulumi.ComponentResource {
  readonly container: docker.Container;
  readonly workVolume: docker.Volume;
  /** The rendered script (for inspection and tests). */
  readonly script: pulumi.Output<string>;

  constructor(name: string, args: BackupSidecarArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:postgres:BackupSidecar", name, {}, opts);
    const repo = args.repository;
    const schedule = repo.backup.schedule;
    const apps: BackupApp[] = args.apps.map((a) => ({ name: a.name, database: a.database, owner: a.owner }));
    const limits = healthLimits(schedule);
    this.script = repo.ageRecipient.apply((recipient) => renderSidecarScript({
      stanza: repo.stanza,
      pgbackrestConf: CONTAINER_PATHS.pgbackrestConf,
      pgData: CONTAINER.pgdata,
      socketDir: CONTAINER.socketDir,
      pgPort: CONTAINER.port,
      pgBinDir: `/usr/lib/postgresql/${args.majorVersion}/bin`,
      workDir: CONTAINER_PATHS.workDir,
      s3: repo.location,
      ageRecipient: recipient,
      apps,
      schedule,
      limits,
      drillPort: 5499,
      drillTimeoutSeconds: DRILL_TIMEOUT_SECONDS,
      initTimeoutSeconds: 300,
    }));
    // State (health) and scratch space (drill restores, dump staging); disposable.
    this.workVolume = new docker.Volume(`${name}-work`, {
      name: `${args.stack}-pgbackup`,
      labels: [{ label: ROLE_LABEL, value: "backup" }, { label: "homelab.postgres/stack", value: args.stack }],
    }, { parent: this });
    this.container = new docker.Container(`${name}`, {
      name: `${args.stack}-backup`,
      image: args.image,
      user: `${CONTAINER.uid}:${CONTAINER.uid}`,
      entrypoints: [CONTAINER_PATHS.script],
      command: ["scheduler"],
      // tini as PID 1: reaps job processes and forwards SIGTERM to the scheduler
      init: true,
      envs: repo.sidecarEnvs,
      uploads: [
        repo.confUpload,
        repo.sidecarSecretsUpload,
        { file: CONTAINER_PATHS.script, content: this.script, permissions: "0755" },
      ],
      volumes: [
        { volumeName: args.dataVolume, containerPath: CONTAINER.dataMount },
        { volumeName: args.socketVolume, containerPath: CONTAINER.socketDir },
        { volumeName: this.workVolume.name, containerPath: CONTAINER_PATHS.workDir },
      ],
      networksAdvanced: [{ name: args.network }],
      // the drill's Postgres uses posix shared memory
      shmSize: 256,
      ...hardenedContainerArgs({
        role: "backup",
        stack: args.stack,
        memoryMb: args.memoryMb ?? 768,
        healthcheck: ["CMD", CONTAINER_PATHS.script, "health"],
        // pulumi up fails if init (stanza-create + check) does not succeed in time
        waitTimeoutSeconds: 600,
      }),
    }, { parent: this, additionalSecretOutputs: ["uploads"], deleteBeforeReplace: true });
    this.registerOutputs({ containerName: this.container.name });
  }
}
