// Lifecycle of the backup side on the whole program (index.ts under mocks, the
// prod stack): which containers a config change touches. The docker provider
// replaces a container on any change of its uploads, env, command, volumes...
// (ForceNew), so "restarts nothing" here means: the container's inputs are
// identical before and after. And the explicit aws provider takes the stack's
// `aws:*` settings the way the default provider would.
import { PROD_SECRETS, ProgramResult, RegisteredResource, RunOptions, isSecretValue, reveal, runProgram, stackConfig } from "../../helpers/program";

/** The containers of the backup side and Postgres, by resource name. */
const CONTAINERS = {
  postgres: "homelab-postgres-container",
  sidecar: "homelab-backup-container",
  pgbackrestCarrier: "homelab-backup-repo-pgbackrest-container",
  runtimeCarrier: "homelab-backup-runtime-container",
} as const;
type Role = keyof typeof CONTAINERS;

const BACKUP = PROD_SECRETS.overrides!.backup as Record<string, unknown>;

function prodWith(backup: Record<string, unknown> = {}, overrides: Record<string, unknown> = {}, more: Partial<RunOptions> = {}): Promise<ProgramResult> {
  return runProgram("prod", { ...PROD_SECRETS, ...more, overrides: { ...PROD_SECRETS.overrides, backup: { ...BACKUP, ...backup }, ...overrides } });
}

function container(r: ProgramResult, name: string): RegisteredResource {
  const c = r.resources.find((x) => x.type === "docker:index/container:Container" && x.name === name);
  if (!c) throw new Error(`no container ${name}; have ${r.resources.filter((x) => x.type === "docker:index/container:Container").map((x) => x.name).join(", ")}`);
  return c;
}

/** The roles whose container inputs differ between two runs (a difference replaces the container). */
function changed(a: ProgramResult, b: ProgramResult): Role[] {
  return (Object.keys(CONTAINERS) as Role[]).filter((role) => {
    const [x, y] = [container(a, CONTAINERS[role]), container(b, CONTAINERS[role])];
    return JSON.stringify(reveal(x.inputs)) !== JSON.stringify(reveal(y.inputs));
  });
}

function awsProvider(r: ProgramResult): Record<string, unknown> {
  const p = r.resources.filter((x) => x.type === "pulumi:providers:aws");
  if (p.length !== 1) throw new Error(`expected one aws provider, got ${p.length}`);
  return reveal(p[0].inputs) as Record<string, unknown>;
}

describe("what a config change replaces", () => {
  let base: ProgramResult;
  beforeAll(async () => {
    base = await prodWith();
  });

  /** The prod stack's apps as its YAML has them (to add to, remove from, rotate). */
  const prodApps = () => stackConfig("prod").values["homelab-postgres:apps"] as Record<string, unknown>[];

  it("adding an app replaces only the runtime file's carrier: not Postgres, not the sidecar", async () => {
    const apps = prodApps();
    const r = await prodWith({}, { apps: [...apps, { name: "wiki" }] });
    expect(changed(base, r)).toEqual(["runtimeCarrier"]);
  });

  it("removing an app replaces only the runtime file's carrier", async () => {
    const apps = prodApps();
    expect(apps.length).toBeGreaterThan(1);
    expect(changed(base, await prodWith({}, { apps: apps.slice(1) }))).toEqual(["runtimeCarrier"]);
  });

  it("rotating an app's passwords replaces no container", async () => {
    const apps = prodApps();
    const rotated = apps.map((a, i) => (i === 0 ? { ...a, rotation: "2099-01" } : a));
    expect(changed(base, await prodWith({}, { apps: rotated }))).toEqual([]);
  });

  it("a schedule change replaces only the runtime file's carrier", async () => {
    expect(changed(base, await prodWith({ schedule: { logical: "15 3 * * *", drill: "0 5 * * 0" } }))).toEqual(["runtimeCarrier"]);
  });

  it("retention and compression replace only pgbackrest.conf's carrier: Postgres keeps running", async () => {
    expect(changed(base, await prodWith({ compression: "lz4", retention: { full: 7 } }))).toEqual(["pgbackrestCarrier"]);
  });

  it("another bucket replaces both carriers, neither Postgres nor the sidecar (which checks the new conf itself)", async () => {
    expect(changed(base, await prodWith({ bucket: "another-homelab-pg-backups" }))).toEqual(["pgbackrestCarrier", "runtimeCarrier"]);
  });

  it("archive_timeout is a live setting of Postgres (ALTER SYSTEM + reload): it replaces no container", async () => {
    expect(changed(base, await prodWith({ archiveTimeout: 30 }))).toEqual([]);
  });
});

