// Calls the policy rules the way @pulumi/policy 1.21's analyzer server does
// (server.js makeAnalyzeRpcFun / makeAnalyzeStackRpcFun), without the CLI:
// props go through the same unknownCheckingProxy, getConfig returns the policy's
// config without enforcementLevel, notApplicable throws, and stack resources get
// parent / propertyDependencies links as resource objects.
import {
  EnforcementLevel,
  PolicyResource,
  PolicyResourceOptions,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
  UnknownValueError,
  unknownCheckingProxy,
} from "@pulumi/policy";
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { policies } from "../../policies/rules";

/** What the engine sends for a string that is not known during preview. */
export const UNKNOWN_STRING: string = unknownValue;
/** ...and for a number (@pulumi/policy proxy.js unknownNumberValue, not exported). */
export const UNKNOWN_NUMBER = "3eeb2bf0-c639-47a8-9e75-3b44932eb421";

export const PROJECT = "homelab-postgres";

type AnyPolicy = ResourceValidationPolicy | StackValidationPolicy;
export type PolicyConfig = Record<string, unknown>;

const UnknownError = UnknownValueError as unknown as new (...args: never[]) => Error;

class NotApplicableError extends Error {
  constructor(readonly reason?: string) {
    super(reason ?? "not applicable");
  }
}

function throwNotApplicable(reason?: string): never {
  throw new NotApplicableError(reason);
}

export interface Violation {
  policy: string;
  message: string;
  urn?: string;
  enforcementLevel: EnforcementLevel;
}

export interface Outcome {
  /** Messages passed to reportViolation, in order. */
  violations: string[];
  /** URN given with each violation (stack rules). */
  urns: (string | undefined)[];
  /** Set when the rule called notApplicable(reason). */
  notApplicable?: string;
  /** Set when the rule read a value unknown during preview (the engine reports it as advisory). */
  unknown?: string;
}

export function urnFor(stack: string, type: string, name: string, parentTypes: string[] = []): string {
  return `urn:pulumi:${stack}::${PROJECT}::${[...parentTypes, type].join("$")}::${name}`;
}

export function defaultOpts(overrides: Partial<PolicyResourceOptions> = {}): PolicyResourceOptions {
  return {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
    ...overrides,
  };
}

function typeMatcher(type: string) {
  return (cls: unknown) => (cls as { __pulumiType?: string }).__pulumiType === type;
}

// The engine hands over a fresh deserialised copy; so do we, so a rule cannot
// mutate a test's fixture.
function proxied(props: Record<string, unknown>): Record<string, unknown> {
  return unknownCheckingProxy(JSON.parse(JSON.stringify(props)) as Record<string, unknown>) as Record<string, unknown>;
}

function getConfigFor(config: PolicyConfig | undefined) {
  return <T extends object>(): T => {
    // like server.js makeGetConfigFun: everything but the enforcement level
    const rest: Record<string, unknown> = { ...config };
    delete rest.enforcementLevel;
    return rest as T;
  };
}

export interface ResourceCase {
  stack?: string;
  name?: string;
  urn?: string;
  config?: PolicyConfig;
  opts?: Partial<PolicyResourceOptions>;
}

export function resourceArgs(type: string, props: Record<string, unknown>, c: ResourceCase = {}): ResourceValidationArgs {
  const name = c.name ?? "res";
  const p = proxied(props);
  return {
    type,
    props: p,
    urn: c.urn ?? urnFor(c.stack ?? "dev", type, name),
    name,
    opts: defaultOpts(c.opts),
    stackTags: new Map<string, string>(),
    isType: typeMatcher(type),
    asType: () => undefined,
    getConfig: getConfigFor(c.config),
    notApplicable: throwNotApplicable,
  };
}

async function capture(run: (report: ReportViolation) => Promise<void> | void): Promise<Outcome> {
  const outcome: Outcome = { violations: [], urns: [] };
  try {
    await run((message: string, urn?: string) => {
      outcome.violations.push(message);
      outcome.urns.push(urn);
    });
  } catch (e) {
    if (e instanceof NotApplicableError) outcome.notApplicable = e.reason ?? "";
    else if (e instanceof UnknownError) outcome.unknown = e.message;
    else throw e;
  }
  return outcome;
}

export function isResourcePolicy(p: AnyPolicy): p is ResourceValidationPolicy {
  return "validateResource" in p;
}

export async function runResourceRule(
  policy: ResourceValidationPolicy,
  type: string,
  props: Record<string, unknown>,
  c: ResourceCase = {},
): Promise<Outcome> {
  const validations = policy.validateResource
    ? Array.isArray(policy.validateResource)
      ? policy.validateResource
      : [policy.validateResource]
    : [];
  return capture(async (report) => {
    for (const v of validations) await v(resourceArgs(type, props, c), report);
  });
}

