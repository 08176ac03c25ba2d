// postgres.settings checked against the per-major catalog before anything is
// touched: names (with "did you mean"), types, units, ranges, enum values.
import { ConfigError, parseConfig, RawConfig } from "../../../components/config";
import { PG_CATALOGS } from "../../../components/config/pg-settings-catalogs";
import { settingValueProblem } from "../../../components/config/pg-settings";

function problemAt(raw: RawConfig, key: string): string | undefined {
  try {
    parseConfig("dev", raw);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems.find((p) => p.path === `homelab-postgres:postgres.settings.${key}`)?.message;
  }
  return undefined;
}

// 16 is not built by the stack: it runs on an image of one's own
const on = (major: 15 | 16 | 17, settings: Record<string, unknown>): RawConfig => ({
  postgres: major === 16 ? { majorVersion: major, customImage: "registry.local:5000/team/postgres:16.4", settings } : { majorVersion: major, settings },
});

describe("postgres.settings values", () => {
  it.each([
    ["work_mem", "64MB"], ["work_mem", 65536], ["work_mem", "1GB"], ["shared_buffers", "2GB"], ["max_wal_size", "4GB"],
    ["statement_timeout", "30s"], ["statement_timeout", "1min"], ["statement_timeout", 0], ["checkpoint_timeout", "15min"],
    ["log_connections", "yes"], ["log_connections", true], ["log_connections", "of"], ["log_min_messages", "WARNING"],
    ["random_page_cost", 1.1], ["vacuum_cost_delay", "2ms"], ["pg_stat_statements.track", "top"], ["search_path", "app, public"],
    ["myapp.feature_flag", "on"], ["wal_compression", "zstd"],
  ])("accepts %s = %j", (key, value) => {
    expect(problemAt(on(17, { [key]: value }), key)).toBeUndefined();
  });

  it.each([
    ["work_mem", "64XB", /unit must be one of B, kB, MB, GB, TB/],
    ["work_mem", "32kB", /outside 64kB\.\.2147483647kB/],
    ["work_mem", "lots", /not a number/],
    ["work_mem", 1.5, /not an integer/],
    ["max_wal_size", "1kB", /outside/],
    ["statement_timeout", "30 parsecs", /unit must be one of us, ms, s, min, h, d/],
    ["checkpoint_timeout", "10s", /outside 30s\.\.86400s/],
    ["log_connections", "maybe", /expected on\/off/],
    ["log_connections", "o", /expected on\/off/],
    ["log_min_messages", "loud", /must be one of debug5/],
    ["random_page_cost", -1, /outside/],
    ["search_path", true, undefined],
    ["block_size", 4096, /read-only/],
    ["wrok_mem", "4MB", /did you mean 'work_mem'/],
    ["pg_stat_statements.trak", "all", /did you mean 'pg_stat_statements.track'/],
  ])("refuses %s = %j", (key, value, message) => {
    const p = problemAt(on(17, { [key]: value }), key);
    if (message === undefined) expect(p).toBeUndefined(); // a string parameter takes any single line
    else expect(p).toMatch(message);
  });

  it("knows which major has which parameter", () => {
    expect(problemAt(on(17, { transaction_timeout: "5min" }), "transaction_timeout")).toBeUndefined();
    expect(problemAt(on(15, { transaction_timeout: "5min" }), "transaction_timeout")).toMatch(/unknown parameter for PostgreSQL 15/);
    expect(problemAt(on(16, { transaction_timeout: "5min" }), "transaction_timeout")).toMatch(/unknown parameter for PostgreSQL 16/);
  });

  it("reports every bad setting at once, each at its own key", () => {
    let e: unknown;
    try {
      parseConfig("dev", on(17, { work_mem: "64XB", wrok_mem: "1", log_connections: "maybe" }));
    } catch (x) {
      e = x;
    }
    expect((e as ConfigError).problems.map((p) => p.path).sort()).toEqual([
      "homelab-postgres:postgres.settings.log_connections",
      "homelab-postgres:postgres.settings.work_mem",
      "homelab-postgres:postgres.settings.wrok_mem",
    ]);
  });

  it("rounds like PostgreSQL: a unit converts to the base unit before the range check", () => {
    const spec = PG_CATALOGS[17].settings.shared_buffers; // base unit 8kB, min 16 (128kB)
    expect(settingValueProblem(spec, "128kB")).toBeUndefined();
    expect(settingValueProblem(spec, "120kB")).toMatch(/outside/);
    expect(settingValueProblem(spec, 16)).toBeUndefined();
  });

  it("has a catalog for every supported major", () => {
    for (const major of [15, 16, 17] as const) expect(Object.keys(PG_CATALOGS[major].settings).length).toBeGreaterThan(300);
  });
});
