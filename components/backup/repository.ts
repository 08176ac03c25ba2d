// BackupRepository: what Postgres and the sidecar share (passphrase, the age key
// of the dumps, pgbackrest.conf, the archive settings, the secret uploads).
// The texts come from pure renderers; this component only wires.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { BackupConfig } from "../config";
import { BackupWiring, CONTAINER } from "../server/server";
import { ageKeyFromPassphrase } from "./age-key";
import type { JobSchedule } from "../config";
import { CONTAINER_PATHS, SECRETS_FILE_ENV } from "./layout";
import { PgBackRestConfInput, archiveSettings, renderPgBackRestConf, stanzaName } from "./pgbackrest-conf";
import type { S3Location } from "./s3";
import { renderSidecarSecretsEnv } from "./sidecar-secrets";

/** pgBackRest process-max for backup and restore: the host's 2 cores. */
export const PROCESS_MAX = 2;

export interface BackupRepositoryArgs {
  /** Stack name: the pgBackRest stanza and the repository path derive from it. */
  stack: string;
  /** The validated `backup` config. */
  backup: BackupConfig;
  /** Where the bucket is and the key to reach it (a BackupBucket fits). */
  bucket: { location: S3Location; accessKeyId: pulumi.Input<string>; secretAccessKey: pulumi.Input<string> };
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
   * 0600, secret).
   */
  readonly serverWiring: BackupWiring;
  /** Env for the sidecar: where its secrets file is, and TZ. No secrets. */
  readonly sidecarEnvs: string[];
  /** Uploads both containers share: the secret pgbackrest.conf. The sidecar adds sidecarSecretsUpload. */
  readonly confUpload: docker.types.input.ContainerUpload;
  /** The sidecar's secrets file upload (0600, secret). */
  readonly sidecarSecretsUpload: docker.types.input.ContainerUpload;
  /** When each job runs (config's `backup.schedule`). */
  readonly schedule: JobSchedule;
  /** Where the bucket is. */
  readonly location: S3Location;

  constructor(name: string, args: BackupRepositoryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:postgres:BackupRepository", name, {}, opts);
    this.schedule = args.backup.schedule;
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
      processMax: PROCESS_MAX,
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
      uploads: [this.confUpload],
      archiveCommand: archive.command,
      archiveTimeoutSeconds: archive.timeoutSeconds,
    };
    this.sidecarEnvs = [
      `${SECRETS_FILE_ENV}=${CONTAINER_PATHS.sidecarSecrets}`,
      "TZ=UTC", // the schedule is UTC (the health limits are computed in UTC too)
    ];
    this.registerOutputs({
      stanza: this.stanza,
      passphrase: this.passphrase,
      ageIdentity: this.ageIdentity,
      ageRecipient: this.ageRecipient,
      pgbackrestConf: this.pgbackrestConf,
      pgbackrestConfWithSecrets: this.pgbackrestConfWithSecrets,
      sidecarSecretsEnv: this.sidecarSecretsEnv,
      serverWiring: this.serverWiring,
      sidecarEnvs: this.sidecarEnvs,
      confUpload: this.confUpload,
      sidecarSecretsUpload: this.sidecarSecretsUpload,
      schedule: this.schedule,
      location: this.location,
    });
  }
}