export interface StackResourceInit {
  type: string;
  name: string;
  props: Record<string, unknown>;
  /** URN, or derived from stack/type/name. */
  urn?: string;
  /** URN of the parent resource, if any. */
  parent?: string;
  /** Property name -> URNs the property was computed from. */
  propertyDependencies?: Record<string, string[]>;
  opts?: Partial<PolicyResourceOptions>;
}

export function stackResources(stack: string, inits: StackResourceInit[]): PolicyResource[] {
  const byUrn = new Map<string, PolicyResource>();
  const withUrn = inits.map((i) => ({ ...i, urn: i.urn ?? urnFor(stack, i.type, i.name) }));
  const resources = withUrn.map((i) => {
    const r: PolicyResource = {
      type: i.type,
      name: i.name,
      urn: i.urn,
      props: proxied(i.props),
      opts: defaultOpts({ ...i.opts, parent: i.parent }),
      dependencies: [],
      propertyDependencies: {},
      isType: typeMatcher(i.type),
      asType: () => undefined,
    };
    byUrn.set(i.urn, r);
    return r;
  });
  withUrn.forEach((i, idx) => {
    const r = resources[idx];
    if (i.parent) r.parent = byUrn.get(i.parent);
    for (const [prop, urns] of Object.entries(i.propertyDependencies ?? {})) {
      const deps = urns.map((u) => byUrn.get(u)).filter((d): d is PolicyResource => d !== undefined);
      r.propertyDependencies[prop] = deps;
      for (const d of deps) if (!r.dependencies.includes(d)) r.dependencies.push(d);
    }
  });
  return resources;
}

export interface StackCase {
  stack?: string;
  config?: PolicyConfig;
}

export async function runStackRule(policy: StackValidationPolicy, inits: StackResourceInit[], c: StackCase = {}): Promise<Outcome> {
  const args: StackValidationArgs = {
    resources: stackResources(c.stack ?? "dev", inits),
    stackTags: new Map<string, string>(),
    getConfig: getConfigFor(c.config),
    notApplicable: throwNotApplicable,
  };
  return capture((report) => policy.validateStack(args, report));
}

export function policyNamed(name: string): AnyPolicy {
  const p = policies.find((x) => x.name === name);
  if (!p) throw new Error(`no policy named ${name} in the pack`);
  return p;
}

/** The pack's resource rule of that name (throws when it is missing or a stack rule). */
export function resourcePolicy(name: string): ResourceValidationPolicy {
  const p = policyNamed(name);
  if (!isResourcePolicy(p)) throw new Error(`${name} is not a resource rule`);
  return p;
}

/** The pack's stack rule of that name (throws when it is missing or a resource rule). */
export function stackPolicy(name: string): StackValidationPolicy {
  const p = policyNamed(name);
  if (isResourcePolicy(p)) throw new Error(`${name} is not a stack rule`);
  return p;
}

export interface PackResult {
  violations: Violation[];
  /** Rule -> reasons it read a value unknown during preview. */
  unknowns: { policy: string; message: string }[];
}

/**
 * Runs every rule of the pack over a stack's resources, as `pulumi preview
 * --policy-pack policies` would: each resource rule on each resource's inputs,
 * then each stack rule once over all of them. `config` is the policy-pack config
 * (`--policy-pack-config`), keyed by rule name.
 */
export async function runPack(
  stack: string,
  inits: StackResourceInit[],
  config: Record<string, PolicyConfig> = {},
  pack: AnyPolicy[] = policies,
): Promise<PackResult> {
  const result: PackResult = { violations: [], unknowns: [] };
  const levelOf = (p: AnyPolicy): EnforcementLevel =>
    (config[p.name]?.enforcementLevel as EnforcementLevel | undefined) ?? p.enforcementLevel ?? "mandatory";
  const collect = (p: AnyPolicy, o: Outcome, defaultUrn?: string) => {
    o.violations.forEach((message, i) =>
      result.violations.push({ policy: p.name, message, urn: o.urns[i] ?? defaultUrn, enforcementLevel: levelOf(p) }),
    );
    if (o.unknown) result.unknowns.push({ policy: p.name, message: o.unknown });
  };
  for (const p of pack) {
    if (levelOf(p) === "disabled") continue;
    if (isResourcePolicy(p)) {
      for (const i of inits) {
        const urn = i.urn ?? urnFor(stack, i.type, i.name);
        const o = await runResourceRule(p, i.type, i.props, {
          stack,
          name: i.name,
          urn,
          config: config[p.name],
          opts: { ...i.opts, parent: i.parent },
        });
        collect(p, o, urn);
      }
    } else {
      collect(p, await runStackRule(p, inits, { stack, config: config[p.name] }));
    }
  }
  return result;
}
