// The docker provider's create, update and delete of networks, volumes, images and
// containers, done on a real dockerd with dockerode, from the inputs the program
// registers (revealed). What each step does, and in what order, is the provider's:
//
// - Containers: kreuzwerker/terraform-provider-docker v4.5.0 (the upstream of
//   @pulumi/docker 5.x), internal/provider/resource_docker_container_funcs.go
//   resourceDockerContainerCreate: find or pull the image; ContainerCreate with the
//   config and host config (sizes in MiB × 1024², ports bound to the given ip, volumes
//   as binds, NetworkMode "bridge"); then disconnect "bridge" and NetworkConnect every
//   networks_advanced entry with its aliases; then each `upload` as its own one-file tar
//   copied to "/" before start (mode from `permissions`, else 0644 or 0744 with
//   `executable`); then ContainerStart; then, with `wait`, inspect once a second until the
//   health status is "healthy" (nothing else ends the loop but `wait_timeout`, default
//   60 s: an exiting or restarting container is waited for to the end). With `attach`:
//   ContainerWait(WaitConditionNotRunning), then, with `logs`, the log into
//   container_logs; exit_code is read back by resourceDockerContainerRead. Neither
//   fails the create: the program's check command reads them (components/server/one-shot.ts).
//   Upload owner/group: @pulumi/docker 5.2.0's ContainerUpload has `owner` and `group`
//   ("numeric IDs can be used directly", types/input.d.ts), written into the tar header.
//   resourceDockerContainerUpdate: restart policy and resources by ContainerUpdate; the
//   other in-place fields (healthcheck, wait, timeouts) only change state.
//   resourceDockerContainerDelete: ContainerStop with destroy_grace_seconds (0 when
//   unset: an immediate kill), then ContainerRemove(force, RemoveVolumes), then wait.
// - Networks (resource_docker_network_funcs.go) and volumes (resource_docker_volume.go):
//   create with name, driver, labels, attachable; delete with NetworkRemove and
//   VolumeRemove(force), each retried while in use.
// - Built images: kreuzwerker's docker_image with a build block
//   (resource_docker_image_funcs.go resourceDockerImageCreate: buildImage, through
//   buildx when the daemon and CLI libraries allow it, else legacyBuildDockerImage, the
//   daemon's ImageBuild API with the context as a tar and the build args; then the image
//   read back by name). Here the classic builder builds the same Dockerfiles (they use
//   no BuildKit-only syntax). A tag that already exists is not rebuilt: the program's
//   tags carry a digest of the context and build args, and the name is ForceNew, so the
//   provider builds only a new tag. With keep_locally, Delete removes nothing.
import Docker from "dockerode";
import { readdirSync } from "fs";
import * as path from "path";
import * as tarStream from "tar-stream";

/** Inputs as the program registered them, secrets revealed. */
export type Inputs = Record<string, unknown>;

interface Upload { file: string; content?: string; contentBase64?: string; permissions?: string; executable?: boolean; owner?: string; group?: string }
interface Port { internal: number; external?: number; ip?: string; protocol?: string }
interface VolumeMount { volumeName?: string; hostPath?: string; containerPath: string; readOnly?: boolean }
interface NetworkAdvanced { name: string; aliases?: string[] }
interface Healthcheck { tests: string[]; interval?: string; timeout?: string; retries?: number; startPeriod?: string }

const MiB = 1024 * 1024;

/** Go's time.ParseDuration for the forms the program writes (`5s`, `1m0s`, `1h2m3s`), in nanoseconds. */
export function goDurationNs(d: string | undefined): number | undefined {
  if (d === undefined) return undefined;
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(d);
  if (!m || d === "") throw new Error(`unsupported duration ${JSON.stringify(d)}`);
  return ((Number(m[1] ?? 0) * 3600) + (Number(m[2] ?? 0) * 60) + Number(m[3] ?? 0)) * 1e9;
}

