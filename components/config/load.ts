// Pulumi glue: the engine's config map → raw values → parseConfig.
import { PROJECT } from "./constants";
import { RawConfig, StackConfig, parseConfig } from "./parse";

/**
 * Reads every `homelab-postgres:*` key from the Pulumi config (JSON for structured
 * values), and the `aws:*` keys the backup's explicit aws provider must honour as
 * the default provider would, and parses them. `isSecret(fullKey)` says whether
 * Pulumi holds a key as a secret (a prod stack's secrets must be). Throws
 * ConfigError listing every problem.
 */
export function loadStackConfig(stack: string, all: Record<string, string>, isSecret: (fullKey: string) => boolean): StackConfig {
  const raw: RawConfig = {};
  const aws: RawConfig = {};
  const secretKeys: string[] = [];
  for (const [fullKey, value] of Object.entries(all)) {
    const [ns, key] = splitKey(fullKey);
    if (ns === PROJECT) {
      raw[key] = parseMaybeJson(value);
      if (isSecret(fullKey) || isSecret(`${ns}:${key}`)) secretKeys.push(key);
    } else if (ns === "aws") aws[key] = parseMaybeJson(value);
  }
  return parseConfig(stack, raw, aws, { secretKeys });
}

/**
 * Whether the running program's config key is a secret: @pulumi/pulumi's
 * runtime.isConfigSecret (runtime/config.js: the PULUMI_CONFIG_SECRET_KEYS list the
 * language host sets, or setAllConfig's under mocks). Marked internal, so absent
 * from the typings; fails loudly if an SDK upgrade removes it.
 */
export function runtimeIsConfigSecret(runtime: object): (fullKey: string) => boolean {
  const fn = (runtime as { isConfigSecret?: unknown }).isConfigSecret;
  if (typeof fn !== "function") throw new Error("@pulumi/pulumi no longer has runtime.isConfigSecret: cannot tell secret config from plain text");
  return (k) => (fn as (key: string) => boolean)(k) === true;
}

function splitKey(fullKey: string): [string, string] {
  const i = fullKey.indexOf(":");
  // the engine may hand keys over as `project:config:key` (legacy) or `project:key`
  return [fullKey.slice(0, i), fullKey.slice(i + 1).replace(/^config:/, "")];
}

function parseMaybeJson(value: string): unknown {
  const t = value.trim();
  if (t.startsWith("{") || t.startsWith("[")) {
    try {
      return JSON.parse(t);
    } catch {
      return value;
    }
  }
  return value;
}
