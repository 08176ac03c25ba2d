// The real program for the prod stack, under mocks, through the whole pack.
// Pulumi.prod.yaml leaves the backup passphrase to `pulumi config set --secret`,
// so the run supplies one the way that command would: as secret config.
import { POLICY_NAMES, ROLE_LABEL, TYPES } from "../../policies/rules";
import { ProgramResult, runProgram, stackConfig } from "../helpers/program";
import { PackResult } from "./helpers";
import { plaintextCredentialOutputs, plaintextCredentials, runPackOnProgram } from "./program-check";

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

  it("hands the engine every credential as a secret (what rule 8 cannot see)", () => {
    expect(plaintextCredentials(result.resources)).toEqual([]);
  });

  it("exports every credential-bearing output as a secret", () => {
    expect(plaintextCredentialOutputs(result)).toEqual([]);
  });
});
