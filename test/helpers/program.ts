// Runs the real program (index.ts) under pulumi.runtime.setMocks, with the real
// Pulumi.<stack>.yaml config (plus overrides), and records every registration
// with its options (parent, dependencies, retainOnDelete, secret outputs...).
// Each run gets a fresh Pulumi store and a fresh evaluation of the entry file
// (the modules it imports are shared: they hold no state), so one test file can
// compare several runs (e.g. before/after a rotation).
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import * as ts from "typescript";
import type * as pulumiModule from "@pulumi/pulumi";
import { type InstallOptions, installMocks } from "./mocks";
import { RegisteredResource, isSecretValue, reveal } from "./record";

export { isSecretValue, reveal };
export type { RegisteredResource };

const ROOT = path.resolve(__dirname, "../..");
const PROJECT = "homelab-postgres";

export interface ProgramResult {
  resources: RegisteredResource[];
  /** Stack outputs, resolved; `secretOutputs` names the ones that are secret. */
  outputs: Record<string, unknown>;
  secretOutputs: string[];
  /** Invokes (data sources) the program made, e.g. tailscale:index/getDevice:getDevice. */
  invokes: { token: string; args: Record<string, unknown> }[];
}

export type ConfigOverrides = Record<string, unknown>;

/** The stack's YAML config as `homelab-postgres:<key>` → value, `{secure: ...}` replaced by a stand-in. */
export function stackConfig(stack: string): { values: Record<string, unknown>; secretKeys: string[] } {
  const file = path.join(ROOT, `Pulumi.${stack}.yaml`);
  const doc = yaml.load(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> };
  const secretKeys: string[] = [];
  const values: Record<string, unknown> = {};
  const replaceSecure = (key: string, v: unknown): unknown => {
    if (typeof v === "object" && v !== null && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      if (Object.keys(o).length === 1 && typeof o.secure === "string") {
        secretKeys.push(key);
        return `stand-in-secret-for-${key.replace(/[^a-z]/gi, "-")}-0123456789`;
      }
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, replaceSecure(key, x)]));
    }
    if (Array.isArray(v)) return v.map((x) => replaceSecure(key, x));
    return v;
  };
  for (const [k, v] of Object.entries(doc.config ?? {})) values[k] = replaceSecure(k, v);
  return { values, secretKeys: [...new Set(secretKeys)] };
}

export interface RunOptions {
  /** Replaces whole top-level keys (without the project prefix) of the stack YAML. */
  overrides?: ConfigOverrides;
  /** Top-level keys to remove. */
  remove?: string[];
  /** Top-level keys (without prefix) whose values count as secret config, as `--secret` would mark them. */
  secretKeys?: string[];
  /** Config of other namespaces by full key (`aws:profile`), as the engine hands it over (lists as JSON); null removes the stack YAML's. */
  otherConfig?: Record<string, string | null>;
  /** Full keys of otherConfig that are secret. */
  otherSecretKeys?: string[];
  /** Addresses tailscale.getDevice returns. */
  tailnetAddresses?: string[];
  /** Another program to run instead of index.ts (e.g. examples/app-stack/index.ts), with its project name. */
  entry?: { file: string; project: string };
  /**
   * Creates resources instead of the shared stand-ins (return undefined to keep one): the
   * engine layer applies docker, postgresql and command resources to real servers here.
   * The SDK registers a resource only once its inputs and dependsOn have resolved, so
   * this is called in the engine's dependency order.
   */
  resource?: InstallOptions["resource"];
  /** Sees each registration with its options (ignoreChanges, retainOnDelete...) before `resource`. */
  beforeRegister?: InstallOptions["beforeRegister"];
  /** Outputs that any StackReference sees, and which of them are secret. */
  stackReference?: { outputs: Record<string, unknown>; secretOutputNames: string[] };
}

/* eslint-disable @typescript-eslint/no-require-imports -- the SDK and the entry file load at run time, in this test file's registry */
const sdk = (): typeof pulumiModule => require("@pulumi/pulumi") as typeof pulumiModule;
const pulumiState = (): { withLocalStorage<T>(cb: () => Promise<T>): Promise<T> } => require("@pulumi/pulumi/runtime/state");

/**
 * Runs the entry file's code anew (a Pulumi program registers its resources when its
 * module body runs, so a cached module would register nothing the second time); its
 * imports resolve through this test file's registry like any other require.
 */
function evaluateEntry(file: string): Record<string, unknown> {
  const { outputText } = ts.transpileModule(fs.readFileSync(file, "utf8"), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    fileName: file,
  });
  const module = { exports: {} as Record<string, unknown> };
  const localRequire = (id: string): unknown => require(id.startsWith(".") ? path.resolve(path.dirname(file), id) : id);
  new Function("exports", "require", "module", "__filename", "__dirname", outputText)(module.exports, localRequire, module, file, path.dirname(file));
  return module.exports;
}
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * The SDK records `new Error().stack` for every promise it makes (runtime/debuggable.js,
 * debuggablePromise), and jest's source-map-support maps every frame of each: most of a
 * run's CPU time. During a run, stacks are V8's own (10 frames, positions in the transpiled code);
 * returns the function that puts jest's back.
 */
