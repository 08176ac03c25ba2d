// Jest's own test runner for the mutation set, with two changes for mutant runs.
//
// 1. Only the test files holding a test Stryker asked for. For each mutant Stryker
//    runs jest with --findRelatedTests on the mutated file and a --testNamePattern
//    of the tests that covered the mutant; jest would still load every related test
//    file (a config mutant: nearly all of them, 0.2 s of CPU each) only to skip its
//    tests. A file is left out only when none of the names recorded for it in the
//    initial run (record-test-names.js) matches the pattern, exactly as jest matches
//    it (case-insensitive, against the full name), so the same tests run; a file
//    with no recorded names always runs.
// 2. Bail: the files run one after another and the run stops at the first file with
//    a failing test. One failure kills the mutant; Stryker's jest runner cannot ask
//    jest to bail (@stryker-mutator/jest-runner 9.6, jest-override-options.js:
//    "Bail isn't supported programmatically in jest") and otherwise runs every
//    covering file. Needs Stryker's `disableBail` false (its default): with it true
//    Stryker wants every killing test. Jest orders the files with the one that
//    failed last time first, so a file that killed a mutant is tried first on the
//    next one (mutants of one line are usually killed by the same file).
// Both apply to mutant runs only (Stryker sets __STRYKER_ACTIVE_MUTANT__); the
// initial run, which records coverage and names, runs everything.
const TestRunner = require("jest-runner").default;
const names = require("./test-names");

class MutationTestRunner extends TestRunner {
  async runTests(tests, watcher, options) {
    if (process.env.__STRYKER_ACTIVE_MUTANT__ === undefined || !options.serial) {
      return super.runTests(tests, watcher, options);
    }
    const pattern = this._globalConfig.testNamePattern;
    if (pattern) {
      const re = new RegExp(pattern, "i");
      tests = tests.filter((t) => {
        const recorded = names.read(t.path);
        return recorded === undefined || recorded.some((n) => re.test(n));
      });
    }
    let failed = false;
    const off = this.on("test-file-success", ([, result]) => {
      if (result.numFailingTests > 0 || result.testExecError) failed = true;
    });
    const offFailure = this.on("test-file-failure", () => {
      failed = true;
    });
    try {
      for (const test of tests) {
        if (failed || watcher.isInterrupted()) break;
        await super.runTests([test], watcher, options);
      }
    } finally {
      off();
      offFailure();
    }
  }
}

module.exports = MutationTestRunner;
