// The homelab-postgres policy rules, as plain data. Importing this module has no
// side effects (no gRPC server): `policies/index.ts` wraps the array in a
// PolicyPack, and the tests call each rule's validate function directly.
//
// How the engine presents values to these functions (@pulumi/policy 1.21):
// - resource rules get the resource's *inputs*; stack rules get each resource's
//   *outputs* (during preview: inputs plus unknown computed values);
// - secrets arrive unwrapped, with no marker (deserialize.js calls
//   deserializeProperties(..., proxySecrets=false) for analyze/analyzeStack), so a
//   rule cannot tell a secret from plaintext; see docs/policies.md;
// - a value not known yet during preview throws UnknownValueError when read. The
//   framework turns that into an advisory "can't run during preview" note; the
//   helpers below catch it where a partial answer is better, and `pulumi up`
//   runs every rule again with all values known.
//
// Violation messages never quote a value that could be a secret: they end up in
// CLI output and in the pull-request comment.
import {
  EnforcementLevel,
  PolicyConfigSchema,
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  Severity,
  StackValidationArgs,
  StackValidationPolicy,
  UnknownValueError,
} from "@pulumi/policy";

// ------------------------------------------------------------------ names

export const POLICY_NAMES = {
  portBinding: "docker-ports-bind-tailnet-or-loopback",
  imagesPinned: "docker-images-pinned",
  containersHardened: "docker-containers-hardened",
  rolesLeastPrivilege: "postgresql-roles-least-privilege",
  passwordLength: "random-passwords-min-length",
  bucketHardened: "backup-bucket-hardened",
  prodHasBackup: "prod-stack-has-backup",
  noPasswordsInContainerConfig: "no-passwords-in-container-config",
} as const;

export const TYPES = {
  container: "docker:index/container:Container",
  remoteImage: "docker:index/remoteImage:RemoteImage",
  /** An image the program builds on the docker host (never pulled). */
  builtImage: "docker:index/image:Image",
  role: "postgresql:index/role:Role",
  randomPassword: "random:index/randomPassword:RandomPassword",
  // aws v7: `Bucket` is the current resource; `BucketV2` and the `*V2` companions
  // are deprecated aliases of the same things and are accepted too.
  bucket: ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"],
  versioning: ["aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"],
  encryption: [
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
  ],
  publicAccessBlock: ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"],
  lifecycle: [
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
  ],
  ownershipControls: ["aws:s3/bucketOwnershipControls:BucketOwnershipControls"],
} as const;

/** Docker label every container of the program carries, naming its part. */
export const ROLE_LABEL = "homelab.postgres/role";
export type ContainerRole = "postgres" | "pgbouncer" | "pgadmin" | "backup";

// ------------------------------------------------------------------ reading values

/** Marks a value the engine does not know yet (preview). */
export const UNKNOWN: unique symbol = Symbol("unknown");
export type Unknown = typeof UNKNOWN;

// The d.ts of @pulumi/policy re-exports UnknownValueError from an internal module
// whose declaration is stripped, so give it the type it has at runtime.
const UnknownError = UnknownValueError as unknown as new (...args: never[]) => Error;

/** `obj[key]`, or UNKNOWN when the engine's proxy says the value is not known yet. */
export function read(obj: unknown, key: string | number): unknown {
  if (obj === null || obj === undefined || typeof obj !== "object") return undefined;
  try {
    return (obj as Record<string | number, unknown>)[key];
  } catch (e) {
    if (e instanceof UnknownError) return UNKNOWN;
    throw e;
  }
}

/** Follows a path of keys; UNKNOWN as soon as one step is unknown. */
export function readPath(obj: unknown, ...keys: (string | number)[]): unknown {
  let cur: unknown = obj;
  for (const k of keys) {
    if (cur === UNKNOWN) return UNKNOWN;
    cur = read(cur, k);
  }
  return cur;
}

/** The elements of an array value (each possibly UNKNOWN); [] for anything else. */
export function items(value: unknown): unknown[] {
  if (!Array.isArray(value)) return [];
  const out: unknown[] = [];
  for (let i = 0; i < value.length; i++) out.push(read(value, i));
  return out;
}

function asString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function asStringArray(value: unknown): string[] {
  return items(value).filter((v): v is string => typeof v === "string");
}

// ------------------------------------------------------------------ stacks

/** Stack name from a URN (`urn:pulumi:<stack>::<project>::<type>::<name>`). */
export function stackNameFromUrn(urn: string): string | undefined {
  const m = /^urn:pulumi:([^:]+)::/.exec(urn);
  return m ? m[1] : undefined;
}

/**
 * The stack being checked: from the URNs the engine passes (always present), or
 * from the environment the engine gives the policy pack process
 * (PULUMI_STACK / PULUMI_NODEJS_STACK) when there is no resource at all.
 */
export function currentStackName(urns: string[], env: NodeJS.ProcessEnv = process.env): string {
  for (const urn of urns) {
    const s = stackNameFromUrn(urn);
    if (s) return s;
  }
  const fromEnv = env.PULUMI_STACK || env.PULUMI_NODEJS_STACK || "";
  // `org/project/stack` -> `stack`
  return fromEnv.split("/").pop() ?? "";
}

// ------------------------------------------------------------------ IP addresses

export interface ParsedIp {
  version: 4 | 6;
  value: bigint;
}

function parseIpv4(s: string): bigint | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  let v = 0n;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) return undefined;
    v = (v << 8n) | BigInt(octet);
  }
  return v;
}

