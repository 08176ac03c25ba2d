// The pgBouncer image: Debian's pgbouncer package on the pinned Debian base
// (docker/pgbouncer), built on the docker host like PostgresImage.
import { PGBOUNCER_PACKAGE, pgbouncerBuildArgs } from "../config/images";
import { BuildContext, ImagePlatform, builtImageRef, contextFiles } from "../lib/built-image";

/** The build context (docker/pgbouncer: the Dockerfile and add-suite.sh). */
export const PGBOUNCER_CONTEXT: BuildContext = { dir: "docker/pgbouncer" };
/** The repository of the built image (the policy pack's builtImageRepositories lists it). */
export const PGBOUNCER_REPOSITORY = "homelab-postgres/pgbouncer";

/** `homelab-postgres/pgbouncer:<release>-<arch>-<12 hex of the context and the build args>`. */
export function pgbouncerImageRef(baseImage: string, platform: ImagePlatform, files = contextFiles(PGBOUNCER_CONTEXT)): string {
  return builtImageRef(PGBOUNCER_REPOSITORY, PGBOUNCER_PACKAGE.release.join("."), files, pgbouncerBuildArgs(baseImage), platform);
}
