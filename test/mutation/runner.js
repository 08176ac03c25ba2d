// Jest's own test runner for the mutation set, changed for mutant runs only (Stryker
// sets __STRYKER_ACTIVE_MUTANT__); the initial run, which records coverage and
// names, runs everything as jest would.
//
// 1. The tests Stryker asks for, chosen without its regular expression. Stryker
//    passes the full names of the tests that covered the mutant as one pattern;
//    name-filter.js makes the same choice by substring search. A test file is left
//    out when none of the names recorded for it in the initial run
//    (record-test-names.js) is chosen; within a file, environment.js skips the tests
//    not chosen, in jest's place (jest gets no pattern); a bundle loads only its
//    files with a chosen test (bundle.ts, through selection.js's variable). The
//    same tests run as with Stryker's pattern. A file with no recorded names runs
//    with everything chosen by the predicate alone.
// 2. Bail: the files run one after another and the run stops at the first file with
//    a failing test. One failure kills the mutant; Stryker's jest runner cannot ask
//    jest to bail (@stryker-mutator/jest-runner 9.6, jest-override-options.js:
//    "Bail isn't supported programmatically in jest") and otherwise runs every
//    covering file. Needs Stryker's `disableBail` false (its default): with it true
//    Stryker wants every killing test. Jest orders the files with the one that
//    failed last time first.
// 3. Within a bundle, the files that killed this worker's last mutants load first
//    (mutants of one line are usually killed by the same file), so the first failure
//    comes sooner.
const TestRunner = require("jest-runner").default;
const names = require("./test-names");
const selection = require("./selection");
const { nameMatcher } = require("./name-filter");

// Bundle members that failed a test in this worker's recent mutant runs, the latest
// first. Mutants of one line are usually killed by the same file, so bundle.ts loads
// these first and the run stops after fewer tests (the order of a bundle's files is
// free: each was a jest test file of its own).
const killers = [];

// Names recorded in the initial run, read once per worker (they don't change after it).
const recordedCache = new Map();
function recordedNames(testPath) {
  if (!recordedCache.has(testPath)) recordedCache.set(testPath, names.read(testPath));
  return recordedCache.get(testPath);
}

// The last pattern's predicate: consecutive mutants of one line share their tests.
let last = { pattern: undefined, matches: undefined };

/** Members as bundle.ts should load them: recent killers first, then by path. */
function ordered(members) {
  const first = killers.filter((k) => members.has(k));
  return [...first, ...[...members].filter((m) => !first.includes(m)).sort()];
}

function noteKillers(result) {
  for (const r of result.testResults) {
    const member = r.ancestorTitles[0];
    if (r.status !== "failed" || member === undefined || !member.endsWith(".test.ts")) continue;
    const at = killers.indexOf(member);
    if (at >= 0) killers.splice(at, 1);
    killers.unshift(member);
  }
}

class MutationTestRunner extends TestRunner {
  async runTests(tests, watcher, options) {
    if (process.env.__STRYKER_ACTIVE_MUTANT__ === undefined || !options.serial) {
      return super.runTests(tests, watcher, options);
    }
    const pattern = this._globalConfig.testNamePattern;
    const members = new Set();
    let globalConfig = this._globalConfig;
    if (pattern) {
      if (pattern !== last.pattern) last = { pattern, matches: nameMatcher(pattern) };
      const { matches } = last;
      tests = tests.filter((t) => {
        const recorded = recordedNames(t.path);
        if (recorded === undefined) return true;
        const matching = recorded.filter(matches);
        // a bundle's full names start with the member file's path (bundle.ts)
        for (const n of matching) members.add(n.split(" ", 1)[0]);
        return matching.length > 0;
      });
      // environment.js skips the other tests in jest's place (name-filter.js)
      selection.matches = matches;
      globalConfig = { ...globalConfig, testNamePattern: undefined };
    }
    // read by bundle.ts through the environment's copy of process.env
    if (pattern) process.env[selection.MEMBERS] = JSON.stringify(ordered(members));
    else delete process.env[selection.MEMBERS];
    let failed = false;
    const off = this.on("test-file-success", ([, result]) => {
      if (result.numFailingTests > 0 || result.testExecError) failed = true;
      noteKillers(result);
    });
    const offFailure = this.on("test-file-failure", () => {
      failed = true;
    });
    try {
      for (const test of tests) {
        if (failed || watcher.isInterrupted()) break;
        const own = this._globalConfig;
        this._globalConfig = globalConfig;
        try {
          await super.runTests([test], watcher, options);
        } finally {
          this._globalConfig = own;
        }
      }
    } finally {
      off();
      offFailure();
      delete process.env[selection.MEMBERS];
      selection.matches = undefined;
    }
  }
}

module.exports = MutationTestRunner;
