// Rule 11, a stack rule, the other half of rule 2's hand-over: a container rule 2
// skipped because its image is named like a repository the program builds must run
// exactly the reference a built image of the same stack builds (a RemoteImage with a
// build block, or a docker.Image). A pulled image that
// only shares the name (someone else's `homelab-postgres/postgres:<tag>` on a
// registry) is a violation, not an exemption.
import { ofType, POLICY_NAMES, read, stackRule, TYPES, UNKNOWN } from "../lib";
import { imagesPinnedPolicy, isBuiltImageRef } from "./images";

export interface BuiltImagesFromStackConfig {
  builtImageRepositories: string[];
}

export const builtImagesFromStackPolicy = stackRule<BuiltImagesFromStackConfig>({
  name: POLICY_NAMES.builtImagesFromStack,
  description:
    "A container whose image is named like a repository the program builds (builtImageRepositories, the same list as docker-images-pinned) runs exactly the name of an image the same stack builds (a RemoteImage with build, or a docker.Image's imageName).",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: "Run the built image's name output (not a string that looks like it), or pin a pulled image by tag and digest under another name.",
  options: {
    builtImageRepositories: {
      type: "array",
      items: { type: "string" },
      description: "Repositories of images built by the program; keep it equal to docker-images-pinned's option of the same name.",
    },
  },
  defaults: {
    builtImageRepositories: [...(imagesPinnedPolicy.configSchema?.properties?.builtImageRepositories?.default as string[])],
  },
  check: (args, { config }, reportViolation) => {
    const built = new Set<string>();
    let unknownBuilt = false;
    for (const image of ofType(args.resources, [TYPES.builtImage, TYPES.remoteImage])) {
      // a RemoteImage builds only with a build block; otherwise it is pulled
      const build = image.type === TYPES.remoteImage ? read(image.props, "build") : true;
      if (build === undefined || build === null) continue;
      const name = build === UNKNOWN ? UNKNOWN : read(image.props, image.type === TYPES.builtImage ? "imageName" : "name");
      if (name === UNKNOWN) unknownBuilt = true;
      else if (typeof name === "string") built.add(name);
    }
    for (const c of ofType(args.resources, [TYPES.container])) {
      const ref = read(c.props, "image");
      if (typeof ref !== "string" || !isBuiltImageRef(ref, config.builtImageRepositories)) continue;
      if (built.has(ref) || unknownBuilt) continue; // unknown during preview: checked again on up
      reportViolation(
        `container ${c.name} runs ${JSON.stringify(ref)}, named like a built repository, but no image built by this stack has that exact reference: it would be pulled and run unchecked`,
        c.urn,
      );
    }
  },
});