describe("the explicit aws provider honours the stack's aws settings", () => {
  const noRegion = Object.fromEntries(Object.entries(BACKUP).filter(([k]) => k !== "region"));
  const run = (backup: Record<string, unknown>, otherConfig: Record<string, string | null>, otherSecretKeys: string[] = []) =>
    runProgram("prod", { ...PROD_SECRETS, overrides: { ...PROD_SECRETS.overrides, backup }, otherConfig, otherSecretKeys });

  it("takes aws:profile, aws:sharedCredentialsFiles and aws:sharedConfigFiles, and aws:region when backup.region is unset", async () => {
    const r = await run(noRegion, {
      "aws:profile": "homelab-backups",
      "aws:region": "eu-west-3",
      "aws:sharedCredentialsFiles": JSON.stringify(["/home/op/.aws/credentials"]),
      "aws:sharedConfigFiles": JSON.stringify(["/home/op/.aws/config"]),
      "aws:skipMetadataApiCheck": "false", // other aws keys stay the default provider's
    });
    const p = awsProvider(r);
    expect(p.profile).toBe("homelab-backups");
    expect(p.region).toBe("eu-west-3");
    expect(JSON.parse(String(p.sharedCredentialsFiles))).toEqual(["/home/op/.aws/credentials"]);
    expect(JSON.parse(String(p.sharedConfigFiles))).toEqual(["/home/op/.aws/config"]);
    expect(p.skipMetadataApiCheck).toBeUndefined();
    // pgBackRest and curl sign for the same region
    const runtime = reveal(container(r, CONTAINERS.runtimeCarrier).inputs.uploads) as { file: string; content: string }[];
    expect(runtime.find((u) => u.file.endsWith("/hlpg-backup.conf"))!.content).toContain("\ns3-region\teu-west-3\n");
  });

  it("prefers backup.region over aws:region", async () => {
    const r = await run(BACKUP, { "aws:region": "eu-west-3" });
    expect(awsProvider(r).region).toBe("eu-central-1");
  });

  it("falls back to us-east-1 with neither, and passes no profile when none is set", async () => {
    const p = awsProvider(await run(noRegion, { "aws:region": null })); // Pulumi.prod.yaml sets it
    expect(p.region).toBe("us-east-1");
    expect(p.profile).toBeUndefined();
  });

  it("keeps static keys from aws:secretKey and aws:token secret in the provider's inputs", async () => {
    const r = await run(BACKUP, { "aws:accessKey": "AKIASTATICKEY", "aws:secretKey": "static-secret-key-value", "aws:token": "session-token-value" }, ["aws:secretKey", "aws:token"]);
    const p = r.resources.find((x) => x.type === "pulumi:providers:aws")!;
    expect(reveal(p.inputs.accessKey)).toBe("AKIASTATICKEY");
    expect(isSecretValue(p.inputs.secretKey)).toBe(true);
    expect(reveal(p.inputs.secretKey)).toBe("static-secret-key-value");
    expect(isSecretValue(p.inputs.token)).toBe(true);
    expect(reveal(p.inputs.token)).toBe("session-token-value");
  });

  it("refuses aws settings of the wrong shape before any resource exists", async () => {
    const failed = run(BACKUP, { "aws:region": "Not A Region", "aws:sharedCredentialsFiles": "\"/not/a/list\"" });
    await expect(failed).rejects.toThrow(/aws:region: "Not A Region" is not a region name/);
    await expect(failed).rejects.toThrow(/aws:sharedCredentialsFiles: expected a non-empty list of file paths/);
  });
});
