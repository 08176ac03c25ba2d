// The mutation set's test environment: jest's node environment that, during a mutant
// run, skips the rest of a test file's tests once one has failed. One failure kills
// the mutant (Stryker's `disableBail` false, its default); jest has no per-test bail,
// and a bundle (bundle.ts) holds hundreds of tests. The initial run, which records
// coverage per test, runs everything. Stryker's own environment wraps this one and
// calls its handleTestEvent first (@stryker-mutator/jest-runner 9.6,
// jest-plugins/mixin-jest-environment.cjs); jest-circus dispatches `test_start` before
// it reads `test.mode` (jest-circus 29, run.js `_runTest`), so a test marked here is
// skipped.
const { TestEnvironment } = require("jest-environment-node");

class MutationEnvironment extends TestEnvironment {
  failed = false;

  handleTestEvent(event) {
    if (process.env.__STRYKER_ACTIVE_MUTANT__ === undefined) return;
    if ((event.name === "test_done" && event.test.errors.length > 0) || event.name === "hook_failure") this.failed = true;
    else if (event.name === "test_start" && this.failed) event.test.mode = "skip";
  }
}

module.exports = MutationEnvironment;
