// From zod issues to the ConfigError operators read, and the README reference's
// markers: the paths and wording an operator sees.
import { stackSchema as schemaOf } from "../../../components/config";
import { ConfigError, issuesToProblems, objectKeys, schemaAt } from "../../../components/config/problems";
import { REFERENCE_END, REFERENCE_START, replaceReference } from "../../../components/config/reference";
import { problems } from "../../helpers/config";

const stackSchema = schemaOf("dev");

describe("ConfigError", () => {
  it("counts its problems in words that agree with the count", () => {
    const one = new ConfigError("dev", [{ path: "homelab-postgres:apps", message: "bad" }]);
    expect(one.message).toMatch(/^invalid stack config for stack 'dev' \(1 problem\):\n {2}- homelab-postgres:apps: bad$/);
    const two = new ConfigError("dev", [{ path: "a", message: "x" }, { path: "b", message: "y" }]);
    expect(two.message).toMatch(/\(2 problems\)/);
  });
});

describe("schemaAt", () => {
  it("follows object keys and list indexes, and nothing else", () => {
    expect(objectKeys(schemaAt(stackSchema, ["apps", 0])!)).toContain("readonlyUsers");
    // a list is indexed by numbers: a key name on a list leads nowhere
    expect(schemaAt(stackSchema, ["apps", "name"])).toBeUndefined();
    // a path through a key the schema does not have ends there, however long it is
    expect(schemaAt(stackSchema, ["nope", "deeper"])).toBeUndefined();
    expect(schemaAt(stackSchema, ["apps", 0, "nope", "deeper"])).toBeUndefined();
  });

  it("names an unknown key inside a list item by its index, with the item's keys", () => {
    const p = problems("dev", { apps: [{ name: "langfuse", readonlyUsrs: ["bi"] }] });
    expect(p).toEqual([expect.objectContaining({ path: "homelab-postgres:apps[0].readonlyUsrs" })]);
    expect(p[0].message).toMatch(/did you mean 'readonlyUsers'/);
  });
});

describe("issuesToProblems", () => {
  it("lists no allowed keys when the parent cannot be found in the schema", () => {
    const out = issuesToProblems(stackSchema, [{ code: "unrecognized_keys", path: ["nope"], keys: ["x"], message: "", input: {} }]);
    expect(out).toEqual([{ path: "homelab-postgres:nope.x", message: "unknown key; allowed: " }]);
  });
});

describe("replaceReference", () => {
  const body = (s: string) => `# readme\n${s}\n`;

  it("replaces the block between the markers, a start marker on the first line included", () => {
    const text = `${REFERENCE_START}\nold table\n${REFERENCE_END}\ntail\n`;
    const out = replaceReference(text);
    expect(out.startsWith(`${REFERENCE_START}\n| key | type | default | meaning |`)).toBe(true);
    expect(out).not.toContain("old table");
    expect(out.endsWith(`${REFERENCE_END}\ntail\n`)).toBe(true);
  });

  it.each([
    ["no markers", body("nothing")],
    ["only the end marker", body(REFERENCE_END)],
    ["only the start marker", body(REFERENCE_START)],
    ["the end marker before the start marker", body(`${REFERENCE_END}\n${REFERENCE_START}`)],
  ])("refuses a README with %s", (_, text) => {
    expect(() => replaceReference(text)).toThrow(/no config-reference markers/);
  });
});
