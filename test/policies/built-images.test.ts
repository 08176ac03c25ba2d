// Exemptions match an exact image reference only, never a whole repository: a
// container is skipped by docker-images-pinned only when its image is exactly what
// an image of the same stack builds (docker-built-images-from-stack: a RemoteImage with
// a build block, or a docker.Image), and
// digestExemptImages names one reference with its tag.
import { isBuiltImageRef, POLICY_NAMES, TYPES } from "../../policies/rules";
import { resourcePolicy, runResourceRule, runStackRule, stackPolicy, StackResourceInit, UNKNOWN_STRING } from "./helpers";
import { DIGEST, goodContainer, goodRemoteImage } from "./fixtures";

const BUILT = "homelab-postgres/postgres:17-amd64-b8f74d284c31";
const stackRule = stackPolicy(POLICY_NAMES.builtImagesFromStack);
const pinned = resourcePolicy(POLICY_NAMES.imagesPinned);

const image = (imageName: string): StackResourceInit => ({
  type: TYPES.builtImage, name: "postgres-image", props: { imageName, build: { context: ".", args: { BASE_IMAGE: `pgvector/pgvector:0.8.0-pg17@${DIGEST}` } } },
});
/** What the program registers: kreuzwerker's docker_image with a build block. */
const remoteBuilt = (name: string): StackResourceInit => ({
  type: TYPES.remoteImage, name: "postgres-image", props: { name, build: { context: "docker/postgres", buildArgs: { BASE_IMAGE: `debian:trixie-slim@${DIGEST}` } } },
});
const container = (ref: string, name = "postgres"): StackResourceInit => ({ type: TYPES.container, name, props: { ...goodContainer(), image: ref } });

describe("a container skipped as a built image runs exactly what the stack builds", () => {
  it("is mandatory and a stack rule", () => {
    expect(stackRule.enforcementLevel).toBe("mandatory");
    expect(typeof stackRule.validateStack).toBe("function");
  });

  it("accepts the container that runs the docker.Image's imageName", async () => {
    expect((await runStackRule(stackRule, [image(BUILT), container(BUILT)], { stack: "prod" })).violations).toEqual([]);
  });

  it.each([
    ["another tag of the built repository", "homelab-postgres/postgres:17-amd64-000000000000"],
    ["a tag that looks like the program's own", "homelab-postgres/postgres:16-arm64-b8f74d284c31"],
    ["a friendly tag", "homelab-postgres/postgres:17"],
  ])("refuses %s, pulled from a registry under the same name", async (_what, ref) => {
    const o = await runStackRule(stackRule, [image(BUILT), container(ref, "imposter")], { stack: "prod" });
    expect(o.violations).toEqual([expect.stringMatching(/^container imposter runs .* no image built by this stack has that exact reference/)]);
  });

  it("accepts the container that runs a RemoteImage's name when the RemoteImage builds it", async () => {
    expect((await runStackRule(stackRule, [remoteBuilt(BUILT), container(BUILT)], { stack: "prod" })).violations).toEqual([]);
  });

  it("refuses the container when a RemoteImage of that name has no build block: it is pulled", async () => {
    const pulled: StackResourceInit = { type: TYPES.remoteImage, name: "postgres-image", props: { name: BUILT } };
    expect((await runStackRule(stackRule, [pulled, container(BUILT)], { stack: "prod" })).violations).toEqual([expect.stringMatching(/^container postgres runs .* no image built by this stack/)]);
  });

  it("refuses a built-looking reference in a stack that builds nothing", async () => {
    expect((await runStackRule(stackRule, [container(BUILT)], { stack: "dev" })).violations).toHaveLength(1);
  });

  it("waits for an imageName unknown during preview", async () => {
    expect((await runStackRule(stackRule, [image(UNKNOWN_STRING), container(BUILT)], { stack: "prod" })).violations).toEqual([]);
  });

  it("hands over only a tagged, undigested reference of exactly a built repository", () => {
    expect(isBuiltImageRef(BUILT, ["homelab-postgres/postgres"])).toBe(true);
    expect(isBuiltImageRef("homelab-postgres/postgres", ["homelab-postgres/postgres"])).toBe(false);
    expect(isBuiltImageRef(`homelab-postgres/postgres:17@${DIGEST}`, ["homelab-postgres/postgres"])).toBe(false);
    expect(isBuiltImageRef("docker.io/homelab-postgres/postgres:17", ["homelab-postgres/postgres"])).toBe(false);
    expect(isBuiltImageRef("evil.example/homelab-postgres/postgres:17", ["homelab-postgres/postgres"])).toBe(false);
    expect(isBuiltImageRef("homelab-postgres/postgres-x:17", ["homelab-postgres/postgres"])).toBe(false);
  });

  it("docker-images-pinned checks a RemoteImage that builds by its BASE_IMAGE, not by its own tag", async () => {
    const props = (base: string) => ({ name: BUILT, build: { context: "docker/postgres", buildArgs: { BASE_IMAGE: base } } });
    expect((await runResourceRule(pinned, TYPES.remoteImage, props(`debian:trixie-slim@${DIGEST}`), { stack: "prod" })).violations).toEqual([]);
    expect((await runResourceRule(pinned, TYPES.remoteImage, props("debian:trixie-slim"), { stack: "prod" })).violations).toEqual([expect.stringMatching(/^base image .*not pinned by digest/)]);
    expect((await runResourceRule(pinned, TYPES.remoteImage, { name: BUILT, build: { context: "docker/postgres" } }, { stack: "prod" })).violations).toEqual(["built image has no BASE_IMAGE build arg to check"]);
    // without a build block it is pulled: its own name must be pinned
    expect((await runResourceRule(pinned, TYPES.remoteImage, { name: BUILT }, { stack: "prod" })).violations).toEqual([expect.stringMatching(/^image .*digest/)]);
  });

  it("docker-images-pinned checks every other look-alike like a pulled image", async () => {
    for (const ref of ["homelab-postgres/postgres", "evil.example/homelab-postgres/postgres:17", "homelab-postgres/postgres-x:17"]) {
      const o = await runResourceRule(pinned, TYPES.container, { ...goodContainer(), image: ref }, { stack: "prod" });
      expect(o.violations.length).toBeGreaterThan(0);
    }
  });
});

describe("digestExemptImages names exact references", () => {
  it("an entry without a tag exempts nothing, not even the bare repository", async () => {
    const config = { digestExemptImages: ["edoburu/pgbouncer"] };
    for (const ref of ["edoburu/pgbouncer:v1.26.0-p0", "edoburu/pgbouncer:latest"]) {
      expect((await runResourceRule(pinned, TYPES.remoteImage, goodRemoteImage(ref), { stack: "prod", config })).violations).toEqual(
        expect.arrayContaining([expect.stringMatching(/not pinned by digest/)]),
      );
    }
  });

  it("an exact entry exempts that reference only, not its registry-qualified or re-tagged forms", async () => {
    const config = { digestExemptImages: ["edoburu/pgbouncer:v1.26.0-p0"] };
    const run = (ref: string) => runResourceRule(pinned, TYPES.remoteImage, goodRemoteImage(ref), { stack: "prod-eu", config });
    expect((await run("edoburu/pgbouncer:v1.26.0-p0")).violations).toEqual([]);
    for (const ref of ["docker.io/edoburu/pgbouncer:v1.26.0-p0", "edoburu/pgbouncer:v1.26.0-p1", "evil/pgbouncer:v1.26.0-p0"]) {
      expect((await run(ref)).violations).toEqual([expect.stringMatching(/not pinned by digest/)]);
    }
  });
});
