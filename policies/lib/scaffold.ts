// The two ways a rule is built: `resourceRule` (one resource's inputs at a time)
// and `stackRule` (every resource of the stack at once). Both do what every rule
// needs in the same way: options declared once with their typed defaults (the
// schema the CLI checks a config file against gets the defaults copied in), the
// config merged over those defaults, exemptions, the enforcement level.
import {
  EnforcementLevel,
  PolicyConfigSchema,
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  Severity,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { currentStackName } from "./stack";

/** JSON schema of one option (the type @pulumi/policy does not export by name). */
export type OptionSchema = NonNullable<PolicyConfigSchema["properties"]>[string];

/** One schema per option of C, so an option cannot lack a schema or a default. */
export type OptionSchemas<C extends object> = { [K in keyof C]-?: OptionSchema };

/** Config every resource rule understands: logical resource names it skips. */
export interface ExemptionConfig {
  exemptResources: string[];
}

/** The schema of an option that is a list of strings: most of the pack's options are. */
export function stringListOption(description: string): OptionSchema {
  return { type: "array", items: { type: "string" }, description };
}

const exemptResourcesSchema = stringListOption("Logical resource names (or full URNs) this rule skips. Say why in the config file.");

function isExempt(exempt: readonly string[], name: string, urn: string): boolean {
  return exempt.includes(name) || exempt.includes(urn);
}

/** `given` over `defaults`; an option set to null counts as unset. */
export function withDefaults<C extends object>(defaults: C, given: Partial<C>): C {
  const merged = { ...defaults };
  for (const [k, v] of Object.entries(given)) {
    if (v !== undefined && v !== null) (merged as Record<string, unknown>)[k] = v;
  }
  return merged;
}

/** The typed `defaults` are the one source; the schema the CLI shows gets them copied in. */
export function configSchema(options: { [key: string]: OptionSchema }, defaults: object): PolicyConfigSchema {
  const given = defaults as Record<string, OptionSchema["default"]>;
  const properties = Object.fromEntries(Object.entries(options).map(([k, schema]) => [k, { ...schema, default: given[k] }]));
  return { properties };
}

interface RuleSpec<C extends object> {
  name: string;
  description: string;
  enforcementLevel: EnforcementLevel;
  severity: Severity;
  remediationSteps: string;
  /** The rule's options, without defaults (those come from `defaults`). */
  options: OptionSchemas<C>;
  defaults: C;
}

export interface ResourceRuleSpec<C extends object> extends RuleSpec<C> {
  types: readonly string[];
  check: (
    props: Record<string, unknown>,
    ctx: { args: ResourceValidationArgs; config: C & ExemptionConfig; stack: string },
    report: (message: string) => void,
  ) => void;
}

/**
 * A rule over one resource of the given types at a time. It gets the option
 * `exemptResources` on top of its own, and skips the resources listed there.
 */
export function resourceRule<C extends object>(spec: ResourceRuleSpec<C>): ResourceValidationPolicy {
  const defaults: C & ExemptionConfig = { ...spec.defaults, exemptResources: [] };
  return {
    name: spec.name,
    description: spec.description,
    enforcementLevel: spec.enforcementLevel,
    severity: spec.severity,
    remediationSteps: spec.remediationSteps,
    configSchema: configSchema({ ...spec.options, exemptResources: exemptResourcesSchema }, defaults),
    validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
      if (!spec.types.includes(args.type)) {
        args.notApplicable(`applies to ${spec.types.join(", ")}`);
      }
      const config = withDefaults(defaults, args.getConfig<Partial<C & ExemptionConfig>>());
      if (isExempt(config.exemptResources, args.name, args.urn)) return;
      const stack = currentStackName([args.urn]);
      spec.check(args.props, { args, config, stack }, (m) => reportViolation(m));
    },
  };
}

export interface StackRuleSpec<C extends object> extends RuleSpec<C> {
  /** The option listing logical names (or URNs) of resources the rule skips, if it has one. */
  exemptions?: (config: C) => readonly string[];
  check: (
    args: StackValidationArgs,
    ctx: { config: C; stack: string; isExempt: (resource: PolicyResource) => boolean },
    report: ReportViolation,
  ) => void;
}

/**
 * A rule over the whole stack. Exempt resources are not removed from
 * `args.resources` (a rule may still need them as context, e.g. to count the
 * buckets of a component); the rule asks `isExempt` before reporting on one.
 */
export function stackRule<C extends object>(spec: StackRuleSpec<C>): StackValidationPolicy {
  return {
    name: spec.name,
    description: spec.description,
    enforcementLevel: spec.enforcementLevel,
    severity: spec.severity,
    remediationSteps: spec.remediationSteps,
    configSchema: configSchema(spec.options, spec.defaults),
    validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
      const config = withDefaults(spec.defaults, args.getConfig<Partial<C>>());
      const exempt = spec.exemptions?.(config) ?? [];
      const stack = currentStackName(args.resources.map((r) => r.urn));
      spec.check(args, { config, stack, isExempt: (r) => isExempt(exempt, r.name, r.urn) }, reportViolation);
    },
  };
}
