// PostgresImage: the configured Postgres image plus pgBackRest, age, curl, jq and
// xmllint (docker/postgres/Dockerfile), built on the docker host. The postgres
// container runs it when backups are on (archive_command is pgBackRest), and
// the backup sidecar runs the same image.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "fs";
import * as path from "path";
import type { PostgresConfig } from "../config";
import { digest } from "../lib/digest";
import { parseImageRef, tagSlug } from "../lib/image-ref";

/** The project directory: where Pulumi.yaml is and where `pulumi` runs the program. */
const PROJECT_DIR = path.join(__dirname, "..", "..");
/** The build context, relative to the project directory (what the image's inputs hold). */
export const BUILD_CONTEXT = "docker/postgres";
/** The Dockerfile, relative to the project directory. */
export const BUILD_DOCKERFILE = `${BUILD_CONTEXT}/Dockerfile`;
/** The build context on this machine (to read the Dockerfile; never an input). */
export const DOCKERFILE_DIR = path.join(PROJECT_DIR, BUILD_CONTEXT);

/** The Docker host's platform (postgres.platform). */
export type ImagePlatform = PostgresConfig["platform"];

export interface PostgresImageArgs {
  /** The configured pgvector/postgres image (postgres.image); the build's BASE_IMAGE. */
  baseImage: string;
  /** The Docker host's platform (postgres.platform): what the image is built for, whatever machine runs `pulumi up`. */
  platform: ImagePlatform;
}

/**
 * `homelab-postgres/postgres:<base tag>-<arch>-<12 hex of Dockerfile + base>`. The
 * base tag is the reference's own tag (a registry port is not one), `untagged` for
 * a digest-only reference; the architecture (`amd64`, `arm64`) names the platform
 * it is built for; the digest part changes with the Dockerfile or the base.
 */
export function postgresImageRef(baseImage: string, dockerfileText: string, platform: ImagePlatform): string {
  if (parseImageRef(baseImage) === undefined) throw new Error(`invalid base image reference: ${JSON.stringify(baseImage)}`);
  const arch = /^linux\/(amd64|arm64)$/.exec(platform);
  if (!arch) throw new Error(`invalid platform ${JSON.stringify(platform)}: linux/amd64 or linux/arm64`);
  return `homelab-postgres/postgres:${tagSlug(baseImage)}-${arch[1]}-${digest(baseImage, dockerfileText).slice(0, 12)}`;
}

/**
 * The image both the postgres container and the backup sidecar run. Built
 * locally on the docker host (never pushed). Its tag carries the platform and a
 * digest of the Dockerfile and the base image, so a change to any of them is a
 * new tag and the containers are replaced; an unchanged build keeps its tag.
 *
 * The inputs are the same from every machine and checkout: pulumi-docker's
 * `docker.Image` stores context and dockerfile as given (not made absolute), so
 * they are relative to the project directory (the provider runs there), and
 * when `build.platform` is unset its Check fills in `linux/` + the GOARCH of
 * the machine running the provider (provider/provider.go), which would build
 * arm64 on an Apple-silicon laptop for an x86 host and show a diff from any
 * other machine; any change of these inputs is an update that rebuilds.
 */
export class PostgresImage extends pulumi.ComponentResource {
  /** Local image reference for docker.Container `image`. */
  readonly imageName: pulumi.Output<string>;
  /** The same reference as a plain string (known at preview). */
  readonly ref: string;

  constructor(name: string, args: PostgresImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:postgres:PostgresImage", name, {}, opts);
    this.ref = postgresImageRef(args.baseImage, readFileSync(path.join(DOCKERFILE_DIR, "Dockerfile"), "utf8"), args.platform);
    const image = new docker.Image(`${name}-image`, {
      imageName: this.ref,
      build: { context: BUILD_CONTEXT, dockerfile: BUILD_DOCKERFILE, platform: args.platform, args: { BASE_IMAGE: args.baseImage } },
      skipPush: true,
      // previews on pull requests must not need a docker daemon that can build
      buildOnPreview: false,
    }, { parent: this });
    this.imageName = image.imageName;
    this.registerOutputs({ imageName: this.imageName, ref: this.ref });
  }
}
