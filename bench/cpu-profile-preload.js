// A CPU profile of a process that will not exit on its own terms (a Stryker test
// runner is killed at the end of the run, so node's --cpu-prof never writes one):
// preload this file, and after PROFILE_MS (default 60000) of the process's life the
// profile is written to PROFILE_DIR (default the working directory) as <pid>.cpuprofile.
//
//   PROFILE_MS=60000 PROFILE_DIR=/tmp/prof npx stryker run --force --mutate components/config/schema.ts \
//     --incrementalFile /tmp/incremental.json --testRunnerNodeArgs "--require=$PWD/bench/cpu-profile-preload.js"
//   node bench/profile-summary.js /tmp/prof/<pid>.cpuprofile 20000
const fs = require("fs");
const inspector = require("inspector");
const path = require("path");

const session = new inspector.Session();
session.connect();
session.post("Profiler.enable", () => session.post("Profiler.start"));
setTimeout(() => {
  session.post("Profiler.stop", (err, result) => {
    if (err) return;
    const dir = process.env.PROFILE_DIR || process.cwd();
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
  });
}, Number(process.env.PROFILE_MS || 60000)).unref();
