// A mutant of Stryker's JSON report against its file's source text (the report's
// `source`): the text it replaces, and the file with it applied. Locations are
// 1-based lines and columns. Shared by mutation-typecheck.js, mutation-report.js
// and test/mutation/try-mutant.js.

/** Offset of a report location in `text`. */
function offsetOf(text, { line, column }) {
  let offset = 0;
  for (let l = 1; l < line; l++) offset = text.indexOf("\n", offset) + 1;
  return offset + column - 1;
}

/** The source text the mutant replaces. */
function originalText(source, mutant) {
  return source.slice(offsetOf(source, mutant.location.start), offsetOf(source, mutant.location.end));
}

/** The source with the mutant applied. */
function applyMutant(source, mutant) {
  return source.slice(0, offsetOf(source, mutant.location.start)) + mutant.replacement + source.slice(offsetOf(source, mutant.location.end));
}

module.exports = { applyMutant, originalText };
