// Checks that need more than one key (or a key's content beyond its type) run as
// zod checks that always run, even when a sibling key already failed: the report
// must list every problem at once. So a rule reads its values defensively — a key
// that failed its own type check still holds the raw input here.
import * as core from "zod/v4/core";

/** Reports a problem at a path relative to the object the rule is attached to. */
export type Report = (path: readonly PropertyKey[], message: string) => void;

/** The value a rule sees: the section's output shape, but any key may still hold raw input. */
export type Loose<T> = { readonly [K in keyof T]?: unknown };

/** A check on an object schema that runs whatever else failed. */
export function rule<T extends object>(fn: (value: Loose<T>, report: Report) => void): core.$ZodCheck<T> {
  return core._check<T>(
    (payload) => {
      const value = payload.value as unknown;
      if (typeof value !== "object" || value === null || Array.isArray(value)) return;
      fn(value as Loose<T>, (path, message) => {
        payload.issues.push({ code: "custom", path: [...path], message, input: value });
      });
    },
    { when: () => true },
  );
}

export const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
export const isStr = (v: unknown): v is string => typeof v === "string";
export const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
