// ExporterImage: Debian's two exporter packages on the configured Postgres image
// (docker/exporters/Dockerfile), built on the docker host like PostgresImage.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "fs";
import * as path from "path";
import { digest } from "../lib/digest";
import { parseImageRef, tagSlug } from "../lib/image-ref";

const PROJECT_DIR = path.join(__dirname, "..", "..");
/** The build context, relative to the project directory (as PostgresImage: the same from every checkout). */
export const EXPORTERS_CONTEXT = "docker/exporters";
/** The files of the context; the tag's digest covers all of them. */
export const EXPORTERS_CONTEXT_FILES = ["Dockerfile", "pgbouncer-exporter-compat.sed"] as const;
/** The repository of the built image (the policy pack's builtImageRepositories lists it). */
export const EXPORTERS_REPOSITORY = "homelab-postgres/exporters";

/** The context's files, read from this checkout. */
export function exportersContextText(): string[] {
  return EXPORTERS_CONTEXT_FILES.map((f) => readFileSync(path.join(PROJECT_DIR, EXPORTERS_CONTEXT, f), "utf8"));
}

/** `homelab-postgres/exporters:<base tag>-<arch>-<12 hex of the context + base>`. */
export function exportersImageRef(baseImage: string, contextText: string[], platform: "linux/amd64" | "linux/arm64"): string {
  if (parseImageRef(baseImage) === undefined) throw new Error(`invalid base image reference: ${JSON.stringify(baseImage)}`);
  const arch = /^linux\/(amd64|arm64)$/.exec(platform);
  if (!arch) throw new Error(`invalid platform ${JSON.stringify(platform)}`);
  return `${EXPORTERS_REPOSITORY}:${tagSlug(baseImage)}-${arch[1]}-${digest(baseImage, ...contextText).slice(0, 12)}`;
}

export interface ExporterImageArgs {
  /** The configured Postgres image (postgres.image): pinned, pulled, Debian bookworm. */
  baseImage: string;
  /** The docker host's platform (postgres.platform). */
  platform: "linux/amd64" | "linux/arm64";
}

/** The image both exporter containers run; its tag changes with the context or the base. */
export class ExporterImage extends pulumi.ComponentResource {
  readonly imageName: pulumi.Output<string>;
  readonly ref: string;

  constructor(name: string, args: ExporterImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:postgres:ExporterImage", name, {}, opts);
    this.ref = exportersImageRef(args.baseImage, exportersContextText(), args.platform);
    const image = new docker.Image(`${name}-image`, {
      imageName: this.ref,
      build: { context: EXPORTERS_CONTEXT, dockerfile: `${EXPORTERS_CONTEXT}/Dockerfile`, platform: args.platform, args: { BASE_IMAGE: args.baseImage } },
      skipPush: true,
      buildOnPreview: false,
    }, { parent: this });
    this.imageName = image.imageName;
    this.registerOutputs({ imageName: this.imageName, ref: this.ref });
  }
}
