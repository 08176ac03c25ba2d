// Summarises Stryker's JSON report (reports/mutation/mutation.json): the mutation
// score per folder and every surviving mutant (file:line, mutator, replacement),
// like a benchmark prints numbers. Run by `npm run mutation` after `stryker run`.
// Score = (killed + timed out) / (killed + timed out + survived + no coverage);
// compile errors (the TypeScript checker) and ignored (static) mutants do not count.
const fs = require("fs");
const path = require("path");

const file = process.argv[2] ?? path.join(__dirname, "..", "reports", "mutation", "mutation.json");
const report = JSON.parse(fs.readFileSync(file, "utf8"));
const root = path.resolve(__dirname, "..");

const DETECTED = new Set(["Killed", "Timeout"]);
const UNDETECTED = new Set(["Survived", "NoCoverage"]);
const folders = new Map();
const survivors = [];
const total = { detected: 0, undetected: 0, ignored: 0, invalid: 0 };

for (const [name, result] of Object.entries(report.files)) {
  const rel = path.relative(root, path.resolve(root, name));
  const folder = path.dirname(rel);
  const f = folders.get(folder) ?? { detected: 0, undetected: 0, ignored: 0, invalid: 0 };
  folders.set(folder, f);
  for (const m of result.mutants) {
    const kind = DETECTED.has(m.status) ? "detected" : UNDETECTED.has(m.status) ? "undetected" : m.status === "Ignored" ? "ignored" : "invalid";
    f[kind]++;
    total[kind]++;
    if (kind === "undetected") {
      const line = m.location.start.line;
      const text = (m.replacement ?? "").replace(/\s+/g, " ").slice(0, 80);
      survivors.push(`${rel}:${line}:${m.location.start.column} ${m.mutatorName} ${m.status === "NoCoverage" ? "(no coverage) " : ""}-> ${text} [id ${m.id}]`);
    }
  }
}

const score = (c) => (c.detected + c.undetected === 0 ? "n/a" : `${((100 * c.detected) / (c.detected + c.undetected)).toFixed(1)}%`);
const rows = [...folders.entries()].sort(([a], [b]) => a.localeCompare(b));
const width = Math.max(...rows.map(([k]) => k.length), 10);
console.log(`${"folder".padEnd(width)}  score   killed  survived  ignored  invalid`);
for (const [k, c] of [...rows, ["all", total]]) {
  console.log(`${k.padEnd(width)}  ${score(c).padStart(6)}  ${String(c.detected).padStart(6)}  ${String(c.undetected).padStart(8)}  ${String(c.ignored).padStart(7)}  ${String(c.invalid).padStart(7)}`);
}
console.log(`\nsurviving mutants (${survivors.length}):`);
for (const s of survivors.sort()) console.log(`  ${s}`);
