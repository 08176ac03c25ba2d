// RuntimeFiles: configuration a running container reads and reloads, delivered
// without replacing that container. The docker provider replaces a container
// whenever one of its `uploads` changes (upload is ForceNew in
// kreuzwerker/terraform-provider-docker internal/provider/resource_docker_container.go:
// "The container is mutated once, and never updated later"), so files that change
// with the stack (pgBouncer's databases and pools, the backup sidecar's app list
// and schedule, pgbackrest.conf) go to a small carrier container instead. The
// carrier is replaced when a file changes; on start it copies its files into a
// volume the consumer mounts read-only, atomically (write, then rename), each with
// its mode and owned by the carrier's user, and the consumer notices and reloads.
// The carrier has no network and no capabilities, and its healthcheck compares the
// copies with what it carries, so `pulumi up` waits for them.
//
// The volume's root belongs to whoever the image's CARRIER_PATHS.runtime belongs
// to: Docker gives a new volume the owner and mode of the image directory it is
// first mounted on (moby container/container_unix.go CopyImagePathContent →
// copyExistingContents → copyOwnership), and root:root otherwise, where a non-root
// carrier could not write. So the image must have that directory, owned by `user`
// (docker/postgres/Dockerfile creates it), and consumers should depend on the
// carrier so that it mounts the new volume first.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { hardenedContainerArgs } from "../lib/container";
import { labels } from "../lib/labels";

/** Where the carrier keeps its uploads and where the volume is mounted in it. */
export const CARRIER_PATHS = { staging: "/hlpg-staging", runtime: "/hlpg-runtime" } as const;

/** Mode of a copy unless the file says otherwise: readable by any consumer, written by none. */
export const DEFAULT_FILE_MODE = "0444";

const FILE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const FILE_MODE = /^0[0-7]{3}$/;
const USER = /^(\d{1,10}):(\d{1,10})$/;

/** One file the carrier delivers. */
export interface RuntimeFile {
  /** The text. A secret content stays secret in state (the carrier's uploads are secret outputs). */
  content: pulumi.Input<string>;
  /** Octal mode of the copy in the volume (`0600`, `0400` for a secret only the consumer's uid reads); default DEFAULT_FILE_MODE. */
  mode?: string;
}

export interface RuntimeFilesArgs {
  /** Stack name: the volume is `<stack>-<purpose>-runtime`, the carrier `<stack>-<purpose>-config`. */
  stack: string;
  /** What the files configure (`pgbouncer`, `backup`): names the volume and the carrier. */
  purpose: string;
  /**
   * An image with /bin/sh, cp, chmod, mv and cmp, and CARRIER_PATHS.runtime as a
   * directory owned by `user`: the consumer's own, already on the host.
   */
  image: pulumi.Input<string>;
  /** `uid:gid` the carrier runs as: the copies belong to it, so use the consumer's user. */
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
 * chmod to its mode, then rename over the old copy), then idle. One command per
 * line: under `set -e` a failure inside an `a && b` list would not stop the script.
 * `paths` is for tests.
 */
export function renderCarrierScript(files: CarrierFile[], paths: { staging: string; runtime: string } = CARRIER_PATHS): string {
  const { staging, runtime } = paths;
  const lines = ["set -eu", "umask 077"];
  for (const f of carrierFiles(Object.fromEntries(files.map((x) => [x.name, x])))) {
    const tmp = `${runtime}/.${f.name}.tmp`;
    lines.push(`cp ${staging}/${f.name} ${tmp}`, `chmod ${f.mode} ${tmp}`, `mv -f ${tmp} ${runtime}/${f.name}`);
  }
  // idle until stopped; the trap makes `docker stop` immediate
  lines.push("trap 'exit 0' TERM INT", "while :; do sleep 3600 & wait $!; done");
  return lines.join("\n");
}

/** Healthy once every copy in the volume equals what the carrier brought. */
export function carrierHealthcheck(fileNames: string[]): string[] {
  const { staging, runtime } = CARRIER_PATHS;
  return ["CMD", "sh", "-c", fileNames.map((f) => `cmp -s ${staging}/${f} ${runtime}/${f}`).join(" && ")];
}

export class RuntimeFiles extends pulumi.ComponentResource {
  /** The volume the consumer mounts (read-only) to read the files. */
  readonly volume: docker.Volume;
  /** The carrier; consumers depend on it (it must mount the new volume first, see the file comment). */
  readonly container: docker.Container;
  /** Names of the files in the volume. */
  readonly fileNames: string[];

  constructor(name: string, args: RuntimeFilesArgs, opts?: pulumi.ComponentResourceOptions) {
    // inputs deliberately not passed to super: they would be stored in state as the component's inputs
    super("homelab:postgres:RuntimeFiles", name, {}, opts);
    const child = { parent: this };
    const user = USER.exec(args.user);
    if (!user) throw new Error(`invalid carrier user ${JSON.stringify(args.user)}: expected uid:gid`);
    const files = carrierFiles(args.files);
    this.fileNames = files.map((f) => f.name);
    // disposable: rewritten by every carrier that starts
    this.volume = new docker.Volume(`${name}-volume`, { name: `${args.stack}-${args.purpose}-runtime`, labels: labels(args.stack) }, child);
    const { staging, runtime } = CARRIER_PATHS;
    this.container = new docker.Container(
      `${name}-container`,
      {
        name: `${args.stack}-${args.purpose}-config`,
        image: args.image,
        user: args.user,
        entrypoints: ["/bin/sh", "-c", renderCarrierScript(files)],
        // staged readable by the carrier's user only; the copy gets the file's own mode
        uploads: files.map((f) => ({
          file: `${staging}/${f.name}`, content: args.files[f.name].content, permissions: "0400", owner: user[1], group: user[2],
        })),
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
