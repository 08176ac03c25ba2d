// Secrets given in plain text. Pulumi tells a program which config keys are secret
// only per top-level key (PULUMI_CONFIG_SECRET_KEYS; `pulumi config set --secret
// --path backup.encryptionPassphrase` marks the whole `backup` key), so a key
// documented as secret is in plain text when its top-level key is not in that list.
import { documentedKeys } from "./reference";
import type { ConfigProblem } from "./problems";
import { keyPath } from "./problems";
type RawConfig = Record<string, unknown>;

/** Paths of the keys documented as secrets (`["backup", "encryptionPassphrase"]`, ...); list items excluded. */
export function secretKeyPaths(): string[][] {
  return documentedKeys()
    .filter((r) => r.doc.secret === true && !r.key.includes("[]"))
    .map((r) => r.key.split("."));
}

function valueAt(raw: RawConfig, path: string[]): unknown {
  let cur: unknown = raw;
  for (const seg of path) {
    if (typeof cur !== "object" || cur === null || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

/**
 * A problem for every secret key given in plain text: its value is set and its
 * top-level key is not one of `secretTopKeys` (top-level keys without the project prefix).
 */
export function plaintextSecretProblems(raw: RawConfig, secretTopKeys: ReadonlySet<string>): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const path of secretKeyPaths()) {
    const value = valueAt(raw, path);
    if (value === undefined || value === null || value === "" || secretTopKeys.has(path[0])) continue;
    out.push({
      path: keyPath(path),
      message: `is in plain text in a prod stack (Pulumi.<stack>.yaml and the state would hold it in clear): set it with \`pulumi config set --secret --path ${path.join(".")} …\``,
    });
  }
  return out;
}
