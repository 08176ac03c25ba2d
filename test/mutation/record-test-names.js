// setupFilesAfterEnv of the mutation set: during Stryker's initial test run (no
// active mutant) records each test file's full test names for runner.js.
const names = require("./test-names");

if (process.env.__STRYKER_ACTIVE_MUTANT__ === undefined) {
  const seen = new Set();
  beforeEach(() => {
    const name = expect.getState().currentTestName;
    if (name !== undefined) seen.add(name);
  });
  afterAll(() => {
    names.write(expect.getState().testPath, [...seen]);
  });
}
