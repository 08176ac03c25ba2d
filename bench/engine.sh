#!/usr/bin/env bash
# Engine benchmark: the first-deploy and minor-upgrade journeys of test/engine, run
# RUNS times (default 3) one after the other on the test daemon; prints each run's
# figures, then the median and the spread of: time from an empty engine to a healthy
# dev stack with the image builds and with the images built, and, across a minor
# upgrade, the errors and the longest wait of pooled clients and the errors of a direct
# client. Needs the test daemon (eval "$(sudo scripts/engine-daemon.sh start)").
# Prints numbers; always exits 0.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 0
[ -n "${HLPG_DOCKER_HOST:-}" ] || { echo "HLPG_DOCKER_HOST is not set: eval \"\$(sudo scripts/engine-daemon.sh start)\""; exit 0; }
RUNS=${RUNS:-3}
out=$(mktemp)
for i in $(seq 1 "$RUNS"); do
  npx jest --selectProjects engine --runInBand --runTestsByPath test/engine/first-deploy.test.ts test/engine/minor-upgrade.test.ts 2>&1 \
    | grep -E "time to a healthy stack|minor upgrade:" | sed "s/^ */run $i: /" | tee -a "$out"
done
node - "$out" <<'JS'
const lines = require("fs").readFileSync(process.argv[2], "utf8").split("\n");
const pick = (re) => lines.map((l) => re.exec(l)).filter(Boolean).map((m) => Number(m[1]));
const stat = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? `median ${s[Math.floor(s.length / 2)]} (min ${s[0]}, max ${s[s.length - 1]}, n=${s.length})` : "no data";
};
console.log(`healthy stack from an empty engine, image builds included: ${stat(pick(/([\d.]+) s with image builds/))} s`);
console.log(`healthy stack from an empty engine, images built: ${stat(pick(/([\d.]+) s with the images built/))} s`);
console.log(`minor upgrade, pooled client errors: ${stat(pick(/pooled clients \d+ ok, (\d+) errors/))}`);
console.log(`minor upgrade, pooled clients' longest wait: ${stat(pick(/longest wait (\d+) ms/))} ms`);
console.log(`minor upgrade, direct client errors: ${stat(pick(/direct client \d+ ok, (\d+) errors/))}`);
JS
rm -f "$out"
exit 0
