// Restore targets: what a written target means, the pgBackRest restore options
// that reach it, and the canonical text the bootstrap marker records.
import { parseRestoreTarget, restoreTargetArgs, restoreTargetText, type RestoreTarget } from "../../../components/lib/restore-target";

describe("parseRestoreTarget", () => {
  it("reads a target with blanks around it, and upper-cases an LSN", () => {
    expect(parseRestoreTarget("  latest\n")).toEqual({ kind: "latest" });
    expect(parseRestoreTarget(" xid:1234 ")).toEqual({ kind: "xid", value: "1234" });
    // PostgreSQL prints LSNs in upper case: the marker compares texts
    expect(parseRestoreTarget("lsn:0/16b3a48")).toEqual({ kind: "lsn", value: "0/16B3A48" });
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
