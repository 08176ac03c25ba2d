// The real program for the dev stack, under mocks, through the whole pack.
import { POLICY_NAMES, TYPES } from "../../policies/rules";
import { ProgramResult, reveal, runProgram } from "../helpers/program";
import { PackResult } from "./helpers";
import { plaintextCredentialOutputs, plaintextCredentials, runPackOnProgram } from "./program-check";

jest.setTimeout(60_000);

describe("dev stack through the policy pack", () => {
  let result: ProgramResult;
  let pack: PackResult;

  beforeAll(async () => {
    result = await runProgram("dev");
    pack = await runPackOnProgram("dev", result);
  });

  it("registers what the rules are about (so zero violations means something)", () => {
    const types = new Set(result.resources.map((r) => r.type));
    // dev pulls nothing: Postgres and pgBouncer run images built here (pgAdmin, the one pulled image, is off)
    for (const t of [TYPES.container, TYPES.remoteImage, TYPES.role, TYPES.randomPassword]) expect(types).toContain(t);
    expect(result.resources.filter((r) => r.type === TYPES.remoteImage && r.inputs.build === undefined)).toEqual([]);
    expect(result.resources.every((r) => r.urn.startsWith("urn:pulumi:dev::homelab-postgres::"))).toBe(true);
  });

  it("has no policy violation", () => {
    expect(pack.violations).toEqual([]);
  });

  it("never needs a value the mocks did not provide", () => {
    expect(pack.unknowns).toEqual([]);
  });

  it("would fail the pack if a port were published on 0.0.0.0 (the check is live)", async () => {
    const broken: ProgramResult = {
      ...result,
      resources: result.resources.map((r) =>
        r.type === TYPES.container ? { ...r, inputs: { ...r.inputs, ports: [{ internal: 5432, external: 5432, ip: "0.0.0.0" }] } } : r,
      ),
    };
    const o = await runPackOnProgram("dev", broken);
    expect(o.violations.map((v) => v.policy)).toContain(POLICY_NAMES.portBinding);
  });

  it("hands the engine every credential as a secret (what rule 8 cannot see)", () => {
    expect(plaintextCredentials(result.resources)).toEqual([]);
  });

  it("exports every credential-bearing output as a secret", () => {
    expect(plaintextCredentialOutputs(result)).toEqual([]);
  });

  it("would notice a credential handed over as plaintext (the secret checks are live)", () => {
    const roles = result.resources.filter((r) => r.type === TYPES.role);
    expect(roles.length).toBeGreaterThan(0);
    const revealed = result.resources.map((r) => (r === roles[0] ? { ...r, inputs: reveal(r.inputs) as Record<string, unknown> } : r));
    expect(plaintextCredentials(revealed)).toEqual([`${roles[0].name}: password`]);
    const leaky: ProgramResult = { ...result, outputs: { ...result.outputs, leak: "postgresql://u:pw-value@h/db" } };
    expect(plaintextCredentialOutputs(leaky)).toEqual(["leak"]);
  });
});
