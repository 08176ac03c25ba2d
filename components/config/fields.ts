// Building blocks of the config schema (zod). Each builder states a key's type,
// default and one line of documentation in one place; the README's config
// reference is generated from the same registry (reference.ts). Messages keep the
// wording operators already see: "expected an integer, got string \"x\"".
import { z } from "zod";

/** What the reference table says about a key. */
export interface KeyDoc {
  /** Type column, e.g. `1024–65535`, `bool`, `image ref`. */
  type: string;
  /** Default column as shown; absent for keys without one. */
  shown?: string;
  /** Meaning column. */
  doc: string;
  /** Marks a Pulumi secret in the reference. */
  secret?: boolean;
}

/** Every documented key schema → its documentation. */
export const keyDocs = z.registry<KeyDoc>();

/** How a value reads in a message: `string "x"`, `a list`, `null`. */
export function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "an object";
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** YAML `key:` with no value is null: treated as absent, as Pulumi config would. */
const absent = (v: unknown): unknown => (v === null ? undefined : v);

function documented<T extends z.ZodType>(schema: T, doc: KeyDoc): T {
  (schema as z.ZodType).register(keyDocs, doc);
  return schema;
}

/** A key's schema as the sections see it: any input, this output. */
export type Field<Out> = z.ZodType<Out, unknown>;

interface IntOptions { min: number; max: number; type?: string; shown?: string; doc: string }

/** An integer in [min, max]; numeric strings are accepted (top-level Pulumi config values are strings). */
export function int(o: IntOptions & { default: number }): Field<number>;
export function int(o: IntOptions & { default?: undefined }): Field<number | undefined>;
export function int(o: IntOptions & { default?: number }): Field<number | undefined> {
  const range = `must be between ${o.min} and ${o.max}`;
  const inner = z
    .number({ error: (iss) => `expected an integer, got ${describeValue(iss.input)}` })
    .int({ error: (iss) => `expected an integer, got ${describeValue(iss.input)}` })
    .min(o.min, { error: (iss) => `${range}, got ${String(iss.input)}` })
    .max(o.max, { error: (iss) => `${range}, got ${String(iss.input)}` });
  const coerce = (v: unknown) => {
    const a = absent(v);
    return typeof a === "string" && /^-?\d+$/.test(a) ? Number(a) : a;
  };
  const doc = { type: o.type ?? `${o.min}–${o.max}`, shown: o.shown ?? (o.default === undefined ? undefined : `\`${o.default}\``), doc: o.doc };
  return o.default === undefined
    ? documented(z.preprocess(coerce, inner.optional()), doc)
    : documented(z.preprocess(coerce, inner.default(o.default)), doc);
}

/** true/false, or the strings "true"/"false". */
export function bool(o: { default: boolean; doc: string; shown?: string }): Field<boolean> {
  const coerce = (v: unknown) => {
    const a = absent(v);
    return a === "true" ? true : a === "false" ? false : a;
  };
  return documented(
    z.preprocess(coerce, z.boolean({ error: (iss) => `expected true or false, got ${describeValue(iss.input)}` }).default(o.default)),
    { type: "bool", shown: o.shown ?? `\`${o.default}\``, doc: o.doc },
  );
}

/** true/false (or the strings) with no fixed default: absent stays undefined, the parser decides (e.g. per stack). */
export function optBool(o: { shown: string; doc: string }): Field<boolean | undefined> {
  const coerce = (v: unknown) => {
    const a = absent(v);
    return a === "true" ? true : a === "false" ? false : a;
  };
  return documented(
    z.preprocess(coerce, z.boolean({ error: (iss) => `expected true or false, got ${describeValue(iss.input)}` }).optional()),
    { type: "bool", shown: o.shown, doc: o.doc },
  );
}

const stringType = () => z.string({ error: (iss) => `expected a string, got ${describeValue(iss.input)}` });

/**
 * A string; its content rules live in the section's checks, where they can name the key.
 * `numbers`: a YAML number (`rotation: 2026`) is taken as its text.
 */
interface StrOptions { type: string; doc: string; shown?: string; secret?: boolean; numbers?: boolean }
export function str(o: StrOptions & { default: string }): Field<string>;
export function str(o: StrOptions & { default?: undefined }): Field<string | undefined>;
export function str(o: StrOptions & { default?: string }): Field<string | undefined> {
  const doc: KeyDoc = { type: o.type, shown: o.shown ?? (o.default === undefined ? undefined : `\`${o.default}\``), doc: o.doc, secret: o.secret };
  const pre = (v: unknown) => {
    const a = absent(v);
    return o.numbers && typeof a === "number" ? String(a) : a;
  };
  return o.default === undefined
    ? documented(z.preprocess(pre, stringType().optional()), doc)
    : documented(z.preprocess(pre, stringType().default(o.default)), doc);
}

/** One of a few words. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T, o: { default: T[number]; doc: string; label?: string; shown?: string }): Field<T[number]> {
  const words = o.label ?? `${values.slice(0, -1).join(", ")} or ${values[values.length - 1]}`;
  return documented(
    z.preprocess(absent, z.enum(values, { error: (iss) => `must be ${words}, got ${describeValue(iss.input)}` }).default(o.default)),
    { type: values.map((v) => `\`${v}\``).join(" \\| "), shown: o.shown ?? `\`${o.default}\``, doc: o.doc },
  );
}

/** One of a few words, or absent (its default comes from another key, resolved by the caller). */
export function optOneOf<const T extends readonly [string, ...string[]]>(values: T, o: { shown: string; doc: string }): Field<T[number] | undefined> {
  const words = `${values.slice(0, -1).join(", ")} or ${values[values.length - 1]}`;
  return documented(
    z.preprocess(absent, z.enum(values, { error: (iss) => `must be ${words}, got ${describeValue(iss.input)}` }).optional()),
    { type: values.map((v) => `\`${v}\``).join(" \\| "), shown: o.shown, doc: o.doc },
  );
}

/** A list of strings (each item's rules live in the section's checks). */
export function stringList(o: { type: string; doc: string; default?: string[] }): Field<string[]> {
  const list = z.array(stringType(), { error: (iss) => `expected a list, got ${describeValue(iss.input)}` });
  return documented(z.preprocess(absent, list.default(o.default ?? [])), {
    type: o.type,
    shown: `\`${JSON.stringify(o.default ?? [])}\``,
    doc: o.doc,
  });
}

/**
 * An object with exactly these keys: unknown keys are problems (with "did you mean",
 * added when issues become problems), absent or null means every default.
 */
export function section<S extends z.ZodRawShape>(shape: S): Field<z.output<z.ZodObject<S>>> {
  const obj = z.strictObject(shape, {
    error: (iss) => (iss.code === "invalid_type" ? `expected an object, got ${describeValue(iss.input)}` : undefined),
  });
  return z.preprocess(absent, obj.prefault({} as z.input<typeof obj>));
}

/** A list of objects. */
export function listOf<T extends z.ZodType>(item: T, o: { what: string; doc: KeyDoc }): Field<z.output<T>[]> {
  return documented(
    z.preprocess(absent, z.array(item, { error: (iss) => `expected a list of ${o.what}, got ${describeValue(iss.input)}` }).default([])),
    o.doc,
  );
}
