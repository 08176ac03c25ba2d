// The pack's helpers (policies/lib) called directly, on the edges the rule tests
// reach only through one rule's fixtures: input spellings, unknown values during
// preview, and the defaults a caller gets without passing an argument.
import { PolicyResource } from "@pulumi/policy";
import {
  companionConfigures,
  containerRole,
  encryptionEnabled,
  hasNoNewPrivileges,
  hostPathProblem,
  lifecycleEnabled,
  logRotationProblem,
  membershipPath,
  MembershipGraph,
  normaliseCapability,
  normaliseHostPath,
  publicAccessMissingFlags,
  PROD_STACK_PATTERNS,
  read,
  readPath,
  stackMatches,
  stackNameFromUrn,
  UNKNOWN,
  unconfinedSecurityOpt,
  versioningEnabled,
  withDefaults,
} from "../../policies/rules";
import { ROLE_LABEL } from "../../components/lib/labels";
import { stackResources, StackResourceInit, UNKNOWN_STRING } from "./helpers";

describe("host paths", () => {
  it("normalises a path the way the daemon resolves it, keeping the root", () => {
    expect(normaliseHostPath(" /var/lib/docker/ ")).toBe("/var/lib/docker");
    expect(normaliseHostPath("/etc/")).toBe("/etc");
    expect(normaliseHostPath("/")).toBe("/");
    expect(normaliseHostPath("//")).toBe("/");
  });

  it("treats a path written with surrounding blanks as the path", () => {
    expect(hostPathProblem(" /etc")).toBe("mounts /etc, which holds /etc");
    expect(hostPathProblem("/")).toMatch(/root file system/);
  });

  it("finds the Windows engine pipe only as the whole source, blanks around it allowed", () => {
    expect(hostPathProblem(" \\\\.\\pipe\\docker_engine")).toBe(
      "mounts the named pipe \\\\.\\pipe\\docker_engine (the Docker engine's pipe gives full control of the host)",
    );
    // a directory that merely contains `//./pipe/` resolves to /srv/pipe/x
    expect(hostPathProblem("/srv//./pipe/x")).toBeUndefined();
  });

  it("leaves volume names alone, even one ending in .sock", () => {
    expect(hostPathProblem("app.sock")).toBeUndefined();
  });

  it("reports any socket file, and only files that end in .sock", () => {
    expect(hostPathProblem("/srv/app/app.sock")).toMatch(/^mounts the socket \/srv\/app\/app\.sock /);
    expect(hostPathProblem("/srv/app.socket")).toBeUndefined();
    expect(hostPathProblem("/srv/app.sockets/data")).toBeUndefined();
  });

  it("uses the runtime sockets and the kernel's interfaces as the default list", () => {
    expect(hostPathProblem("/var/lib/docker/volumes")).toBe("mounts /var/lib/docker/volumes, inside /var/lib/docker");
    expect(hostPathProblem("/srv/pgdata")).toBeUndefined();
  });

  it("treats `/` in a forbidden list as everything", () => {
    expect(hostPathProblem("/srv/data", ["/"])).toBe("mounts /srv/data, inside /");
  });

  it("reports /run and /var/run beyond the listed sockets", () => {
    expect(hostPathProblem("/run/user/1000", [])).toMatch(/where the host's daemons keep their sockets/);
    expect(hostPathProblem("/var/run/lock", [])).toMatch(/where the host's daemons keep their sockets/);
  });
});

describe("security options and capabilities", () => {
  it("matches only whole confinement-off options", () => {
    expect(unconfinedSecurityOpt(" Seccomp = unconfined ")).toBe(true);
    expect(unconfinedSecurityOpt("label:disable")).toBe(true);
    expect(unconfinedSecurityOpt("x-seccomp=unconfined")).toBe(false);
    expect(unconfinedSecurityOpt("seccomp=unconfined.json")).toBe(false);
    expect(unconfinedSecurityOpt("x-label=disable")).toBe(false);
    expect(unconfinedSecurityOpt("label=disabled")).toBe(false);
  });

  it("strips a leading CAP_ only", () => {
    expect(normaliseCapability(" cap_sys_admin ")).toBe("SYS_ADMIN");
    expect(normaliseCapability("MY_CAP_X")).toBe("MY_CAP_X");
  });

  it("accepts no-new-privileges only as the whole option", () => {
    expect(hasNoNewPrivileges(["x-no-new-privileges:true"])).toBe(false);
    expect(hasNoNewPrivileges([" No-New-Privileges=true "])).toBe(true);
  });
});

describe("log rotation", () => {
  it("calls an empty driver unset", () => {
    expect(logRotationProblem("", undefined)).toMatch(/^logDriver is not set/);
  });

  it("does not take a blank or -1 max-size for a limit", () => {
    expect(logRotationProblem("json-file", { "max-size": "  " })).toMatch(/never rotates/);
    expect(logRotationProblem("json-file", { "max-size": " -1 " })).toMatch(/never rotates/);
    expect(logRotationProblem("json-file", { "max-size": "10m" })).toBeUndefined();
  });

  it("accepts local and journald by default, and names the choices otherwise", () => {
    expect(logRotationProblem("local", undefined)).toBeUndefined();
    expect(logRotationProblem("journald", undefined)).toBeUndefined();
    const m = logRotationProblem("syslog", undefined);
    expect(m).toContain("json-file + max-size");
    expect(m).toContain("local");
  });
});

describe("container role label", () => {
  it("reads the role from a label map and from a list holding other labels first", () => {
    expect(containerRole({ labels: { [ROLE_LABEL]: "backup" } })).toBe("backup");
    expect(containerRole({ labels: [{ label: "other", value: "x" }, { label: ROLE_LABEL, value: "backup" }] })).toBe("backup");
  });
});

describe("reading props", () => {
  it("answers undefined for null, undefined and non-objects", () => {
    expect(read(null, "x")).toBeUndefined();
    expect(read(undefined, "x")).toBeUndefined();
    expect(read("abc", "length")).toBeUndefined();
  });

  it("stays UNKNOWN past an unknown step of a path", () => {
    const [r] = stackResources("dev", [{ type: "t", name: "n", props: { a: UNKNOWN_STRING } }]);
    expect(readPath(r.props, "a", "b")).toBe(UNKNOWN);
  });
});

describe("stacks", () => {
  it("reads the stack only from a URN's start", () => {
    expect(stackNameFromUrn("urn:pulumi:dev::p::t::n")).toBe("dev");
    expect(stackNameFromUrn("x-urn:pulumi:dev::p::t::n")).toBeUndefined();
  });

  it("treats prod and prod-* as prod by default", () => {
    expect(stackMatches("prod", PROD_STACK_PATTERNS)).toBe(true);
    expect(stackMatches("prod-eu", PROD_STACK_PATTERNS)).toBe(true);
    expect(stackMatches("dev", PROD_STACK_PATTERNS)).toBe(false);
  });
});

describe("option defaults", () => {
  it("lets an option given as null or undefined keep its default", () => {
    const defaults = { names: ["a"] };
    expect(withDefaults(defaults, { names: undefined })).toEqual({ names: ["a"] });
    expect(withDefaults(defaults, { names: null } as unknown as Partial<typeof defaults>)).toEqual({ names: ["a"] });
    expect(withDefaults(defaults, { names: [] })).toEqual({ names: [] });
  });
});

describe("membership paths", () => {
  it("visits each role reachable once, never the start nor a role absent from the graph", () => {
    const graph: MembershipGraph = new Map([
      ["a", new Set(["b"])],
      ["b", new Set(["a", "c"])],
    ]);
    const asked: string[] = [];
    expect(membershipPath(graph, "a", (r) => (asked.push(r), false))).toBeUndefined();
    expect(asked).toEqual(["b", "c"]);
  });
});

const B = "aws:s3/bucket:Bucket";
const C = "aws:s3/companion:Companion";

function res(inits: StackResourceInit[]): Record<string, PolicyResource> {
  return Object.fromEntries(stackResources("dev", inits).map((r) => [r.name, r]));
}

describe("bucket companions", () => {
  it("does not match a companion naming no bucket to a bucket whose id is still empty", () => {
    const r = res([
      { type: B, name: "b", props: { bucket: "", id: "" } },
      { type: C, name: "c", props: { bucket: "" } },
    ]);
    expect(companionConfigures(r.c, r.b, [r.b])).toBe(false);
  });

  it("does not give the only bucket a companion that names another, when neither has a parent", () => {
    const r = res([
      { type: B, name: "b", props: { bucket: "mine" } },
      { type: C, name: "c", props: { bucket: "theirs" } },
    ]);
    expect(companionConfigures(r.c, r.b, [r.b])).toBe(false);
  });

  it("counts only the buckets of the shared parent", () => {
    const r = res([
      { type: "x:index:Comp", name: "p", props: {}, urn: "urn:pulumi:dev::homelab-postgres::x:index:Comp::p" },
      { type: "x:index:Comp", name: "q", props: {}, urn: "urn:pulumi:dev::homelab-postgres::x:index:Comp::q" },
      { type: B, name: "b", props: {}, parent: "urn:pulumi:dev::homelab-postgres::x:index:Comp::p" },
      { type: B, name: "other", props: {}, parent: "urn:pulumi:dev::homelab-postgres::x:index:Comp::q" },
      { type: C, name: "c", props: {}, parent: "urn:pulumi:dev::homelab-postgres::x:index:Comp::p" },
    ]);
    expect(companionConfigures(r.c, r.b, [r.b, r.other])).toBe(true);
  });
});

describe("bucket checks while values are unknown (preview)", () => {
  it("answers UNKNOWN for unknown versioning, encryption and lifecycle", () => {
    const r = res([
      { type: B, name: "b", props: { versioning: { enabled: UNKNOWN_STRING }, lifecycleRules: UNKNOWN_STRING } },
      { type: B, name: "alg", props: { serverSideEncryptionConfiguration: { rule: { applyServerSideEncryptionByDefault: { sseAlgorithm: UNKNOWN_STRING } } } } },
      { type: B, name: "plain", props: {} },
      { type: C, name: "rules", props: { rules: UNKNOWN_STRING } },
    ]);
    expect(versioningEnabled(r.b, [])).toBe(UNKNOWN);
    expect(encryptionEnabled(r.alg, [])).toBe(UNKNOWN);
    expect(encryptionEnabled(r.plain, [r.rules])).toBe(UNKNOWN);
    expect(lifecycleEnabled(r.b, [])).toBe(UNKNOWN);
    expect(lifecycleEnabled(r.plain, [r.rules])).toBe(UNKNOWN);
  });

  it("judges a lifecycle rule by its status, then by what it expires", () => {
    const rule = (r: Record<string, unknown>) => res([{ type: C, name: "c", props: { rules: [r] } }, { type: B, name: "b", props: {} }]);
    const check = (r: Record<string, unknown>) => {
      const x = rule(r);
      return lifecycleEnabled(x.b, [x.c]);
    };
    expect(check({ status: UNKNOWN_STRING, expiration: { days: 30 } })).toBe(UNKNOWN);
    expect(check({ status: "Disabled", expiration: { days: 30 } })).toBe(false);
    expect(check({ status: "Enabled", expiration: { days: UNKNOWN_STRING } })).toBe(true);
    expect(check({ status: "Enabled", expiration: UNKNOWN_STRING })).toBe(UNKNOWN);
    expect(check({ status: "Enabled", noncurrentVersionExpiration: UNKNOWN_STRING })).toBe(UNKNOWN);
    expect(check({ status: "Enabled", expiration: null })).toBe(false);
    expect(check({ status: "Enabled", expiration: [] })).toBe(false);
    expect(check({ status: "Enabled", expiration: [{ days: 30 }] })).toBe(true);
    // the deprecated inline rules say `enabled: boolean`
    const inline = (enabled: boolean) => lifecycleEnabled(res([{ type: B, name: "b", props: { lifecycleRules: [{ enabled, expiration: { days: 30 } }] } }]).b, []);
    expect(inline(false)).toBe(false);
    expect(inline(true)).toBe(true);
  });

  it("reports the public-access flags of the best known companion", () => {
    const flags = (...ps: Record<string, unknown>[]) =>
      publicAccessMissingFlags(stackResources("dev", ps.map((props, i) => ({ type: C, name: `c${i}`, props }))));
    const all = { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true };
    expect(flags(all, { ...all, blockPublicAcls: UNKNOWN_STRING })).toEqual([]);
    expect(flags({ ...all, blockPublicAcls: UNKNOWN_STRING }, { blockPublicAcls: true })).toBe(UNKNOWN);
    expect(flags({ ...all, restrictPublicBuckets: false }, { blockPublicAcls: true })).toEqual(["restrictPublicBuckets"]);
    expect(flags({ ...all, restrictPublicBuckets: false }, { ...all, ignorePublicAcls: false })).toEqual(["restrictPublicBuckets"]);
  });
});
