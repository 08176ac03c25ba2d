// Reading resource properties as the engine presents them. A value not known yet
// during preview throws UnknownValueError when read; the framework would turn that
// into an advisory "can't run during preview" note for the whole rule. These
// helpers catch it and return UNKNOWN instead, so a rule can check the rest of the
// resource; `pulumi up` runs every rule again with all values known.
import { UnknownValueError } from "@pulumi/policy";

/** Marks a value the engine does not know yet (preview). */
export const UNKNOWN: unique symbol = Symbol("unknown");
export type Unknown = typeof UNKNOWN;

// The d.ts of @pulumi/policy re-exports UnknownValueError from an internal module
// whose declaration is stripped, so give it the type it has at runtime.
const UnknownError = UnknownValueError as unknown as new (...args: never[]) => Error;

/** `obj[key]`, or UNKNOWN when the engine's proxy says the value is not known yet. */
export function read(obj: unknown, key: string | number): unknown {
  if (obj === null || obj === undefined || typeof obj !== "object") return undefined;
  try {
    return (obj as Record<string | number, unknown>)[key];
  } catch (e) {
    if (e instanceof UnknownError) return UNKNOWN;
    throw e;
  }
}

/** Follows a path of keys; UNKNOWN as soon as one step is unknown. */
export function readPath(obj: unknown, ...keys: (string | number)[]): unknown {
  let cur: unknown = obj;
  for (const k of keys) {
    if (cur === UNKNOWN) return UNKNOWN;
    cur = read(cur, k);
  }
  return cur;
}

/** The elements of an array value (each possibly UNKNOWN); [] for anything else. */
export function items(value: unknown): unknown[] {
  if (!Array.isArray(value)) return [];
  const out: unknown[] = [];
  for (let i = 0; i < value.length; i++) out.push(read(value, i));
  return out;
}

export function asString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** The known string elements of an array value. */
export function asStringArray(value: unknown): string[] {
  return items(value).filter((v): v is string => typeof v === "string");
}
