// Lifecycle of the backup side on the whole program (index.ts under mocks, the
// prod stack): the explicit aws provider takes the stack's `aws:*` settings the
// way the default provider would.
import { PROD_SECRETS, ProgramResult, RegisteredResource, isSecretValue, reveal, runProgram } from "../../helpers/program";

const BACKUP = PROD_SECRETS.overrides!.backup as Record<string, unknown>;

function container(r: ProgramResult, name: string): RegisteredResource {
  const c = r.resources.find((x) => x.type === "docker:index/container:Container" && x.name === name);
  if (!c) throw new Error(`no container ${name}; have ${r.resources.filter((x) => x.type === "docker:index/container:Container").map((x) => x.name).join(", ")}`);
  return c;
}

function awsProvider(r: ProgramResult): Record<string, unknown> {
  const p = r.resources.filter((x) => x.type === "pulumi:providers:aws");
  if (p.length !== 1) throw new Error(`expected one aws provider, got ${p.length}`);
  return reveal(p[0].inputs) as Record<string, unknown>;
}

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
    // pgBackRest signs for the same region
    const uploads = reveal(container(r, "homelab-backup-container").inputs.uploads) as { file: string; content: string }[];
    expect(uploads.find((u) => u.file.endsWith("/pgbackrest.conf"))!.content).toContain("\nrepo1-s3-region=eu-west-3\n");
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
