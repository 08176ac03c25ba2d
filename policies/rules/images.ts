// Rule 2: images are pinned by tag, and by digest where the stack requires it.
// Parsing and pin checks are the program's own (components/lib/image-ref.ts).
import { imagePinProblems, isImageId, parseImageRef } from "../../components/lib/image-ref";
import { stringListOption, POLICY_NAMES, PROD_STACK_PATTERNS, read, readPath, resourceRule, stackMatches, TYPES, UNKNOWN } from "../lib";

export interface ImagesPinnedConfig {
  requireDigestInStacks: string[];
  forbiddenTags: string[];
  /** Exact image refs whose missing digest is tolerated (the tag rules still apply). */
  digestExemptImages: string[];
  /**
   * Repositories of images the program builds itself (a RemoteImage with `build`, or a
   * docker.Image): never pulled,
   * so no registry digest exists; their tag is a content hash, and the rule checks
   * the build's BASE_IMAGE instead. A container is handed over only when its image
   * is exactly such a reference; rule docker-built-images-from-stack then requires
   * that exact reference to be built by a built image of the same stack, so a pulled
   * image named like the repository is never skipped.
   */
  builtImageRepositories: string[];
}

export const imagesPinnedPolicy = resourceRule<ImagesPinnedConfig>({
  name: POLICY_NAMES.imagesPinned,
  description:
    "Images are pinned: a tag that is not 'latest' everywhere, and a digest (@sha256:) in the stacks requireDigestInStacks matches (default: prod and prod-*, the stacks the program treats as prod).",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Use name:version, and in prod name:version@sha256:<digest> (docker buildx imagetools inspect <name:version> prints it).",
  types: [TYPES.remoteImage, TYPES.container, TYPES.builtImage],
  options: {
    requireDigestInStacks: stringListOption("Stacks whose images must carry a digest: names, or patterns with * (prod-*)."),
    forbiddenTags: stringListOption("Floating tags that are never accepted."),
    builtImageRepositories: stringListOption("Repositories of images built by the program (a RemoteImage with build, or a docker.Image); containers may run them by tag, and their BASE_IMAGE build arg is checked instead."),
    digestExemptImages: stringListOption("Exact image references (name:tag, as written in the program) excused from the digest requirement, e.g. until a digest is recorded. Never a repository: an entry without a tag matches nothing. Tags are still checked."),
  },
  defaults: {
    requireDigestInStacks: [...PROD_STACK_PATTERNS],
    forbiddenTags: ["latest"],
    digestExemptImages: [],
    builtImageRepositories: ["homelab-postgres/postgres", "homelab-postgres/pgbouncer", "homelab-postgres/exporters"],
  },
  check: (props, { args, config, stack }, report) => {
    // an exemption names one exact reference with its tag; a bare repository exempts nothing
    const exempt = (r: string) => config.digestExemptImages.includes(r) && parseImageRef(r)?.tag !== undefined;
    const pinOpts = (r: string) => ({
      requireDigest: stackMatches(stack, config.requireDigestInStacks) && !exempt(r),
      forbiddenTags: config.forbiddenTags,
    });
    const build = args.type === TYPES.remoteImage ? read(props, "build") : undefined;
    if (args.type === TYPES.builtImage || (build !== undefined && build !== null)) {
      // what a built image really runs is its base: that must be pinned like a pulled image
      const base = build === UNKNOWN ? UNKNOWN : readPath(props, "build", args.type === TYPES.builtImage ? "args" : "buildArgs", "BASE_IMAGE");
      if (base === UNKNOWN) return;
      if (typeof base !== "string") {
        report("built image has no BASE_IMAGE build arg to check");
        return;
      }
      for (const p of imagePinProblems(base, pinOpts(base))) report(`base image ${p}`);
      return;
    }
    const isContainer = args.type === TYPES.container;
    const ref = read(props, isContainer ? "image" : "name");
    // A container normally runs RemoteImage.imageId (an ID, checked via the
    // RemoteImage) which is unknown until the image is pulled: nothing to check.
    if (ref === UNKNOWN) return;
    if (typeof ref !== "string") {
      if (!isContainer) report("image name is missing");
      return;
    }
    if (isContainer && isImageId(ref)) return;
    if (isContainer && isBuiltImageRef(ref, config.builtImageRepositories)) return; // docker-built-images-from-stack checks it
    const problems = imagePinProblems(ref, pinOpts(ref));
    for (const p of problems) report(`image ${p}`);
  },
});

/**
 * Whether a container's image reference names a built repository with a tag and no
 * digest (the only shape a built image's name has); a look-alike with a
 * digest or without a tag is checked like any pulled image.
 */
export function isBuiltImageRef(ref: string, builtRepositories: readonly string[]): boolean {
  const parsed = parseImageRef(ref);
  return parsed !== undefined && parsed.tag !== undefined && parsed.digest === undefined && builtRepositories.includes(parsed.repository);
}
