// A small stand-in for `pulumi up` and `pulumi destroy`: the real program (index.ts)
// runs under the shared mocks, and each resource it registers is created for real as
// its provider would create it: docker objects on the test's own dockerd
// (docker-resources.ts), postgresql resources as the provider's SQL on the real server
// (test/helpers/provider-sql*.ts), commands as `/bin/sh -c` with their environment
// and stdin, random passwords from crypto. The SDK registers a resource only once its
// inputs and dependsOn have resolved, so creation follows the engine's dependency order.
//
// A second `up` compares each resource's inputs with the last run's, as the engine's
// diff does: unchanged is a no-op; a container whose changes are all in place
// (test/impact/effects.ts CONTAINER_IN_PLACE, from the provider's schema) is updated,
// otherwise replaced (deleted first: pulumi-docker replaces containers
// delete-before-replace); a command is updated (its `update`, else `create`, runs
// again) or, when `triggers` change, replaced (the old `delete` after the new `create`,
// or before it with deleteBeforeReplace); resources gone from the program are
// deleted at the end in reverse creation order, except those with retainOnDelete.
import { spawn } from "child_process";
import { randomInt } from "crypto";
import Docker from "dockerode";
import * as path from "path";
import { Client } from "pg";
import type { MockResource, MockResult } from "../helpers/mocks";
import { type ProgramResult, type RunOptions, reveal, runProgram } from "../helpers/program";
import type { SqlStep } from "../helpers/provider-sql";
import { createSteps, updateSteps } from "../helpers/provider-sql-create";
import { CONTAINER_IN_PLACE } from "../impact/effects";
import * as d from "./docker-resources";

const ROOT = path.resolve(__dirname, "../..");

export type Action = "create" | "update" | "replace" | "delete" | "same";

interface Live {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  result: MockResult;
  /** Order of creation: deletes run in reverse. */
  seq: number;
  retainOnDelete: boolean;
}

export interface UpResult {
  program: ProgramResult;
  /** What happened to each resource, by `type::name`. */
  actions: Map<string, Action>;
}

export interface EngineOptions {
  docker: Docker;
  /** Build args the tests add (the stale forky Release on the test mirror: APT_CHECK_VALID_UNTIL=false). */
  extraBuildArgs?: (context: string) => Record<string, string>;
  /** Upper bound on a container's `wait`, in place of its wait_timeout when shorter. */
  waitBoundSeconds?: number;
  log?: (line: string) => void;
}

const key = (type: string, name: string) => `${type}::${name}`;
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Alphanumeric, like RandomPassword with special = false (the program never asks for specials). */
function randomPassword(length: number): string {
  const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return Array.from({ length }, () => chars[randomInt(chars.length)]).join("");
}

/** Runs a command:local:Command script as pulumi-command's local provider does: `/bin/sh -c`, its environment added, stdin piped. */
export function runCommand(script: string, env: Record<string, string>, stdin?: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", script], { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve({ stdout: stdout.trimEnd(), stderr: stderr.trimEnd() }) : reject(new Error(`command exited ${code}: ${stderr || stdout}`))));
    // a script that exits without reading all its stdin: EPIPE is not a failure, as in Go's
    // os/exec, which the command provider runs scripts with (it ignores EPIPE on Stdin, golang/go#9173)
    child.stdin.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code !== "EPIPE") reject(e);
    });
    child.stdin.end(stdin ?? "");
  });
}

export class Engine {
  private live = new Map<string, Live>();
  private providers = new Map<string, Record<string, unknown>>();
  private seq = 0;

  constructor(private readonly o: EngineOptions) {}

