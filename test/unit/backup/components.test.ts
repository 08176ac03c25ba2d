// BackupBucket, BackupRepository, BackupSidecar, PostgresImage and the backup side
// of PostgresServer constructed directly under pulumi.runtime.setMocks: the
// hardening resources exist, point at the bucket and survive destroy, the IAM
// policy reaches only this bucket, the explicit provider takes the stack's aws
// settings, secrets stay secret in outputs and in what the engine receives, the
// containers wait for the bucket, and the sidecar is wired to the volumes,
// network, uid and health check it needs.
import * as pulumi from "@pulumi/pulumi";
import { MOCK, installMocks, value } from "../../helpers/mocks";
import { RegisteredResource as Registered, isSecretValue, reveal } from "../../helpers/record";
import { existsSync, readFileSync } from "fs";
import * as path from "path";
import { POSTGRES_PACKAGES, type PostgresPackages, parseConfig, postgresBuildArgs } from "../../../components/config";
import { contextFiles } from "../../../components/lib/built-image";
import {
  BackupBucket, BackupRepository, BackupSidecar, CONTAINER_PATHS, LOGICAL_PREFIX, REPO_RETRY_SECONDS, SECRETS_FILE_ENV, SIDECAR_SECRET_VARS,
  ageKeyFromPassphrase, backupUserPolicy, lifecycleRules, logicalExpiryDays,
} from "../../../components/backup";
import { ROLE_LABEL } from "../../../components/lib/container";
import { CARRIER_PATHS } from "../../../components/runtime";
import {
  CONTAINER, POSTGRES_CONTEXT, PostgresImage, PostgresServer, postgresImageRef,
} from "../../../components/server";
import { TYPES, envEntryProblem, noPasswordsInContainerConfigPolicy } from "../../../policies/rules";
import { runResourceRule } from "../../policies/helpers";

// the shared stand-ins (test/helpers/mocks.ts): the bucket's id is its name, the IAM
// user is `<name>-generated`, the key is MOCK.accessKeyId / MOCK.secretAccessKey
let registered: Registered[] = [];
beforeAll(async () => {
  registered = await installMocks(pulumi);
});
function isSecret<T>(o: pulumi.Input<T>): Promise<boolean> {
  return pulumi.isSecret(pulumi.output(o));
}
const all = (type: string, prefix: string) => registered.filter((r) => r.type === type && r.name.startsWith(prefix));
function one(type: string, prefix: string): Registered {
  const found = all(type, prefix);
  if (found.length !== 1) throw new Error(`expected one ${type} named ${prefix}*, got ${found.map((r) => r.name).join(", ") || "none"}; registered: ${registered.map((r) => r.type).join(", ")}`);
  return found[0];
}

const PASSPHRASE = "prod-backup-passphrase-from-config-0123";
const prod = parseConfig("prod", {
  tailscale: { ip: "100.100.1.2" },
  apps: [{ name: "langfuse" }, { name: "my-app" }],
  backup: { enabled: true, bucket: "homelab-pg-prod", region: "eu-central-1", encryptionPassphrase: PASSPHRASE, retention: { full: 3, days: 21 }, compression: "lz4" },
});
const minio = parseConfig("dev", {
  backup: {
    enabled: true, bucket: "homelab-pg-dev", region: "garage", endpoint: "https://minio.home.arpa:9000",
    endpointCredentials: { accessKeyId: "minio-access", secretAccessKey: "minio-secret-key" },
  },
});

let awsBucket: BackupBucket;
let awsRepo: BackupRepository;
let sidecar: BackupSidecar;
let image: PostgresImage;
let server: PostgresServer;
let minioBucket: BackupBucket;
let minioRepo: BackupRepository;

beforeAll(async () => {
  // 17 (the default) is built on Debian trixie
  image = new PostgresImage("postgres-image", { majorVersion: prod.postgres.majorVersion, baseImage: prod.images.trixie, platform: prod.postgres.platform });
  awsBucket = new BackupBucket("backup", {
    stack: "prod", backup: prod.backup,
    aws: { profile: "homelab", sharedCredentialsFiles: ["/home/op/.aws/credentials"], sharedConfigFiles: ["/home/op/.aws/config"] },
  });
  awsRepo = new BackupRepository("backup-repo", { stack: "prod", backup: prod.backup, bucket: awsBucket, image: image.imageName });
  server = new PostgresServer("server", { stack: "prod", config: prod.postgres, bindAddress: "100.100.1.2", image: image.imageName, backup: awsRepo.serverWiring });
  sidecar = new BackupSidecar("backup-sidecar", {
    stack: "prod", repository: awsRepo, image: image.imageName, majorVersion: prod.postgres.majorVersion, network: "prod-pg",
    dataVolume: "prod-pgdata", socketVolume: "prod-pgsocket", apps: prod.apps,
  }, { dependsOn: [server.container] });
  minioBucket = new BackupBucket("minio-backup", {
    stack: "dev", backup: minio.backup, endpointCredentials: { accessKeyId: "minio-access", secretAccessKey: pulumi.secret("minio-secret-key") },
    aws: { profile: "ignored-with-an-endpoint" },
  });
  minioRepo = new BackupRepository("minio-repo", { stack: "dev", backup: minio.backup, bucket: minioBucket, image: "homelab-postgres/postgres:x" });
  await Promise.all([
    value(sidecar.container.id), value(awsBucket.secretAccessKey), value(minioRepo.pgbackrestConfWithSecrets), value(image.imageName),
    value(awsRepo.pgbackrestConfWithSecrets), value(minioBucket.bucketName), value(server.container.id), value(sidecar.runtimeFiles.container.id),
    value(minioRepo.confFiles.container.id),
  ]);
  await new Promise((r) => setTimeout(r, 50)); // let the last registrations land
});