/** The one-file tar the provider copies to "/" for an upload. */
export async function uploadTar(u: Upload): Promise<Buffer> {
  const body = u.contentBase64 !== undefined ? Buffer.from(u.contentBase64, "base64") : Buffer.from(u.content ?? "", "utf8");
  const mode = u.permissions !== undefined ? parseInt(u.permissions, 8) : u.executable ? 0o744 : 0o644;
  const numeric = (v: string | undefined, what: string): number => {
    if (v === undefined) return 0;
    if (!/^\d+$/.test(v)) throw new Error(`upload ${u.file}: ${what} ${JSON.stringify(v)} is not numeric (the engine layer resolves no names)`);
    return Number(v);
  };
  const pack = tarStream.pack();
  pack.entry({ name: u.file.replace(/^\//, ""), mode, size: body.length, mtime: new Date(), uid: numeric(u.owner, "owner"), gid: numeric(u.group, "group") }, body);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The container's create options, as resourceDockerContainerCreate builds them. */
export function containerCreateOptions(i: Inputs): Docker.ContainerCreateOptions {
  const ports = (i.ports as Port[] | undefined) ?? [];
  const volumes = (i.volumes as VolumeMount[] | undefined) ?? [];
  const hc = i.healthcheck as Healthcheck | undefined;
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of ports) {
    const key = `${p.internal}/${p.protocol ?? "tcp"}`;
    exposed[key] = {};
    // the schema's default ip is 0.0.0.0: the program always sets one, and a test publishing there would be a bug
    if (p.ip === undefined || p.ip === "0.0.0.0" || p.ip === "::") throw new Error(`port ${key} would be published on every address`);
    bindings[key] = [{ HostIp: p.ip, HostPort: String(p.external ?? 0) }];
  }
  const caps = (i.capabilities as { adds?: string[]; drops?: string[] } | undefined) ?? {};
  const ulimits = (i.ulimits as { name: string; soft: number; hard: number }[] | undefined) ?? [];
  const tmpfs = i.tmpfs as Record<string, string> | undefined;
  return {
    name: String(i.name),
    Image: String(i.image),
    Env: (i.envs as string[] | undefined) ?? [],
    Labels: Object.fromEntries(((i.labels as { label: string; value: string }[] | undefined) ?? []).map((l) => [l.label, l.value])),
    Entrypoint: i.entrypoints as string[] | undefined,
    Cmd: i.command as string[] | undefined,
    User: i.user as string | undefined,
    WorkingDir: i.workingDir as string | undefined,
    Hostname: i.hostname as string | undefined,
    StopSignal: i.stopSignal as string | undefined,
    StopTimeout: i.stopTimeout as number | undefined,
    ExposedPorts: exposed,
    Healthcheck: hc && {
      Test: hc.tests,
      Interval: goDurationNs(hc.interval),
      Timeout: goDurationNs(hc.timeout),
      StartPeriod: goDurationNs(hc.startPeriod),
      Retries: hc.retries,
    },
    HostConfig: {
      PortBindings: bindings,
      Binds: volumes.map((v) => `${v.hostPath ?? v.volumeName}:${v.containerPath}:${v.readOnly ? "ro" : "rw"}`),
      RestartPolicy: { Name: (i.restart as string | undefined) ?? "no", MaximumRetryCount: (i.maxRetryCount as number | undefined) ?? 0 },
      Memory: i.memory !== undefined ? Number(i.memory) * MiB : undefined,
      ShmSize: i.shmSize !== undefined ? Number(i.shmSize) * MiB : undefined,
      SecurityOpt: i.securityOpts as string[] | undefined,
      CapAdd: caps.adds,
      CapDrop: caps.drops,
      Ulimits: ulimits.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard })),
      LogConfig: i.logDriver !== undefined ? { Type: String(i.logDriver), Config: (i.logOpts as Record<string, string> | undefined) ?? {} } : undefined,
      Tmpfs: tmpfs,
      Init: Boolean(i.init),
      NetworkMode: (i.networkMode as string | undefined) ?? "bridge",
      ReadonlyRootfs: Boolean(i.readOnly),
    },
  };
}

