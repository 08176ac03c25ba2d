// RuntimeFiles: configuration a running container reads and reloads, delivered
// without replacing that container. The docker provider replaces a container
// whenever one of its `uploads` changes (upload is ForceNew in
// kreuzwerker/terraform-provider-docker internal/provider/resource_docker_container.go:
// "The container is mutated once, and never updated later"), so files that change
// with the stack (pgBouncer's databases and pools, the backup sidecar's app list
// and schedule, pgbackrest.conf) go to a small carrier container instead. The
// carrier is replaced when a file changes; on start it copies its files into a
// volume the consumer mounts read-only, atomically (write, then rename), each with
// its mode, and the consumer notices and reloads. The carrier has no network and
// no capabilities, and its healthcheck compares the copies with what it carries,
// so `pulumi up` waits for them.
//
// The volume is a tmpfs owned by the carrier's uid:gid. A plain local volume's root
// belongs to root unless the image has a directory to copy an owner from, and a
// carrier without root or CAP_CHOWN could not write there. The files live as long
// as a container mounts the volume: the carrier (which idles, mounted) writes them
// again whenever it starts, and consumers wait for them.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { hardenedContainerArgs } from "../lib/container";
import { labels } from "../lib/labels";
import { shellQuote } from "../lib/quote";

/** A path as a shell word: as it is when it is plain, quoted otherwise (test paths). */
const word = (p: string) => (/^[A-Za-z0-9_./-]+$/.test(p) ? p : shellQuote(p));

export interface CarrierPaths {
  /** Directory holding the carrier's uploads. */
  staging: string;
  /** Directory the volume is mounted on. */
  runtime: string;
}

/** Where the carrier keeps its uploads and where the volume is mounted in it. */
export const CARRIER_PATHS: CarrierPaths = { staging: "/hlpg-staging", runtime: "/hlpg-runtime" };

/** Size of the tmpfs volume: config files, not data. */
export const RUNTIME_VOLUME_SIZE = "8m";

/** Mode of a copy unless the file says otherwise: readable by any consumer, written by none. */
export const DEFAULT_FILE_MODE = "0444";

const FILE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const FILE_MODE = /^0[0-7]{3}$/;

/** One file the carrier delivers. */
export interface RuntimeFile {
  /** The text. A secret content stays secret in state (the carrier's uploads are secret outputs). */
  content: pulumi.Input<string>;
  /** Octal mode of the copy in the volume (`0400` for a secret only the consumer's uid reads); default DEFAULT_FILE_MODE. */
  mode?: string;
}

export interface RuntimeFilesArgs {
  /** Stack name: the volume is `<stack>-<purpose>-runtime`, the carrier `<stack>-<purpose>-config`. */
  stack: string;
  /** What the files configure (`pgbouncer`, `backup`): names the volume and the carrier. */
  purpose: string;
  /** An image with /bin/sh, cp, chmod, mv, rm, sleep and cmp: the consumer's own, already on the host. */
  image: pulumi.Input<string>;
  /** `uid:gid` (numeric) the carrier runs as and the volume belongs to, so the copies are the consumer's user's. */
  user: string;
  /** File name → content and mode. */
  files: Record<string, RuntimeFile>;
}

/** A file as the carrier script handles it: name and the mode of its copy. */
export interface CarrierFile {
  /** File name in the volume (and in the staging directory). */
  name: string;
  /** Octal mode of the copy. */
  mode: string;
}

/** The file names and modes, validated and sorted (the order the carrier copies them). */
export function carrierFiles(files: Record<string, { mode?: string }>): CarrierFile[] {
  return Object.keys(files).sort().map((name) => {
    const mode = files[name].mode ?? DEFAULT_FILE_MODE;
    if (!FILE_NAME.test(name)) throw new Error(`invalid runtime file name ${JSON.stringify(name)}`);
    if (!FILE_MODE.test(mode)) throw new Error(`invalid mode ${JSON.stringify(mode)} of runtime file ${name}: octal, e.g. "0600"`);
    return { name, mode };
  });
}

/**
 * The carrier's entrypoint: copy every file into the volume atomically (umask 077,
 * chmod, rename), then idle. A bare name gets DEFAULT_FILE_MODE. `paths` is for tests.
 */
