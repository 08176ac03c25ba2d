// The type check of `npm run mutation`, run after `stryker run` on its survivors only.
//
// Stryker's TypeScript checker type-checks every mutant before testing it, on a core
// of its own: on this machine that cost as much CPU per mutant as the tests did and
// doubled the run (docs/mutation.md). The runs are transpile-only, so a mutant that
// does not compile is tested like any other. `npm test` runs `tsc --noEmit`, so such
// a mutant could never land; a test that kills it kills it, and one that does not is
// not a gap in the tests. This script marks each surviving (or uncovered) mutant that
// does not type-check as `CompileError` in reports/mutation/mutation.json, the status
// Stryker's checker gives it, with the first diagnostic as the reason.
//
// The program checked is test/mutation/tsconfig.checker.json (the mutated files and
// what they import), as Stryker's checker did. A builder program re-checks only the
// files a change affects: the mutated file and what depends on its types.
const fs = require("fs");
const path = require("path");
const ts = require("typescript");
const { applyMutant } = require("./mutant-text");

const root = path.resolve(__dirname, "..");
const reportFile = process.argv[2] ?? path.join(root, "reports", "mutation", "mutation.json");
const report = JSON.parse(fs.readFileSync(reportFile, "utf8"));
const UNDETECTED = new Set(["Survived", "NoCoverage"]);


const configPath = path.join(root, "test", "mutation", "tsconfig.checker.json");
const parsed = ts.getParsedCommandLineOfConfigFile(configPath, { noEmit: true }, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n")); } });
const options = { ...parsed.options, noEmit: true };

/** file name (absolute, normalised as TypeScript does) -> text override */
const overrides = new Map();
const host = ts.createCompilerHost(options);
const readSourceFile = host.getSourceFile.bind(host);
const cache = new Map();
let versions = 0;
// a builder program compares files by version
const withVersion = (sourceFile, version) => (sourceFile === undefined ? undefined : Object.assign(sourceFile, { version }));
host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
  const text = overrides.get(path.resolve(fileName));
  if (text !== undefined) return withVersion(ts.createSourceFile(fileName, text, languageVersion, true), `mutant ${++versions}`);
  // unchanged files keep their SourceFile object and version: the builder skips them
  if (!cache.has(fileName)) cache.set(fileName, withVersion(readSourceFile(fileName, languageVersion, onError, shouldCreate), "original"));
  return cache.get(fileName);
};

let builder;
/** Every diagnostic of the files this change affects (the builder caches the rest). */
function check() {
  builder = ts.createSemanticDiagnosticsBuilderProgram(parsed.fileNames, options, host, builder);
  const diagnostics = [...builder.getSyntacticDiagnostics(), ...builder.getOptionsDiagnostics(), ...builder.getGlobalDiagnostics()];
  for (;;) {
    const next = builder.getSemanticDiagnosticsOfNextAffectedFile();
    if (!next) break;
    diagnostics.push(...next.result);
  }
  return diagnostics;
}

const describe = (d) => {
  const where = d.file ? `${path.relative(root, d.file.fileName)}(${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}): ` : "";
  return `${where}error TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`;
};

const started = process.hrtime.bigint();
const baseline = check();
if (baseline.length > 0) {
  console.error(`mutation-typecheck: the unmutated program has type errors, fix them first:\n${baseline.map(describe).join("\n")}`);
  process.exit(1);
}

let checked = 0;
let rejected = 0;
for (const [name, result] of Object.entries(report.files)) {
  const file = path.resolve(root, name);
  let overridden = false;
  for (const mutant of result.mutants) {
    if (!UNDETECTED.has(mutant.status)) continue;
    overrides.set(file, applyMutant(result.source, mutant));
    overridden = true;
    const errors = check();
    overrides.delete(file);
    checked++;
    if (errors.length > 0) {
      rejected++;
      mutant.status = "CompileError";
      mutant.statusReason = describe(errors[0]);
    }
  }
  // back to the original text before the next file's mutants
  if (overridden) check();
}

fs.writeFileSync(reportFile, JSON.stringify(report));
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
console.log(`mutation-typecheck: ${checked} surviving or uncovered mutants type-checked in ${seconds.toFixed(1)} s; ${rejected} do not compile (now CompileError)`);