/** Why a container did not become healthy: its state and the tail of its log. */
export async function containerTrouble(c: Docker.Container, lines = 40): Promise<string> {
  const info = await c.inspect().catch(() => undefined);
  const log = await c.logs({ stdout: true, stderr: true, tail: lines }).catch(() => Buffer.from(""));
  const text = demux(log as unknown as Buffer);
  const state = info ? `status ${info.State.Status}, health ${info.State.Health?.Status ?? "none"}, restarts ${info.RestartCount}, exit code ${info.State.ExitCode}` : "gone";
  return `${state}\n--- last ${lines} log lines ---\n${text}`;
}

/** Docker's multiplexed log stream (8-byte frame headers) as text. */
export function demux(buf: Buffer): string {
  let out = "";
  let off = 0;
  while (off + 8 <= buf.length && (buf[off] === 1 || buf[off] === 2) && buf[off + 1] === 0) {
    const len = buf.readUInt32BE(off + 4);
    out += buf.subarray(off + 8, off + 8 + len).toString("utf8");
    off += 8 + len;
  }
  return off === 0 ? buf.toString("utf8") : out;
}

export interface CreatedContainer {
  id: string;
  name: string;
  /** With `attach`: the exit code and (with `logs`) the log, as the provider stores them in state. */
  exitCode?: number;
  containerLogs?: string;
}

