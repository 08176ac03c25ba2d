import { POLICY_NAMES, TYPES } from "../../policies/rules";
import { resourcePolicy, runResourceRule, UNKNOWN_STRING } from "./helpers";
import { DIGEST, goodContainer, goodRemoteImage, IMAGE_ID, without } from "./fixtures";

const rule = resourcePolicy(POLICY_NAMES.imagesPinned);

const image = (name: string, stack = "dev", config?: Record<string, unknown>) =>
  runResourceRule(rule, TYPES.remoteImage, goodRemoteImage(name), { stack, config });
const container = (ref: string, stack = "dev") => runResourceRule(rule, TYPES.container, { ...goodContainer(), image: ref }, { stack });

describe("rule 2: images are pinned", () => {
  it("is mandatory", () => {
    expect(rule.enforcementLevel).toBe("mandatory");
  });

  it.each([
    "pgvector/pgvector:0.8.0-pg17",
    "postgres:17.6-bookworm",
    "docker.io/library/postgres:17",
    "ghcr.io/org/img:1.2.3",
    "registry.local:5000/team/pgbouncer:1.24.1",
    `postgres:17@${DIGEST}`,
    `postgres@${DIGEST}`,
  ])("accepts %s in dev", async (ref) => {
    expect((await image(ref)).violations).toEqual([]);
  });

  it.each([
    ["postgres", /^image "postgres" has no tag: pin a version \(docker would pull :latest\)$/],
    ["registry.local:5000/team/pgbouncer", /has no tag/],
    ["postgres:latest", /^image "postgres:latest" uses the floating tag 'latest': pin a version$/],
    ["postgres@sha256:abc", /has a malformed digest/],
  ])("refuses %s", async (ref, message) => {
    const o = await image(ref);
    expect(o.violations).toEqual([expect.stringMatching(message)]);
  });

  it("refuses latest even with a digest, because the tag then lies about what runs", async () => {
    expect((await image(`postgres:latest@${DIGEST}`)).violations).toEqual([expect.stringMatching(/floating tag 'latest'/)]);
  });

  it("refuses a RemoteImage without a name", async () => {
    const o = await runResourceRule(rule, TYPES.remoteImage, { keepLocally: true });
    expect(o.violations).toEqual(["image name is missing"]);
  });

  describe("in prod", () => {
    it("requires a digest", async () => {
      const o = await image("pgvector/pgvector:0.8.0-pg17", "prod");
      expect(o.violations).toEqual([
        'image "pgvector/pgvector:0.8.0-pg17" is not pinned by digest (@sha256:...)',
      ]);
    });

    it("excuses exactly the images listed in digestExemptImages from the digest, not from the tag rules", async () => {
      const config = { digestExemptImages: ["edoburu/pgbouncer:v1.26.0-p0", "postgres:latest"] };
      expect((await image("edoburu/pgbouncer:v1.26.0-p0", "prod", config)).violations).toEqual([]);
      expect((await image("edoburu/pgbouncer:v1.26.1-p0", "prod", config)).violations).toEqual([expect.stringMatching(/not pinned by digest/)]);
      expect((await image("postgres:latest", "prod", config)).violations).toEqual([expect.stringMatching(/floating tag 'latest'/)]);
    });

    it("lets a container run an image the program builds, and checks that build's base instead", async () => {
      const built = "homelab-postgres/postgres:0.8.0-pg17-b8f74d284c31";
      expect((await runResourceRule(rule, TYPES.container, { ...goodContainer(), image: built }, { stack: "prod" })).violations).toEqual([]);
      // another repository with the same shape is not excused
      expect((await runResourceRule(rule, TYPES.container, { ...goodContainer(), image: "someone/postgres:17" }, { stack: "prod" })).violations).toEqual([
        expect.stringMatching(/not pinned by digest/),
      ]);
      const build = (base: string) => ({ imageName: built, build: { context: ".", args: { BASE_IMAGE: base } }, skipPush: true });
      expect((await runResourceRule(rule, TYPES.builtImage, build(`pgvector/pgvector:0.8.0-pg17@${DIGEST}`), { stack: "prod" })).violations).toEqual([]);
      expect((await runResourceRule(rule, TYPES.builtImage, build("pgvector/pgvector:0.8.0-pg17"), { stack: "prod" })).violations).toEqual([
        expect.stringMatching(/^base image .*not pinned by digest/),
      ]);
      expect((await runResourceRule(rule, TYPES.builtImage, build("pgvector/pgvector:latest"), { stack: "dev" })).violations).toEqual([
        expect.stringMatching(/^base image .*floating tag 'latest'/),
      ]);
      expect((await runResourceRule(rule, TYPES.builtImage, { imageName: built, build: { context: "." } }, { stack: "dev" })).violations).toEqual([
        "built image has no BASE_IMAGE build arg to check",
      ]);
    });

    it("accepts tag + digest and digest alone", async () => {
      expect((await image(`pgvector/pgvector:0.8.0-pg17@${DIGEST}`, "prod")).violations).toEqual([]);
      expect((await image(`pgvector/pgvector@${DIGEST}`, "prod")).violations).toEqual([]);
    });

    it("reports both problems of an untagged, undigested image", async () => {
      const o = await image("postgres", "prod");
      expect(o.violations).toEqual([expect.stringMatching(/has no tag/), expect.stringMatching(/not pinned by digest/)]);
    });
  });

  it("takes the digest stacks from config", async () => {
    const cfg = { requireDigestInStacks: ["staging"] };
    expect((await image("postgres:17", "staging", cfg)).violations).toEqual([expect.stringMatching(/not pinned by digest/)]);
    expect((await image("postgres:17", "prod", cfg)).violations).toEqual([]);
  });

  it("takes the forbidden tags from config", async () => {
    const o = await image("postgres:edge", "dev", { forbiddenTags: ["latest", "edge"] });
    expect(o.violations).toEqual([expect.stringMatching(/floating tag 'edge'/)]);
  });

  describe("container.image", () => {
    it("accepts an image ID (RemoteImage.imageId), in any stack", async () => {
      expect((await container(IMAGE_ID, "prod")).violations).toEqual([]);
    });

    it("accepts an image ID that is unknown during preview", async () => {
      const o = await container(UNKNOWN_STRING, "prod");
      expect(o.unknown).toBeUndefined();
      expect(o.violations).toEqual([]);
    });

    it("checks a literal reference like a RemoteImage name", async () => {
      expect((await container("redis:latest")).violations).toEqual([expect.stringMatching(/floating tag 'latest'/)]);
      expect((await container("redis")).violations).toEqual([expect.stringMatching(/has no tag/)]);
      expect((await container("redis:7.4", "prod")).violations).toEqual([expect.stringMatching(/not pinned by digest/)]);
      expect((await container("redis:7.4", "dev")).violations).toEqual([]);
    });
  });

  it("leaves a name or base image still unknown during preview to `pulumi up`", async () => {
    expect((await runResourceRule(rule, TYPES.remoteImage, { name: UNKNOWN_STRING }, { stack: "prod" })).violations).toEqual([]);
    const build = { imageName: "homelab-postgres/postgres:1", build: { context: ".", args: { BASE_IMAGE: UNKNOWN_STRING } } };
    expect((await runResourceRule(rule, TYPES.builtImage, build, { stack: "prod" })).violations).toEqual([]);
  });

  it("leaves a container without an image to the engine (only a RemoteImage must name one)", async () => {
    expect((await runResourceRule(rule, TYPES.container, without(goodContainer(), "image"), { stack: "prod" })).violations).toEqual([]);
  });

  it("never excuses an untagged reference from the digest, even one listed in digestExemptImages", async () => {
    const o = await image("postgres", "prod", { digestExemptImages: ["postgres"] });
    expect(o.violations).toEqual([expect.stringMatching(/has no tag/), expect.stringMatching(/not pinned by digest/)]);
  });

  it("is not applicable to other types", async () => {
    const o = await runResourceRule(rule, TYPES.role, { name: "app_owner" });
    expect(o.notApplicable).toBeDefined();
  });
});
