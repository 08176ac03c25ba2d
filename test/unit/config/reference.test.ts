// The README's config reference is generated from the schema: it must be current,
// and no key may be undocumented (the generator would silently skip it).
import * as fs from "fs";
import * as path from "path";
import type { z } from "zod";
import { SECTIONS, parseConfig } from "../../../components/config";
import { keyDocs } from "../../../components/config/fields";
import { objectKeys, unwrap } from "../../../components/config/problems";
import { REFERENCE_END, REFERENCE_START, renderConfigReference, replaceReference } from "../../../components/config/reference";

const README = fs.readFileSync(path.join(__dirname, "../../../README.md"), "utf8");

/** Every leaf key of the schema (objects are walked, lists of objects as `key[]`). */
function leaves(prefix: string, schema: z.ZodType): { key: string; schema: z.ZodType }[] {
  const inner = unwrap(schema);
  const keys = objectKeys(inner);
  const def = (inner as unknown as { _zod: { def: { type: string; element?: z.ZodType; shape?: Record<string, z.ZodType> } } })._zod.def;
  if (keys.length > 0) return keys.flatMap((k) => leaves(`${prefix}.${k}`, def.shape![k]));
  if (def.type === "array" && def.element && objectKeys(def.element).length > 0) {
    return [{ key: prefix, schema }, ...leaves(`${prefix}[]`, def.element)];
  }
  return [{ key: prefix, schema }];
}

describe("config reference", () => {
  it("is what `npm run docs` would write (run it after changing the schema)", () => {
    expect(README).toContain(REFERENCE_START);
    expect(README).toContain(REFERENCE_END);
    expect(replaceReference(README)).toBe(README);
  });

  it("documents every key of the schema", () => {
    const all = Object.entries(SECTIONS).flatMap(([k, s]) => leaves(k, s as z.ZodType));
    const undocumented = all.filter((l) => keyDocs.get(l.schema) === undefined).map((l) => l.key);
    expect(undocumented).toEqual([]);
    const table = renderConfigReference();
    for (const l of all) expect(table).toContain(`| \`${l.key}\` |`);
    expect(all.length).toBeGreaterThan(40);
  });

  it("states the defaults the parser applies", () => {
    // every backticked default in the table against what parseConfig gives an empty dev config
    const parsed = parseConfig("dev", {}) as unknown as Record<string, unknown>;
    const rows = renderConfigReference().split("\n").filter((l) => l.startsWith("| `") && !l.startsWith("| `apps["));
    let checked = 0;
    for (const row of rows) {
      const [key, , shown] = row.split(" | ").map((c) => c.trim());
      const m = /^`(.*)`$/.exec(shown ?? "");
      if (!m) continue;
      const value = key.replace(/^\| /, "").replace(/`/g, "").split(".").reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], parsed);
      expect([key, typeof value === "object" ? JSON.stringify(value) : String(value)]).toEqual([key, m[1]]);
      checked++;
    }
    expect(checked).toBeGreaterThan(25);
  });
});
