// What every engine test needs: the test daemon (scripts/engine-daemon.sh start), the
// Debian bases imported into it under the names the stack config uses by default
// (debian:<suite>-slim), free loopback ports, and the engine with the tests' build args.
import Docker from "dockerode";
import * as fs from "fs";
import * as net from "net";
import { DEFAULT_BASE_IMAGES, type DebianSuite } from "../../components/config";
import { Engine, type EngineOptions } from "./engine";

/** Where the daemon listens, or why the layer cannot run. With CI=true a missing daemon fails the run. */
export function engineSocket(): { socket: string } | { missing: string } {
  const host = process.env.HLPG_DOCKER_HOST;
  const why = host === undefined
    ? "HLPG_DOCKER_HOST is not set: start the test daemon with `eval \"$(sudo scripts/engine-daemon.sh start)\"` (README, Tests)"
    : !host.startsWith("unix://") ? `HLPG_DOCKER_HOST=${host}: the engine layer talks to its own daemon over a unix socket`
    : !fs.existsSync(host.slice("unix://".length)) ? `${host} does not exist: is the test daemon running (scripts/engine-daemon.sh start)?`
    : undefined;
  if (why === undefined) return { socket: host!.slice("unix://".length) };
  if (process.env.CI === "true") throw new Error(`engine layer: ${why}`);
  return { missing: why };
}

/** `describe`, or `describe.skip` with the reason printed when the daemon is missing outside CI. */
export function describeEngine(name: string, fn: (socket: string) => void): void {
  const s = engineSocket();
  if ("missing" in s) {
     
    console.warn(`engine layer skipped: ${s.missing}`);
    describe.skip(name, () => fn(""));
  } else describe(name, () => fn(s.socket));
}

/** Imports the cached debootstrap tarballs (HLPG_DEBIAN_BASES=suite=path,…) as debian:<suite>-slim where missing. */
export async function ensureBases(docker: Docker): Promise<void> {
  const bases = (process.env.HLPG_DEBIAN_BASES ?? "").split(",").filter(Boolean).map((e) => e.split("=") as [DebianSuite, string]);
  for (const [suite, tar] of bases) {
    const ref = DEFAULT_BASE_IMAGES[suite];
    if (ref === undefined) throw new Error(`HLPG_DEBIAN_BASES names an unknown suite ${suite}`);
    if (await docker.getImage(ref).inspect().catch(() => undefined)) continue;
    const [repo, tag] = ref.split(":");
    const stream = await docker.importImage(tar, { repo, tag });
    await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())));
  }
  for (const ref of Object.values(DEFAULT_BASE_IMAGES)) {
    if (!(await docker.getImage(ref).inspect().catch(() => undefined))) {
      throw new Error(`${ref} is not on the test daemon: scripts/engine-daemon.sh start makes it (HLPG_DEBIAN_BASES)`);
    }
  }
}

/**
 * An empty engine for the dev stack (bases imported, the stack's containers, network and
 * volumes gone) and the config overrides that point the dev stack at it: the test's
 * socket, free loopback ports, a small memory limit, pgBouncer in transaction mode.
 */
export async function emptyDevStack(docker: Docker, socket: string): Promise<Record<string, unknown>> {
  await ensureBases(docker);
  await wipe(docker, "dev");
  return {
    dockerHost: `unix://${socket}`,
    postgres: { majorVersion: 17, port: await freePort(), memoryMb: 512, settings: { statement_timeout: "60s" } },
    pgbouncer: { enabled: true, port: await freePort(), poolMode: "transaction", defaultPoolSize: 5 },
  };
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * The engine with the tests' one build-time difference: the test mirror's forky Release
 * is past its Valid-Until, so the pgBouncer build (forky's 1.26.1) is told not to check it.
 */
export function testEngine(docker: Docker, o: Partial<EngineOptions> = {}): Engine {
  return new Engine({
    docker,
    extraBuildArgs: (context): Record<string, string> => (context === "docker/pgbouncer" ? { APT_CHECK_VALID_UNTIL: "false" } : {}),
    // a healthy stack comes up in well under this; a crash loop is reported with its log tail
    waitBoundSeconds: 240,
    log: process.env.HLPG_ENGINE_VERBOSE ? (l) => process.stderr.write(`${l}\n`) : undefined,
    ...o,
  });
}

/** Removes every container, network and volume of a stack's labels, and the images built from our Dockerfiles if asked. */
export async function wipe(docker: Docker, stack: string): Promise<void> {
  const filter = { label: [`homelab.postgres/stack=${stack}`] };
  for (const c of await docker.listContainers({ all: true, filters: filter })) await docker.getContainer(c.Id).remove({ force: true, v: true });
  for (const c of await docker.listContainers({ all: true, filters: { name: [`^/${stack}-`] } })) await docker.getContainer(c.Id).remove({ force: true, v: true });
  for (const n of await docker.listNetworks({ filters: { name: [`${stack}-pg`] } })) await docker.getNetwork(n.Id).remove().catch(() => undefined);
  for (const v of (await docker.listVolumes({ filters: filter })).Volumes ?? []) await docker.getVolume(v.Name).remove({ force: true });
  for (const v of (await docker.listVolumes()).Volumes ?? []) if (v.Name.startsWith(`${stack}-`)) await docker.getVolume(v.Name).remove({ force: true });
}

/**
 * Removes the images built from our Dockerfiles (homelab-postgres/*), so a run measures
 * the builds too. With `keepCache`, their untagged layers stay (noprune): the images are
 * gone for the daemon and the provider, and a new build of the same context is a cache
 * hit (a test of what happens without the images, not of how long apt takes).
 */
export async function removeBuiltImages(docker: Docker, o: { keepCache?: boolean } = {}): Promise<void> {
  for (const img of await docker.listImages()) {
    if ((img.RepoTags ?? []).some((t) => t.startsWith("homelab-postgres/"))) await docker.getImage(img.Id).remove({ force: true, noprune: o.keepCache === true });
  }
}
