// The secret-in-plain-text class (classes.test.ts) through the whole program: index.ts
// asks the engine which keys are secret. Its own file because a program run under
// mocks takes seconds; `npm run mutation` leaves program runs out (test/mutation/jest.config.js).
import { PROD_SECRETS, runProgram } from "../../helpers/program";

describe("a prod stack's secrets given in plain text", () => {
  it("the program asks the engine (index.ts, runtime.isConfigSecret): the same prod config fails in plain text and passes as a secret", async () => {
    await expect(runProgram("prod", { overrides: PROD_SECRETS.overrides })).rejects.toThrow(/backup\.encryptionPassphrase: is in plain text in a prod stack/);
    const r = await runProgram("prod", PROD_SECRETS);
    expect(r.resources.length).toBeGreaterThan(0);
  }, 60_000);
});
