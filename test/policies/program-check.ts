// Feeds a whole program run (test/helpers/program.ts, the real index.ts under
// mocks) to the policy pack, and checks the one thing the pack cannot see:
// that every credential the program hands the engine is a Pulumi secret.
import { credentialFilesFromEnv, findCredentialPaths, TYPES } from "../../policies/rules";
import { isSecretValue, ProgramResult, RegisteredResource, reveal } from "../helpers/program";
import * as fs from "fs";
import * as path from "path";
import { PackResult, PolicyConfig, runPack, StackResourceInit } from "./helpers";

/**
 * The resources as the engine hands them to the pack: inputs with secrets
 * unwrapped (@pulumi/policy deserialises with proxySecrets=false), parent links
 * by URN, resource options.
 */
export function toPolicyResources(resources: RegisteredResource[]): StackResourceInit[] {
  return resources.map((r) => ({
    type: r.type,
    name: r.name,
    urn: r.urn,
    parent: r.parent !== "" ? r.parent : undefined,
    props: reveal(r.inputs) as Record<string, unknown>,
    opts: { protect: r.protect, additionalSecretOutputs: r.additionalSecretOutputs },
  }));
}

/** The pack config the repository ships (`--policy-pack-config policies/config.json`). */
export function shippedPackConfig(): Record<string, PolicyConfig> {
  return JSON.parse(fs.readFileSync(path.join(__dirname, "../../policies/config.json"), "utf8")) as Record<string, PolicyConfig>;
}

export async function runPackOnProgram(stack: string, result: ProgramResult, config: Record<string, PolicyConfig> = shippedPackConfig()): Promise<PackResult> {
  return runPack(stack, toPolicyResources(result.resources), config);
}

/** Paths (as findCredentialPaths writes them) that sit inside a secret wrapper. */
function secretPaths(value: unknown, path = ""): string[] {
  if (isSecretValue(value)) return [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => secretPaths(v, `${path}[${i}]`));
  if (value !== null && typeof value === "object") {
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => secretPaths(v, path === "" ? k : `${path}.${k}`));
  }
  return [];
}

function covered(path: string, secrets: string[]): boolean {
  return secrets.some((s) => s === "" || path === s || path.startsWith(`${s}.`) || path.startsWith(`${s}[`));
}

/**
 * Every credential in a resource's inputs that is not a secret, as `name: path`.
 * Credentials are found by name and content (rules.ts findCredentialPaths), plus
 * the uploads a `*_FILE` variable points at.
 */
export function plaintextCredentials(resources: RegisteredResource[]): string[] {
  const found: string[] = [];
  for (const r of resources) {
    const plain = reveal(r.inputs) as Record<string, unknown>;
    const secrets = secretPaths(r.inputs);
    const paths = new Set(findCredentialPaths(plain));
    if (r.type === TYPES.container) {
      const envs = Array.isArray(plain.envs) ? plain.envs.filter((e): e is string => typeof e === "string") : [];
      const files = credentialFilesFromEnv(envs);
      const uploads = Array.isArray(plain.uploads) ? (plain.uploads as { file?: string }[]) : [];
      uploads.forEach((u, i) => {
        if (u.file !== undefined && files.has(u.file)) paths.add(`uploads[${i}].content`);
      });
    }
    for (const p of paths) if (!covered(p, secrets)) found.push(`${r.name}: ${p}`);
  }
  return found;
}

/** Stack outputs that carry a credential but are not secret. */
export function plaintextCredentialOutputs(result: ProgramResult): string[] {
  return Object.entries(result.outputs)
    .filter(([k, v]) => findCredentialPaths(v, k).length > 0 && !result.secretOutputs.includes(k))
    .map(([k]) => k);
}