/** resourceDockerContainerCreate, step by step. `waitFor` bounds `wait` in place of wait_timeout when shorter (a test's own bound). */
export async function createContainer(docker: Docker, i: Inputs, opts: { waitBoundSeconds?: number } = {}): Promise<CreatedContainer> {
  const image = String(i.image);
  await docker.getImage(image).inspect().catch(() => {
    throw new Error(`Unable to create container with image ${image}: not on the daemon, and no registry can be reached from the tests`);
  });
  const container = await docker.createContainer(containerCreateOptions(i));
  const networks = (i.networksAdvanced as NetworkAdvanced[] | undefined) ?? [];
  if (networks.length > 0) {
    await docker.getNetwork("bridge").disconnect({ Container: container.id, Force: false }).catch(() => undefined);
    for (const n of networks) await docker.getNetwork(n.name).connect({ Container: container.id, EndpointConfig: { Aliases: n.aliases ?? [] } });
  }
  for (const u of (i.uploads as Upload[] | undefined) ?? []) {
    await container.putArchive(await uploadTar(u), { path: "/" });
  }
  if (i.start !== false) await container.start();
  if (i.start !== false && i.wait === true) {
    const limit = Math.min(Number(i.waitTimeout ?? 60), opts.waitBoundSeconds ?? Infinity);
    const deadline = Date.now() + limit * 1000;
    for (;;) {
      const info = await container.inspect();
      if (!info.State.Health) throw new Error("you have supplied a 'wait' argument, but the container does not have a healthcheck defined");
      if (info.State.Health.Status === "healthy") break;
      if (Date.now() > deadline) {
        throw new Error(`container ${String(i.name)} failed to be in healthy state within ${limit} s: ${await containerTrouble(container)}`);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  if (i.start !== false && i.attach === true) {
    // ContainerWait(WaitConditionNotRunning): returns on exit, whatever the code; the code is read back (exit_code)
    await container.wait({ condition: "not-running" });
    const info = await container.inspect();
    const logs = i.logs === true ? demux(await container.logs({ stdout: true, stderr: true, follow: false })) : undefined;
    return { id: container.id, name: String(i.name), exitCode: info.State.ExitCode, containerLogs: logs };
  }
  return { id: container.id, name: String(i.name) };
}

/** resourceDockerContainerUpdate for the fields it sends to the daemon. */
export async function updateContainer(docker: Docker, id: string, i: Inputs): Promise<void> {
  await docker.getContainer(id).update({
    RestartPolicy: { Name: (i.restart as string | undefined) ?? "no", MaximumRetryCount: (i.maxRetryCount as number | undefined) ?? 0 },
    Memory: i.memory !== undefined ? Number(i.memory) * MiB : undefined,
    // docker refuses a memory limit above the swap limit it already has; the provider sends -1 when unset too
    MemorySwap: i.memorySwap !== undefined ? Number(i.memorySwap) * MiB : -1,
  });
}

/** resourceDockerContainerDelete. */
export async function deleteContainer(docker: Docker, id: string, i: Inputs): Promise<void> {
  const c = docker.getContainer(id);
  const ignore = (e: unknown) => {
    if (!/No such container|is already in progress|not modified|already stopped/i.test(String(e))) throw e;
  };
  await c.stop({ t: Number(i.destroyGraceSeconds ?? 0) }).catch(ignore);
  await c.remove({ force: true, v: i.removeVolumes !== false }).catch(ignore);
}

async function retryWhileInUse(what: string, f: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await f();
      return;
    } catch (e) {
      if (/no such|not found/i.test(String(e))) return;
      if (!/in use|active endpoints/i.test(String(e)) || Date.now() > deadline) throw new Error(`${what}: ${String(e)}`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

export async function createNetwork(docker: Docker, i: Inputs): Promise<string> {
  const labels = Object.fromEntries(((i.labels as { label: string; value: string }[] | undefined) ?? []).map((l) => [l.label, l.value]));
  const n = await docker.createNetwork({ Name: String(i.name), Driver: i.driver as string | undefined, Attachable: Boolean(i.attachable), Internal: Boolean(i.internal), Labels: labels });
  return n.id;
}

export async function deleteNetwork(docker: Docker, id: string): Promise<void> {
  await retryWhileInUse(`network ${id}`, () => docker.getNetwork(id).remove());
}

export async function createVolume(docker: Docker, i: Inputs): Promise<string> {
  const labels = Object.fromEntries(((i.labels as { label: string; value: string }[] | undefined) ?? []).map((l) => [l.label, l.value]));
  const v = await docker.createVolume({ Name: String(i.name), Driver: (i.driver as string | undefined) ?? "local", DriverOpts: (i.driverOpts as Record<string, string> | undefined) ?? {}, Labels: labels });
  return v.name;
}

export async function deleteVolume(docker: Docker, name: string): Promise<void> {
  await retryWhileInUse(`volume ${name}`, () => docker.getVolume(name).remove({ force: true }));
}

/** pulumi-docker's Image create with skipPush: build the context with the build args, tag imageName. Returns the image id. */
export async function buildImage(docker: Docker, projectDir: string, i: Inputs, extraArgs: Record<string, string> = {}): Promise<string> {
  const name = String(i.imageName);
  const existing = await docker.getImage(name).inspect().catch(() => undefined);
  if (existing) return existing.Id;
  const build = i.build as { context: string; dockerfile: string; args?: Record<string, string>; platform?: string };
  const context = path.join(projectDir, build.context);
  const stream = await docker.buildImage(
    { context, src: readdirSync(context) },
    { t: name, dockerfile: path.relative(build.context, build.dockerfile), buildargs: { ...(build.args ?? {}), ...extraArgs }, platform: build.platform, rm: true, forcerm: true },
  );
  const log: string[] = [];
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, res: { error?: string; stream?: string }[]) => {
      const failed = err ?? res.find((r) => r.error)?.error;
      if (failed) reject(new Error(`build of ${name} failed: ${String(failed)}\n${log.slice(-30).join("")}`));
      else resolve();
    }, (e: { stream?: string }) => {
      if (e.stream) log.push(e.stream);
    });
  });
  return (await docker.getImage(name).inspect()).Id;
}