  /** Runs the program and applies it; throws what the failing resource threw. */
  async up(stack: string, run: RunOptions = {}): Promise<UpResult> {
    const actions = new Map<string, Action>();
    const pendingDeletes: Live[] = [];
    const seen = new Set<string>();
    const options = new Map<string, { ignoreChanges: string[]; retainOnDelete: boolean; deleteBeforeReplace: boolean }>();
    // After the first failure nothing new starts, as in `pulumi up`: each later resource
    // gets a stand-in result (not applied, not kept), so the program runs to its end with
    // no rejected registration cascading through its outputs; then the failure is thrown.
    let failure: unknown;
    const program = await runProgram(stack, {
      ...run,
      beforeRegister: (r) => options.set(key(r.type, r.name), { ignoreChanges: r.ignoreChanges, retainOnDelete: r.retainOnDelete, deleteBeforeReplace: r.deleteBeforeReplace }),
      resource: async (args) => {
        const k = key(args.type, args.name);
        const before = this.live.get(k);
        // what the program sees of a skipped resource: its last state, else its inputs (and a password's result)
        const skipped = before?.result ?? { id: `skipped-${args.name}`, state: { ...args.inputs, result: "skipped" } };
        if (failure !== undefined) return skipped;
        seen.add(k);
        // ignoreChanges: the engine keeps the old value of those inputs (top-level names are all the program uses)
        const inputs = { ...(reveal(args.inputs) as Record<string, unknown>) };
        for (const p of options.get(k)?.ignoreChanges ?? []) if (before && p in before.inputs) inputs[p] = before.inputs[p];
        let handled: MockResult | undefined;
        try {
          handled = await this.apply(args, inputs, before, actions, pendingDeletes, options.get(k)?.deleteBeforeReplace ?? false);
        } catch (e) {
          this.log(`FAILED ${args.type.split(":").pop()} ${args.name}: ${e instanceof Error ? e.message : String(e)}`);
          failure ??= e;
          return skipped;
        }
        if (handled === undefined) return undefined;
        const retainOnDelete = options.get(k)?.retainOnDelete ?? false;
        if (!before || before.result !== handled) this.live.set(k, { type: args.type, name: args.name, inputs, result: handled, seq: this.seq++, retainOnDelete });
        else this.live.set(k, { ...before, inputs, retainOnDelete });
        return handled;
      },
    });
    if (failure !== undefined) throw failure;
    const gone = [...this.live.values()].filter((l) => !seen.has(key(l.type, l.name)));
    for (const l of [...pendingDeletes, ...gone].sort((a, b) => b.seq - a.seq)) {
      if (gone.includes(l)) {
        this.live.delete(key(l.type, l.name));
        actions.set(key(l.type, l.name), "delete");
      }
      if (!l.retainOnDelete) await this.remove(l);
    }
    return { program, actions };
  }

  /** `pulumi destroy`: deletes every live resource in reverse creation order, keeping the retained ones. */
  async destroy(): Promise<string[]> {
    const kept: string[] = [];
    for (const l of [...this.live.values()].sort((a, b) => b.seq - a.seq)) {
      if (l.retainOnDelete) kept.push(key(l.type, l.name));
      else await this.remove(l);
    }
    this.live.clear();
    return kept;
  }

  /**
   * `pulumi refresh` of the docker resources: each provider's Read on the daemon. A
   * container, volume or network the daemon no longer has, and a RemoteImage (built or
   * pulled) it does not have locally, leave the state (kreuzwerker
   * resourceDockerContainerRead, resourceDockerVolumeRead, resourceDockerNetworkRead and
   * resourceDockerImageRead set the id to "" when inspect finds nothing). Returns what left.
   */
  async refresh(): Promise<string[]> {
    const docker = this.o.docker;
    const gone: string[] = [];
    for (const [k, l] of this.live) {
      const missing = (p: Promise<unknown>) => p.then(() => false, () => true);
      const absent =
        l.type === "docker:index/container:Container" ? await missing(docker.getContainer(l.result.id).inspect())
        : l.type === "docker:index/volume:Volume" ? await missing(docker.getVolume(l.result.id).inspect())
        : l.type === "docker:index/network:Network" ? await missing(docker.getNetwork(l.result.id).inspect())
        : l.type === "docker:index/remoteImage:RemoteImage" ? await missing(docker.getImage(String(l.inputs.name)).inspect())
        : false;
      if (absent) {
        this.live.delete(k);
        gone.push(k);
      }
    }
    return gone;
  }

  /** The live resource's result (id and state), by type and name. */
  state(type: string, name: string): MockResult | undefined {
    return this.live.get(key(type, name))?.result;
  }

  private log(line: string): void {
    this.o.log?.(line);
  }

