// BackupBucket: the bucket (aws), hardened, with lifecycle from retention and an
// IAM user whose key reaches only this bucket. Policy and rules are pure
// functions; the component only wires.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AwsProviderSettings, BackupConfig } from "../config";
import { LOGICAL_PREFIX } from "./layout";
import type { S3Location } from "./s3";

export interface BackupBucketArgs {
  /** Stack name, for tags. */
  stack: string;
  /** The validated `backup` config: bucket, region (resolved), endpoint, retention. */
  backup: BackupConfig;
  /**
   * The stack's `aws:*` settings (profile, credentials files, static keys; secretKey
   * and token as given, made secret here). An explicit provider reads no `aws:`
   * config by itself, so without these `aws:profile` would be ignored. Unused with
   * an `endpoint`.
   */
  aws?: AwsProviderSettings;
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
/**
 * Days a logical dump may live: the sidecar prunes them grandfather-father-son after every
 * run (backup.dumps), so the bucket's own expiry only catches what it left behind, beyond
 * the oldest dump that rotation keeps (a month counted as 31 days, a week of margin).
 */
export function logicalExpiryDays(days: number, keep: { keepDaily: number; keepWeekly: number; keepMonthly: number }): number {
  return Math.max(days, keep.keepDaily, keep.keepWeekly * 7, keep.keepMonthly * 31) + 7;
}

export function lifecycleRules(days: number, logicalDays = days): aws.types.input.s3.BucketLifecycleConfigurationRule[] {
  return [
    {
      id: "expire-noncurrent-versions",
      status: "Enabled",
      filter: {},
      noncurrentVersionExpiration: { noncurrentDays: days },
      abortIncompleteMultipartUpload: { daysAfterInitiation: ABORT_MULTIPART_DAYS },
    },
    { id: "remove-expired-delete-markers", status: "Enabled", filter: {}, expiration: { expiredObjectDeleteMarker: true } },
    { id: "expire-logical-dumps", status: "Enabled", filter: { prefix: LOGICAL_PREFIX }, expiration: { days: logicalDays } },
  ];
}

/** The explicit provider's inputs on AWS: the bucket's region and the stack's `aws:*` credential settings. */
export function awsProviderArgs(region: string, settings: AwsProviderSettings = {}): aws.ProviderArgs {
  const s = settings;
  return {
    region,
    ...(s.profile !== undefined ? { profile: s.profile } : {}),
    ...(s.sharedCredentialsFiles !== undefined ? { sharedCredentialsFiles: s.sharedCredentialsFiles } : {}),
    ...(s.sharedConfigFiles !== undefined ? { sharedConfigFiles: s.sharedConfigFiles } : {}),
    ...(s.accessKey !== undefined ? { accessKey: s.accessKey } : {}),
    ...(s.secretKey !== undefined ? { secretKey: pulumi.secret(s.secretKey) } : {}),
    ...(s.token !== undefined ? { token: pulumi.secret(s.token) } : {}),
  };
}

/**
 * The backup bucket. On AWS: versioned, SSE-S3 encrypted, every public access
 * block on, BucketOwnerEnforced, lifecycle from retention, and an IAM user with a
 * key for this bucket only. With a custom `endpoint`: an explicit provider with
 * path-style addressing; only bucket, versioning and lifecycle are managed
 * (docs/backup.md says why), and the keys come from `endpointCredentials`.
 * The bucket and its protections survive `pulumi destroy` (retainOnDelete):
 * backups outlive the stack. The IAM user, key and policy do not.
 */
export class BackupBucket extends pulumi.ComponentResource {
  /** The bucket's name (backup.bucket). */
  readonly bucketName: pulumi.Output<string>;
  /** Access key id pgBackRest and curl sign with: the IAM user's on AWS, endpointCredentials' otherwise. */
  readonly accessKeyId: pulumi.Output<string>;
  /** Secret. The matching secret key. */
  readonly secretAccessKey: pulumi.Output<string>;
  /** Where clients find the bucket (plain values from config). */
  readonly location: S3Location;
  /** The explicit aws provider every child uses (the bucket's region or endpoint). */
  readonly provider: aws.Provider;
  /**
   * What must exist before stanza-create or archive-push can succeed: the bucket,
   * versioning, encryption, public access block, ownership controls, and on AWS the
   * key and its policy. The containers that use the bucket depend on these.
   */
  readonly ready: pulumi.Resource[];