function parseIpv6(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    const pieces = part.split(":");
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i];
      if (i === pieces.length - 1 && p.includes(".")) {
        // embedded IPv4 (e.g. ::ffff:127.0.0.1) takes two groups
        const v4 = parseIpv4(p);
        if (v4 === undefined) return undefined;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return all.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** Parses an IPv4 or IPv6 address (brackets and a zone id are tolerated). */
export function parseIp(input: string): ParsedIp | undefined {
  let s = input.trim();
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  s = s.replace(/%.*$/, "");
  const v4 = parseIpv4(s);
  if (v4 !== undefined) return { version: 4, value: v4 };
  const v6 = parseIpv6(s);
  if (v6 === undefined) return undefined;
  // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) binds the IPv4 address.
  if (v6 >> 32n === 0xffffn) return { version: 4, value: v6 & 0xffffffffn };
  return { version: 6, value: v6 };
}

/** True when `ip` lies inside `cidr` (same address family only). */
export function ipInCidr(ip: string, cidr: string): boolean {
  const [net, lenText] = cidr.split("/");
  const a = parseIp(ip);
  const n = parseIp(net);
  if (!a || !n || a.version !== n.version) return false;
  const bits = a.version === 4 ? 32 : 128;
  const len = lenText === undefined ? bits : Number(lenText);
  if (!Number.isInteger(len) || len < 0 || len > bits) return false;
  const shift = BigInt(bits - len);
  return a.value >> shift === n.value >> shift;
}

/** Tailnet CGNAT range and loopback: the only places a port may be published. */
export const DEFAULT_ALLOWED_BIND_CIDRS = ["100.64.0.0/10", "127.0.0.0/8", "::1/128"];

/**
 * Whether a docker port binding address is acceptable. Missing/empty means
 * docker's default, 0.0.0.0 (every interface); `::` is the IPv6 equivalent.
 */
export function isAllowedBindIp(ip: string | undefined, allowedCidrs: string[] = DEFAULT_ALLOWED_BIND_CIDRS): boolean {
  if (ip === undefined || ip.trim() === "") return false;
  const parsed = parseIp(ip);
  if (!parsed || parsed.value === 0n) return false; // unparseable, 0.0.0.0 or ::
  return allowedCidrs.some((c) => ipInCidr(ip, c));
}

// ------------------------------------------------------------------ image references

export interface ImageRef {
  /** Everything before the tag/digest, e.g. `docker.io/library/postgres`. */
  repository: string;
  tag?: string;
  digest?: string;
}

/** A docker image ID (what RemoteImage.imageId returns), not a reference to pull. */
export function isImageId(value: string): boolean {
  return /^sha256:[0-9a-f]{64}$/.test(value) || /^[0-9a-f]{64}$/.test(value);
}

/** Splits `[registry[:port]/]repo[:tag][@digest]`; undefined when it is not one. */
export function parseImageRef(ref: string): ImageRef | undefined {
  const s = ref.trim();
  if (s === "" || /\s/.test(s)) return undefined;
  const at = s.indexOf("@");
  const namePart = at >= 0 ? s.slice(0, at) : s;
  const digest = at >= 0 ? s.slice(at + 1) : undefined;
  const lastSlash = namePart.lastIndexOf("/");
  const colon = namePart.indexOf(":", lastSlash + 1); // a ':' before the last '/' is a registry port
  const repository = colon >= 0 ? namePart.slice(0, colon) : namePart;
  const tag = colon >= 0 ? namePart.slice(colon + 1) : undefined;
  if (repository === "") return undefined;
  return { repository, tag: tag === "" ? undefined : tag, digest: digest === "" ? undefined : digest };
}

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

/** What is wrong with how an image reference is pinned ([] when nothing). */
export function imagePinProblems(
  ref: string,
  opts: { requireDigest: boolean; forbiddenTags: string[] },
): string[] {
  const parsed = parseImageRef(ref);
  if (!parsed) return [`"${ref}" is not an image reference`];
  const problems: string[] = [];
  if (parsed.digest !== undefined && !DIGEST_RE.test(parsed.digest)) {
    problems.push(`"${ref}" has a malformed digest (expected @sha256:<64 hex>)`);
  }
  if (parsed.tag === undefined && parsed.digest === undefined) {
    problems.push(`"${ref}" has no tag (docker would pull :latest)`);
  }
  if (parsed.tag !== undefined && opts.forbiddenTags.includes(parsed.tag)) {
    problems.push(`"${ref}" uses the floating tag "${parsed.tag}"`);
  }
  if (opts.requireDigest && parsed.digest === undefined) {
    problems.push(`"${ref}" is not pinned by digest (@sha256:...), which this stack requires`);
  }
  return problems;
}

// ------------------------------------------------------------------ container hardening

/** `no-new-privileges`, `no-new-privileges:true` or `=true` (docker accepts each). */
export function hasNoNewPrivileges(securityOpts: string[]): boolean {
  return securityOpts.some((o) => /^no-new-privileges([:=]true)?$/.test(o.trim().toLowerCase()));
}

/** Drivers accepted without options: `local` rotates by default (5 x 20 MB), journald by its own limits. */
export const DEFAULT_ROTATING_LOG_DRIVERS = ["local", "journald"];

/** Why a container's logs may grow without bound, or undefined when they cannot. */
export function logRotationProblem(
  driver: string | undefined,
  logOpts: Record<string, unknown> | undefined,
  rotatingDrivers: string[] = DEFAULT_ROTATING_LOG_DRIVERS,
): string | undefined {
  if (driver === undefined || driver === "") {
    return 'logDriver is not set (the daemon default json-file never rotates); use "local", or "json-file" with logOpts max-size';
  }
  if (driver === "json-file") {
    const maxSize = logOpts ? logOpts["max-size"] : undefined;
    if (typeof maxSize !== "string" || maxSize.trim() === "" || maxSize.trim() === "-1") {
      return 'logDriver "json-file" without logOpts "max-size" never rotates';
    }
    return undefined;
  }
  if (!rotatingDrivers.includes(driver)) {
    return `logDriver "${driver}" is not one known to rotate (${["json-file + max-size", ...rotatingDrivers].join(", ")})`;
  }
  return undefined;
}

/** Value of the `homelab.postgres/role` label (labels as a list of {label, value}, or a map). */
export function containerRole(props: Record<string, unknown>): string | undefined {
  const labels = read(props, "labels");
  if (Array.isArray(labels)) {
    for (const l of items(labels)) {
      if (read(l, "label") === ROLE_LABEL) return asString(read(l, "value"));
    }
    return undefined;
  }
  return asString(read(labels, ROLE_LABEL));
}

// ------------------------------------------------------------------ password-bearing values

// Env/key names that hold a credential...
const SENSITIVE_NAME_RE = /(PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|PRIVATE_?KEY|API_?KEY|AUTH_?KEY|(^|_)PASS($|_))/;
// ...unless the name says it is about one (a path to it, a setting for it):
// POSTGRES_PASSWORD_FILE, password_encryption, MASTER_PASSWORD_REQUIRED, auth_type.
const NOT_A_CREDENTIAL_RE = /(FILE|_PATH|_DIR|_ENCRYPTION|_REQUIRED|_TYPE|_METHOD|_LENGTH|_POLICY|_ENABLED|_MODE)$/;
// Values that are clearly a switch, not a password (e.g. PGADMIN_CONFIG_MASTER_PASSWORD_REQUIRED=False).
const SWITCH_VALUE_RE = /^(true|false|yes|no|on|off|0|1)$/i;
// scheme://user:password@host — an empty password (user:@) does not count.
const URL_WITH_PASSWORD_RE = /[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:[^\s/@]+@/i;
// libpq conninfo: host=... password=...
const CONNINFO_PASSWORD_RE = /(^|[\s;])password\s*=\s*(?!['"]?\s*(?:$|[\s;]))/i;

// SNAKE_CASE for env names, ini keys (repo1-cipher-pass) and camelCase inputs (superuserPassword) alike
function normaliseName(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toUpperCase()
    .replace(/[-.]/g, "_");
}

/** Whether a variable/key name says it holds a credential (and not a path to one). */
export function isSensitiveName(name: string): boolean {
  const n = normaliseName(name.trim());
  return SENSITIVE_NAME_RE.test(n) && !NOT_A_CREDENTIAL_RE.test(n);
}

// Tailscale auth/API keys have a recognisable shape.
const TAILSCALE_KEY_RE = /\btskey-[a-z]+-[A-Za-z0-9]{8,}/;

/** Whether free text embeds a credential: a URL with a password, a conninfo `password=`, a Tailscale key. */
export function containsInlineCredential(text: string): boolean {
  return URL_WITH_PASSWORD_RE.test(text) || CONNINFO_PASSWORD_RE.test(text) || TAILSCALE_KEY_RE.test(text);
}

/**
 * Why a `NAME=VALUE` env entry carries a password, or undefined. Never returns
 * the value itself.
 */
export function envEntryProblem(entry: string, allowNames: string[] = []): string | undefined {
  const eq = entry.indexOf("=");
  const name = eq >= 0 ? entry.slice(0, eq) : entry;
  const value = eq >= 0 ? entry.slice(eq + 1) : "";
  if (allowNames.includes(name)) return undefined;
  if (value.trim() === "") return undefined;
  if (containsInlineCredential(value)) return `env ${name} embeds a credential in its value (a URL or conninfo with a password, or a key)`;
  if (isSensitiveName(name) && !SWITCH_VALUE_RE.test(value.trim())) {
    return `env ${name} carries a credential; pass it as a file (${name}_FILE or a config file upload) instead`;
  }
  return undefined;
}

// key = value, key: value, KEY=value (ini, pgbackrest.conf, .env, yaml)
const ASSIGNMENT_RE = /^\s*(?:export\s+)?["']?([A-Za-z0-9_.-]+)["']?\s*[=:]\s*(.+?)\s*$/;
// "Password": "x" (json)
const JSON_SECRET_RE = /"([^"]*(?:password|passwd|passphrase|secret|token)[^"]*)"\s*:\s*"[^"]+"/i;
// pgpass, pgBouncer userlist and similar credential files, by name
const SENSITIVE_FILE_RE = /(pgpass|userlist|passw|secret|credential|\.pass$|\.key$)/i;

/** Whether the text of a file (or any string) carries a credential. */
export function textHasCredential(text: string): boolean {
  if (containsInlineCredential(text) || JSON_SECRET_RE.test(text)) return true;
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed.startsWith("#") || trimmed.startsWith(";")) continue;
    const m = ASSIGNMENT_RE.exec(line);
    if (!m) continue;
    const value = m[2].replace(/^["']|["']$/g, "");
    if (isSensitiveName(m[1]) && value !== "" && !SWITCH_VALUE_RE.test(value)) return true;
  }
  return false;
}

/** Whether an uploaded file is a credential file, by name or by content. */
export function uploadHasCredential(file: string, content: string | undefined): boolean {
  const base = file.split("/").pop() ?? file;
  if (SENSITIVE_FILE_RE.test(base)) return true;
  return content !== undefined && textHasCredential(content);
}

/**
 * Files named by a credential's `*_FILE` variable (POSTGRES_PASSWORD_FILE=/run/secrets/pg):
 * they hold that credential, whatever their name or content looks like.
 */
export function credentialFilesFromEnv(envs: string[]): Set<string> {
  const files = new Set<string>();
  for (const entry of envs) {
    const m = /^([A-Za-z0-9_]+)_FILE=(.+)$/.exec(entry);
    if (m && isSensitiveName(m[1])) files.add(m[2].trim());
  }
  return files;
}

/** Octal mode text ("0600", "600", "0o600") -> number; undefined when it is not one. */
export function parseFileMode(mode: string | undefined): number | undefined {
  if (mode === undefined) return undefined;
  const m = /^(?:0o|0)?([0-7]{3,4})$/.exec(mode.trim());
  return m ? parseInt(m[1], 8) : undefined;
}

/**
 * Every password-bearing string inside a value, as JSON-ish paths. Used by the
 * whole-program tests to check that each of them is a Pulumi secret (the one
 * thing a policy cannot check, see docs/policies.md).
 */
export function findCredentialPaths(value: unknown, path = ""): string[] {
  if (typeof value === "string") {
    const key = path.split(/[.[\]]/).filter((p) => p !== "").pop() ?? "";
    const byName = key !== "" && !/^\d+$/.test(key) && isSensitiveName(key) && value !== "" && !SWITCH_VALUE_RE.test(value);
    const envLike = /^[A-Za-z_][A-Za-z0-9_]*=/.test(value) && envEntryProblem(value) !== undefined;
    return byName || envLike || textHasCredential(value) ? [path] : [];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => findCredentialPaths(v, `${path}[${i}]`));
  if (value !== null && typeof value === "object") {
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) =>
      findCredentialPaths(v, path === "" ? k : `${path}.${k}`),
    );
  }
  return [];
}

// ------------------------------------------------------------------ policy scaffolding

/** Config every resource rule understands: logical resource names it skips. */
export interface ExemptionConfig {
  exemptResources: string[];
}

const exemptionSchema = {
  exemptResources: {
    type: "array",
    items: { type: "string" },
    description: "Logical resource names (or full URNs) this rule skips. Say why in the config file.",
  },
} as const;

function isExempt(config: ExemptionConfig, name: string, urn: string): boolean {
  return config.exemptResources.includes(name) || config.exemptResources.includes(urn);
}

function withDefaults<C extends object>(defaults: C, given: Partial<C>): C {
  const merged = { ...defaults };
  for (const [k, v] of Object.entries(given)) {
    if (v !== undefined && v !== null) (merged as Record<string, unknown>)[k] = v;
  }
  return merged;
}

/** The typed `defaults` are the one source; the schema the CLI shows gets them copied in. */
function withSchemaDefaults(schema: PolicyConfigSchema, defaults: object): PolicyConfigSchema {
  const properties = Object.fromEntries(
    Object.entries(schema.properties ?? {}).map(([k, p]) => [k, k in defaults ? { ...p, default: (defaults as Record<string, unknown>)[k] } : p]),
  );
  return { ...schema, properties } as PolicyConfigSchema;
}

interface ResourceRuleSpec<C extends ExemptionConfig> {
  name: string;
  description: string;
  enforcementLevel: EnforcementLevel;
  severity: Severity;
  remediationSteps: string;
  types: readonly string[];
  configSchema: PolicyConfigSchema;
  defaults: C;
  check: (
    props: Record<string, unknown>,
    ctx: { args: ResourceValidationArgs; config: C; stack: string },
    report: (message: string) => void,
  ) => void;
}

function resourceRule<C extends ExemptionConfig>(spec: ResourceRuleSpec<C>): ResourceValidationPolicy {
  return {
    name: spec.name,
    description: spec.description,
    enforcementLevel: spec.enforcementLevel,
    severity: spec.severity,
    remediationSteps: spec.remediationSteps,
    configSchema: withSchemaDefaults(spec.configSchema, spec.defaults),
    validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
      if (!spec.types.includes(args.type)) {
        args.notApplicable(`applies to ${spec.types.join(", ")}`);
      }
      const config = withDefaults(spec.defaults, args.getConfig<Partial<C>>());
      if (isExempt(config, args.name, args.urn)) return;
      const stack = currentStackName([args.urn]);
      spec.check(args.props, { args, config, stack }, (m) => reportViolation(m));
    },
  };
}

// ------------------------------------------------------------------ 1. port bindings

export interface PortBindingConfig extends ExemptionConfig {
  allowedCidrs: string[];
}

export const portBindingPolicy = resourceRule<PortBindingConfig>({
  name: POLICY_NAMES.portBinding,
  description:
    "Docker ports are published only on the tailnet (100.64.0.0/10) or loopback, never on 0.0.0.0, :: or a missing address.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    "Set ports[].ip to the host's Tailscale IP (config homelab-postgres:tailscale) or 127.0.0.1; do not use publishAllPorts or host networking.",
  types: [TYPES.container],
  configSchema: {
    properties: {
      allowedCidrs: {
        type: "array",
        items: { type: "string" },
        description: "CIDRs a port may bind to (add fd7a:115c:a1e0::/48 for Tailscale IPv6).",
      },
      ...exemptionSchema,
    },
  },
  defaults: { allowedCidrs: DEFAULT_ALLOWED_BIND_CIDRS, exemptResources: [] },
  check: (props, { config }, report) => {
    const ports = read(props, "ports");
    if (ports === UNKNOWN) return;
    for (const port of items(ports)) {
      if (port === UNKNOWN) continue;
      const internal = read(port, "internal");
      const external = read(port, "external");
      const label = `port ${typeof external === "number" ? external : "(random)"}->${typeof internal === "number" ? internal : "?"}`;
      const ip = read(port, "ip");
      if (ip === UNKNOWN) continue;
      if (typeof ip !== "string" || ip.trim() === "") {
        report(`${label} has no ip, so docker publishes it on 0.0.0.0 (every interface)`);
      } else if (!isAllowedBindIp(ip, config.allowedCidrs)) {
        report(`${label} is published on ${ip}; allowed: ${config.allowedCidrs.join(", ")}`);
      }
    }
    if (read(props, "publishAllPorts") === true) {
      report("publishAllPorts publishes every exposed port on 0.0.0.0");
    }
    if (read(props, "networkMode") === "host") {
      report('networkMode "host" exposes every listening port on every interface');
    }
  },
});

// ------------------------------------------------------------------ 2. pinned images

export interface ImagesPinnedConfig extends ExemptionConfig {
  requireDigestInStacks: string[];
  forbiddenTags: string[];
  /** Exact image refs whose missing digest is tolerated (the tag rules still apply). */
  digestExemptImages: string[];
  /**
   * Repositories of images the program builds itself (docker.Image): never pulled,
   * so no registry digest exists; their tag is a content hash, and the rule checks
   * the build's BASE_IMAGE instead.
   */
  builtImageRepositories: string[];
}

export const imagesPinnedPolicy = resourceRule<ImagesPinnedConfig>({
  name: POLICY_NAMES.imagesPinned,
  description:
    "Images are pinned: a tag that is not 'latest' everywhere, and a digest (@sha256:) in the stacks listed in requireDigestInStacks (default: prod).",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Use name:version, and in prod name:version@sha256:<digest> (docker buildx imagetools inspect <name:version> prints it).",
  types: [TYPES.remoteImage, TYPES.container, TYPES.builtImage],
  configSchema: {
    properties: {
      requireDigestInStacks: {
        type: "array",
        items: { type: "string" },
        description: "Stack names whose images must carry a digest.",
      },
      forbiddenTags: {
        type: "array",
        items: { type: "string" },
        description: "Floating tags that are never accepted.",
      },
      builtImageRepositories: {
        type: "array",
        items: { type: "string" },
        description: "Repositories of images built by the program (docker.Image); containers may run them by tag, and their BASE_IMAGE build arg is checked instead.",
      },
      digestExemptImages: {
        type: "array",
        items: { type: "string" },
        description: "Exact image references (name:tag) excused from the digest requirement, e.g. until a digest is recorded. Tags are still checked.",
      },
      ...exemptionSchema,
    },
  },
  defaults: {
    requireDigestInStacks: ["prod"],
    forbiddenTags: ["latest"],
    digestExemptImages: [],
    builtImageRepositories: ["homelab-postgres/postgres"],
    exemptResources: [],
  },
  check: (props, { args, config, stack }, report) => {
    const pinOpts = (r: string) => ({
      requireDigest: config.requireDigestInStacks.includes(stack) && !config.digestExemptImages.includes(r),
      forbiddenTags: config.forbiddenTags,
    });
    if (args.type === TYPES.builtImage) {
      // what a built image really runs is its base: that must be pinned like a pulled image
      const base = readPath(props, "build", "args", "BASE_IMAGE");
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
    const repository = parseImageRef(ref)?.repository;
    if (isContainer && repository !== undefined && config.builtImageRepositories.includes(repository)) return;
    const problems = imagePinProblems(ref, pinOpts(ref));
    for (const p of problems) report(`image ${p}`);
  },
});

// ------------------------------------------------------------------ 3. hardened containers

export interface ContainersHardenedConfig extends ExemptionConfig {
  allowedRestartPolicies: string[];
  rotatingLogDrivers: string[];
}

export const containersHardenedPolicy = resourceRule<ContainersHardenedConfig>({
  name: POLICY_NAMES.containersHardened,
  description:
    "Containers run with no-new-privileges, a memory limit, a restart policy, a healthcheck and rotated logs, and are not privileged.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps:
    'Set securityOpts ["no-new-privileges:true"], memory (MB), restart "unless-stopped", healthcheck.tests, logDriver "local" (or "json-file" with logOpts max-size).',
  types: [TYPES.container],
  configSchema: {
    properties: {
      allowedRestartPolicies: {
        type: "array",
        items: { type: "string" },
        description: "Restart policies that bring a container back after a crash or reboot.",
      },
      rotatingLogDrivers: {
        type: "array",
        items: { type: "string" },
        description: 'Log drivers accepted without options ("json-file" always needs logOpts max-size).',
      },
      ...exemptionSchema,
    },
  },
  defaults: {
    allowedRestartPolicies: ["unless-stopped", "always", "on-failure"],
    rotatingLogDrivers: DEFAULT_ROTATING_LOG_DRIVERS,
    exemptResources: [],
  },
  check: (props, { config }, report) => {
    const securityOpts = read(props, "securityOpts");
    if (securityOpts !== UNKNOWN && !hasNoNewPrivileges(asStringArray(securityOpts))) {
      report('securityOpts lacks "no-new-privileges:true"');
    }
    const memory = read(props, "memory");
    if (memory !== UNKNOWN && !(typeof memory === "number" && memory > 0)) {
      report("memory limit is not set (memory, in MB, must be > 0)");
    }
    const restart = read(props, "restart");
    if (restart !== UNKNOWN && !(typeof restart === "string" && config.allowedRestartPolicies.includes(restart))) {
      report(
        `restart policy is ${typeof restart === "string" && restart !== "" ? `"${restart}"` : "not set (docker default: no)"}; use one of ${config.allowedRestartPolicies.join(", ")}`,
      );
    }
    const tests = readPath(props, "healthcheck", "tests");
    if (tests !== UNKNOWN) {
      const t = asStringArray(tests);
      if (t.length === 0) report("healthcheck has no tests");
      else if (t[0].toUpperCase() === "NONE") report('healthcheck is disabled (tests ["NONE"])');
    }
    const driver = read(props, "logDriver");
    const logOpts = read(props, "logOpts");
    if (driver !== UNKNOWN && logOpts !== UNKNOWN) {
      const opts: Record<string, unknown> = {};
      if (logOpts !== null && typeof logOpts === "object") {
        for (const k of Object.keys(logOpts)) opts[k] = read(logOpts, k);
      }
      const problem = logRotationProblem(asString(driver), opts, config.rotatingLogDrivers);
      if (problem) report(problem);
    }
    if (read(props, "privileged") === true) report("container is privileged");
  },
});

// ------------------------------------------------------------------ 4. role privileges

export const ROLE_FORBIDDEN_ATTRIBUTES = [
  { prop: "superuser", sql: "SUPERUSER" },
  { prop: "createRole", sql: "CREATEROLE" },
  { prop: "replication", sql: "REPLICATION" },
  { prop: "bypassRowLevelSecurity", sql: "BYPASSRLS" },
] as const;

export const rolesLeastPrivilegePolicy = resourceRule<ExemptionConfig>({
  name: POLICY_NAMES.rolesLeastPrivilege,
  description:
    "PostgreSQL roles managed by the stack (app owners, read-only users, the pgBouncer auth role) never get SUPERUSER, CREATEROLE, REPLICATION or BYPASSRLS.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    "Drop the attribute from the postgresql.Role; the bootstrap superuser lives in the provider config, not in a Role resource.",
  types: [TYPES.role],
  configSchema: { properties: { ...exemptionSchema } },
  defaults: { exemptResources: [] },
  check: (props, _ctx, report) => {
    for (const attr of ROLE_FORBIDDEN_ATTRIBUTES) {
      if (read(props, attr.prop) === true) report(`role has ${attr.sql} (${attr.prop}: true)`);
    }
  },
});

// ------------------------------------------------------------------ 5. password length

export interface PasswordLengthConfig extends ExemptionConfig {
  minLength: number;
}

export const passwordLengthPolicy = resourceRule<PasswordLengthConfig>({
  name: POLICY_NAMES.passwordLength,
  description: "random.RandomPassword resources are at least minLength (default 32) characters long.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: "Set length: 32 (or more) on the RandomPassword.",
  types: [TYPES.randomPassword],
  configSchema: {
    properties: {
      minLength: { type: "integer", minimum: 1, description: "Minimum password length." },
      ...exemptionSchema,
    },
  },
  defaults: { minLength: 32, exemptResources: [] },
  check: (props, { config }, report) => {
    const length = read(props, "length");
    if (length === UNKNOWN) return;
    if (typeof length !== "number") report(`password length is not set (minimum ${config.minLength})`);
    else if (length < config.minLength) report(`password length ${length} is below the minimum of ${config.minLength}`);
  },
});

// ------------------------------------------------------------------ 8. credentials in container config

export interface NoPasswordsConfig extends ExemptionConfig {
  allowEnvNames: string[];
}

export const noPasswordsInContainerConfigPolicy = resourceRule<NoPasswordsConfig>({
  name: POLICY_NAMES.noPasswordsInContainerConfig,
  description:
    "No credential in a container's env, command, entrypoint or labels (docker inspect shows them, and a policy cannot tell a Pulumi secret from plaintext); credential files uploaded into a container are not world-readable.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    'Upload the credential as a file (uploads[] with content: pulumi.secret(...), permissions "0600"/"0640") and point the image at it (POSTGRES_PASSWORD_FILE, PGADMIN_DEFAULT_PASSWORD_FILE, a pgbackrest.conf, a pgpass file).',
  types: [TYPES.container],
  configSchema: {
    properties: {
      allowEnvNames: {
        type: "array",
        items: { type: "string" },
        description: "Env variable names that look sensitive but are not (exact names).",
      },
      ...exemptionSchema,
    },
  },
  defaults: { allowEnvNames: [], exemptResources: [] },
  check: (props, { config }, report) => {
    const envs = items(read(props, "envs")).filter((e): e is string => typeof e === "string"); // unknown ones: checked again on up
    for (const entry of envs) {
      const problem = envEntryProblem(entry, config.allowEnvNames);
      if (problem) report(problem);
    }
    const credentialFiles = credentialFilesFromEnv(envs);
    for (const field of ["command", "entrypoints"] as const) {
      items(read(props, field)).forEach((arg, i) => {
        if (typeof arg === "string" && containsInlineCredential(arg)) {
          report(`${field}[${i}] embeds a credential (visible in docker inspect and ps)`);
        }
      });
    }
    for (const l of items(read(props, "labels"))) {
      const value = read(l, "value");
      if (typeof value === "string" && containsInlineCredential(value)) {
        report(`label ${String(read(l, "label"))} embeds a credential`);
      }
    }
    for (const upload of items(read(props, "uploads"))) {
      if (upload === UNKNOWN) continue;
      const file = asString(read(upload, "file")) ?? "(unnamed)";
      const content = read(upload, "content");
      const b64 = read(upload, "contentBase64");
      let text: string | undefined = typeof content === "string" ? content : undefined;
      if (text === undefined && typeof b64 === "string") text = Buffer.from(b64, "base64").toString("utf8");
      if (!credentialFiles.has(file) && !uploadHasCredential(file, text)) continue;
      const permissions = read(upload, "permissions");
      if (permissions === UNKNOWN) continue;
      const mode = parseFileMode(asString(permissions));
      if (mode === undefined) {
        report(`upload ${file} holds a credential and has no permissions set (docker's default 0644 is world-readable); use "0600" or "0640"`);
      } else if ((mode & 0o007) !== 0) {
        report(`upload ${file} holds a credential and is world-accessible (permissions ${asString(permissions)}); use "0600" or "0640"`);
      }
    }
  },
});

// ------------------------------------------------------------------ stack helpers

function stackOf(args: StackValidationArgs): string {
  return currentStackName(args.resources.map((r) => r.urn));
}

function ofType(resources: PolicyResource[], types: readonly string[]): PolicyResource[] {
  return resources.filter((r) => types.includes(r.type));
}

/**
 * Whether companion `c` (its `bucket` input names a bucket) configures bucket `b`.
 * In order:
 * 1. the engine's property dependencies: `bucket` was computed from b (exact, and
 *    works in preview when the name is still unknown);
 * 2. the known name: c.bucket equals b's `bucket` or `id`;
 * 3. c is a child of b;
 * 4. c and b share a parent component that holds exactly one bucket (the
 *    program's BackupBucket component).
 */
export function companionConfigures(c: PolicyResource, b: PolicyResource, buckets: PolicyResource[]): boolean {
  const deps = c.propertyDependencies?.["bucket"] ?? [];
  if (deps.some((d) => d.urn === b.urn)) return true;
  const name = read(c.props, "bucket");
  if (typeof name === "string" && name !== "") {
    const bName = read(b.props, "bucket");
    const bId = read(b.props, "id");
    if (name === bName || name === bId) return true;
  }
  if (c.parent?.urn === b.urn) return true;
  const parent = c.parent?.urn;
  if (parent !== undefined && b.parent?.urn === parent) {
    return buckets.filter((x) => x.parent?.urn === parent).length === 1;
  }
  return false;
}

function companionsOf(b: PolicyResource, all: PolicyResource[], types: readonly string[], buckets: PolicyResource[]): PolicyResource[] {
  return ofType(all, types).filter((c) => companionConfigures(c, b, buckets));
}

type Check = true | false | Unknown;

function anyOf(values: Check[]): Check {
  if (values.includes(true)) return true;
  return values.includes(UNKNOWN) ? UNKNOWN : false;
}

function versioningEnabled(b: PolicyResource, companions: PolicyResource[]): Check {
  const inline = readPath(b.props, "versioning", "enabled");
  return anyOf([
    inline === UNKNOWN ? UNKNOWN : inline === true,
    ...companions.map((c): Check => {
      const status = readPath(c.props, "versioningConfiguration", "status");
      return status === UNKNOWN ? UNKNOWN : status === "Enabled";
    }),
  ]);
}

const SSE_ALGORITHMS = ["AES256", "aws:kms", "aws:kms:dsse"];

function sseRuleOk(rule: unknown): Check {
  const alg = readPath(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm");
  return alg === UNKNOWN ? UNKNOWN : typeof alg === "string" && SSE_ALGORITHMS.includes(alg);
}

function encryptionEnabled(b: PolicyResource, companions: PolicyResource[]): Check {
  return anyOf([
    sseRuleOk(readPath(b.props, "serverSideEncryptionConfiguration", "rule")),
    ...companions.flatMap((c) => {
      const rules = read(c.props, "rules");
      return rules === UNKNOWN ? [UNKNOWN as Check] : items(rules).map(sseRuleOk);
    }),
  ]);
}

export const PUBLIC_ACCESS_FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;

function publicAccessMissingFlags(companions: PolicyResource[]): string[] | Unknown {
  if (companions.length === 0) return [...PUBLIC_ACCESS_FLAGS];
  let best: string[] | Unknown = [...PUBLIC_ACCESS_FLAGS];
  for (const c of companions) {
    const values = PUBLIC_ACCESS_FLAGS.map((f) => [f, read(c.props, f)] as const);
    if (values.some(([, v]) => v === UNKNOWN)) {
      best = UNKNOWN;
      continue;
    }
    const missing = values.filter(([, v]) => v !== true).map(([f]) => f);
    if (missing.length === 0) return [];
    if (best !== UNKNOWN && missing.length < best.length) best = missing;
  }
  return best;
}

function lifecycleRuleOk(rule: unknown, inline: boolean): Check {
  const enabled = inline ? read(rule, "enabled") : read(rule, "status");
  if (enabled === UNKNOWN) return UNKNOWN;
  if (inline ? enabled !== true : enabled !== "Enabled") return false;
  const expiration = read(rule, "expiration");
  const noncurrent = read(rule, "noncurrentVersionExpiration");
  if (expiration === UNKNOWN || noncurrent === UNKNOWN) return UNKNOWN;
  // retention means something eventually expires
  const present = (v: unknown) => v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0);
  return present(expiration) || present(noncurrent);
}

function lifecycleEnabled(b: PolicyResource, companions: PolicyResource[]): Check {
  const inline = read(b.props, "lifecycleRules");
  return anyOf([
    inline === UNKNOWN ? UNKNOWN : anyOf(items(inline).map((r) => lifecycleRuleOk(r, true))),
    ...companions.map((c) => {
      const rules = read(c.props, "rules");
      return rules === UNKNOWN ? (UNKNOWN as Check) : anyOf(items(rules).map((r) => lifecycleRuleOk(r, false)));
    }),
  ]);
}

// ------------------------------------------------------------------ 6. backup bucket

export interface BucketHardenedConfig {
  exemptBuckets: string[];
  requireOwnerEnforced: boolean;
}

export const bucketHardenedPolicy: StackValidationPolicy = {
  name: POLICY_NAMES.bucketHardened,
  description:
    "Every S3 bucket of the stack (the backup bucket) is versioned, encrypted, has all four public-access blocks on and a lifecycle rule that expires old data; checked across the bucket's companion resources.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    "Give the bucket a BucketVersioning (Enabled), BucketServerSideEncryptionConfiguration (AES256 or aws:kms), BucketPublicAccessBlock (all four flags true) and BucketLifecycleConfiguration (an Enabled rule with expiration or noncurrentVersionExpiration).",
  configSchema: {
    properties: {
      exemptBuckets: {
        type: "array",
        items: { type: "string" },
        default: [],
        description: "Logical names (or URNs) of buckets this rule skips.",
      },
      requireOwnerEnforced: {
        type: "boolean",
        default: false,
        description: "Also require BucketOwnershipControls with BucketOwnerEnforced (ACLs disabled).",
      },
    },
  },
  validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
    const config = withDefaults<BucketHardenedConfig>(
      { exemptBuckets: [], requireOwnerEnforced: false },
      args.getConfig<Partial<BucketHardenedConfig>>(),
    );
    const buckets = ofType(args.resources, TYPES.bucket);
    if (buckets.length === 0) args.notApplicable("the stack has no S3 bucket");
    for (const b of buckets) {
      if (config.exemptBuckets.includes(b.name) || config.exemptBuckets.includes(b.urn)) continue;
      const report = (m: string) => reportViolation(`bucket ${b.name}: ${m}`, b.urn);
      const companions = (types: readonly string[]) => companionsOf(b, args.resources, types, buckets);

      if (versioningEnabled(b, companions(TYPES.versioning)) === false) {
        report("versioning is not enabled (BucketVersioning with status Enabled)");
      }
      if (encryptionEnabled(b, companions(TYPES.encryption)) === false) {
        report("default encryption is not configured (BucketServerSideEncryptionConfiguration with AES256 or aws:kms)");
      }
      const missing = publicAccessMissingFlags(companions(TYPES.publicAccessBlock));
      if (missing !== UNKNOWN && missing.length > 0) {
        report(`public access is not fully blocked (BucketPublicAccessBlock: ${missing.join(", ")} must be true)`);
      }
      if (lifecycleEnabled(b, companions(TYPES.lifecycle)) === false) {
        report("no enabled lifecycle rule expires old data (BucketLifecycleConfiguration with expiration or noncurrentVersionExpiration)");
      }
      if (config.requireOwnerEnforced) {
        const owned = anyOf(
          companions(TYPES.ownershipControls).map((c): Check => {
            const o = readPath(c.props, "rule", "objectOwnership");
            return o === UNKNOWN ? UNKNOWN : o === "BucketOwnerEnforced";
          }),
        );
        if (owned === false) report("ACLs are not disabled (BucketOwnershipControls with BucketOwnerEnforced)");
      }
    }
  },
};

// ------------------------------------------------------------------ 7. prod has backups

export interface ProdHasBackupConfig {
  stacks: string[];
  requireBucket: boolean;
}

export const prodHasBackupPolicy: StackValidationPolicy = {
  name: POLICY_NAMES.prodHasBackup,
  description: `A stack listed in 'stacks' (default: prod) runs a backup sidecar (a container labelled ${ROLE_LABEL}=backup) and manages its S3 bucket.`,
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps: "Enable homelab-postgres:backup (enabled: true, bucket, region) in the stack's config.",
  configSchema: {
    properties: {
      stacks: { type: "array", items: { type: "string" }, default: ["prod"], description: "Stacks that must have backups." },
      requireBucket: {
        type: "boolean",
        default: true,
        description: "Also require an aws.s3.Bucket resource (false when the bucket is managed elsewhere).",
      },
    },
  },
  validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
    const config = withDefaults<ProdHasBackupConfig>({ stacks: ["prod"], requireBucket: true }, args.getConfig<Partial<ProdHasBackupConfig>>());
    const stack = stackOf(args);
    if (!config.stacks.includes(stack)) args.notApplicable(`stack "${stack}" is not one of ${config.stacks.join(", ")}`);
    const sidecars = ofType(args.resources, [TYPES.container]).filter((c) => containerRole(c.props) === "backup");
    if (sidecars.length === 0) {
      reportViolation(`stack ${stack} has no backup sidecar (no container labelled ${ROLE_LABEL}=backup)`);
    }
    if (config.requireBucket && ofType(args.resources, TYPES.bucket).length === 0) {
      reportViolation(`stack ${stack} has no backup bucket (no aws.s3.Bucket resource)`);
    }
  },
};

// ------------------------------------------------------------------ the pack

export const policies: (ResourceValidationPolicy | StackValidationPolicy)[] = [
  portBindingPolicy,
  imagesPinnedPolicy,
  containersHardenedPolicy,
  rolesLeastPrivilegePolicy,
  passwordLengthPolicy,
  bucketHardenedPolicy,
  prodHasBackupPolicy,
  noPasswordsInContainerConfigPolicy,
];
