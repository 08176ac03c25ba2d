// Restore targets: what a written target means, the pgBackRest restore options
// that reach it, and the canonical text the bootstrap marker records.
import { parseRestoreTarget, restoreTargetArgs, restoreTargetProblem, restoreTargetText, type RestoreTarget } from "../../../components/lib/restore-target";

describe("parseRestoreTarget", () => {
  it("reads a target with blanks around it, and upper-cases an LSN", () => {
    expect(parseRestoreTarget("  latest\n")).toEqual({ kind: "latest" });
    expect(parseRestoreTarget(" xid:1234 ")).toEqual({ kind: "xid", value: "1234" });
    // PostgreSQL prints LSNs in upper case: the marker compares texts
    expect(parseRestoreTarget("lsn:0/16b3a48")).toEqual({ kind: "lsn", value: "0/16B3A48" });
  });
});

describe("a time or a label must be a real instant", () => {
  it.each([
    ["2026-02-30 10:00:00+00", /February 2026 has 28 days, not 30/],
    ["2028-02-30 10:00:00+00", /February 2028 has 29 days, not 30/],
    ["2026-04-31 10:00:00Z", /April 2026 has 30 days, not 31/],
    ["2026-13-01 10:00:00+00", /month 13 does not exist/],
    ["2026-00-10 10:00:00+00", /month 00 does not exist/],
    ["2026-11-00 10:00:00+00", /November 2026 has 30 days, not 0/],
    ["2026-11-30 24:00:00+00", /24:00:00 is not a time of day/],
    ["2026-11-30 23:60:00+00", /23:60:00 is not a time of day/],
    ["2026-11-30 23:59:60+00", /23:59:60 is not a time of day/],
    ["2026-11-30 10:00:00+16", /the zone \+16 is not an offset/],
    ["2026-11-30 10:00:00-01:60", /the zone -01:60 is not an offset/],
    ["20260230-021500F", /February 2026 has 28 days/],
    ["20261130-251500F_20261201-021500D", /25:15:00 is not a time of day/],
  ])("refuses %s at preview, saying why", (text, why) => {
    expect(parseRestoreTarget(text)).toBeUndefined();
    expect(restoreTargetProblem(text)).toMatch(new RegExp(`^"${text.replace(/[+.]/g, "\\$&")}" is not a real instant: `));
    expect(restoreTargetProblem(text)).toMatch(why);
  });

  it.each(["2028-02-29 23:59:59.999999+00", "2026-12-31 00:00:00-15:59", "2026-11-30T14:30:00Z", "20281231-235959F"])("accepts %s", (text) => {
    expect(parseRestoreTarget(text)).toBeDefined();
    expect(restoreTargetProblem(text)).toBeUndefined();
  });

  it("names the forms for what has none of them", () => {
    expect(restoreTargetProblem("yesterday")).toMatch(/^"yesterday" is not a restore target: expected `latest`/);
    expect(restoreTargetProblem("latest")).toBeUndefined();
  });
});

describe("restoreTargetArgs", () => {
  it("restores everything archived for latest, without a stop point", () => {
    expect(restoreTargetArgs({ kind: "latest" })).toEqual(["--type=default"]);
  });

  it.each<[RestoreTarget, string]>([
    [{ kind: "time", value: "2026-11-30 14:30:00+00" }, "--type=time"],
    [{ kind: "xid", value: "1234" }, "--type=xid"],
    [{ kind: "lsn", value: "0/16B3A48" }, "--type=lsn"],
  ])("stops at %j and promotes", (t, type) => {
    const args = restoreTargetArgs(t);
    expect(args).toContain(type);
    expect(args).toContain(`--target=${(t as { value: string }).value}`);
    expect(args).toContain("--target-action=promote");
    expect(args).toHaveLength(3);
  });

  it("restores a label's backup and stops as soon as it is consistent", () => {
    const args = restoreTargetArgs({ kind: "label", value: "20261130-021500F" });
    expect(args).toContain("--set=20261130-021500F");
    expect(args).toContain("--type=immediate");
    expect(args).toContain("--target-action=promote");
    expect(args).toHaveLength(3);
  });
});

describe("restoreTargetText", () => {
  it.each(["latest", "2026-11-30 14:30:00+00", "20261130-021500F", "20261130-021500F_20261201-021500D", "xid:1234", "lsn:0/16B3A48"])(
    "writes %j back as the text it was parsed from",
    (text) => {
      expect(restoreTargetText(parseRestoreTarget(text)!)).toBe(text);
    },
  );
});
