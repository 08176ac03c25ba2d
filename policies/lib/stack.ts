// Which stack is being checked, and picking resources out of a stack by type.
import { PolicyResource } from "@pulumi/policy";

/** Stack name from a URN (`urn:pulumi:<stack>::<project>::<type>::<name>`). */
export function stackNameFromUrn(urn: string): string | undefined {
  const m = /^urn:pulumi:([^:]+)::/.exec(urn);
  return m ? m[1] : undefined;
}

/**
 * The stack being checked: from the URNs the engine passes (always present), or
 * from the environment the engine gives the policy pack process
 * (PULUMI_STACK / PULUMI_NODEJS_STACK) when there is no resource at all.
 */
export function currentStackName(urns: string[], env: NodeJS.ProcessEnv = process.env): string {
  for (const urn of urns) {
    const s = stackNameFromUrn(urn);
    if (s) return s;
  }
  const fromEnv = env.PULUMI_STACK || env.PULUMI_NODEJS_STACK || "";
  // `org/project/stack` -> `stack`
  return fromEnv.split("/").pop() ?? "";
}

/** The resources of a stack whose type is one of `types`. */
export function ofType(resources: PolicyResource[], types: readonly string[]): PolicyResource[] {
  return resources.filter((r) => types.includes(r.type));
}

/**
 * Stacks the program treats as prod (components/config/constants.ts isProdStack:
 * `prod` and `prod-*`), as the patterns the pack's stack lists default to.
 */
export const PROD_STACK_PATTERNS: readonly string[] = ["prod", "prod-*"];

/**
 * Whether `stack` matches one of `patterns`: exact names, or `*` for any run of
 * characters (`prod-*`). Nothing else is special, so a name with dots matches itself.
 */
export function stackMatches(stack: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => {
    const re = new RegExp(`^${p.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
    return re.test(stack);
  });
}
