// The mutation set's test environment: jest's node environment with two jobs in a
// mutant run (the initial run, which records coverage per test, runs everything).
//
// 1. It picks the tests to run in jest's place. runner.js hands it the run's test
//    name predicate (selection.js, name-filter.js) and takes jest's name pattern
//    away; at `run_start` every test whose full name the predicate refuses is marked
//    skipped, which is how jest treats a test its pattern refuses: skipped, and the
//    hooks of a describe block with no test left to run are not called (jest-circus
//    29, utils.js `hasEnabledTest` reads `mode` and the pattern alike). The full
//    name is jest's own (utils.js `getTestID`): the describe names, then the test's,
//    joined with spaces.
// 2. It skips the rest of a test file's tests once one has failed. One failure kills
//    the mutant (Stryker's `disableBail` false, its default); jest has no per-test
//    bail, and a bundle (bundle.ts) holds hundreds of tests.
//
// Stryker's own environment wraps this one and calls its handleTestEvent first
// (@stryker-mutator/jest-runner 9.6, jest-plugins/mixin-jest-environment.cjs);
// jest-circus dispatches `test_start` before it reads `test.mode` (jest-circus 29,
// run.js `_runTest`), so a test marked there is skipped.
const { TestEnvironment } = require("jest-environment-node");
const selection = require("./selection");

/** jest-circus's full test name: every describe's name but the root's, then the test's. */
function fullName(test) {
  const titles = [];
  for (let at = test; at.parent !== undefined; at = at.parent) titles.unshift(at.name);
  return titles.join(" ");
}

function skipUnselected(block, matches) {
  for (const child of block.children) {
    if (child.type === "describeBlock") skipUnselected(child, matches);
    else if (child.mode !== "skip" && !matches(fullName(child))) child.mode = "skip";
  }
}

class MutationEnvironment extends TestEnvironment {
  failed = false;

  handleTestEvent(event, state) {
    if (process.env.__STRYKER_ACTIVE_MUTANT__ === undefined) return;
    if (event.name === "run_start" && selection.matches !== undefined) skipUnselected(state.rootDescribeBlock, selection.matches);
    // a failed beforeAll is not a failure yet: jest adds its error to each test below it,
    // and the first of those fails when it runs (skipping it would lose the error); a
    // failed afterAll fails the file, so the rest may go
    else if ((event.name === "test_done" && event.test.errors.length > 0) || (event.name === "hook_failure" && event.hook.type === "afterAll")) this.failed = true;
    else if (event.name === "test_start" && this.failed) event.test.mode = "skip";
  }
}

module.exports = MutationEnvironment;
