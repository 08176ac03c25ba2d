// RuntimeFiles: configuration a running container reads and reloads, delivered
// without replacing that container. The docker provider replaces a container
// whenever one of its `uploads` changes (upload is ForceNew in
// kreuzwerker/terraform-provider-docker internal/provider/resource_docker_container.go:
// "The container is mutated once, and never updated later"), so files that change
// with the stack (pgBouncer's databases and pools, the backup sidecar's app list
// and schedule) go to a small carrier container instead. The carrier is replaced
// when a file changes; on start it copies its files into a volume the consumer
// mounts read-only, atomically (write, then rename), and the consumer notices and
// reloads. The carrier has no network and no capabilities, and its healthcheck
// compares the copies with what it carries, so `pulumi up` waits for them.
//
// The volume is a tmpfs owned by the carrier's uid:gid. A plain local volume's root
// belongs to root (the carrier's mount point is not in the image, so Docker has no
// directory to copy an owner from), and a carrier without root or CAP_CHOWN could
// not write there. The files live as long as a container mounts the volume: the
// carrier writes them again whenever it starts, and a consumer waits for them.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { hardenedContainerArgs } from "../lib/container";
import { labels } from "../lib/labels";
import { shellQuote } from "../lib/quote";

/** Where the carrier keeps its uploads and where the volume is mounted in it. */
export const CARRIER_PATHS: CarrierPaths = { staging: "/hlpg-staging", runtime: "/hlpg-runtime" };

export interface CarrierPaths {
  /** Directory holding the carrier's uploads. */
  staging: string;
  /** Directory the volume is mounted on. */
  runtime: string;
}

/** Size of the tmpfs volume: config files, not data. */
export const RUNTIME_VOLUME_SIZE = "8m";

const FILE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export interface RuntimeFilesArgs {
  /** Stack name: the volume is `<stack>-<purpose>-runtime`, the carrier `<stack>-<purpose>-config`. */
  stack: string;
  /** What the files configure (`pgbouncer`, `backup`): names the volume and the carrier. */
  purpose: string;
  /** An image with /bin/sh, cp, mv, rm, sleep and cmp: the consumer's own, already on the host. */
  image: pulumi.Input<string>;
  /** `uid:gid` (numeric) the carrier runs as and the volume belongs to, so the copies are the consumer's user's. */
  user: string;
  /** File name → content. Contents that hold a secret are kept secret in state. */
  files: Record<string, pulumi.Input<string>>;
}

function checkNames(fileNames: string[]): void {
  for (const f of fileNames) if (!FILE_NAME.test(f)) throw new Error(`invalid runtime file name ${JSON.stringify(f)}`);
}

/** The carrier's entrypoint: copy every file into the volume atomically, then idle. */
export function renderCarrierScript(fileNames: string[], paths: CarrierPaths = CARRIER_PATHS): string {
  checkNames(fileNames);
  const staging = shellQuote(paths.staging);
  const runtime = shellQuote(paths.runtime);
  return [
    "set -eu",
    // one command per line: `set -e` ignores a failure anywhere but last in an && list.
    // rm first: a temp file a killed carrier left behind is read-only (0444), and cp
    // would refuse to overwrite it
    ...fileNames.flatMap((f) => [
      `rm -f ${runtime}/.${f}.tmp`,
      `cp ${staging}/${f} ${runtime}/.${f}.tmp`,
      `mv -f ${runtime}/.${f}.tmp ${runtime}/${f}`,
    ]),
    // idle until stopped; the trap makes `docker stop` immediate and takes the sleep along
    "idle=",
    "trap 'kill $idle 2>/dev/null; exit 0' TERM INT",
    "while :; do sleep 3600 & idle=$!; wait $idle; done",
  ].join("\n");
}

/** Healthy once every copy in the volume equals what the carrier brought. */
export function carrierHealthcheck(fileNames: string[], paths: CarrierPaths = CARRIER_PATHS): string[] {
  checkNames(fileNames);
  const staging = shellQuote(paths.staging);
  const runtime = shellQuote(paths.runtime);
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
  readonly container: docker.Container;
  /** Names of the files in the volume. */
  readonly fileNames: string[];

  constructor(name: string, args: RuntimeFilesArgs, opts?: pulumi.ComponentResourceOptions) {
    // inputs deliberately not passed to super: they would be stored in state as the component's inputs
    super("homelab:postgres:RuntimeFiles", name, {}, opts);
    const child = { parent: this };
    this.fileNames = Object.keys(args.files).sort();
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
        entrypoints: ["/bin/sh", "-c", renderCarrierScript(this.fileNames)],
        uploads: this.fileNames.map((f) => ({ file: `${staging}/${f}`, content: args.files[f], permissions: "0444" })),
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
