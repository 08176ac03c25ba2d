// BackupRepository: what Postgres and the sidecar share (passphrase, the age key
// of the dumps, pgbackrest.conf and the carrier that delivers it, the archive
// settings). The texts come from pure renderers; this component only wires.
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { BackupConfig } from "../config";
import { RuntimeFiles } from "../runtime";
import { BackupWiring, CONTAINER } from "../server/server";
import { ageKeyFromPassphrase } from "./age-key";
import type { JobSchedule } from "../config";
import { CONTAINER_PATHS, RUNTIME_FILE_NAMES } from "./layout";
import { PgBackRestConfInput, archiveSettings, renderPgBackRestConf, repoList, stanzaName } from "./pgbackrest-conf";
import type { S3Location } from "./s3";
import { renderSidecarSecretsEnv } from "./sidecar-secrets";

/** pgBackRest process-max for backup and restore: the host's 2 cores. */
export const PROCESS_MAX = 2;

/**
 * spool-path of async archive-push, in the postgres container: on the data volume (local
 * disk, survives a container replacement) beside PGDATA, never inside it.
 */
export const SPOOL_PATH = `${CONTAINER.dataMount}/pgbackrest-spool`;

export interface BackupRepositoryArgs {
  /** Stack name: the pgBackRest stanza and the repository path derive from it. */
  stack: string;
  /** The validated `backup` config. */
  backup: BackupConfig;
  /**
   * Where the bucket is, the key to reach it, and what must exist before the key
   * works (a BackupBucket fits).
   */
  bucket?: { location: S3Location; accessKeyId: pulumi.Input<string>; secretAccessKey: pulumi.Input<string>; ready: pulumi.Resource[] };
  /** The image Postgres runs (PostgresImage.imageName): the carrier of pgbackrest.conf runs it too. */
  image: pulumi.Input<string>;
}