describe("BackupBucket on AWS", () => {
  it("hardens the bucket: versioning, SSE, every public access block, owner-enforced, all on this bucket", () => {
    const bucket = one("aws:s3/bucket:Bucket", "backup");
    expect(bucket.inputs.bucket).toBe("homelab-pg-prod");
    expect(bucket.inputs.forceDestroy).toBe(false);
    expect(bucket.retainOnDelete).toBe(true);
    const onBucket = (type: string) => {
      const r = one(type, "backup-");
      expect(r.inputs.bucket).toBe("homelab-pg-prod"); // the bucket's id
      return r.inputs;
    };
    expect(onBucket("aws:s3/bucketVersioning:BucketVersioning").versioningConfiguration).toEqual({ status: "Enabled" });
    expect(onBucket("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").rules).toEqual([
      expect.objectContaining({ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }),
    ]);
    expect(onBucket("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")).toMatchObject({
      blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true,
    });
    expect(onBucket("aws:s3/bucketOwnershipControls:BucketOwnershipControls").rule).toEqual({ objectOwnership: "BucketOwnerEnforced" });
  });

  it("derives lifecycle rules from retention and orders them after versioning", () => {
    const lc = one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "backup-");
    expect(lc.inputs.bucket).toBe("homelab-pg-prod");
    const rules = lc.inputs.rules as { id: string; status: string; filter?: { prefix?: string }; expiration?: { days?: number; expiredObjectDeleteMarker?: boolean }; noncurrentVersionExpiration?: { noncurrentDays: number }; abortIncompleteMultipartUpload?: { daysAfterInitiation: number } }[];
    expect(rules.every((r) => r.status === "Enabled")).toBe(true);
    expect(rules.find((r) => r.noncurrentVersionExpiration)?.noncurrentVersionExpiration?.noncurrentDays).toBe(21);
    // the sidecar prunes dumps grandfather-father-son (3 monthly by default): the bucket's expiry
    // only catches leftovers beyond the oldest one kept, 3 × 31 days + a week
    expect(rules.find((r) => r.filter?.prefix === LOGICAL_PREFIX)?.expiration?.days).toBe(100);
    expect(logicalExpiryDays(200, { keepDaily: 7, keepWeekly: 4, keepMonthly: 3 })).toBe(207);
    expect(logicalExpiryDays(21, { keepDaily: 7, keepWeekly: 10, keepMonthly: 0 })).toBe(77);
    expect(rules.some((r) => (r.abortIncompleteMultipartUpload?.daysAfterInitiation ?? 0) > 0)).toBe(true);
    // pgBackRest owns the lifetime of current repository objects: no rule expires them
    expect(rules.filter((r) => r.expiration?.days !== undefined && r.filter?.prefix !== LOGICAL_PREFIX)).toEqual([]);
    expect(lc.dependencies.some((urn) => urn.endsWith("::backup-versioning"))).toBe(true);
    expect(lifecycleRules(5).find((r) => r.noncurrentVersionExpiration)).toBeDefined();
  });

  it("creates an IAM user whose policy reaches this bucket only, and keeps the key secret", async () => {
    const user = one("aws:iam/user:User", "backup-");
    const policy = one("aws:iam/userPolicy:UserPolicy", "backup-");
    expect(policy.inputs.user).toBe(`${user.name}-generated`);
    const doc = JSON.parse(String(policy.inputs.policy)) as ReturnType<typeof backupUserPolicy>;
    const resources = doc.Statement.flatMap((s) => s.Resource);
    expect(new Set(resources)).toEqual(new Set(["arn:aws:s3:::homelab-pg-prod", "arn:aws:s3:::homelab-pg-prod/*"]));
    const actions = doc.Statement.flatMap((s) => s.Action);
    expect(actions.every((a) => a.startsWith("s3:"))).toBe(true);
    expect(actions).not.toContain("s3:*");
    expect(actions).not.toContain("s3:DeleteObjectVersion");
    expect(actions.filter((a) => /^s3:Put(Bucket|Lifecycle|Encryption)/.test(a))).toEqual([]);
    const key = one("aws:iam/accessKey:AccessKey", "backup-");
    expect(key.inputs.user).toBe(`${user.name}-generated`);
    expect(key.additionalSecretOutputs).toContain("secret");
    expect(await isSecret(awsBucket.secretAccessKey)).toBe(true);
    expect(await value(awsBucket.secretAccessKey)).toBe(MOCK.secretAccessKey);
    expect(await isSecret(awsBucket.accessKeyId)).toBe(false);
  });

  it("uses its own aws provider in the configured region, with the stack's aws profile and files, for every child", () => {
    const provider = one("pulumi:providers:aws", "backup-aws");
    expect(provider.inputs.region).toBe("eu-central-1");
    expect(provider.inputs.profile).toBe("homelab");
    // provider inputs travel as strings (lists as JSON)
    expect(JSON.parse(String(provider.inputs.sharedCredentialsFiles))).toEqual(["/home/op/.aws/credentials"]);
    expect(JSON.parse(String(provider.inputs.sharedConfigFiles))).toEqual(["/home/op/.aws/config"]);
    const children = registered.filter((r) => r.type.startsWith("aws:") && !r.name.startsWith("minio"));
    expect(children.length).toBeGreaterThanOrEqual(9);
    for (const c of children) expect(c.provider).toMatch(/::backup-aws::/);
  });

  it("survives pulumi destroy with every protection: the bucket and all its hardening are retainOnDelete", () => {
    const hardening = [
      "aws:s3/bucket:Bucket", "aws:s3/bucketVersioning:BucketVersioning",
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
      "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    ];
    for (const type of hardening) expect({ type, retainOnDelete: one(type, "backup-").retainOnDelete }).toEqual({ type, retainOnDelete: true });
    // every S3 resource of the component, whatever is added later
    const s3 = registered.filter((r) => r.type.startsWith("aws:s3/") && r.name.startsWith("backup-"));
    expect(s3.map((r) => r.type).sort()).toEqual([...hardening].sort());
    // on an S3-compatible endpoint too
    for (const r of registered.filter((x) => x.type.startsWith("aws:s3/") && x.name.startsWith("minio-"))) expect(r.retainOnDelete).toBe(true);
  });

  it("deletes the IAM user, its key and its policy on destroy: no key to the kept bucket outlives the stack", () => {
    for (const type of ["aws:iam/user:User", "aws:iam/accessKey:AccessKey", "aws:iam/userPolicy:UserPolicy"]) {
      expect({ type, retainOnDelete: one(type, "backup-").retainOnDelete }).toEqual({ type, retainOnDelete: false });
    }
    expect(one("pulumi:providers:aws", "backup-aws").retainOnDelete).toBe(false);
  });
});

