// The layering docs/architecture.md describes, enforced: no import cycles, and
// every import goes down the layers (lib ← config ← server/apps/ci ← pooler,
// pgadmin, backup ← platform ← index.ts), never up or sideways. The policy pack
// may use components/lib and nothing else of ours.
import * as fs from "fs";
import * as path from "path";

const ROOT = path.resolve(__dirname, "../..");

/** Layer of each folder under components/ (a module may import only lower layers or its own folder). */
const LAYER: Record<string, number> = {
  lib: 0,
  outputs: 1, // the output contract's types
  config: 1,
  server: 2,
  apps: 2,
  ci: 2,
  runtime: 2, // files a running container reloads (pooler, backup use it)
  tls: 3, // the stack CA and the carrier of its certificate for Postgres (uses runtime, server paths)
  pooler: 3, // reach Postgres at the server's internal endpoint
  pgadmin: 3,
  backup: 3, // shares the server's volumes and container layout
  monitoring: 3, // exporters beside the server and pooler; reaches them by what the platform hands in
  replica: 3, // the standby on a second host: the server's renderers and layout, the primary's SQL provider
  external: 3.5, // an existing server instead of ours: wires apps and the pooler against it (postgres.external), below the platform
  platform: 4,
};

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" || e.name === "bin" ? [] : tsFiles(p);
    return p.endsWith(".ts") ? [p] : [];
  });
}

/** Relative imports of a file, resolved to files. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from|import|require\()\s*["'](\.[^"']+)["']/g)) {
    const base = path.resolve(path.dirname(file), m[1]);
    const hit = [`${base}.ts`, path.join(base, "index.ts"), base].find((c) => fs.existsSync(c) && fs.statSync(c).isFile());
    if (!hit) throw new Error(`${path.relative(ROOT, file)}: cannot resolve ${m[1]}`);
    out.push(hit);
  }
  return out;
}

/** `components/<area>/...` → area; `components/platform.ts` → platform. */
function areaOf(file: string): string | undefined {
  const rel = path.relative(path.join(ROOT, "components"), file);
  if (rel.startsWith("..")) return undefined;
  const first = rel.split(path.sep)[0];
  return first.replace(/\.ts$/, "");
}

const files = [...tsFiles(path.join(ROOT, "components")), ...tsFiles(path.join(ROOT, "policies")), path.join(ROOT, "index.ts"), path.join(ROOT, "consumer.ts")];
const graph = new Map(files.map((f) => [f, importsOf(f)]));

describe("architecture", () => {
  it("knows the layer of every folder under components/", () => {
    const areas = new Set(files.map(areaOf).filter((a): a is string => a !== undefined));
    expect([...areas].filter((a) => !(a in LAYER))).toEqual([]);
  });

  it("has no import cycle", () => {
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const visit = (f: string, stack: string[]) => {
      if (state.get(f) === "done") return;
      if (state.get(f) === "open") {
        cycles.push([...stack.slice(stack.indexOf(f)), f].map((x) => path.relative(ROOT, x)).join(" → "));
        return;
      }
      state.set(f, "open");
      for (const d of graph.get(f) ?? []) visit(d, [...stack, f]);
      state.set(f, "done");
    };
    for (const f of files) visit(f, []);
    expect(cycles).toEqual([]);
  });

  it("imports only down the layers (or within a folder)", () => {
    const bad: string[] = [];
    for (const [f, deps] of graph) {
      const from = areaOf(f);
      for (const d of deps) {
        const to = areaOf(d);
        const rel = `${path.relative(ROOT, f)} → ${path.relative(ROOT, d)}`;
        if (f.startsWith(path.join(ROOT, "policies"))) {
          if (!d.startsWith(path.join(ROOT, "policies")) && to !== "lib") bad.push(rel);
          continue;
        }
        if (from === undefined || to === undefined || from === to) continue;
        if (!(LAYER[to] < LAYER[from])) bad.push(rel);
      }
    }
    expect(bad).toEqual([]);
  });

  it("keeps lib free of everything but node builtins and provider types", () => {
    const bad: string[] = [];
    for (const f of files.filter((x) => areaOf(x) === "lib")) {
      const text = fs.readFileSync(f, "utf8");
      for (const m of text.matchAll(/from\s+["']([^."'][^"']*)["']/g)) {
        if (!/^(fs|path|net|crypto|croner|@pulumi\/(pulumi|docker))$/.test(m[1])) bad.push(`${path.relative(ROOT, f)} imports ${m[1]}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it("keeps every file in components/ and policies/ under 450 lines", () => {
    const long = files
      .map((f) => [path.relative(ROOT, f), fs.readFileSync(f, "utf8").split("\n").length] as const)
      .filter(([f, n]) => (f.startsWith("components") || f.startsWith("policies")) && n > 450);
    expect(long).toEqual([]);
  });
});
