// Where the mutation set-up keeps each test file's test names (record-test-names.js
// writes them during Stryker's initial run; runner.js reads them for every mutant).
const crypto = require("crypto");
const fs = require("fs");
const os = require("os");
const path = require("path");

// one folder per checkout (Stryker's sandbox is a fresh copy per run)
const dir = path.join(os.tmpdir(), `hlpg-mutation-${crypto.createHash("sha1").update(path.resolve(__dirname, "../..")).digest("hex").slice(0, 12)}`);

function fileFor(testPath) {
  return path.join(dir, `${crypto.createHash("sha1").update(testPath).digest("hex")}.json`);
}

/** Writes one test file's full test names. */
function write(testPath, names) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(fileFor(testPath), JSON.stringify({ testPath, names }));
}

/** The full test names recorded for a test file, or undefined if none were. */
function read(testPath) {
  try {
    return JSON.parse(fs.readFileSync(fileFor(testPath), "utf8")).names;
  } catch {
    return undefined;
  }
}

module.exports = { read, write };
