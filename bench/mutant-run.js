// What one mutant costs the test runner, without Stryker: jest's runCLI in-process
// with --findRelatedTests on a source file and a --testNamePattern, as Stryker's jest
// runner calls it for every mutant (@stryker-mutator/jest-runner 9.6,
// jest-test-adapters/jest-test-adapter.js), on the mutation set
// (test/mutation/jest.config.js). Prints CPU and wall time per run; run 0 includes
// the process's first module loads, later runs are what a mutant costs.
//
//   node bench/mutant-run.js components/lib/net.ts "<test name regex>" [runs]
//
// Set __STRYKER_ACTIVE_MUTANT__ (any value) to use the test names recorded by a
// previous run of the mutation set (test/mutation/record-test-names.js) without
// re-recording them; an empty pattern runs every related test file.
const path = require("path");
const { runCLI } = require("jest");

const cfg = require(path.join(__dirname, "..", "test", "mutation", "jest.config.js"));
const [file, pattern, runs] = [process.argv[2], process.argv[3] || undefined, Number(process.argv[4]) || 4];

(async () => {
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = Date.now();
    const r = await runCLI(
      { $0: "bench", _: [path.resolve(file)], findRelatedTests: true, config: JSON.stringify(cfg), runInBand: true, silent: true, passWithNoTests: true, testNamePattern: pattern, reporters: [] },
      [cfg.rootDir],
    );
    const c = process.cpuUsage(c0);
    const ran = r.results.numTotalTests - r.results.numPendingTests;
    console.log(`run ${i}: ${((c.user + c.system) / 1e6).toFixed(2)} s cpu, ${((Date.now() - t0) / 1000).toFixed(2)} s wall, ${ran} tests run in ${r.results.testResults.length} files`);
  }
})();
