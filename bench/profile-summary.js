// Self time of a .cpuprofile by package (node_modules/<name>) or by file of ours,
// leaving out the first <skip> ms (a test runner's start and Stryker's initial run).
//
//   node bench/profile-summary.js <file.cpuprofile> [skip ms] [rows]
const fs = require("fs");

const [file, skipArg, rowsArg] = process.argv.slice(2);
if (!file) {
  console.error("usage: node bench/profile-summary.js <file.cpuprofile> [skip ms] [rows]");
  process.exit(2);
}
const profile = JSON.parse(fs.readFileSync(file, "utf8"));
const skip = Number(skipArg || 0) * 1000;
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
let t = 0;
let total = 0;
profile.samples.forEach((id, i) => {
  t += profile.timeDeltas[i];
  if (t < skip) return;
  const frame = nodes.get(id).callFrame;
  const url = frame.url || `(${frame.functionName || "native"})`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  // a long regular expression is shown by its first characters
  const key = pkg ? pkg[1] : url.replace(/^file:\/\//, "").replace(/.*\/sandbox-[^/]+\//, "").slice(0, 100);
  self.set(key, (self.get(key) || 0) + profile.timeDeltas[i]);
  total += profile.timeDeltas[i];
});
console.log(`${(total / 1000).toFixed(0)} ms sampled after the first ${skipArg || 0} ms`);
for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(rowsArg || 25))) {
  console.log(`${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}`);
}