function plainStackTraces(): () => void {
  const [previous, limit] = [Error.prepareStackTrace, Error.stackTraceLimit];
  Error.prepareStackTrace = (err, frames) => [String(err), ...frames.map((f) => `    at ${String(f)}`)].join("\n");
  Error.stackTraceLimit = 10; // V8's default (jest raises it to 100)
  return () => {
    [Error.prepareStackTrace, Error.stackTraceLimit] = [previous, limit];
  };
}

/** Runs index.ts for `stack` under mocks and returns everything it registered. */
export async function runProgram(stack: string, opts: RunOptions = {}): Promise<ProgramResult> {
  const { values, secretKeys } = opts.entry ? { values: {}, secretKeys: [] as string[] } : stackConfig(stack);
  for (const k of opts.remove ?? []) delete values[`${PROJECT}:${k}`];
  for (const [k, v] of Object.entries(opts.overrides ?? {})) values[`${PROJECT}:${k}`] = v;
  for (const k of opts.secretKeys ?? []) secretKeys.push(`${PROJECT}:${k}`);
  const config: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) config[k] = typeof v === "string" ? v : JSON.stringify(v);
  for (const [k, v] of Object.entries(opts.otherConfig ?? {})) {
    if (v === null) delete config[k];
    else config[k] = v;
  }
  secretKeys.push(...(opts.otherSecretKeys ?? []));

  let result: ProgramResult | undefined;
  let failure: unknown;
  // One SDK copy for every run of this test file, each run in a fresh Pulumi store
  // (runtime/state.js keeps settings, config, mocks and the stack resource per
  // AsyncLocalStorage store, as the automation API's inline programs need). Loading the
  // SDKs once instead of per run (jest.isolateModules) makes a run several times faster.
  const pulumi = sdk();
  const restoreStacks = plainStackTraces();
  await pulumiState().withLocalStorage(async () => {
    const invokes: ProgramResult["invokes"] = [];
    // the shared stand-ins, plus what only a whole program needs: StackReference outputs and getDevice
    const resources = await installMocks(pulumi, {
      project: opts.entry?.project ?? PROJECT,
      stack,
      resource: (args) =>
        args.type === "pulumi:pulumi:StackReference"
          ? { id: String(args.inputs.name), state: { ...args.inputs, outputs: opts.stackReference?.outputs ?? {}, secretOutputNames: opts.stackReference?.secretOutputNames ?? [] } }
          : opts.resource?.(args),
      beforeRegister: opts.beforeRegister,
      call: (token, inputs) => {
        invokes.push({ token, args: inputs });
        if (token === "tailscale:index/getDevice:getDevice") {
          return { ...inputs, addresses: opts.tailnetAddresses ?? ["fd7a:115c:a1e0::1234", "100.101.102.103"], id: "device-id" };
        }
        return inputs;
      },
    });
    pulumi.runtime.setAllConfig(config, secretKeys);
    try {
      const program = evaluateEntry(path.join(ROOT, opts.entry?.file ?? "index.ts"));
      const outputs: Record<string, unknown> = {};
      const secretOutputs: string[] = [];
      for (const [k, v] of Object.entries(program)) {
        if (pulumi.Output.isInstance(v)) {
          if (await pulumi.isSecret(v)) secretOutputs.push(k);
          // Output.promise() is internal but is what the engine's serializer awaits
          outputs[k] = await (v as unknown as { promise(): Promise<unknown> }).promise();
        } else outputs[k] = v;
      }
      await pulumi.runtime.disconnect();
      result = { resources, outputs, secretOutputs, invokes };
    } catch (e) {
      failure = e;
      result = { resources, outputs: {}, secretOutputs: [], invokes };
    }
  }).finally(restoreStacks);
  if (failure) throw Object.assign(failure as Error, { registered: result?.resources ?? [] });
  if (!result) throw new Error("program did not run");
  return result;
}

/**
 * What an operator sets with `pulumi config set --secret` for prod (Pulumi.prod.yaml
 * cannot carry it in clear): the backup section with its passphrase.
 */
export const PROD_SECRETS: Pick<RunOptions, "overrides" | "secretKeys"> = {
  overrides: {
    backup: {
      enabled: true, bucket: "example-homelab-pg-backups", region: "eu-central-1",
      encryptionPassphrase: "a-long-enough-backup-passphrase",
    },
  },
  secretKeys: ["backup"],
};

/** Resources of one type token. */
export function ofType(r: ProgramResult, type: string): RegisteredResource[] {
  return r.resources.filter((x) => x.type === type);
}

export const T = {
  container: "docker:index/container:Container",
  volume: "docker:index/volume:Volume",
  network: "docker:index/network:Network",
  remoteImage: "docker:index/remoteImage:RemoteImage",
  password: "random:index/randomPassword:RandomPassword",
  role: "postgresql:index/role:Role",
  database: "postgresql:index/database:Database",
  grant: "postgresql:index/grant:Grant",
  defaultPrivileges: "postgresql:index/defaultPrivileges:DefaultPrivileges",
  extension: "postgresql:index/extension:Extension",
  schema: "postgresql:index/schema:Schema",
} as const;
