// PostgreSQL's own value syntax, checked by the parser behind postgres.settings
// (guc.c: parse_bool, parse_int, parse_real and their units), called directly so
// every number form, blank, case and range edge is pinned down.
import { PG_CATALOGS, enumValuesAcrossBuilds } from "../../../components/config/pg-settings-catalogs";
import { type PgSettingSpec, settingProblem, settingValueProblem, specOf } from "../../../components/config/pg-settings";

const pg17 = PG_CATALOGS[17];
const spec = (name: string): PgSettingSpec => {
  const s = pg17.settings[name];
  if (!s) throw new Error(`no ${name} in the pg17 catalog`);
  return s;
};
const noSuggestion = (): string => "";

describe("numbers in PostgreSQL's syntax", () => {
  it.each([
    ["random_page_cost", "1.25"], ["random_page_cost", "1e3"], ["random_page_cost", "1E10"], ["random_page_cost", "1e-3"],
    ["random_page_cost", "1e+3"], ["random_page_cost", ".25"], ["random_page_cost", ".5e2"], ["random_page_cost", ".5e-10"],
    ["random_page_cost", " 2.5 "], ["max_connections", "0x64"], ["max_connections", "+0x64"], ["max_connections", "0X1f4"],
    ["max_connections", "+100"], ["work_mem", "1.5MB"], ["work_mem", "64kB "], ["work_mem", " 64 kB"],
  ])("accepts %s = %j", (name, value) => {
    expect(settingValueProblem(spec(name), value)).toBeUndefined();
  });

  it.each([
    ["random_page_cost", "x5", /is not a number/],
    ["work_mem", "64kB 1", /is not a number with an optional unit/],
    ["work_mem", "-0x10", /outside 64kB/], // a signed hex number keeps its sign: -16 kB
    ["max_connections", "-0x10", /outside 1\.\.262143/],
    ["max_connections", "262144", /outside 1\.\.262143/],
    ["work_mem", "2147483648kB", /outside 64kB\.\.2147483647kB/],
    ["work_mem", true, /^expected a number, got true$/],
  ])("refuses %s = %j", (name, value, message) => {
    expect(settingValueProblem(spec(name), value)).toMatch(message);
  });

  it("accepts the maximum itself", () => {
    expect(settingValueProblem(spec("max_connections"), 262143)).toBeUndefined();
    expect(settingValueProblem(spec("work_mem"), "2147483647kB")).toBeUndefined();
  });

  it("takes no unit suffix when the parameter's base unit is not one it knows", () => {
    for (const unit of ["XkB", "kBps", "furlong"]) {
      const s: PgSettingSpec = { type: "integer", unit, min: 0, max: 1000, context: "user" };
      expect(settingValueProblem(s, "1kB")).toMatch(/takes no unit/);
      expect(settingValueProblem(s, "1s")).toMatch(/takes no unit/);
      expect(settingValueProblem(s, "5")).toBeUndefined();
    }
  });
});

describe("booleans and enums", () => {
  it("refuses a blank boolean and accepts one with blanks around it", () => {
    expect(settingValueProblem(spec("log_connections"), "  ")).toMatch(/expected on\/off/);
    expect(settingValueProblem(spec("log_connections"), "")).toMatch(/expected on\/off/);
    expect(settingValueProblem(spec("log_connections"), " on ")).toBeUndefined();
  });

  it("matches an enum value case-insensitively, blanks around it ignored", () => {
    expect(settingValueProblem(spec("log_min_messages"), " Warning ")).toBeUndefined();
  });

  it("lists exactly the allowed values (the catalog's and other builds') when refusing one", () => {
    const s: PgSettingSpec = { type: "enum", values: ["off", "on"], context: "user" };
    expect(settingValueProblem(s, "maybe")).toBe('must be one of off, on, got "maybe"');
    expect(settingValueProblem(s, "maybe", ["lz4"])).toBe('must be one of off, on, lz4, got "maybe"');
    const bare: PgSettingSpec = { type: "enum", context: "user" };
    expect(settingValueProblem(bare, "lz4", ["lz4"])).toBeUndefined();
    expect(settingValueProblem(bare, "zstd", ["lz4"])).toBe('must be one of lz4, got "zstd"');
  });

  it("accepts no enum value beyond the catalog's when no other build offers one", () => {
    const p = settingProblem(pg17, "log_min_messages", "Stryker was here", noSuggestion);
    expect(p).toMatch(/^must be one of debug5, .*panic, got "Stryker was here" \(enum\)$/);
  });

  it("has no other builds' enum values for a parameter that is no enum, or unknown", () => {
    expect(enumValuesAcrossBuilds("work_mem")).toEqual([]);
    expect(enumValuesAcrossBuilds("no_such_parameter")).toEqual([]);
    expect(enumValuesAcrossBuilds("wal_compression")).toEqual(expect.arrayContaining(["lz4", "zstd"]));
  });
});

describe("parameter names", () => {
  it("finds a parameter whatever the case of its name", () => {
    expect(specOf(pg17, "datestyle")).toBe(pg17.settings.DateStyle);
    expect(specOf(pg17, "WORK_MEM")).toBe(pg17.settings.work_mem);
    expect(settingProblem(pg17, "Work_Mem", "lots", noSuggestion)).toMatch(/not a number/);
  });

  it("leaves a custom dotted name alone unless its prefix is a module it knows", () => {
    // "work." is no module's prefix, though work_mem starts with "work"
    expect(settingProblem(pg17, "work.flag", "on", noSuggestion)).toBeUndefined();
    expect(settingProblem(pg17, "pg_stat_statements.nope", "on", noSuggestion)).toMatch(/unknown parameter for PostgreSQL 17/);
  });
});