describe("BackupBucket on an S3-compatible endpoint", () => {
  it("uses path-style addressing against the endpoint and manages no IAM there", () => {
    const provider = one("pulumi:providers:aws", "minio-backup-aws");
    expect(String(provider.inputs.s3UsePathStyle)).toBe("true"); // provider inputs travel as strings
    expect(provider.inputs.profile).toBeUndefined(); // the endpoint's own keys, not an aws profile
    expect(JSON.stringify(provider.inputs.endpoints)).toContain("https://minio.home.arpa:9000");
    expect(all("aws:iam/user:User", "minio")).toEqual([]);
    expect(all("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "minio")).toEqual([]);
    expect(one("aws:s3/bucketVersioning:BucketVersioning", "minio").inputs.bucket).toBe("homelab-pg-dev");
    expect(one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "minio").inputs.bucket).toBe("homelab-pg-dev");
  });

  it("requires credentials for the endpoint", () => {
    expect(() => new BackupBucket("nocreds", { stack: "dev", backup: minio.backup })).toThrow(/endpointCredentials/);
  });

  it("generates a passphrase when a non-prod stack has none, and keeps it secret", async () => {
    const pw = one("random:index/randomPassword:RandomPassword", "minio-repo");
    expect(Number(pw.inputs.length)).toBeGreaterThanOrEqual(32);
    expect(pw.inputs.keepers).toBeUndefined(); // must never rotate
    expect(pw.additionalSecretOutputs).toContain("result");
    expect(await isSecret(minioRepo.passphrase)).toBe(true);
    expect(await isSecret(minioRepo.ageIdentity)).toBe(true);
    expect(Object.keys(minioRepo.serverWiring).sort()).toEqual(["archiveCommand", "archiveTimeoutSeconds", "dependsOn", "volumes"]); // no env to carry secrets
    expect(await isSecret(minioRepo.pgbackrestConfWithSecrets)).toBe(true);
    const conf = await value(minioRepo.pgbackrestConfWithSecrets);
    expect(conf).toContain(`\nrepo1-cipher-pass=${await value(minioRepo.passphrase)}\n`);
    expect(conf).toMatch(/^repo1-s3-key=minio-access$/m);
    expect(conf).toMatch(/^repo1-s3-key-secret=minio-secret-key$/m);
    expect(minioRepo.pgbackrestConf).toMatch(/^repo1-s3-uri-style=path$/m);
    expect(minioRepo.pgbackrestConf).toMatch(/^repo1-storage-port=9000$/m);
  });
});

describe("BackupRepository", () => {
  it("uses the configured passphrase, secret, and derives the dump key from it", async () => {
    expect(all("random:index/randomPassword:RandomPassword", "backup-repo")).toEqual([]);
    expect(await isSecret(awsRepo.passphrase)).toBe(true);
    expect(await value(awsRepo.passphrase)).toBe(PASSPHRASE);
    expect(await value(awsRepo.ageIdentity)).toBe(ageKeyFromPassphrase(PASSPHRASE).identity);
    expect(await value(awsRepo.ageRecipient)).toBe(ageKeyFromPassphrase(PASSPHRASE).recipient);
    expect(await isSecret(awsRepo.ageRecipient)).toBe(false); // a public key
  });

  it("gives the postgres container (BackupWiring) no env and no upload: the conf's volume read-only, archive_command naming it", async () => {
    expect(Object.keys(awsRepo.serverWiring).sort()).toEqual(["archiveCommand", "archiveTimeoutSeconds", "dependsOn", "volumes"]);
    expect(await value(pulumi.output(awsRepo.serverWiring.volumes))).toEqual([
      { volumeName: "prod-pgbackrest-runtime", containerPath: CONTAINER_PATHS.pgbackrestDir, readOnly: true },
    ]);
    expect(CONTAINER_PATHS.pgbackrestConf.startsWith(`${CONTAINER_PATHS.pgbackrestDir}/`)).toBe(true);
    expect(awsRepo.serverWiring.archiveCommand).toBe(`pgbackrest --config=${CONTAINER_PATHS.pgbackrestConf} --stanza=prod archive-push %p`);
    expect(awsRepo.serverWiring.archiveTimeoutSeconds).toBe(60);
    // the server renders it into postgresql.conf, and has no pgbackrest upload
    expect(server.postgresqlConf).toContain(`archive_command = 'pgbackrest --config=${CONTAINER_PATHS.pgbackrestConf} --stanza=prod archive-push %p'`);
    const pg = one("docker:index/container:Container", "server-container");
    const uploads = reveal(pg.inputs.uploads) as { file: string }[];
    expect(uploads.map((u) => u.file).filter((f) => f.includes("pgbackrest"))).toEqual([]);
    expect(pg.inputs.volumes).toContainEqual({ volumeName: "prod-pgbackrest-runtime", containerPath: CONTAINER_PATHS.pgbackrestDir, readOnly: true });
  });

  it("delivers the secret conf through its own carrier: 0600 for uid 999, a Pulumi secret, the deployed text = secret-free text + the three secrets", async () => {
    const carrier = one("docker:index/container:Container", "backup-repo-pgbackrest-container");
    expect(carrier.inputs.name).toBe("prod-pgbackrest-config");
    expect(carrier.inputs.user).toBe("999:999");
    expect(carrier.inputs.image).toBe(image.ref);
    expect(carrier.additionalSecretOutputs).toContain("uploads");
    expect(isSecretValue(carrier.inputs.uploads)).toBe(true);
    const uploads = reveal(carrier.inputs.uploads) as { file: string; content: string; permissions: string; owner: string; group: string }[];
    expect(uploads).toEqual([{ file: `${CARRIER_PATHS.staging}/pgbackrest.conf`, content: await value(awsRepo.pgbackrestConfWithSecrets), permissions: "0400", owner: "999", group: "999" }]);
    expect((carrier.inputs.entrypoints as string[])[2]).toContain(`chmod 0600 ${CARRIER_PATHS.runtime}/.pgbackrest.conf.tmp`);
    expect(await isSecret(awsRepo.pgbackrestConfWithSecrets)).toBe(true);
    const conf = await value(awsRepo.pgbackrestConfWithSecrets);
    const secretLines = conf.split("\n").filter((l) => !awsRepo.pgbackrestConf.split("\n").includes(l));
    expect(secretLines.filter((l) => !l.startsWith("#"))).toEqual([
      "repo1-cipher-pass=" + PASSPHRASE, `repo1-s3-key=${MOCK.accessKeyId}`, `repo1-s3-key-secret=${MOCK.secretAccessKey}`,
    ]);
    expect(conf.indexOf("repo1-cipher-pass=")).toBeLessThan(conf.indexOf("[global:archive-push]"));
    expect(conf.indexOf("[global]")).toBeLessThan(conf.indexOf("repo1-cipher-pass="));
    // pg1-path is the server's PGDATA (a subdirectory of the volume), or pgBackRest refuses to back up
    expect(awsRepo.pgbackrestConf).toMatch(new RegExp(`^pg1-path=${CONTAINER.pgdata}$`, "m"));
    expect(awsRepo.pgbackrestConf).toMatch(new RegExp(`^pg1-socket-path=${CONTAINER.socketDir}$`, "m"));
    expect(awsRepo.pgbackrestConf).not.toContain(PASSPHRASE);
    expect(awsRepo.pgbackrestConf).not.toContain(MOCK.secretAccessKey);
    expect(awsRepo.pgbackrestConf).toMatch(/^compress-type=lz4$/m);
    expect(awsRepo.pgbackrestConf).toMatch(/^repo1-retention-full=3$/m);
    expect(awsRepo.pgbackrestConf).toMatch(/^repo1-s3-bucket=homelab-pg-prod$/m);
  });
});

describe("containers wait for the bucket", () => {
  const urnOf = (type: string, name: string) => one(type, name).urn;
  const bucketReady = () => [
    urnOf("aws:s3/bucket:Bucket", "backup-bucket"),
    urnOf("aws:s3/bucketVersioning:BucketVersioning", "backup-versioning"),
    urnOf("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "backup-sse"),
    urnOf("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "backup-public-access"),
    urnOf("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "backup-ownership"),
    urnOf("aws:iam/userPolicy:UserPolicy", "backup-policy"),
    urnOf("aws:iam/accessKey:AccessKey", "backup-key"),
  ];

  it("Postgres depends on the bucket, its protections, the key and its policy, and the conf's carrier", () => {
    const pg = one("docker:index/container:Container", "server-container");
    expect(pg.dependencies).toEqual(expect.arrayContaining([...bucketReady(), urnOf("docker:index/container:Container", "backup-repo-pgbackrest-container")]));
    // the lifecycle is not needed to archive; the IAM user alone is not enough (the key and policy are)
    expect(pg.dependencies).not.toContain(urnOf("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "backup-lifecycle"));
  });

  it("the sidecar depends on the same, on both carriers, and (through its component) on Postgres", () => {
    const c = one("docker:index/container:Container", "backup-sidecar-container");
    expect(c.dependencies).toEqual(expect.arrayContaining([
      ...bucketReady(),
      urnOf("docker:index/container:Container", "backup-repo-pgbackrest-container"),
      urnOf("docker:index/container:Container", "backup-sidecar-runtime-container"),
    ]));
    expect(one("homelab:postgres:BackupSidecar", "backup-sidecar").dependencies).toContain(urnOf("docker:index/container:Container", "server-container"));
  });

  it("retries stanza-create and check for a bounded time (IAM is eventually consistent), then fails loudly", () => {
    expect(REPO_RETRY_SECONDS).toBeGreaterThanOrEqual(60);
    expect(REPO_RETRY_SECONDS).toBeLessThanOrEqual(300);
    expect(sidecar.script).toContain(`readonly REPO_RETRY_SECONDS='${REPO_RETRY_SECONDS}'`);
    expect(sidecar.script).toMatch(/^ {2}repo_retry stanza-create$/m);
    expect(sidecar.script).toMatch(/^ {2}repo_retry check$/m);
    expect(sidecar.script).toContain("giving up");
    const c = one("docker:index/container:Container", "backup-sidecar-container");
    expect(Number(c.inputs.waitTimeout)).toBeGreaterThan(REPO_RETRY_SECONDS * 2); // both may retry before health turns green
  });
});

describe("BackupSidecar", () => {
  it("runs the shared image as uid 999 with the data, socket and work volumes, both runtime volumes read-only, and the static script", async () => {
    const c = one("docker:index/container:Container", "backup-sidecar-container");
    expect(c.inputs.name).toBe("prod-backup");
    expect(c.inputs.image).toBe(image.ref);
    expect(c.inputs.user).toBe("999:999");
    expect(c.inputs.entrypoints).toEqual([CONTAINER_PATHS.script]);
    expect(c.inputs.command).toEqual(["scheduler"]);
    const volumes = c.inputs.volumes as { volumeName: string; containerPath: string; readOnly?: boolean }[];
    expect(volumes).toEqual([
      { volumeName: "prod-pgdata", containerPath: CONTAINER.dataMount },
      { volumeName: "prod-pgsocket", containerPath: CONTAINER.socketDir },
      { volumeName: "prod-pgbackup", containerPath: CONTAINER_PATHS.workDir },
      { volumeName: "prod-pgbackrest-runtime", containerPath: CONTAINER_PATHS.pgbackrestDir, readOnly: true },
      { volumeName: "prod-backup-runtime", containerPath: CONTAINER_PATHS.sidecarRuntimeDir, readOnly: true },
    ]);
    for (const p of [CONTAINER_PATHS.runtimeFile, CONTAINER_PATHS.sidecarSecrets]) expect(p.startsWith(`${CONTAINER_PATHS.sidecarRuntimeDir}/`)).toBe(true);
    expect(c.inputs.networksAdvanced).toEqual([{ name: "prod-pg" }]);
    expect(c.inputs.labels).toContainEqual({ label: ROLE_LABEL, value: "backup" });
    expect(c.deleteBeforeReplace).toBe(true); // fixed container name
    expect(c.inputs.securityOpts).toEqual(["no-new-privileges:true"]);
    expect(c.inputs.restart).toBe("unless-stopped");
    expect(c.inputs.ports).toBeUndefined(); // publishes nothing
    expect(c.inputs.logDriver).toBe("json-file");
    expect(Number(c.inputs.memory)).toBeGreaterThan(0);
    const uploads = reveal(c.inputs.uploads) as { file: string; content: string; permissions: string }[];
    expect(uploads.map((u) => u.file)).toEqual([CONTAINER_PATHS.script]); // no config, no secret: those are in the volumes
    const script = uploads[0];
    expect(script.permissions).toBe("0755");
    expect(script.content).toBe(sidecar.script);
    expect(script.content).toMatch(/^readonly PG_BIN='\/usr\/lib\/postgresql\/17\/bin'$/m);
    expect(script.content).toContain(`readonly PG_DATA='${CONTAINER.pgdata}'`);
    expect(script.content).toContain(`readonly RUNTIME_FILE='${CONTAINER_PATHS.runtimeFile}'`);
    expect(script.content).toContain(`readonly PGBR_CONFIG='${CONTAINER_PATHS.pgbackrestConf}'`);
    for (const stackValue of ["langfuse", "my_app", "homelab-pg-prod", ageKeyFromPassphrase(PASSPHRASE).recipient, PASSPHRASE]) {
      expect(script.content).not.toContain(stackValue);
    }
  });

  it("delivers the apps, schedule, limits and bucket in the runtime file through its own carrier", async () => {
    const carrier = one("docker:index/container:Container", "backup-sidecar-runtime-container");
    expect(carrier.inputs.name).toBe("prod-backup-config");
    expect(carrier.inputs.user).toBe("999:999");
    const uploads = reveal(carrier.inputs.uploads) as { file: string; content: string }[];
    const runtime = uploads.find((u) => u.file === `${CARRIER_PATHS.staging}/hlpg-backup.conf`)!.content;
    expect(runtime).toBe(await value(sidecar.runtime));
    expect(runtime).toContain("\napp\tlangfuse\tlangfuse\tlangfuse_owner\napp\tmy-app\tmy_app\tmy_app_owner\n");
    expect(runtime).toContain("\nschedule\tlogical\t45 2 * * *\n");
    expect(runtime).toContain("\nlimit\tdrill\t10440\n");
    expect(runtime).toContain("\ns3-url\thttps://homelab-pg-prod.s3.eu-central-1.amazonaws.com\n");
    expect(runtime).toContain(`\nage-recipient\t${ageKeyFromPassphrase(PASSPHRASE).recipient}\n`);
    expect((carrier.inputs.entrypoints as string[])[2]).toContain(`chmod 0444 ${CARRIER_PATHS.runtime}/.hlpg-backup.conf.tmp`);
  });

  const SECRET_VALUES = [MOCK.secretAccessKey, MOCK.accessKeyId, PASSPHRASE, ageKeyFromPassphrase(PASSPHRASE).identity];

  it("puts no secret in the container env: only the secrets file's path and TZ", async () => {
    const c = one("docker:index/container:Container", "backup-sidecar-container");
    const env = reveal(c.inputs.envs) as string[];
    expect(env).toEqual([`${SECRETS_FILE_ENV}=${CONTAINER_PATHS.sidecarSecrets}`, "TZ=UTC"]);
    for (const e of env) {
      for (const v of SECRET_VALUES) expect(e).not.toContain(v);
      const name = e.split("=")[0];
      if (!name.endsWith("_FILE")) expect(name).not.toMatch(/PGBACKREST_|SECRET|AGE_IDENTITY|CIPHER|PASS|KEY/);
      expect(envEntryProblem(e)).toBeUndefined();
    }
  });

  it("delivers the sidecar's secrets file 0600 for uid 999, as a Pulumi secret, beside the runtime file", async () => {
    const carrier = one("docker:index/container:Container", "backup-sidecar-runtime-container");
    expect(carrier.additionalSecretOutputs).toContain("uploads");
    expect(isSecretValue(carrier.inputs.uploads)).toBe(true);
    const uploads = reveal(carrier.inputs.uploads) as { file: string; content: string; permissions: string; owner?: string; group?: string }[];
    for (const u of uploads) expect(u).toMatchObject({ permissions: "0400", owner: "999", group: "999" });
    expect((carrier.inputs.entrypoints as string[])[2]).toContain(`chmod 0600 ${CARRIER_PATHS.runtime}/.sidecar-secrets.env.tmp`);
    expect(await isSecret(awsRepo.sidecarSecretsEnv)).toBe(true);
    const secretsEnv = uploads.find((u) => u.file === `${CARRIER_PATHS.staging}/sidecar-secrets.env`)!.content;
    expect(secretsEnv).toBe(await value(awsRepo.sidecarSecretsEnv));
    expect(secretsEnv).toContain(`export ${SIDECAR_SECRET_VARS.s3Key}='${MOCK.accessKeyId}'\n`);
    expect(secretsEnv).toContain(`export ${SIDECAR_SECRET_VARS.s3KeySecret}='mock-secret-access-key-value'\n`);
    expect(secretsEnv).toContain(`export ${SIDECAR_SECRET_VARS.ageIdentity}='${ageKeyFromPassphrase(PASSPHRASE).identity}'\n`);
    // the runtime file and the script stay secret-free
    const runtime = uploads.find((u) => u.file.endsWith("/hlpg-backup.conf"))!.content;
    for (const v of SECRET_VALUES) {
      expect(runtime).not.toContain(v);
      expect(sidecar.script).not.toContain(v);
    }
  });

  it("passes the policy no-passwords-in-container-config (sidecar, Postgres, both carriers)", async () => {
    for (const name of ["backup-sidecar-container", "server-container", "backup-repo-pgbackrest-container", "backup-sidecar-runtime-container"]) {
      const c = one("docker:index/container:Container", name);
      const outcome = await runResourceRule(noPasswordsInContainerConfigPolicy, TYPES.container, reveal(c.inputs) as Record<string, unknown>, { stack: "prod" });
      expect({ name, ...outcome }).toEqual({ name, violations: [], urns: [] });
    }
    // and the rule does see the staged files as credential files: world-readable would be refused
    const carrier = one("docker:index/container:Container", "backup-repo-pgbackrest-container");
    const uploads = reveal(carrier.inputs.uploads) as Record<string, unknown>[];
    const loose = await runResourceRule(noPasswordsInContainerConfigPolicy, TYPES.container, {
      envs: [], uploads: uploads.map((u) => ({ ...u, permissions: "0644" })),
    }, { stack: "prod" });
    expect(loose.violations.join("\n")).toMatch(/pgbackrest\.conf holds a credential/);
  });

  it("goes unhealthy through the script's health command and makes pulumi up wait for it", () => {
    const c = one("docker:index/container:Container", "backup-sidecar-container");
    const hc = c.inputs.healthcheck as { tests: string[]; startPeriod: string };
    expect(hc.tests).toEqual(["CMD", CONTAINER_PATHS.script, "health"]);
    expect(c.inputs.wait).toBe(true);
    expect(Number(c.inputs.waitTimeout)).toBeGreaterThanOrEqual(300);
    expect(c.inputs.init).toBe(true);
  });

  it("hangs every child off its component", () => {
    const comps = registered.filter((r) => r.type.startsWith("homelab:postgres:"));
    expect(new Set(comps.map((r) => r.type))).toEqual(new Set([
      "homelab:postgres:PostgresImage", "homelab:postgres:BackupBucket", "homelab:postgres:BackupRepository", "homelab:postgres:BackupSidecar",
      "homelab:postgres:RuntimeFiles", "homelab:postgres:PostgresServer", "homelab:postgres:PostgresSettings",
    ]));
    // nothing but the component's own name reaches the engine as the component's inputs
    for (const comp of comps) expect(comp.inputs).toEqual({});
    const custom = registered.filter((r) => !r.type.startsWith("homelab:"));
    for (const r of custom) expect(r.parent).toMatch(/homelab:postgres:/);
  });
});

describe("PostgresImage", () => {
  const CHECKOUT = path.resolve(__dirname, "../../..");
  const dockerfile = readFileSync(path.join(CHECKOUT, "docker/postgres/Dockerfile"), "utf8");
  /** The Dockerfile with its line continuations joined: one RUN is one line. */
  const joined = dockerfile.replace(/\\\n/g, " ");
  const HEX64 = "0123456789abcdef".repeat(4);
  const TRIXIE = "debian:trixie-slim";
  const BOOKWORM = "debian:bookworm-slim";
  const pg17 = { majorVersion: 17, baseImage: TRIXIE, platform: "linux/amd64" } as const;
  type Build = { context: string; dockerfile: string; platform: string; buildArgs: Record<string, string> };

  it("builds docker/postgres from the major's Debian packages on the given base, for the Docker host's platform, locally", () => {
    const img = one("docker:index/remoteImage:RemoteImage", "postgres-image");
    const build = img.inputs.build as Build;
    expect(build.platform).toBe("linux/amd64");
    expect(img.inputs.keepLocally).toBe(true);
    expect(build.buildArgs).toMatchObject({ BASE_IMAGE: TRIXIE, PG_MAJOR: "17" });
    // exact Debian versions of the major's own packages (a build fails rather than drifts)
    expect(build.buildArgs.PG_VERSION).toMatch(/^17\.\d+-\S+$/);
    for (const k of ["PGVECTOR_VERSION", "PGAUDIT_VERSION", "PGBACKREST_VERSION"]) expect(build.buildArgs[k]).toMatch(/^\d[\w.+~:-]*-\S+$/);
    // the build args are exactly the Dockerfile's ARGs: none it would ignore, none left to its default
    const declared = [...dockerfile.matchAll(/^ARG (\w+)/gm)].map((m) => m[1]).sort();
    expect(Object.keys(build.buildArgs).sort()).toEqual(declared);
    expect(img.inputs.name).toBe(image.ref);
    expect(image.ref).toMatch(/^homelab-postgres\/postgres:pg17-amd64-[0-9a-f]{12}$/);
  });

  it("installs what the server, the sidecar and the standby run, as uid 999, with its own entrypoint", () => {
    expect(dockerfile).toMatch(/^ARG BASE_IMAGE=/m);
    expect(dockerfile).toMatch(/^FROM \$\{BASE_IMAGE\}$/m);
    expect(joined).toMatch(/apt-get install[^\n]*"postgresql-\$\{PG_MAJOR\}=\$\{PG_VERSION\}"/);
    expect(joined).toMatch(/apt-get install[^\n]*"pgbackrest=\$\{PGBACKREST_VERSION\}"[^\n]*\bage\b[^\n]*\bcurl\b/);
    // the script reads pgbackrest's JSON with jq and S3's XML listings with xmllint
    expect(joined).toMatch(/apt-get install[^\n]*\bjq\b[^\n]*\blibxml2-utils\b/);
    expect(joined).toMatch(/useradd [^\n]*--uid 999\b/);
    expect(CONTAINER.uid).toBe("999");
    // the carriers' mount point, owned by postgres, so a new runtime volume is theirs to write
    expect(joined).toMatch(new RegExp(`install -d -o postgres -g postgres [^\n]*${CARRIER_PATHS.runtime}[;\\s]`));
    // the program's wrapper hands over to the image's own entrypoint, which the context holds
    expect(existsSync(path.join(CHECKOUT, POSTGRES_CONTEXT.dir, CONTAINER.imageEntrypoint))).toBe(true);
    expect(dockerfile).toMatch(new RegExp(`^COPY ${CONTAINER.imageEntrypoint.replace(/\./g, "\\.")} /usr/local/bin/`, "m"));
  });

  it("passes no pgvector for a major whose suite has none, and builds no major it has no packages for", () => {
    expect(postgresBuildArgs(15, BOOKWORM)).toMatchObject({ BASE_IMAGE: BOOKWORM, PG_MAJOR: "15", PGVECTOR_VERSION: "" });
    expect(postgresBuildArgs(15, BOOKWORM).PG_VERSION).toMatch(/^15\.\d+-/);
    // an empty version installs nothing: the Dockerfile skips the package then
    expect(joined).toMatch(/\$\{PGVECTOR_VERSION:\+"postgresql-\$\{PG_MAJOR\}-pgvector=\$\{PGVECTOR_VERSION\}"\}/);
    expect(() => postgresBuildArgs(16, TRIXIE)).toThrow(/PostgreSQL 16 is not built/);
    expect(() => postgresImageRef({ ...pg17, majorVersion: 16 })).toThrow(/PostgreSQL 16 is not built/);
  });

  it("stores context and dockerfile relative to the project directory: the same state from every checkout", () => {
    const build = one("docker:index/remoteImage:RemoteImage", "postgres-image").inputs.build as Build;
    expect(build.context).toBe("docker/postgres");
    // kreuzwerker resolves the dockerfile against the context (resource_docker_image_funcs.go resolveDockerfilePath)
    expect(build.dockerfile).toBe("Dockerfile");
    for (const p of [build.context, build.dockerfile]) {
      expect(path.isAbsolute(p)).toBe(false);
      expect(p).not.toContain(CHECKOUT);
      expect(p.split("/")).not.toContain("..");
    }
    // and they name the files this checkout has (the provider runs in the project directory)
    expect(readFileSync(path.join(CHECKOUT, build.context, build.dockerfile), "utf8")).toBe(dockerfile);
  });

  it("tags by content: the same inputs give the same tag, and the base, the major, the context's files or the platform give another", () => {
    const files = contextFiles(POSTGRES_CONTEXT);
    expect(files.map(([name]) => name)).toEqual(expect.arrayContaining(["Dockerfile", CONTAINER.imageEntrypoint]));
    const ref = postgresImageRef(pg17, files);
    expect(postgresImageRef(pg17)).toBe(ref);
    const others = [
      postgresImageRef({ ...pg17, baseImage: `${TRIXIE}@sha256:${HEX64}` }, files),
      postgresImageRef({ ...pg17, baseImage: "registry.local:5000/debian:trixie-slim" }, files),
      postgresImageRef({ majorVersion: 15, baseImage: TRIXIE, platform: "linux/amd64" }, files),
      postgresImageRef(pg17, files.map(([n, t]) => [n, n === "Dockerfile" ? `${t}\n# changed` : t])),
      postgresImageRef(pg17, files.map(([n, t]) => [n, n === CONTAINER.imageEntrypoint ? `${t}\n# changed` : t])),
      postgresImageRef(pg17, [...files, ["extra.conf", "x"]]),
      postgresImageRef({ ...pg17, platform: "linux/arm64" }, files),
    ];
    for (const other of others) expect(other).not.toBe(ref);
    expect(new Set(others).size).toBe(others.length);
    expect(others[2]).toMatch(/^homelab-postgres\/postgres:pg15-amd64-[0-9a-f]{12}$/);
    expect(others[6]).toMatch(/^homelab-postgres\/postgres:pg17-arm64-[0-9a-f]{12}$/);
  });

  it("tags by the packages too: a new Debian version of any of them is a new tag", () => {
    const files = contextFiles(POSTGRES_CONTEXT);
    const before = postgresImageRef(pg17, files);
    const table = POSTGRES_PACKAGES as Record<number, PostgresPackages>;
    const saved = table[17];
    const bumped = (change: Partial<PostgresPackages>): string => {
      table[17] = { ...saved, ...change };
      try {
        return postgresImageRef(pg17, files);
      } finally {
        table[17] = saved;
      }
    };
    const refs = [bumped({ postgresql: `${saved.postgresql}+b1` }), bumped({ pgbackrest: `${saved.pgbackrest}+b1` }), bumped({ pgaudit: `${saved.pgaudit}+b1` }), bumped({ pgvector: `${saved.pgvector ?? ""}+b1` })];
    for (const r of refs) expect(r).not.toBe(before);
    expect(new Set(refs).size).toBe(refs.length);
    expect(postgresImageRef(pg17, files)).toBe(before);
  });

  it("refuses a platform it cannot name and what is not an image reference", () => {
    expect(() => postgresImageRef({ ...pg17, platform: "linux/s390x" as "linux/amd64" })).toThrow(/invalid platform/);
    expect(() => postgresImageRef({ ...pg17, baseImage: "Not An Image" })).toThrow(/invalid base image/);
  });
});
