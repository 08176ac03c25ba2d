// Jest's own test runner for the mutation set, minus the test files with no test
// Stryker asked for. For each mutant Stryker runs jest with --findRelatedTests on
// the mutated file and a --testNamePattern of the tests that covered the mutant;
// jest would still load every related test file (a config mutant: nearly all of
// them, seconds each) only to skip its tests. A file is left out only when none of
// the names recorded for it in the initial run (record-test-names.js) matches the
// pattern, exactly as jest matches it (case-insensitive, against the full name), so
// the same tests run; a file with no recorded names always runs.
const TestRunner = require("jest-runner").default;
const names = require("./test-names");

class MutationTestRunner extends TestRunner {
  async runTests(tests, watcher, options) {
    const pattern = this._globalConfig.testNamePattern;
    if (pattern) {
      const re = new RegExp(pattern, "i");
      tests = tests.filter((t) => {
        const recorded = names.read(t.path);
        return recorded === undefined || recorded.some((n) => re.test(n));
      });
    }
    return super.runTests(tests, watcher, options);
  }
}

module.exports = MutationTestRunner;
