// PostgresImage: PostgreSQL, pgvector, pgAudit, pgBackRest and the backup tools from
// Debian packages on the pinned Debian base (docker/postgres), built on the docker
// host. The postgres container, the backup sidecar, the standby and their carriers run it.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { postgresBuildArgs } from "../config/images";
import { BuildContext, ImagePlatform, buildImage, builtImageRef, contextFiles } from "../lib/built-image";

export type { ImagePlatform } from "../lib/built-image";

/** The build context (docker/postgres: the Dockerfile and the image's entrypoint). */
export const POSTGRES_CONTEXT: BuildContext = { dir: "docker/postgres" };
/** The repository of the built image (the policy pack's builtImageRepositories lists it). */
export const POSTGRES_REPOSITORY = "homelab-postgres/postgres";

export interface PostgresImageArgs {
  /** PostgreSQL major (postgres.majorVersion): which packages the build installs. */
  majorVersion: number;
  /** The pinned Debian base for that major's suite (images.<suite>); the build's BASE_IMAGE. */
  baseImage: string;
  /** The Docker host's platform (postgres.platform): what the image is built for, whatever machine runs `pulumi up`. */
  platform: ImagePlatform;
}

/** `homelab-postgres/postgres:pg<major>-<arch>-<12 hex of the context and the build args>`. */
export function postgresImageRef(a: PostgresImageArgs, files = contextFiles(POSTGRES_CONTEXT)): string {
  return builtImageRef(POSTGRES_REPOSITORY, `pg${a.majorVersion}`, files, postgresBuildArgs(a.majorVersion, a.baseImage), a.platform);
}

/**
 * The image the postgres container, the backup sidecar and the standby run. Its tag
 * changes with the context, the base or a package version, so the containers are then
 * replaced; the data volume is not (it depends on nothing here).
 */
export class PostgresImage extends pulumi.ComponentResource {
  /** Local image reference for docker.Container `image`. */
  readonly imageName: pulumi.Output<string>;
  /** The same reference as a plain string (known at preview). */
  readonly ref: string;
  readonly image: docker.RemoteImage;

  constructor(name: string, args: PostgresImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:postgres:PostgresImage", name, {}, opts);
    this.ref = postgresImageRef(args);
    this.image = buildImage(`${name}-image`, { ref: this.ref, context: POSTGRES_CONTEXT, args: postgresBuildArgs(args.majorVersion, args.baseImage), platform: args.platform }, { parent: this });
    this.imageName = this.image.name;
    this.registerOutputs({ imageName: this.imageName, ref: this.ref });
  }
}
