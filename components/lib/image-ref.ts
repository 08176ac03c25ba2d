// Docker image references, parsed once: `[registry[:port]/]path[:tag][@sha256:hex]`.
// Used by config validation, the built images' tags and the policy pack. Imports
// nothing of ours.

export interface ImageRef {
  /** `registry.local:5000`, `ghcr.io`; absent for Docker Hub short names. */
  registry?: string;
  /** Path without registry, tag or digest: `pgvector/pgvector`, `team/postgres`. */
  path: string;
  /** Registry and path, as docker names the repository: `registry.local:5000/team/postgres`. */
  repository: string;
  tag?: string;
  /** `sha256:<64 hex>` when the reference carries one (malformed digests are kept, see `digestOk`). */
  digest?: string;
  /** Whether `digest`, when present, is a well-formed sha256 digest. */
  digestOk: boolean;
}

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const REGISTRY = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9a-fA-F:]+\])(?::\d{1,5})?$/;

/** A docker image ID (what RemoteImage.imageId returns), not a reference to pull. */
export function isImageId(value: string): boolean {
  return /^sha256:[0-9a-f]{64}$/.test(value) || /^[0-9a-f]{64}$/.test(value);
}

/** Parses a reference by docker's grammar; undefined when it is not one. */
export function parseImageRef(ref: string): ImageRef | undefined {
  if (ref === "" || /\s/.test(ref)) return undefined;
  const at = ref.indexOf("@");
  const name = at >= 0 ? ref.slice(0, at) : ref;
  const digest = at >= 0 ? ref.slice(at + 1) : undefined;
  if (digest === "") return undefined;
  // a ':' after the last '/' starts the tag; one before it is a registry port
  const lastSlash = name.lastIndexOf("/");
  const colon = name.indexOf(":", lastSlash + 1);
  const repository = colon >= 0 ? name.slice(0, colon) : name;
  const tag = colon >= 0 ? name.slice(colon + 1) : undefined;
  if (tag !== undefined && !TAG.test(tag)) return undefined;
  const parts = repository.split("/");
  // docker's rule: the first component is a registry when it has a '.' or ':' or is localhost
  let registry: string | undefined;
  if (parts.length > 1 && (/[.:]/.test(parts[0]) || parts[0] === "localhost")) registry = parts.shift();
  if (registry !== undefined && !REGISTRY.test(registry)) return undefined;
  if (parts.length === 0 || !parts.every((p) => PATH_COMPONENT.test(p))) return undefined;
  return { registry, path: parts.join("/"), repository, tag, digest, digestOk: digest === undefined || DIGEST.test(digest) };
}

export interface PinOptions {
  /** Refuse references without a digest. */
  requireDigest?: boolean;
  /** Tags that float (default: `latest`). */
  forbiddenTags?: readonly string[];
}

/** Everything wrong with how a reference is pinned ([] when it is pinned). */
export function imagePinProblems(ref: string, opts: PinOptions = {}): string[] {
  const parsed = parseImageRef(ref);
  if (!parsed) return [`${JSON.stringify(ref)} is not an image reference`];
  const problems: string[] = [];
  if (!parsed.digestOk) problems.push(`${JSON.stringify(ref)} has a malformed digest (expected @sha256:<64 hex>)`);
  if (parsed.tag === undefined && parsed.digest === undefined) problems.push(`${JSON.stringify(ref)} has no tag: pin a version (docker would pull :latest)`);
  if (parsed.tag !== undefined && (opts.forbiddenTags ?? ["latest"]).includes(parsed.tag)) {
    problems.push(`${JSON.stringify(ref)} uses the floating tag '${parsed.tag}': pin a version`);
  }
  if (opts.requireDigest && parsed.digest === undefined) problems.push(`${JSON.stringify(ref)} is not pinned by digest (@sha256:...)`);
  return problems;
}
