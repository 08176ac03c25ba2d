// How a bucket's settings are found and judged. In the AWS provider v7 they are
// separate companion resources pointing at the bucket by its `bucket` input; the
// deprecated inline settings on the bucket count too. Each check answers true,
// false, or UNKNOWN (a value still unknown during preview: not reported then,
// `pulumi up` runs the stack rules again with every value known).
import { PolicyResource } from "@pulumi/policy";
import { items, read, readPath, UNKNOWN, Unknown } from "./props";
import { ofType } from "./stack";

/**
 * Whether companion `c` (its `bucket` input names a bucket) configures bucket `b`.
 * In order:
 * 1. the engine's property dependencies: `bucket` was computed from b (exact, and
 *    works in preview when the name is still unknown);
 * 2. the known name: c.bucket equals b's `bucket` or `id`;
 * 3. c is a child of b;
 * 4. c and b share a parent component that holds exactly one bucket (the
 *    program's BackupBucket component).
 */
export function companionConfigures(c: PolicyResource, b: PolicyResource, buckets: PolicyResource[]): boolean {
  const deps = c.propertyDependencies?.["bucket"] ?? [];
  if (deps.some((d) => d.urn === b.urn)) return true;
  const name = read(c.props, "bucket");
  if (typeof name === "string" && name !== "") {
    const bName = read(b.props, "bucket");
    const bId = read(b.props, "id");
    if (name === bName || name === bId) return true;
  }
  if (c.parent?.urn === b.urn) return true;
  const parent = c.parent?.urn;
  if (parent !== undefined && b.parent?.urn === parent) {
    return buckets.filter((x) => x.parent?.urn === parent).length === 1;
  }
  return false;
}

/** The resources of `types` that configure bucket `b`. */
export function companionsOf(b: PolicyResource, all: PolicyResource[], types: readonly string[], buckets: PolicyResource[]): PolicyResource[] {
  return ofType(all, types).filter((c) => companionConfigures(c, b, buckets));
}

/** A check's answer; UNKNOWN while a value it needs is unknown (preview). */
export type Check = true | false | Unknown;

/** True when one source says so; otherwise UNKNOWN when one could not tell yet. */
export function anyOf(values: Check[]): Check {
  if (values.includes(true)) return true;
  return values.includes(UNKNOWN) ? UNKNOWN : false;
}

/** Versioning Enabled, on the bucket or a BucketVersioning. */
export function versioningEnabled(b: PolicyResource, companions: PolicyResource[]): Check {
  const inline = readPath(b.props, "versioning", "enabled");
  return anyOf([
    inline === UNKNOWN ? UNKNOWN : inline === true,
    ...companions.map((c): Check => {
      const status = readPath(c.props, "versioningConfiguration", "status");
      return status === UNKNOWN ? UNKNOWN : status === "Enabled";
    }),
  ]);
}

const SSE_ALGORITHMS = ["AES256", "aws:kms", "aws:kms:dsse"];

function sseRuleOk(rule: unknown): Check {
  const alg = readPath(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm");
  return alg === UNKNOWN ? UNKNOWN : typeof alg === "string" && SSE_ALGORITHMS.includes(alg);
}

/** Default encryption with an accepted algorithm, on the bucket or a companion. */
export function encryptionEnabled(b: PolicyResource, companions: PolicyResource[]): Check {
  return anyOf([
    sseRuleOk(readPath(b.props, "serverSideEncryptionConfiguration", "rule")),
    ...companions.flatMap((c) => {
      const rules = read(c.props, "rules");
      return rules === UNKNOWN ? [UNKNOWN as Check] : items(rules).map(sseRuleOk);
    }),
  ]);
}

export const PUBLIC_ACCESS_FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;

/** The public-access flags the best companion leaves off (all four without one). */
export function publicAccessMissingFlags(companions: PolicyResource[]): string[] | Unknown {
  if (companions.length === 0) return [...PUBLIC_ACCESS_FLAGS];
  let best: string[] | Unknown = [...PUBLIC_ACCESS_FLAGS];
  for (const c of companions) {
    const values = PUBLIC_ACCESS_FLAGS.map((f) => [f, read(c.props, f)] as const);
    if (values.some(([, v]) => v === UNKNOWN)) {
      best = UNKNOWN;
      continue;
    }
    const missing = values.filter(([, v]) => v !== true).map(([f]) => f);
    if (missing.length === 0) return [];
    if (best !== UNKNOWN && missing.length < best.length) best = missing;
  }
  return best;
}

function lifecycleRuleOk(rule: unknown, inline: boolean): Check {
  const enabled = inline ? read(rule, "enabled") : read(rule, "status");
  if (enabled === UNKNOWN) return UNKNOWN;
  if (inline ? enabled !== true : enabled !== "Enabled") return false;
  const expiration = read(rule, "expiration");
  const noncurrent = read(rule, "noncurrentVersionExpiration");
  if (expiration === UNKNOWN || noncurrent === UNKNOWN) return UNKNOWN;
  // retention means something eventually expires
  const present = (v: unknown) => v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0);
  return present(expiration) || present(noncurrent);
}

/** An enabled lifecycle rule that expires something, on the bucket or a companion. */
export function lifecycleEnabled(b: PolicyResource, companions: PolicyResource[]): Check {
  const inline = read(b.props, "lifecycleRules");
  return anyOf([
    inline === UNKNOWN ? UNKNOWN : anyOf(items(inline).map((r) => lifecycleRuleOk(r, true))),
    ...companions.map((c) => {
      const rules = read(c.props, "rules");
      return rules === UNKNOWN ? (UNKNOWN as Check) : anyOf(items(rules).map((r) => lifecycleRuleOk(r, false)));
    }),
  ]);
}
