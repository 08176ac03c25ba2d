// components/lib/cron.ts: croner in the dialect the sidecar's bash matcher reads,
// with validation messages that name the field, and the gap search behind the
// backup health limits.
import { spawnSync } from "child_process";
import * as path from "path";
import { Cron } from "croner";
import { cronMatches, cronProblem, maxCronGapMinutes, nextRuns } from "../../../components/lib/cron";

describe("cronProblem", () => {
  it.each(["15 2 * * 0", "15 2 * * 1-6", "*/7 1-3,22 * * 1-5", "5/20 * * * 0,7", "0 0 29 2 *", " 45  2 * * * ", "0 0 1-31/2 1-12 0-7"])("accepts %j", (expr) => {
    expect(cronProblem(expr)).toBeUndefined();
  });

  it.each([
    ["every day", /expected 5 cron fields/],
    ["", /expected 5 cron fields .*, got 0/],
    ["0 0 2 * * *", /got 6 .*seconds field is not supported/],
    ["@daily", /nicknames .* not supported/],
    ["61 * * * *", /minute field "61" is outside 0-59/],
    ["0 24 * * *", /hour field "24" is outside 0-23/],
    ["0 0 0 * *", /day of month field "0" is outside 1-31/],
    ["0 0 * 13 *", /month field "13" is outside 1-12/],
    ["0 3 * * 8", /day of week field "8" is outside 0-7/],
    ["0 5-3 * * *", /hour field "5-3" has a reversed range/],
    ["*/0 * * * *", /minute field "\*\/0" has an invalid step/],
    ["0 0 * * MON", /does not parse/],
    ["0 0 L * *", /does not parse/],
    ["0 0 * * 1#2", /does not parse/],
    ["0 0 ? * *", /does not parse/],
    ["/5 * * * *", /does not parse/],
    ["0 0 31 2 *", /never fires/],
  ])("rejects %j", (expr, message) => {
    expect(cronProblem(expr)).toMatch(message);
  });
});

describe("evaluation", () => {
  it("matches in UTC, whatever second of the minute it is asked about", () => {
    expect(cronMatches("15 2 * * 0", new Date("2024-01-07T02:15:00Z"))).toBe(true);
    expect(cronMatches("15 2 * * 0", new Date("2024-01-07T02:15:59.999Z"))).toBe(true);
    expect(cronMatches("15 2 * * 0", new Date("2024-01-07T02:16:00Z"))).toBe(false);
    expect(() => cronMatches("@weekly", new Date())).toThrow(/invalid cron expression/);
  });

  it("lists the next runs, strictly after the start", () => {
    expect(nextRuns("30 4 * * 6", 3, new Date("2024-01-06T04:30:00Z")).map((d) => d.toISOString())).toEqual([
      "2024-01-13T04:30:00.000Z", "2024-01-20T04:30:00.000Z", "2024-01-27T04:30:00.000Z",
    ]);
  });

  it("gives the same instants as croner with timezone UTC (it runs with utcOffset 0, which is faster)", () => {
    const from = new Date("2024-02-27T00:00:00Z");
    for (const expr of ["15 2 * * 0", "0 0 29 2 *", "*/7 1-3,22 * * 1-5", "0 0 13 * 5", "0 0 */2 * 1"]) {
      const reference = new Cron(expr, { paused: true, timezone: "UTC" }).nextRuns(20, from).map((d) => d.getTime());
      expect(nextRuns(expr, 20, from).map((d) => d.getTime())).toEqual(reference);
    }
  });
});

describe("maxCronGapMinutes", () => {
  it("finds the longest gap over four years, across several expressions", () => {
    expect(maxCronGapMinutes(["45 2 * * *"])).toBe(1440);
    expect(maxCronGapMinutes(["15 2 * * 0", "15 2 * * 1-6"])).toBe(1440);
    expect(maxCronGapMinutes(["0 3 * * 1,4"])).toBe(4 * 1440);
    expect(maxCronGapMinutes(["0 0 1 * *"])).toBe(31 * 1440);
    expect(maxCronGapMinutes(["0 6,18 * * *"])).toBe(12 * 60);
    expect(maxCronGapMinutes(["0 23 * * *", "30 0 * * *"])).toBe(1440 - 90);
    expect(maxCronGapMinutes(["*/5 * * * *"])).toBe(5);
  });

  it("counts a once-in-four-years schedule as the whole window, and refuses one that never fires", () => {
    expect(maxCronGapMinutes(["0 0 29 2 *"])).toBe(4 * 366 * 1440);
    expect(() => maxCronGapMinutes(["0 0 31 2 *"])).toThrow(/invalid cron expression: .*never fires/);
  });
});

// `pulumi up` runs on a laptop in any time zone, and the health limits and the config
// checks read the same schedules the sidecar runs in UTC. A test cannot change the
// zone of its own process (jest gives it a copy of process.env), so a child node in
// another zone loads the module (transpiled on the fly) and answers the same questions.
describe("the machine's time zone", () => {
  const questions = `
    const ts = require("typescript");
    const fs = require("fs");
    require.extensions[".ts"] = (m, file) => m._compile(ts.transpileModule(fs.readFileSync(file, "utf8"), { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText, file);
    const c = require(process.argv[1]);
    console.log(JSON.stringify({
      offset: new Date(Date.UTC(2024, 0, 1)).getTimezoneOffset(),
      next: c.nextRuns("30 4 * * 6", 2, new Date("2024-01-06T04:30:00Z")).map((d) => d.toISOString()),
      matches: c.cronMatches("15 2 * * 0", new Date("2024-01-07T02:15:00Z")),
      gap: c.maxCronGapMinutes(["0 23 * * 1-5", "30 0 * * 1-5"]),
    }));`;
  const module = path.resolve(__dirname, "../../../components/lib/cron.ts");
  // the answers in UTC (2024-01-06 is a Saturday, 2024-01-07 a Sunday; the longest gap
  // is Friday 23:00 to Monday 00:30; in a zone with summer time, evaluated locally, one
  // weekend a year would be an hour longer or shorter)
  const utc = { next: ["2024-01-13T04:30:00.000Z", "2024-01-20T04:30:00.000Z"], matches: true, gap: 2 * 1440 + 90 };

  it.each([["Asia/Kolkata", -330], ["America/St_Johns", 210]])("reads schedules in UTC on a machine in %s", (zone, offset) => {
    const child = spawnSync(process.execPath, ["-e", questions, module], { cwd: path.resolve(__dirname, "../../.."), env: { ...process.env, TZ: zone }, encoding: "utf8" });
    expect(child.stderr).toBe("");
    // the zone took effect in the child (else the comparison below proves nothing)
    expect(JSON.parse(child.stdout)).toEqual({ offset, ...utc });
    // and this process agrees
    expect({ next: nextRuns("30 4 * * 6", 2, new Date("2024-01-06T04:30:00Z")).map((d) => d.toISOString()), matches: cronMatches("15 2 * * 0", new Date("2024-01-07T02:15:00Z")), gap: maxCronGapMinutes(["0 23 * * 1-5", "30 0 * * 1-5"]) }).toEqual(utc);
  });
});
