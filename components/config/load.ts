// Pulumi glue: the engine's config map → raw values → parseConfig.
import { PROJECT } from "./constants";
import { RawConfig, StackConfig, parseConfig } from "./parse";

/**
 * Reads every `homelab-postgres:*` key from the Pulumi config (JSON for structured
 * values), and the `aws:*` keys the backup's explicit aws provider must honour as
 * the default provider would, and parses them. Throws ConfigError listing every problem.
 */
export function loadStackConfig(stack: string, all: Record<string, string>): StackConfig {
  const raw: RawConfig = {};
  const aws: RawConfig = {};
  for (const [fullKey, value] of Object.entries(all)) {
    const [ns, key] = splitKey(fullKey);
    if (ns === PROJECT) raw[key] = parseMaybeJson(value);
    else if (ns === "aws") aws[key] = parseMaybeJson(value);
  }
  return parseConfig(stack, raw, aws);
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
