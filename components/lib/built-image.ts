// Images the stack builds on the docker host from a context under docker/ (never
// pushed): the reference they are tagged with, and the RemoteImage that builds them.
// Used by the Postgres, pgBouncer and exporter image components.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { readdirSync, readFileSync } from "fs";
import * as path from "path";
import { digest } from "./digest";
import { parseImageRef } from "./image-ref";

/** The project directory: where Pulumi.yaml is and where `pulumi` runs the program. */
export const PROJECT_DIR = path.join(__dirname, "..", "..");

/** The Docker host's platform (postgres.platform). */
export type ImagePlatform = "linux/amd64" | "linux/arm64";

/** A build context under the project directory: `docker/postgres`. */
export interface BuildContext {
  /** Relative to the project directory (the same input from every checkout). */
  dir: string;
}

/** Every file of a context, by name, read from this checkout (sorted, so the digest is stable). */
export function contextFiles(context: BuildContext): [string, string][] {
  const abs = path.join(PROJECT_DIR, context.dir);
  return readdirSync(abs).sort().map((f) => [f, readFileSync(path.join(abs, f), "utf8")]);
}

/**
 * `<repository>:<label>-<arch>-<12 hex>`: the hex covers the context's files and the
 * build args (base image and package versions), so a change of any of them is a new tag
 * and the containers running it are replaced; an unchanged build keeps its tag.
 */
export function builtImageRef(repository: string, label: string, files: [string, string][], args: Record<string, string>, platform: ImagePlatform): string {
  if (parseImageRef(`${repository}:x`) === undefined) throw new Error(`invalid repository ${JSON.stringify(repository)}`);
  const arch = /^linux\/(amd64|arm64)$/.exec(platform);
  if (!arch) throw new Error(`invalid platform ${JSON.stringify(platform)}: linux/amd64 or linux/arm64`);
  if (args.BASE_IMAGE === undefined || parseImageRef(args.BASE_IMAGE) === undefined) throw new Error(`invalid base image reference: ${JSON.stringify(args.BASE_IMAGE)}`);
  const slug = label.replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, 60);
  const parts = [...files.flat(), ...Object.keys(args).sort().flatMap((k) => [k, args[k]])];
  return `${repository}:${slug}-${arch[1]}-${digest(...parts).slice(0, 12)}`;
}

export interface BuildImageArgs {
  /** The tag (builtImageRef). */
  ref: string;
  context: BuildContext;
  args: Record<string, string>;
  platform: ImagePlatform;
}

/**
 * The RemoteImage that builds `ref` on the docker host: kreuzwerker's docker_image with
 * a `build` block, not pulumi-docker's docker.Image, because only its Read looks at the
 * host. resourceDockerImageRead finds no local image of that name and clears the id
 * (internal/provider/resource_docker_image_funcs.go), so after a host is lost a
 * `pulumi up --refresh` builds the image again; docker.Image's Read returns its inputs
 * "as passed, since we do no reconciliation" (pulumi/pulumi-docker
 * provider/provider.go), so it stayed in state and the containers failed to pull
 * a tag that was never pushed. The inputs are the same from every machine and checkout:
 * the context is relative to the project directory, where the provider runs, and the
 * platform is explicit (an Apple-silicon laptop must not build arm64 for an x86 host).
 * keepLocally: a replaced tag stays on the host until pruned, so a rollback needs no
 * rebuild and a delete never fights a container for its image.
 */
export function buildImage(name: string, a: BuildImageArgs, opts: pulumi.CustomResourceOptions): docker.RemoteImage {
  return new docker.RemoteImage(name, {
    name: a.ref,
    build: { context: a.context.dir, dockerfile: "Dockerfile", platform: a.platform, buildArgs: a.args },
    keepLocally: true,
  }, opts);
}
