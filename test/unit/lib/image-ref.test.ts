// components/lib/image-ref.ts: the one image-reference parser (config validation
// and the policy pack's docker-images-pinned rule).
import { imagePinProblems, isImageId, parseImageRef } from "../../../components/lib/image-ref";

const HEX = "0123456789abcdef".repeat(4);
const DIGEST = `sha256:${HEX}`;

describe("parseImageRef", () => {
  it("reads a registry with a port as part of the repository, not as a tag", () => {
    expect(parseImageRef("registry.local:5000/team/postgres:16.4")).toEqual({
      registry: "registry.local:5000",
      path: "team/postgres",
      repository: "registry.local:5000/team/postgres",
      tag: "16.4",
      digest: undefined,
      digestOk: true,
    });
    expect(parseImageRef("registry.local:5000/team/postgres")).toMatchObject({ repository: "registry.local:5000/team/postgres", tag: undefined });
  });

  it("takes the first component as a registry only when it has a '.' or ':' or is localhost", () => {
    expect(parseImageRef("pgvector/pgvector:0.8.0-pg17")).toMatchObject({ registry: undefined, path: "pgvector/pgvector", tag: "0.8.0-pg17" });
    expect(parseImageRef("localhost/pg:17")).toMatchObject({ registry: "localhost", path: "pg", repository: "localhost/pg" });
    expect(parseImageRef("ghcr.io/org/img:1.2.3")).toMatchObject({ registry: "ghcr.io", path: "org/img" });
    expect(parseImageRef("postgres")).toMatchObject({ registry: undefined, path: "postgres", repository: "postgres", tag: undefined });
  });

  it("splits off a digest and says whether it is well formed", () => {
    expect(parseImageRef(`postgres:17@${DIGEST}`)).toMatchObject({ repository: "postgres", tag: "17", digest: DIGEST, digestOk: true });
    expect(parseImageRef(`postgres@${DIGEST}`)).toMatchObject({ tag: undefined, digest: DIGEST, digestOk: true });
    expect(parseImageRef("pg:17@sha256:abc")).toMatchObject({ tag: "17", digest: "sha256:abc", digestOk: false });
  });

  it("refuses what docker would refuse", () => {
    for (const ref of ["", "has space:1", " postgres:17", "Postgres:17", "pg:17@", "pg:-x", "pg:", "/pg", "bad_registry:x/pg:1"]) {
      expect({ ref, parsed: parseImageRef(ref) }).toEqual({ ref, parsed: undefined });
    }
  });
});

describe("isImageId", () => {
  it("knows an image ID from a reference", () => {
    expect(isImageId(DIGEST)).toBe(true);
    expect(isImageId("0123456789abcdef".repeat(4))).toBe(true);
    expect(isImageId("postgres:17")).toBe(false);
    expect(isImageId("sha256:abc")).toBe(false);
  });
});

describe("imagePinProblems", () => {
  it("accepts a versioned tag, and tag + digest when a digest is required", () => {
    expect(imagePinProblems("postgres:17")).toEqual([]);
    expect(imagePinProblems(`postgres:17@${DIGEST}`, { requireDigest: true })).toEqual([]);
    expect(imagePinProblems(`postgres@${DIGEST}`, { requireDigest: true })).toEqual([]);
  });

  it("names each problem once", () => {
    expect(imagePinProblems("")).toEqual(['"" is not an image reference']);
    expect(imagePinProblems("postgres")).toEqual([expect.stringMatching(/^"postgres" has no tag/)]);
    expect(imagePinProblems("postgres:latest")).toEqual([expect.stringMatching(/floating tag 'latest'/)]);
    expect(imagePinProblems("postgres@sha256:abc")).toEqual([expect.stringMatching(/malformed digest/)]);
    expect(imagePinProblems("postgres", { requireDigest: true })).toEqual([
      expect.stringMatching(/has no tag/),
      expect.stringMatching(/not pinned by digest/),
    ]);
  });

  it("takes the floating tags from the options", () => {
    expect(imagePinProblems("postgres:edge", { forbiddenTags: ["latest", "edge"] })).toEqual([expect.stringMatching(/floating tag 'edge'/)]);
    expect(imagePinProblems("postgres:latest", { forbiddenTags: [] })).toEqual([]);
  });
});

