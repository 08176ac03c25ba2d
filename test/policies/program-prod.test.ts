// The real program for the prod stack, under mocks, through the whole pack.
// Pulumi.prod.yaml leaves the backup passphrase to `pulumi config set --secret`,
// so the run supplies one the way that command would: as secret config.
import { POLICY_NAMES, ROLE_LABEL, TYPES } from "../../policies/rules";
import { ProgramResult, runProgram, stackConfig } from "../helpers/program";
import { PackResult } from "./helpers";
import { plaintextCredentialOutputs, plaintextCredentials, runPackOnProgram, shippedPackConfig } from "./program-check";

jest.setTimeout(60_000);

function prodRun(): Promise<ProgramResult> {
  const backup = stackConfig("prod").values["homelab-postgres:backup"] as Record<string, unknown>;
  return runProgram("prod", {
    overrides: { backup: { ...backup, encryptionPassphrase: "stand-in-passphrase-0123456789abcdef" } },
    secretKeys: ["backup"],
  });
}

describe("prod stack through the policy pack", () => {
  let result: ProgramResult;
  let pack: PackResult;

  beforeAll(async () => {
    result = await prodRun();
    pack = await runPackOnProgram("prod", result);
  });

  it("registers what the rules are about, backups included", () => {
    const types = new Set(result.resources.map((r) => r.type));
    for (const t of [TYPES.container, TYPES.remoteImage, TYPES.role, TYPES.randomPassword, TYPES.bucket[0]]) expect(types).toContain(t);
    const roles = result.resources
      .filter((r) => r.type === TYPES.container)
      .map((r) => (r.inputs.labels as { label: string; value: string }[] | undefined)?.find((l) => l.label === ROLE_LABEL)?.value);
    expect(roles).toContain("backup");
    expect(result.resources.every((r) => r.urn.startsWith("urn:pulumi:prod::homelab-postgres::"))).toBe(true);
  });

  it("has no policy violation", () => {
    expect(pack.violations).toEqual([]);
  });

  it("never needs a value the mocks did not provide", () => {
    expect(pack.unknowns).toEqual([]);
  });

  it("would fail the pack without the backup sidecar (the stack rules are live)", async () => {
    const broken: ProgramResult = {
      ...result,
      resources: result.resources.filter(
        (r) => !(r.type === TYPES.container && JSON.stringify(r.inputs.labels ?? []).includes('"backup"')) && !(TYPES.bucket as readonly string[]).includes(r.type),
      ),
    };
    const o = await runPackOnProgram("prod", broken);
    expect(o.violations.filter((v) => v.policy === POLICY_NAMES.prodHasBackup)).toHaveLength(2);
  });

  it("needs no exemption: the shipped config excuses no image from the digest", () => {
    expect(shippedPackConfig()[POLICY_NAMES.imagesPinned]).toEqual({ digestExemptImages: [] });
    // what is pulled is pinned by digest; what is built is recognised as built
    const built = result.resources.filter((r) => r.type === TYPES.remoteImage && r.inputs.build !== undefined);
    expect(built.map((r) => String(r.inputs.name).split(":")[0]).sort()).toEqual(["homelab-postgres/exporters", "homelab-postgres/pgbouncer", "homelab-postgres/postgres"]);
  });

  it("would fail the pack with a Debian base not pinned by digest, at every image built on it (the rule reads the builds)", async () => {
    const trixie = (stackConfig("prod").values["homelab-postgres:images"] as { trixie: string }).trixie;
    const unpinned: ProgramResult = {
      ...result,
      resources: result.resources.map((r) => {
        const build = r.inputs.build as { buildArgs?: Record<string, string> } | undefined;
        if (r.type !== TYPES.remoteImage || build?.buildArgs?.BASE_IMAGE !== trixie) return r;
        return { ...r, inputs: { ...r.inputs, build: { ...build, buildArgs: { ...build.buildArgs, BASE_IMAGE: "debian:trixie-slim" } } } };
      }),
    };
    const o = await runPackOnProgram("prod", unpinned);
    const flagged = o.violations.filter((v) => v.policy === POLICY_NAMES.imagesPinned);
    expect(flagged).toHaveLength(2);
    for (const v of flagged) expect(v.message).toMatch(/not pinned by digest/);
  });

  it("would flag the pgBouncer container by its tag if the pack did not know homelab-postgres/pgbouncer as built", async () => {
    const config = { ...shippedPackConfig(), [POLICY_NAMES.imagesPinned]: { digestExemptImages: [], builtImageRepositories: ["homelab-postgres/postgres", "homelab-postgres/exporters"] } };
    const o = await runPackOnProgram("prod", result, config);
    const flagged = o.violations.filter((v) => v.policy === POLICY_NAMES.imagesPinned);
    // the pgBouncer container and its config carrier
    expect(flagged.length).toBe(2);
    for (const v of flagged) expect(v.message).toMatch(/homelab-postgres\/pgbouncer:.* not pinned by digest/);
  });

  it("hands the engine every credential as a secret (what rule 8 cannot see)", () => {
    expect(plaintextCredentials(result.resources)).toEqual([]);
  });

  it("exports every credential-bearing output as a secret", () => {
    expect(plaintextCredentialOutputs(result)).toEqual([]);
  });
});
