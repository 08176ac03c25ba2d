// Rules 6 and 7, stack rules: the backup bucket is hardened, and a prod stack has
// backups at all. Stack rules see each resource's outputs (during preview: inputs
// plus unknown computed values), so a bucket's companions can be looked up.
import {
  stringListOption,
  anyOf,
  Check,
  companionsOf,
  containerRole,
  encryptionEnabled,
  lifecycleEnabled,
  ofType,
  POLICY_NAMES,
  PROD_STACK_PATTERNS,
  publicAccessMissingFlags,
  readPath,
  ROLE_LABEL,
  stackMatches,
  stackRule,
  TYPES,
  UNKNOWN,
  versioningEnabled,
} from "../lib";

export interface BucketHardenedConfig {
  exemptBuckets: string[];
  requireOwnerEnforced: boolean;
}

export const bucketHardenedPolicy = stackRule<BucketHardenedConfig>({
  name: POLICY_NAMES.bucketHardened,
  description:
    "Every S3 bucket of the stack (the backup bucket) is versioned, encrypted, has all four public-access blocks on and a lifecycle rule that expires old data; checked across the bucket's companion resources.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    "Give the bucket a BucketVersioning (Enabled), BucketServerSideEncryptionConfiguration (AES256 or aws:kms), BucketPublicAccessBlock (all four flags true) and BucketLifecycleConfiguration (an Enabled rule with expiration or noncurrentVersionExpiration).",
  options: {
    exemptBuckets: stringListOption("Logical names (or URNs) of buckets this rule skips."),
    requireOwnerEnforced: {
      type: "boolean",
      description: "Also require BucketOwnershipControls with BucketOwnerEnforced (ACLs disabled).",
    },
  },
  defaults: { exemptBuckets: [], requireOwnerEnforced: false },
  exemptions: (config) => config.exemptBuckets,
  check: (args, { config, isExempt }, reportViolation) => {
    // every bucket, exempt ones too: companionsOf counts a component's buckets
    const buckets = ofType(args.resources, TYPES.bucket);
    if (buckets.length === 0) args.notApplicable("the stack has no S3 bucket");
    for (const b of buckets) {
      if (isExempt(b)) continue;
      const report = (m: string) => reportViolation(`bucket ${b.name}: ${m}`, b.urn);
      const companions = (types: readonly string[]) => companionsOf(b, args.resources, types, buckets);

      if (versioningEnabled(b, companions(TYPES.versioning)) === false) {
        report("versioning is not enabled (BucketVersioning with status Enabled)");
      }
      if (encryptionEnabled(b, companions(TYPES.encryption)) === false) {
        report("default encryption is not configured (BucketServerSideEncryptionConfiguration with AES256 or aws:kms)");
      }
      const missing = publicAccessMissingFlags(companions(TYPES.publicAccessBlock));
      if (missing !== UNKNOWN && missing.length > 0) {
        report(`public access is not fully blocked (BucketPublicAccessBlock: ${missing.join(", ")} must be true)`);
      }
      if (lifecycleEnabled(b, companions(TYPES.lifecycle)) === false) {
        report("no enabled lifecycle rule expires old data (BucketLifecycleConfiguration with expiration or noncurrentVersionExpiration)");
      }
      if (config.requireOwnerEnforced) {
        const owned = anyOf(
          companions(TYPES.ownershipControls).map((c): Check => {
            const o = readPath(c.props, "rule", "objectOwnership");
            return o === UNKNOWN ? UNKNOWN : o === "BucketOwnerEnforced";
          }),
        );
        if (owned === false) report("ACLs are not disabled (BucketOwnershipControls with BucketOwnerEnforced)");
      }
    }
  },
});

export interface ProdHasBackupConfig {
  stacks: string[];
  requireBucket: boolean;
}

export const prodHasBackupPolicy = stackRule<ProdHasBackupConfig>({
  name: POLICY_NAMES.prodHasBackup,
  description: `A stack 'stacks' matches (default: prod and prod-*, the stacks the program treats as prod) runs a backup sidecar (a container labelled ${ROLE_LABEL}=backup) and manages its S3 bucket.`,
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps: "Enable homelab-postgres:backup (enabled: true, bucket, region) in the stack's config.",
  options: {
    stacks: stringListOption("Stacks that must have backups: names, or patterns with * (prod-*)."),
    requireBucket: {
      type: "boolean",
      description: "Also require an aws.s3.Bucket resource (false when the bucket is managed elsewhere).",
    },
  },
  defaults: { stacks: [...PROD_STACK_PATTERNS], requireBucket: true },
  check: (args, { config, stack }, reportViolation) => {
    if (!stackMatches(stack, config.stacks)) args.notApplicable(`stack "${stack}" matches none of ${config.stacks.join(", ")}`);
    const sidecars = ofType(args.resources, [TYPES.container]).filter((c) => containerRole(c.props) === "backup");
    if (sidecars.length === 0) {
      reportViolation(`stack ${stack} has no backup sidecar (no container labelled ${ROLE_LABEL}=backup)`);
    }
    if (config.requireBucket && ofType(args.resources, TYPES.bucket).length === 0) {
      reportViolation(`stack ${stack} has no backup bucket (no aws.s3.Bucket resource)`);
    }
  },
});