  constructor(name: string, args: BackupBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:postgres:BackupBucket", name, {}, opts);
    const cfg = args.backup;
    const custom = cfg.endpoint !== undefined;
    if (custom && !args.endpointCredentials) {
      throw new Error("backup.endpoint is set: an S3-compatible store needs endpointCredentials (its IAM is not managed here)");
    }
    this.location = { bucket: cfg.bucket, region: cfg.region, endpoint: cfg.endpoint };
    // Explicit provider: the bucket lives in its own region whatever the default provider does.
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
      : awsProviderArgs(cfg.region, args.aws), { parent: this });
    const child = { parent: this, provider: this.provider };
    // The protections outlive the stack with the bucket. Deleting them would not leave
    // them as they are (terraform-provider-aws, which pulumi-aws 7 wraps): deleting
    // BucketVersioning suspends versioning (PutBucketVersioning Suspended), deleting the
    // SSE configuration calls DeleteBucketEncryption, the public access block
    // DeletePublicAccessBlock, the ownership controls DeleteBucketOwnershipControls and
    // the lifecycle DeleteBucketLifecycle. With only the bucket retained, `pulumi
    // destroy` would leave the backups unversioned, publicly configurable and never expiring.
    const kept = { ...child, retainOnDelete: true };
    const tags = { "homelab-postgres:stack": args.stack, "homelab-postgres:purpose": "backup" };

    const bucket = new aws.s3.Bucket(`${name}-bucket`, { bucket: cfg.bucket, forceDestroy: false, tags: custom ? undefined : tags }, kept);
    const versioning = new aws.s3.BucketVersioning(`${name}-versioning`, {
      bucket: bucket.id,
      versioningConfiguration: { status: "Enabled" },
    }, kept);
    this.ready = [bucket, versioning];
    if (!custom) {
      this.ready.push(
        new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-sse`, {
          bucket: bucket.id,
          // SSE-S3: at-rest encryption at no cost; the content is already encrypted client-side.
          rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
        }, kept),
        new aws.s3.BucketPublicAccessBlock(`${name}-public-access`, {
          bucket: bucket.id,
          blockPublicAcls: true,
          blockPublicPolicy: true,
          ignorePublicAcls: true,
          restrictPublicBuckets: true,
        }, kept),
        new aws.s3.BucketOwnershipControls(`${name}-ownership`, {
          bucket: bucket.id,
          rule: { objectOwnership: "BucketOwnerEnforced" },
        }, kept),
      );
    }
    // After versioning: noncurrent-version rules need a versioned bucket.
    new aws.s3.BucketLifecycleConfiguration(`${name}-lifecycle`, {
      bucket: bucket.id,
      rules: lifecycleRules(cfg.retention.days, logicalExpiryDays(cfg.retention.days, cfg.dumps)),
    }, { ...kept, dependsOn: [versioning] });

    if (custom) {
      this.accessKeyId = pulumi.output(args.endpointCredentials!.accessKeyId);
      this.secretAccessKey = pulumi.secret(args.endpointCredentials!.secretAccessKey);
    } else {
      // Not retained: a destroyed stack should leave no key that reaches the bucket.
      const user = new aws.iam.User(`${name}-user`, { path: "/homelab-postgres/", tags }, child);
      const policy = new aws.iam.UserPolicy(`${name}-policy`, {
        user: user.name,
        policy: bucket.arn.apply((arn) => JSON.stringify(backupUserPolicy(arn))),
      }, child);
      const key = new aws.iam.AccessKey(`${name}-key`, { user: user.name }, { ...child, additionalSecretOutputs: ["secret"] });
      this.ready.push(policy, key);
      this.accessKeyId = key.id;
      this.secretAccessKey = pulumi.secret(key.secret);
    }
    this.bucketName = bucket.bucket;
    this.registerOutputs({
      bucketName: this.bucketName,
      accessKeyId: this.accessKeyId,
      secretAccessKey: this.secretAccessKey,
      location: this.location,
      provider: this.provider.urn,
    });
  }
}
