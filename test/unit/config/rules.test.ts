// rules.ts: the helpers every cross-key rule reads raw values with. A key that failed
// its own type check still holds its raw input when the rules run, so they must
// tell a real object from null, a list or a scalar (typeof null is "object").
import { z } from "zod";
import { isNum, isObj, rule } from "../../../components/config/rules";

describe("config rule helpers", () => {
  it("isObj: a plain object only, not null or a list", () => {
    expect(isObj({})).toBe(true);
    expect(isObj(null)).toBe(false);
    expect(isObj([])).toBe(false);
    expect(isObj("x")).toBe(false);
  });

  it("isNum: a finite number only", () => {
    expect(isNum(3)).toBe(true);
    expect(isNum(Number.NaN)).toBe(false);
    expect(isNum(Infinity)).toBe(false);
    expect(isNum("3")).toBe(false);
  });

  it("a rule is not called with a value that is not an object: the type problem stands alone", () => {
    const seen: unknown[] = [];
    const schema = z.object({}).check(rule((v, report) => {
      seen.push(v);
      report([], "rule ran");
    }));
    for (const input of [null, [], "x", 5]) {
      const r = schema.safeParse(input);
      expect(r.success).toBe(false);
      expect(r.error?.issues.map((i) => i.code)).toEqual(["invalid_type"]);
    }
    expect(seen).toEqual([]);
    expect(schema.safeParse({}).error?.issues.map((i) => i.message)).toEqual(["rule ran"]);
  });
});