/**
 * What Postgres and the sidecar share: the repository passphrase (from config,
 * or generated once and kept secret in state for a non-prod stack), the age key
 * of the logical dumps derived from it, pgbackrest.conf and the archive
 * settings. Secrets never travel as container env (docker inspect shows env):
 * the cipher pass and S3 key are in pgbackrest.conf (0600, owned by postgres,
 * 999), which a RuntimeFiles carrier writes into a volume both containers mount
 * read-only. So a change of retention, compression, bucket or key replaces that
 * carrier, not Postgres: archive-push reads the file on every call, and the
 * sidecar checks a changed file again (init) within a minute.
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
  /** Secret. The pgbackrest.conf delivered to CONTAINER_PATHS.pgbackrestConf in both containers: pgbackrestConf + cipher pass + S3 key. */
  readonly pgbackrestConfWithSecrets: pulumi.Output<string>;
  /** Secret. The sidecar's secrets file (S3 key for curl, age identity); the sidecar's own carrier delivers it. */
  readonly sidecarSecretsEnv: pulumi.Output<string>;
  /** The carrier of pgbackrest.conf and its volume. */
  readonly confFiles: RuntimeFiles;
  /** The read-only mount of confFiles' volume, the same in both containers. */
  readonly confVolume: { volumeName: pulumi.Output<string>; containerPath: string; readOnly: true };
  /** What a container that runs pgBackRest waits for: the bucket, its key and policy, and the conf's carrier. */
  readonly dependsOn: pulumi.Resource[];
  /**
   * For PostgresServer's `backup`: archive_command (`--config=` the delivered
   * conf) + archive_timeout, the conf volume, and what the container waits for.
   */
  readonly serverWiring: BackupWiring;
  /** When each job runs (config's `backup.schedule`). */
  readonly schedule: JobSchedule;
  /** Where the bucket is (absent: posix only). */
  readonly location?: S3Location;
  /** The host directory of the posix repository mounted in both containers (backup.posix). */
  readonly posixVolume?: { hostPath: string; containerPath: string };
  /** The repositories in pgBackRest's numbering. */
  readonly repos: { index: number; type: "s3" | "posix" }[];
  /** The age recipient of the logical dumps is the operator's (backup.dumps.recipient): the sidecar cannot read them. */
  readonly dumpKey: "derived" | "external";

  constructor(name: string, args: BackupRepositoryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:postgres:BackupRepository", name, {}, opts);
    this.schedule = args.backup.schedule;
    this.location = args.bucket?.location;
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
    // A public key: unsecret so it can sit in the runtime file in clear. An operator's
    // recipient (backup.dumps.recipient) replaces it: the host then writes dumps it cannot read.
    const recipient = args.backup.dumps.recipient;
    this.dumpKey = recipient !== undefined ? "external" : "derived";
    this.ageRecipient = recipient !== undefined ? pulumi.output(recipient) : pulumi.unsecret(key.apply((k) => k.recipient));
    const posix = args.backup.posix;
    this.posixVolume = posix?.path !== undefined ? { hostPath: posix.path, containerPath: CONTAINER_PATHS.posixRepo } : undefined;
    const confInput: PgBackRestConfInput = {
      stanza: this.stanza,
      s3: args.bucket?.location,
      posix: this.posixVolume ? { path: CONTAINER_PATHS.posixRepo } : undefined,
      archiveQueue: { spoolPath: SPOOL_PATH, maxMb: args.backup.archiveQueueMaxMb },
      compression: args.backup.compression,
      retentionFull: args.backup.retention.full,
      processMax: PROCESS_MAX,
      // the same paths in both containers: PGDATA, socket and port are the server's
      pgPath: CONTAINER.pgdata,
      socketPath: CONTAINER.socketDir,
      pgPort: CONTAINER.port,
      lockPath: CONTAINER_PATHS.lockPath,
    };
    this.repos = repoList(confInput);
    this.pgbackrestConf = renderPgBackRestConf(confInput);
    const s3Key = args.bucket ? pulumi.output(args.bucket.accessKeyId) : pulumi.output(undefined);
    const s3KeySecret = args.bucket ? pulumi.output(args.bucket.secretAccessKey) : pulumi.output(undefined);
    this.pgbackrestConfWithSecrets = pulumi.secret(
      pulumi.all([this.passphrase, s3Key, s3KeySecret]).apply(([cipherPass, k, ks]) =>
        renderPgBackRestConf(confInput, { cipherPass, s3Key: k, s3KeySecret: ks })),
    );
    this.sidecarSecretsEnv = pulumi.secret(
      pulumi.all([s3Key, s3KeySecret, this.ageIdentity]).apply(([k, ks, ageIdentity]) =>
        renderSidecarSecretsEnv({ s3Key: k, s3KeySecret: ks, ageIdentity, notify: args.backup.notify })),
    );
    // Not an upload of the Postgres container, where any change would replace it (uploads
    // are ForceNew): a carrier running as postgres writes it 0600 into a volume.
    this.confFiles = new RuntimeFiles(`${name}-pgbackrest`, {
      stack: args.stack,
      purpose: "pgbackrest",
      image: args.image,
      user: `${CONTAINER.uid}:${CONTAINER.uid}`,
      files: { [RUNTIME_FILE_NAMES.pgbackrestConf]: { content: this.pgbackrestConfWithSecrets, mode: "0600" } },
    }, { parent: this });
    this.confVolume = { volumeName: this.confFiles.volume.name, containerPath: CONTAINER_PATHS.pgbackrestDir, readOnly: true };
    // Postgres would start without the file too (archive-push fails and is retried,
    // WAL is kept), but stanza-create and check need the bucket and a working key.
    this.dependsOn = [...(args.bucket?.ready ?? []), this.confFiles.container];
    const archive = archiveSettings({ stanza: this.stanza, configFile: CONTAINER_PATHS.pgbackrestConf, timeoutSeconds: args.backup.archiveTimeout });
    this.serverWiring = {
      // the posix repository: archive-push writes WAL into it from the postgres container too
      volumes: [this.confVolume, ...(this.posixVolume ? [this.posixVolume] : [])],
      archiveCommand: archive.command,
      archiveTimeoutSeconds: archive.timeoutSeconds,
      dependsOn: this.dependsOn,
    };
    this.registerOutputs({
      stanza: this.stanza,
      passphrase: this.passphrase,
      ageIdentity: this.ageIdentity,
      ageRecipient: this.ageRecipient,
      pgbackrestConf: this.pgbackrestConf,
      pgbackrestConfWithSecrets: this.pgbackrestConfWithSecrets,
      sidecarSecretsEnv: this.sidecarSecretsEnv,
      confVolume: this.confVolume.volumeName,
      schedule: this.schedule,
      location: this.location,
    });
  }
}