describe("parseImageRef, docker's grammar piece by piece", () => {
  it("accepts every separator docker allows inside a path component", () => {
    for (const ref of ["team/pg.vector:1", "team/pg_vector:1", "team/pg__vector:1", "team/pg-vector:1", "team/pg--vector:1"]) {
      expect({ ref, path: parseImageRef(ref)?.path }).toEqual({ ref, path: ref.slice(0, -2) });
    }
  });

  it("refuses path components docker refuses (upper case inside, stray separators)", () => {
    for (const ref of ["postGres:17", "team/pg___vector:1", "team/pg..vector:1", "team/pg-:1", "team/-pg:1"]) {
      expect({ ref, parsed: parseImageRef(ref) }).toEqual({ ref, parsed: undefined });
    }
  });

  it("takes a tag of up to 128 characters of [A-Za-z0-9_.-], and nothing else", () => {
    expect(parseImageRef(`pg:${"a".repeat(128)}`)?.tag).toHaveLength(128);
    for (const ref of [`pg:${"a".repeat(129)}`, "pg:1+x", "pg:17!"]) {
      expect({ ref, parsed: parseImageRef(ref) }).toEqual({ ref, parsed: undefined });
    }
  });

  it("refuses a reference with white space anywhere, the digest included", () => {
    expect(parseImageRef("pg:17@sha256:abc def")).toBeUndefined();
    expect(imagePinProblems("pg:17@sha256:abc def")).toEqual(['"pg:17@sha256:abc def" is not an image reference']);
  });

  it("says a digest is malformed unless it is exactly sha256: and 64 lower-case hex", () => {
    for (const digest of [`xsha256:${HEX}`, `${DIGEST}0`, `${DIGEST}x`]) {
      expect({ digest, digestOk: parseImageRef(`pg:17@${digest}`)?.digestOk }).toEqual({ digest, digestOk: false });
    }
  });

  it("accepts registries docker accepts: one-letter labels, IPv4 and bracketed IPv6 hosts", () => {
    expect(parseImageRef("r.local:5000/pg:1")).toMatchObject({ registry: "r.local:5000", path: "pg" });
    expect(parseImageRef("10.0.0.5:5000/pg:1")).toMatchObject({ registry: "10.0.0.5:5000", path: "pg" });
    expect(parseImageRef("[::1]:5000/pg:1")).toMatchObject({ registry: "[::1]:5000", path: "pg" });
    expect(parseImageRef("registry.example.com/team/pg:1")).toMatchObject({ registry: "registry.example.com", path: "team/pg" });
  });

  it("refuses a registry that is not a host name or address with an optional numeric port", () => {
    for (const ref of ["-registry.io/pg:1", "registry.io-/pg:1", "registry.local:port/pg:1", "registry.local:5000x/pg:1", "[::1/pg:1"]) {
      expect({ ref, parsed: parseImageRef(ref) }).toEqual({ ref, parsed: undefined });
    }
  });

  it("reads a lone name as a Docker Hub repository, even one that looks like a registry", () => {
    expect(parseImageRef("localhost:17")).toMatchObject({ registry: undefined, path: "localhost", repository: "localhost", tag: "17" });
    expect(parseImageRef("my.image:1")).toMatchObject({ registry: undefined, path: "my.image", tag: "1" });
  });
});

describe("isImageId, exactly", () => {
  it("refuses a digest with anything before or after it", () => {
    for (const value of [`postgres@${DIGEST}`, `${DIGEST}0`, `x${HEX}`, `${HEX}0`, `${HEX}g`]) {
      expect({ value, id: isImageId(value) }).toEqual({ value, id: false });
    }
  });
});