  private async apply(
    args: MockResource & { provider?: string }, inputs: Record<string, unknown>, before: Live | undefined,
    actions: Map<string, Action>, pendingDeletes: Live[], deleteBeforeReplace: boolean,
  ): Promise<MockResult | undefined> {
    const k = key(args.type, args.name);
    const docker = this.o.docker;
    const unchanged = before !== undefined && same(before.inputs, inputs);
    const mark = (a: Action) => actions.set(k, a);
    if (unchanged) {
      mark("same");
      return before.result;
    }
    const t0 = Date.now();
    this.log(`begin ${args.type.split(":").pop()} ${args.name}`);
    const done = (a: Action, r: MockResult): MockResult => {
      mark(a);
      this.log(`${a} ${args.type.split(":").pop()} ${args.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      return r;
    };
    switch (args.type) {
      case "pulumi:providers:postgresql":
        this.providers.set(args.name, inputs);
        return { id: args.name, state: inputs };
      case "pulumi:providers:docker":
        return { id: args.name, state: inputs };
      case "random:index/randomPassword:RandomPassword":
        return done(before ? "replace" : "create", { id: args.name, state: { ...inputs, result: randomPassword(Number(inputs.length ?? 32)) } });
      case "docker:index/network:Network":
        if (before) await this.remove(before);
        return done(before ? "replace" : "create", { id: await d.createNetwork(docker, inputs), state: inputs });
      case "docker:index/volume:Volume":
        // every field is ForceNew; a volume of the same name is the same volume to the daemon
        return done(before ? "replace" : "create", { id: await d.createVolume(docker, inputs), state: inputs });
      case "docker:index/remoteImage:RemoteImage": {
        const build = inputs.build as { context: string; dockerfile?: string; buildArgs?: Record<string, string>; platform?: string } | undefined;
        if (build) {
          // kreuzwerker's docker_image with a build block: the build, then the image read back by name
          const id = await d.buildImage(docker, ROOT, {
            imageName: inputs.name,
            build: { context: build.context, dockerfile: `${build.context}/${build.dockerfile ?? "Dockerfile"}`, args: build.buildArgs, platform: build.platform },
          }, this.o.extraBuildArgs?.(build.context) ?? {});
          return done(before ? "replace" : "create", { id: `${id}${String(inputs.name)}`, state: { ...inputs, imageId: id, repoDigest: "" } });
        }
        const img = await docker.getImage(String(inputs.name)).inspect().catch(() => {
          throw new Error(`image ${String(inputs.name)} is not on the test daemon and cannot be pulled here`);
        });
        return done(before ? "update" : "create", { id: img.Id, state: { ...inputs, imageId: img.Id, repoDigest: img.RepoDigests?.[0] ?? "" } });
      }
      case "docker:index/container:Container": {
        if (before) {
          const changed = Object.keys({ ...before.inputs, ...inputs }).filter((x) => !same(before.inputs[x], inputs[x]));
          if (changed.every((x) => CONTAINER_IN_PLACE.has(x))) {
            await d.updateContainer(docker, before.result.id, inputs);
            return done("update", { id: before.result.id, state: { ...before.result.state, ...inputs } });
          }
          await this.remove(before);
        }
        const c = await d.createContainer(docker, inputs, { waitBoundSeconds: this.o.waitBoundSeconds });
        const attached = c.exitCode === undefined ? {} : { exitCode: c.exitCode, containerLogs: c.containerLogs ?? "" };
        return done(before ? "replace" : "create", { id: c.id, state: { ...inputs, ...attached } });
      }
      case "command:local:Command": {
        const replace = before !== undefined && !same(before.inputs.triggers, inputs.triggers);
        // a replacement is create-then-delete unless the resource says deleteBeforeReplace
        if (replace && before) {
          if (deleteBeforeReplace) await this.remove(before);
          else pendingDeletes.push(before);
        }
        const script = String((before && !replace ? inputs.update ?? inputs.create : inputs.create) ?? "");
        const out = script === "" ? { stdout: "", stderr: "" } : await runCommand(script, (inputs.environment as Record<string, string> | undefined) ?? {}, inputs.stdin as string | undefined);
        return done(replace ? "replace" : before ? "update" : "create", { id: before && !replace ? before.result.id : `${args.name}-${this.seq}`, state: { ...inputs, ...out } });
      }
      default:
        if (args.type.startsWith("postgresql:index/")) {
          const steps = before ? updateSteps(args.type, before.inputs, inputs) : createSteps(args.type, inputs);
          await this.sql(args.provider, steps);
          return done(before ? "update" : "create", { id: String(inputs.name ?? args.name), state: inputs });
        }
        // components and the stack are not resources of a provider: the mocks' stand-in is theirs
        if (args.type.startsWith("pulumi:") || (!args.type.includes(":index/") && !args.type.includes(":local:"))) return undefined;
        throw new Error(`the engine layer cannot create ${args.type} (${args.name})`);
    }
  }

  private async remove(l: Live): Promise<void> {
    const docker = this.o.docker;
    switch (l.type) {
      case "docker:index/container:Container":
        return d.deleteContainer(docker, l.result.id, l.inputs);
      case "docker:index/network:Network":
        return d.deleteNetwork(docker, l.result.id);
      case "docker:index/volume:Volume":
        return d.deleteVolume(docker, l.result.id);
      case "command:local:Command":
        if (typeof l.inputs.delete === "string" && l.inputs.delete !== "") {
          await runCommand(l.inputs.delete, (l.inputs.environment as Record<string, string> | undefined) ?? {}, l.inputs.stdin as string | undefined);
        }
        return;
      default:
        // images (pulumi-docker's Delete is a no-op), passwords, providers; postgresql deletes are the integration layer's (destroy.test.ts)
        return;
    }
  }

  /** Runs the provider's SQL steps through the postgresql provider the resource names. */
  private async sql(providerRef: string | undefined, steps: SqlStep[]): Promise<void> {
    const name = providerRef?.split("::").pop() ?? "";
    const p = this.providers.get(name) ?? [...this.providers.values()][0];
    if (!p) throw new Error(`no postgresql provider registered for ${providerRef}`);
    for (const step of steps) {
      const client = new Client({ host: String(p.host), port: Number(p.port), user: String(p.username), password: String(p.password), database: step.database, ssl: p.sslmode === "require" ? { rejectUnauthorized: false } : false });
      await client.connect();
      try {
        if (step.autocommit) {
          for (const s of step.statements) await client.query(s);
        } else {
          await client.query("BEGIN");
          for (const s of step.statements) await client.query(s);
          await client.query("COMMIT");
        }
      } finally {
        await client.end();
      }
    }
  }
}
