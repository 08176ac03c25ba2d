// ExporterImage: Debian 12's two exporter packages on the pinned bookworm base
// (docker/exporters/Dockerfile), built on the docker host like PostgresImage.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { exporterBuildArgs } from "../config/images";
import { BuildContext, ImagePlatform, buildImage, builtImageRef, contextFiles } from "../lib/built-image";

/** The build context, relative to the project directory (as PostgresImage: the same from every checkout). */
export const EXPORTERS_CONTEXT: BuildContext = { dir: "docker/exporters" };
/** The repository of the built image (the policy pack's builtImageRepositories lists it). */
export const EXPORTERS_REPOSITORY = "homelab-postgres/exporters";

/** `homelab-postgres/exporters:exporters-<arch>-<12 hex of the context and the build args>`. */
export function exportersImageRef(baseImage: string, platform: ImagePlatform, files = contextFiles(EXPORTERS_CONTEXT)): string {
  return builtImageRef(EXPORTERS_REPOSITORY, "exporters", files, exporterBuildArgs(baseImage), platform);
}

export interface ExporterImageArgs {
  /** The pinned Debian 12 base (images.bookworm). */
  baseImage: string;
  /** The Docker host's platform (postgres.platform). */
  platform: ImagePlatform;
}

/** The image both exporter containers run; its tag changes with the context or the base. */
export class ExporterImage extends pulumi.ComponentResource {
  readonly imageName: pulumi.Output<string>;
  readonly ref: string;
  readonly image: docker.RemoteImage;

  constructor(name: string, args: ExporterImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:postgres:ExporterImage", name, {}, opts);
    this.ref = exportersImageRef(args.baseImage, args.platform);
    this.image = buildImage(`${name}-image`, { ref: this.ref, context: EXPORTERS_CONTEXT, args: exporterBuildArgs(args.baseImage), platform: args.platform }, { parent: this });
    this.imageName = this.image.name;
    this.registerOutputs({ imageName: this.imageName, ref: this.ref });
  }
}
