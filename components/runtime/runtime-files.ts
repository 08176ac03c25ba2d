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
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { hardenedContainerArgs } from "../lib/container";
import { labels } from "../lib/labels";

/** Where the carrier keeps its uploads and where the volume is mounted in it. */
export const CARRIER_PATHS = { staging: "/hlpg-staging", runtime: "/hlpg-runtime" } as const;

const FILE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export interface RuntimeFilesArgs {
  /** Stack name: the volume is `<stack>-<purpose>-runtime`, the carrier `<stack>-<purpose>-config`. */
  stack: string;
  /** What the files configure (`pgbouncer`, `backup`): names the volume and the carrier. */
  purpose: string;
  /** An image with /bin/sh, cp, mv and cmp: the consumer's own, already on the host. */
  image: pulumi.Input<string>;
  /** `uid:gid` the carrier runs as, so the copies belong to the consumer's user. */
  user: string;
  /** File name → content. Contents that hold a secret are kept secret in state. */
  files: Record<string, pulumi.Input<string>>;
}

/** The carrier's entrypoint: copy every file into the volume atomically, then idle. */
export function renderCarrierScript(fileNames: string[]): string {
  for (const f of fileNames) if (!FILE_NAME.test(f)) throw new Error(`invalid runtime file name ${JSON.stringify(f)}`);
  const { staging, runtime } = CARRIER_PATHS;
  return [
    "set -eu",
    ...fileNames.map((f) => `cp ${staging}/${f} ${runtime}/.${f}.tmp && mv -f ${runtime}/.${f}.tmp ${runtime}/${f}`),
    // idle until stopped; the trap makes `docker stop` immediate
    "trap 'exit 0' TERM INT",
    "while :; do sleep 3600 & wait $!; done",
  ].join("\n");
}

/** Healthy once every copy in the volume equals what the carrier brought. */
export function carrierHealthcheck(fileNames: string[]): string[] {
  const { staging, runtime } = CARRIER_PATHS;
  return ["CMD", "sh", "-c", fileNames.map((f) => `cmp -s ${staging}/${f} ${runtime}/${f}`).join(" && ")];
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
    // disposable: rewritten by every carrier that starts
    this.volume = new docker.Volume(`${name}-volume`, { name: `${args.stack}-${args.purpose}-runtime`, labels: labels(args.stack) }, child);
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
      { ...child, additionalSecretOutputs: ["uploads"], deleteBeforeReplace: true },
    );
    this.registerOutputs({ volume: this.volume.name, container: this.container.name });
  }
}
