// loadStackConfig: the engine's config map (every value a string, keys
// `project:key` or legacy `project:config:key`, other providers' keys beside ours)
// → parseConfig. runtimeIsConfigSecret: the SDK's internal secret lookup.
import { ConfigError, loadStackConfig, runtimeIsConfigSecret } from "../../../components/config";

const notSecret = () => false;

function loadProblems(all: Record<string, string>): { path: string; message: string }[] {
  try {
    loadStackConfig("dev", all, notSecret);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe("loadStackConfig", () => {
  it("reads structured values as JSON, blanks around them included", () => {
    const c = loadStackConfig("dev", {
      "homelab-postgres:apps": '\n  [{"name":"langfuse"},{"name":"n8n"}]  \n',
      "homelab-postgres:pgbouncer": ' {"port": 6543}',
    }, notSecret);
    expect(c.apps.map((a) => a.name)).toEqual(["langfuse", "n8n"]);
    expect(c.pgbouncer.port).toBe(6543);
  });

  it("keeps a value that only looks like JSON as the text it is", () => {
    // a list that does not parse is reported as what was written, not dropped
    expect(loadProblems({ "homelab-postgres:apps": "[langfuse" }).map((p) => p.path)).toContain("homelab-postgres:apps");
    // a plain value is never JSON-decoded: "12345" stays a string
    const c = loadStackConfig("dev", { "aws:profile": "12345" }, notSecret);
    expect(c.aws.profile).toBe("12345");
  });

  it("takes aws:* keys for the backup provider and ignores other providers' keys", () => {
    expect(loadStackConfig("dev", { "aws:region": "eu-central-1" }, notSecret).backup.region).toBe("eu-central-1");
    const c = loadStackConfig("dev", { "tailscale:region": "Not A Region", "docker:profile": "x" }, notSecret);
    expect(c.backup.region).toBe("us-east-1");
    expect(c.aws).toEqual({});
  });

  it("reads legacy project:config:key keys, and names an unknown key as written", () => {
    expect(loadStackConfig("dev", { "homelab-postgres:config:pgbouncer": '{"port": 6543}' }, notSecret).pgbouncer.port).toBe(6543);
    const unknown = loadProblems({ "homelab-postgres:pgconfig:ssl": "on" });
    expect(unknown.map((p) => p.path)).toEqual(["homelab-postgres:pgconfig:ssl"]);
  });
});

describe("runtimeIsConfigSecret", () => {
  it("asks the SDK, counting only a literal true as secret", () => {
    const asked: string[] = [];
    const isSecret = runtimeIsConfigSecret({
      isConfigSecret: (k: string) => {
        asked.push(k);
        return k === "homelab-postgres:backup" ? true : k === "homelab-postgres:apps" ? "yes" : false;
      },
    });
    expect(isSecret("homelab-postgres:backup")).toBe(true);
    expect(isSecret("homelab-postgres:apps")).toBe(false);
    expect(isSecret("homelab-postgres:pgadmin")).toBe(false);
    expect(asked).toEqual(["homelab-postgres:backup", "homelab-postgres:apps", "homelab-postgres:pgadmin"]);
  });

  it("fails loudly when the SDK no longer has it", () => {
    expect(() => runtimeIsConfigSecret({})).toThrow(/no longer has runtime.isConfigSecret/);
    expect(() => runtimeIsConfigSecret({ isConfigSecret: true })).toThrow(/no longer has runtime.isConfigSecret/);
  });
});
