// Applies one mutant from a Stryker report to its source file, runs jest with the
// arguments given, and puts the file back: to check by hand that a new test kills a
// surviving mutant, or to see what it changes.
//
//   node test/mutation/try-mutant.js <mutant id>[,<id>...] [--report <mutation.json>] -- <jest arguments>
//   node test/mutation/try-mutant.js 1234,1240 -- --selectProjects unit --testPathPattern test/unit/config/edges.test.ts
//
// Several ids run one after another, each mutant on its own. Exit status: 0 when the
// tests caught every mutant, 1 when one survived. The report's source text must still
// be the file's text: the script refuses otherwise.
const fs = require("fs");
const path = require("path");
const { spawnSync } = require("child_process");
const { applyMutant, originalText } = require("../../scripts/mutant-text");

const root = path.resolve(__dirname, "../..");
const args = process.argv.slice(2);
const dash = args.indexOf("--");
const own = dash === -1 ? args : args.slice(0, dash);
const jestArgs = dash === -1 ? [] : args.slice(dash + 1);
const reportAt = own.indexOf("--report");
const reportFile = reportAt === -1 ? path.join(root, "reports", "mutation", "mutation.json") : path.resolve(own[reportAt + 1]);
const idArg = own.find((a, i) => !a.startsWith("--") && (reportAt === -1 || i !== reportAt + 1));
if (!idArg) {
  console.error("usage: node test/mutation/try-mutant.js <mutant id> [--report <mutation.json>] -- <jest arguments>");
  process.exit(2);
}

/** Applies one mutant, runs jest, restores the file; true when the tests failed (killed). */
function tryMutant(id) {
  const found = Object.entries(report.files).flatMap(([name, r]) => r.mutants.filter((m) => m.id === id).map((m) => ({ name, r, m })))[0];
  if (!found) {
    console.error(`no mutant ${id} in ${reportFile}`);
    return false;
  }
  const { name, r, m } = found;
  const file = path.resolve(root, name);
  const original = fs.readFileSync(file, "utf8");
  if (original !== r.source) {
    console.error(`${name} differs from the text the report was made from: re-run the mutation test for it first`);
    return false;
  }
  console.log(`mutant ${id} (${m.status}) ${name}:${m.location.start.line}:${m.location.start.column} ${m.mutatorName}`);
  console.log(`  - ${originalText(original, m).replace(/\s+/g, " ")}`);
  console.log(`  + ${m.replacement.replace(/\s+/g, " ")}`);

  let status = 2;
  try {
    fs.writeFileSync(file, applyMutant(original, m));
    status = spawnSync("npx", ["jest", "--silent", ...jestArgs], { cwd: root, stdio: ["ignore", "ignore", "ignore"] }).status ?? 2;
  } finally {
    fs.writeFileSync(file, original);
  }
  console.log(status === 0 ? `mutant ${id} SURVIVES these tests` : `mutant ${id} is KILLED by these tests (jest exit ${status})`);
  return status !== 0;
}

const report = JSON.parse(fs.readFileSync(reportFile, "utf8"));
const results = idArg.split(",").map((id) => [id, tryMutant(id.trim())]);
const survivors = results.filter(([, killed]) => !killed).map(([id]) => id);
if (results.length > 1) console.log(`${results.length - survivors.length} of ${results.length} killed${survivors.length ? `; not killed: ${survivors.join(",")}` : ""}`);
process.exit(survivors.length === 0 ? 0 : 1);
