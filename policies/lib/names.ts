// Rule names (what a policy config file and `pulumi preview` output use) and the
// resource type tokens the rules look at.

export const POLICY_NAMES = {
  portBinding: "docker-ports-bind-tailnet-or-loopback",
  imagesPinned: "docker-images-pinned",
  containersHardened: "docker-containers-hardened",
  rolesLeastPrivilege: "postgresql-roles-least-privilege",
  passwordLength: "random-passwords-min-length",
  bucketHardened: "backup-bucket-hardened",
  prodHasBackup: "prod-stack-has-backup",
  noPasswordsInContainerConfig: "no-passwords-in-container-config",
  containersNoHostAccess: "docker-containers-no-host-access",
  roleMembershipSafe: "postgresql-role-membership-safe",
  builtImagesFromStack: "docker-built-images-from-stack",
} as const;

export const TYPES = {
  container: "docker:index/container:Container",
  remoteImage: "docker:index/remoteImage:RemoteImage",
  /** An image the program builds on the docker host (never pulled). */
  builtImage: "docker:index/image:Image",
  role: "postgresql:index/role:Role",
  grantRole: "postgresql:index/grantRole:GrantRole",
  volume: "docker:index/volume:Volume",
  randomPassword: "random:index/randomPassword:RandomPassword",
  // aws v7: `Bucket` is the current resource; `BucketV2` and the `*V2` companions
  // are deprecated aliases of the same things and are accepted too.
  bucket: ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"],
  versioning: ["aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"],
  encryption: [
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
  ],
  publicAccessBlock: ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"],
  lifecycle: [
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
  ],
  ownershipControls: ["aws:s3/bucketOwnershipControls:BucketOwnershipControls"],
} as const;
