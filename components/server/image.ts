// PostgresImage: the configured Postgres image plus pgBackRest, age, curl, jq and
// xmllint (docker/postgres/Dockerfile), built on the docker host. The postgres
// container runs it when backups are on (archive_command is pgBackRest), and
// the backup sidecar runs the same image.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "fs";
import * as path from "path";
import { digest } from "../lib/digest";
import { parseImageRef, tagSlug } from "../lib/image-ref";

export const DOCKERFILE_DIR = path.join(__dirname, "..", "..", "docker", "postgres");

export interface PostgresImageArgs {
  /** The configured pgvector/postgres image (postgres.image); the build's BASE_IMAGE. */
  baseImage: string;
}

/**
 * `homelab-postgres/postgres:<base tag>-<12 hex of Dockerfile + base>`. The base
 * tag is the reference's own tag (a registry port is not one), `untagged` for a
 * digest-only reference; the digest part changes with the Dockerfile or the base.
 */
export function postgresImageRef(baseImage: string, dockerfileText: string): string {
  if (parseImageRef(baseImage) === undefined) throw new Error(`invalid base image reference: ${JSON.stringify(baseImage)}`);
  return `homelab-postgres/postgres:${tagSlug(baseImage)}-${digest(baseImage, dockerfileText).slice(0, 12)}`;
}

/**
 * The image both the postgres container and the backup sidecar run. Built
 * locally on the docker host (never pushed). Its tag carries a digest of the
 * Dockerfile and the base image, so a change to either is a new tag and the
 * containers are replaced; an unchanged build keeps its tag.
 */
export class PostgresImage extends pulumi.ComponentResource {
  /** Local image reference for docker.Container `image`. */
  readonly imageName: pulumi.Output<string>;
  /** The same reference as a plain string (known at preview). */
  readonly ref: string;

  constructor(name: string, args: PostgresImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:postgres:PostgresImage", name, {}, opts);
    const dockerfile = path.join(DOCKERFILE_DIR, "Dockerfile");
    this.ref = postgresImageRef(args.baseImage, readFileSync(dockerfile, "utf8"));
    const image = new docker.Image(`${name}-image`, {
      imageName: this.ref,
      build: { context: DOCKERFILE_DIR, dockerfile, args: { BASE_IMAGE: args.baseImage } },
      skipPush: true,
      // previews on pull requests must not need a docker daemon that can build
      buildOnPreview: false,
    }, { parent: this });
    this.imageName = image.imageName;
    this.registerOutputs({ imageName: this.imageName, ref: this.ref });
  }
}
