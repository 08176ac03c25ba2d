// From zod issues to the error operators read: one ConfigError listing every
// problem, each with its full key path (`homelab-postgres:apps[1].name`), unknown
// keys one by one with a "did you mean".
import type { z } from "zod";
import { suggest } from "../lib/names";
import { PROJECT } from "./constants";

export interface ConfigProblem {
  /** Key path, e.g. `homelab-postgres:apps[1].name`. */
  path: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly stack: string, readonly problems: ConfigProblem[]) {
    super(
      `invalid stack config for stack '${stack}' (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p.path}: ${p.message}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

/** `homelab-postgres:apps[1].name` from `["apps", 1, "name"]`. */
export function keyPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += out === "" ? String(seg) : `.${String(seg)}`;
  }
  return `${PROJECT}:${out}`;
}

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  innerType?: z.ZodType;
  out?: z.ZodType;
}

const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** Strips the wrappers the field builders add (preprocess pipes, defaults, optional). */
export function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (;;) {
    const d = defOf(s);
    if (d.type === "pipe" && d.out) s = d.out;
    else if (d.innerType && ["default", "prefault", "optional", "nullable", "catch", "readonly", "nonoptional"].includes(d.type)) s = d.innerType;
    else return s;
  }
}

/** The object keys a schema allows, or [] when it is not an object. */
export function objectKeys(schema: z.ZodType): string[] {
  const d = defOf(unwrap(schema));
  return d.type === "object" && d.shape ? Object.keys(d.shape) : [];
}

/** The schema at a path inside `root` (object keys and list indexes), unwrapped. */
export function schemaAt(root: z.ZodType, path: readonly PropertyKey[]): z.ZodType | undefined {
  let s: z.ZodType | undefined = unwrap(root);
  for (const seg of path) {
    if (!s) return undefined;
    const d = defOf(s);
    if (d.type === "object" && d.shape && typeof seg === "string") s = d.shape[seg];
    else if (d.type === "array" && d.element && typeof seg === "number") s = d.element;
    else return undefined;
    s = s && unwrap(s);
  }
  return s;
}

/** Every zod issue as a problem; unknown keys become one problem each, with a suggestion. */
export function issuesToProblems(root: z.ZodType, issues: readonly z.core.$ZodIssue[]): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const iss of issues) {
    if (iss.code === "unrecognized_keys") {
      const parent = schemaAt(root, iss.path);
      const allowed = parent ? objectKeys(parent) : [];
      for (const key of iss.keys) {
        out.push({ path: keyPath([...iss.path, key]), message: `unknown key${suggest(key, allowed)}; allowed: ${allowed.join(", ")}` });
      }
    } else {
      out.push({ path: keyPath(iss.path), message: iss.message });
    }
  }
  return out;
}
