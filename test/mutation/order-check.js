// Runs the mutation set with no mutant and the bundles' files in another order:
// runner.js loads the files that killed the last mutants first, which is sound only
// while no test file depends on another having run before it in the same bundle.
//
//   node test/mutation/order-check.js [seed]    (0: reversed; other: shuffled)
//
// Exit status 1 when a test fails.
const fs = require("fs");
const path = require("path");
const { runCLI } = require("jest");
const selection = require("./selection");

const root = path.resolve(__dirname, "../..");
const cfg = { ...require("./jest.config.js") };
delete cfg.runner; // jest's own: runner.js would set the order itself

// every test file under test/ (a bundle keeps only its own, so any bundle added later
// is shuffled too)
const members = [];
(function walk(dir) {
  for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    if (e.isDirectory()) walk(`${dir}/${e.name}`);
    else if (e.name.endsWith(".test.ts")) members.push(`${dir}/${e.name}`);
  }
})("test");
const seed = Number(process.argv[2] ?? 1);
let x = seed;
const rnd = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
const order = seed === 0 ? [...members].sort().reverse() : members.map((m) => [rnd(), m]).sort((a, b) => a[0] - b[0]).map(([, m]) => m);

// as in a mutant run (bundle.ts reads the order only then), with every test chosen
process.env.__STRYKER_ACTIVE_MUTANT__ = "order-check";
process.env[selection.MEMBERS] = JSON.stringify(order);

(async () => {
  const { results } = await runCLI({ $0: "order-check", _: [], config: JSON.stringify(cfg), runInBand: true, silent: true, reporters: [] }, [root]);
  console.log(`seed ${seed}: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests} skipped of ${results.numTotalTests}`);
  for (const file of results.testResults) {
    if (file.testExecError) console.log("FAILED TO RUN", file.testFilePath, file.testExecError.message);
    for (const t of file.testResults) if (t.status === "failed") console.log("FAILED", t.fullName);
  }
  process.exitCode = results.numFailedTests > 0 || results.numRuntimeErrorTestSuites > 0 ? 1 : 0;
})();
