// What one mutant run costs the test runner, without Stryker: jest's runCLI
// in-process on the mutation set (test/mutation/jest.config.js), with a test name
// pattern built as Stryker's jest runner builds it for a mutant (the covering tests'
// full names, escaped, joined with `|`: @stryker-mutator/jest-runner 9.6,
// jest-test-runner.js `mutantRun`) and __STRYKER_ACTIVE_MUTANT__ set, so the
// set's runner, bundles and environment act as in a mutant run (no mutant is active:
// the sources are not instrumented). Prints CPU and wall time per run; run 0
// includes the process's first module loads, later runs are what a mutant costs.
//
//   node bench/mutant-run.js <text> [runs]
//
// The pattern holds every test name recorded by the mutation set's initial run
// that contains <text> (e.g. a test file's path, or "test/unit/config/" for every
// config test). Record the names first, if no Stryker run has on this checkout:
//   npx jest -c test/mutation/jest.config.js
const fs = require("fs");
const path = require("path");
const { runCLI } = require("jest");

const root = path.resolve(__dirname, "..");
const cfg = require(path.join(root, "test", "mutation", "jest.config.js"));
const names = require(path.join(root, "test", "mutation", "test-names.js"));

const [text, runs] = [process.argv[2], Number(process.argv[3]) || 4];
if (!text) {
  console.error("usage: node bench/mutant-run.js <text in the chosen tests' names> [runs]");
  process.exit(2);
}
// the mutation set's test files, from its testMatch (one `*`, in the file name)
const testFiles = cfg.testMatch.flatMap((glob) => {
  const file = glob.replace("<rootDir>", root);
  if (!file.includes("*")) return [file];
  const dir = path.dirname(file);
  const [before, after] = path.basename(file).split("*");
  return fs.readdirSync(dir).filter((f) => f.startsWith(before) && f.endsWith(after)).map((f) => path.join(dir, f));
});
const recorded = testFiles.flatMap((f) => names.read(f) ?? []);
if (recorded.length === 0) {
  console.error("no recorded test names: run `npx jest -c test/mutation/jest.config.js` first");
  process.exit(2);
}
const chosen = recorded.filter((n) => n.includes(text));
const escapeRegExp = (s) => s.replace(/[.*+\-?^${}()|[\]\\]/g, "\\$&");
const pattern = chosen.map((n) => `(${escapeRegExp(n)})`).join("|");
process.env.__STRYKER_ACTIVE_MUTANT__ = "bench";

(async () => {
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = Date.now();
    const r = await runCLI(
      { $0: "bench", _: [], config: JSON.stringify(cfg), runInBand: true, silent: true, passWithNoTests: true, testNamePattern: pattern, reporters: [] },
      [cfg.rootDir],
    );
    const c = process.cpuUsage(c0);
    const ran = r.results.numTotalTests - r.results.numPendingTests;
    console.log(`run ${i}: ${((c.user + c.system) / 1e6).toFixed(2)} s cpu, ${((Date.now() - t0) / 1000).toFixed(2)} s wall, ${ran} of ${chosen.length} chosen tests run in ${r.results.testResults.length} files`);
  }
})();
