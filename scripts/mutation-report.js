// Summarises Stryker's JSON report (reports/mutation/mutation.json), after
// scripts/mutation-typecheck.js: the mutation score per folder, every surviving
// mutant, and which survivors are listed as equivalent (with the reason), like a
// benchmark prints numbers. Run by `npm run mutation`.
//
// score       = detected / (detected + survived + equivalent)        (Stryker's own)
// score (eq.) = detected / (detected + survived)                     (equivalents set aside)
// detected = killed + timed out; survived includes mutants no test reached.
// Compile errors (mutants that do not type-check) and ignored (static, string
// literal) mutants count in neither.
//
// Equivalent mutants are listed per mutated file in test/mutation/equivalent/<path>.json:
// [{ "mutator": "...", "original": "...", "replacement": "...", "reason": "..." }].
// A survivor matches an entry by file, mutator, the source text it replaces and its
// replacement (whitespace collapsed), not by line, so entries survive edits above
// them; each entry matches one mutant, so two survivors with the same text need two
// entries. An entry that matches no surviving mutant is printed as stale.
const fs = require("fs");
const path = require("path");
const { originalText } = require("./mutant-text");

const root = path.resolve(__dirname, "..");
const file = process.argv[2] ?? path.join(root, "reports", "mutation", "mutation.json");
const report = JSON.parse(fs.readFileSync(file, "utf8"));
const equivalentDir = path.join(root, "test", "mutation", "equivalent");

const DETECTED = new Set(["Killed", "Timeout"]);
const UNDETECTED = new Set(["Survived", "NoCoverage"]);
const squash = (s) => s.replace(/\s+/g, " ").trim();

function equivalentsFor(rel) {
  const listFile = path.join(equivalentDir, `${rel}.json`);
  if (!fs.existsSync(listFile)) return [];
  return JSON.parse(fs.readFileSync(listFile, "utf8")).map((e) => ({ ...e, used: 0, listFile: path.relative(root, listFile) }));
}

const empty = () => ({ detected: 0, survived: 0, equivalent: 0, invalid: 0, ignored: 0 });
const folders = new Map();
const total = empty();
const survivors = [];
const stale = [];

for (const [name, result] of Object.entries(report.files)) {
  const rel = path.relative(root, path.resolve(root, name));
  const folder = path.dirname(rel);
  if (!folders.has(folder)) folders.set(folder, empty());
  const counts = folders.get(folder);
  const equivalents = equivalentsFor(rel);
  for (const m of result.mutants) {
    let kind;
    if (DETECTED.has(m.status)) kind = "detected";
    else if (m.status === "Ignored") kind = "ignored";
    else if (!UNDETECTED.has(m.status)) kind = "invalid";
    else {
      const original = squash(originalText(result.source, m));
      const replacement = squash(m.replacement ?? "");
      // an entry stands for one mutant: two survivors with the same text need two entries
      const match = equivalents.find((e) => e.used === 0 && e.mutator === m.mutatorName && squash(e.original) === original && squash(e.replacement) === replacement);
      if (match) {
        match.used++;
        kind = "equivalent";
      } else {
        kind = "survived";
        const twin = equivalents.some((e) => e.mutator === m.mutatorName && squash(e.original) === original && squash(e.replacement) === replacement);
        const where = `${rel}:${m.location.start.line}:${m.location.start.column}`;
        const show = (s) => (s.length > 70 ? `${s.slice(0, 67)}...` : s);
        const notes = `${m.status === "NoCoverage" ? " (no test reaches it)" : ""}${twin ? " (same text as a listed equivalent: list it again if it is one too)" : ""}`;
        survivors.push({ rel, line: m.location.start.line, column: m.location.start.column, text: `${where} ${m.mutatorName}${notes}: ${show(original)} -> ${show(replacement)} [id ${String(m.id).replace(/\s+/g, " ")}]` });
      }
    }
    counts[kind]++;
    total[kind]++;
  }
  for (const e of equivalents) if (e.used === 0) stale.push(`${e.listFile}: ${e.mutator} ${squash(e.original)} -> ${squash(e.replacement)}`);
}

const pct = (n, d) => (d === 0 ? "n/a" : `${((100 * n) / d).toFixed(1)}%`);
const rows = [...folders.entries()].sort(([a], [b]) => a.localeCompare(b));
const width = Math.max(...rows.map(([k]) => k.length), 10);
const header = ["score", "score(eq.)", "killed", "survived", "equivalent", "no compile", "ignored"];
console.log(`${"folder".padEnd(width)}  ${header.map((h) => h.padStart(10)).join(" ")}`);
for (const [k, c] of [...rows, ["all", total]]) {
  const cells = [
    pct(c.detected, c.detected + c.survived + c.equivalent),
    pct(c.detected, c.detected + c.survived),
    c.detected,
    c.survived,
    c.equivalent,
    c.invalid,
    c.ignored,
  ];
  console.log(`${k.padEnd(width)}  ${cells.map((v) => String(v).padStart(10)).join(" ")}`);
}
console.log(`\nsurviving mutants not listed as equivalent (${survivors.length}):`);
survivors.sort((a, b) => a.rel.localeCompare(b.rel) || a.line - b.line || a.column - b.column);
for (const s of survivors) console.log(`  ${s.text}`);
if (stale.length > 0) {
  console.log(`\nequivalent-mutant entries that match no surviving mutant (${stale.length}): remove or update them`);
  for (const s of stale) console.log(`  ${s}`);
}