export function renderCarrierScript(files: (CarrierFile | string)[], paths: CarrierPaths = CARRIER_PATHS): string {
  const staging = word(paths.staging);
  const runtime = word(paths.runtime);
  const lines = ["set -eu", "umask 077"];
  const byName = Object.fromEntries(files.map((x) => (typeof x === "string" ? [x, {}] : [x.name, { mode: x.mode }])));
  for (const f of carrierFiles(byName)) {
    const tmp = `${runtime}/.${f.name}.tmp`;
    // one command per line: `set -e` ignores a failure anywhere but last in an && list.
    // rm first: a temp file a killed carrier left behind may be read-only, and cp would refuse it
    lines.push(`rm -f ${tmp}`, `cp ${staging}/${f.name} ${tmp}`, `chmod ${f.mode} ${tmp}`, `mv -f ${tmp} ${runtime}/${f.name}`);
  }
  // idle until stopped; the trap makes `docker stop` immediate and takes the sleep along
  // (`|| true`: under set -e a sleep that is already gone would turn a clean stop into exit 1)
  lines.push("idle=", "trap 'kill $idle 2>/dev/null || true; exit 0' TERM INT", "while :; do sleep 3600 & idle=$!; wait $idle; done");
  return lines.join("\n");
}

/** Healthy once every copy in the volume equals what the carrier brought. */
export function carrierHealthcheck(fileNames: string[], paths: CarrierPaths = CARRIER_PATHS): string[] {
  for (const f of fileNames) if (!FILE_NAME.test(f)) throw new Error(`invalid runtime file name ${JSON.stringify(f)}`);
  const staging = word(paths.staging);
  const runtime = word(paths.runtime);
  return ["CMD", "sh", "-c", fileNames.map((f) => `cmp -s ${staging}/${f} ${runtime}/${f}`).join(" && ")];
}

/** `70:70` → the tmpfs options that give the volume's root to that user, mode 0755. */
export function runtimeVolumeOptions(user: string): Record<string, string> {
  const m = /^(\d+):(\d+)$/.exec(user);
  if (!m) throw new Error(`RuntimeFiles user must be numeric uid:gid, got ${JSON.stringify(user)}`);
  return { type: "tmpfs", device: "tmpfs", o: `size=${RUNTIME_VOLUME_SIZE},mode=0755,uid=${m[1]},gid=${m[2]}` };
}

export class RuntimeFiles extends pulumi.ComponentResource {
  /** The volume the consumer mounts (read-only) to read the files. */
  readonly volume: docker.Volume;
  /** The carrier; consumers depend on it. */
  readonly container: docker.Container;
  /** Names of the files in the volume. */
  readonly fileNames: string[];

  constructor(name: string, args: RuntimeFilesArgs, opts?: pulumi.ComponentResourceOptions) {
    // inputs deliberately not passed to super: they would be stored in state as the component's inputs
    super("homelab:postgres:RuntimeFiles", name, {}, opts);
    const child = { parent: this };
    const files = carrierFiles(args.files);
    const [uid, gid] = args.user.split(":");
    this.fileNames = files.map((f) => f.name);
    // disposable: rewritten by every carrier that starts (docker volume create --opt type=tmpfs)
    this.volume = new docker.Volume(
      `${name}-volume`,
      { name: `${args.stack}-${args.purpose}-runtime`, driver: "local", driverOpts: runtimeVolumeOptions(args.user), labels: labels(args.stack) },
      child,
    );
    const { staging, runtime } = CARRIER_PATHS;
    this.container = new docker.Container(
      `${name}-container`,
      {
        name: `${args.stack}-${args.purpose}-config`,
        image: args.image,
        user: args.user,
        entrypoints: ["/bin/sh", "-c", renderCarrierScript(files)],
        // staged readable by the carrier's user only; the copy in the volume gets the file's own mode
        uploads: files.map((f) => ({ file: `${staging}/${f.name}`, content: args.files[f.name].content, permissions: "0400", owner: uid, group: gid })),
        volumes: [{ volumeName: this.volume.name, containerPath: runtime }],
        networkMode: "none",
        capabilities: { drops: ["ALL"] },
        ...hardenedContainerArgs({
          role: "config",
          stack: args.stack,
          memoryMb: 32,
          healthcheck: carrierHealthcheck(this.fileNames),
          waitTimeoutSeconds: 120,
        }),
        // nothing to shut down cleanly
        destroyGraceSeconds: 5,
        stopTimeout: 5,
      },
      // the component's dependsOn, explicitly: files may name things that must exist first
      { ...child, additionalSecretOutputs: ["uploads"], deleteBeforeReplace: true, dependsOn: opts?.dependsOn },
    );
    this.registerOutputs({ volume: this.volume.name, container: this.container.name });
  }
}
