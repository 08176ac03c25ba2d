// The naming helpers renderers call before emitting text, the S3 bucket rules and
// the "did you mean" behind unknown-key messages.
import { ABS_PATH, APP_NAME, assertAbsPath, assertMatches, bucketNameProblem, suggest } from "../../../components/lib/names";

describe("assertMatches", () => {
  it("returns a matching value and throws, naming it, for one that does not match", () => {
    expect(assertMatches("langfuse", APP_NAME, "app name")).toBe("langfuse");
    expect(() => assertMatches("Langfuse", APP_NAME, "app name")).toThrow(/invalid app name: "Langfuse"/);
  });
});

describe("assertAbsPath", () => {
  it("accepts an absolute path of plain characters", () => {
    expect(assertAbsPath("/var/lib/postgresql/data", "data dir")).toBe("/var/lib/postgresql/data");
    expect(ABS_PATH.test("/a/b..c")).toBe(true);
    expect(assertAbsPath("/a/b..c", "data dir")).toBe("/a/b..c");
  });

  it.each(["relative/path", "/var/lib/$HOME", "/var/lib/a b", "/var/../etc", "/.."])("refuses %j", (p) => {
    expect(() => assertAbsPath(p, "data dir")).toThrow(/invalid data dir/);
  });
});

describe("bucketNameProblem", () => {
  it("refuses only a whole name shaped like an IPv4 address", () => {
    expect(bucketNameProblem("192.168.5.4")).toMatch(/IP address/);
    expect(bucketNameProblem("backup-10.0.0.1")).toBeUndefined();
  });
});

describe("suggest", () => {
  it("suggests the closest candidate within two edits, the first one on a tie", () => {
    expect(suggest("prot", ["port", "host"])).toBe(" (did you mean 'port'?)");
    expect(suggest("ab", ["ax", "ay"])).toBe(" (did you mean 'ax'?)");
    expect(suggest("ab", ["ay", "ax"])).toBe(" (did you mean 'ay'?)");
  });

  it("suggests nothing when every candidate is more than two edits away", () => {
    expect(suggest("q", ["apps", "backup"])).toBe("");
    expect(suggest("x", ["abc"])).toBe("");
    expect(suggest("zzzzzz", ["enabled"])).toBe("");
  });
});
