// Every config rule with a config that breaks it, and the all-at-once report.
import { ConfigError, parseConfig, RawConfig, StackConfig } from "../../../components/config";
import { goodProd, problems } from "../../helpers/config";

/** Asserts a problem at `path` whose message matches. */
function expectProblem(stack: string, raw: RawConfig, path: string, message: RegExp): void {
  const found = problems(stack, raw);
  expect(found.map((p) => p.path)).toContain(path);
  expect(found.find((p) => p.path === path)?.message).toMatch(message);
}

describe("parseConfig", () => {
  it("accepts an empty dev config with documented defaults", () => {
    const c: StackConfig = parseConfig("dev", {});
    expect(c.tailscale).toEqual({ ip: undefined, device: undefined });
    expect(c.postgres.port).toBe(5432);
    expect(c.postgres.majorVersion).toBe(17);
    expect(c.pgbouncer).toMatchObject({ enabled: true, port: 6432, poolMode: "transaction" });
    expect(c.pgadmin.enabled).toBe(false);
    expect(c.backup.enabled).toBe(false);
    expect(c.apps).toEqual([]);
  });

  it("accepts a complete prod config", () => {
    const c = parseConfig("prod", goodProd);
    expect(c.isProd).toBe(true);
    expect(c.apps[0]).toMatchObject({ database: "langfuse", owner: "langfuse_owner" });
  });

  it("reports every problem at once, each with its key path", () => {
    const raw: RawConfig = {
      tailscale: { ip: "0.0.0.0" },
      postgres: { port: 80, memoryMb: "lots" },
      apps: [{ name: "Bad Name" }, { name: "postgres" }],
      pgbouncer: { poolMode: "nope" },
      typo: true,
    };
    let err: unknown;
    try {
      parseConfig("dev", raw);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    const paths = e.problems.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "homelab-postgres:tailscale.ip",
        "homelab-postgres:postgres.port",
        "homelab-postgres:postgres.memoryMb",
        "homelab-postgres:apps[0].name",
        "homelab-postgres:apps[1].name",
        "homelab-postgres:pgbouncer.poolMode",
        "homelab-postgres:typo",
      ]),
    );
    // one message names them all
    for (const p of paths) expect(e.message).toContain(p);
    expect(e.message).toMatch(/7 problems/);
  });

  describe("app names", () => {
    it.each([
      ["Upper", /must match/],
      ["1st", /must match/],
      ["has space", /must match/],
      ["a".repeat(49), /must match/],
      ["x;drop", /must match/],
      ['quo"te', /must match/],
    ])("rejects %j", (name, msg) => {
      expectProblem("dev", { apps: [{ name }] }, "homelab-postgres:apps[0].name", msg);
    });

    it.each(["postgres", "template0", "template1", "public", "pgbouncer", "pg_anything"])("rejects reserved %j", (name) => {
      expectProblem("dev", { apps: [{ name }] }, "homelab-postgres:apps[0].name", /reserved/);
    });

    it("rejects names that collide after '-' folds to '_'", () => {
      expectProblem("dev", { apps: [{ name: "my-app" }, { name: "my_app" }] }, "homelab-postgres:apps[1].name", /clashes/);
    });

    it("requires a name", () => {
      expectProblem("dev", { apps: [{ extensions: [] }] }, "homelab-postgres:apps[0].name", /required/);
    });

    it("rejects unknown keys inside an app, suggesting the right one", () => {
      expectProblem("dev", { apps: [{ name: "a", extentions: ["vector"] }] }, "homelab-postgres:apps[0].extentions", /did you mean 'extensions'/);
    });
  });

  describe("extensions and read-only users", () => {
    it("refuses vector where the built image has no pgvector (15, Debian bookworm), not on 17 or with an image of one's own", () => {
      const apps = [{ name: "a", extensions: ["pg_trgm", "vector"] }];
      const found = problems("dev", { postgres: { majorVersion: 15 }, apps });
      expect(found.map((p) => p.path)).toEqual(["homelab-postgres:apps[0].extensions[1]"]);
      expect(found[0].message).toMatch(/vector/);
      expect(found[0].message).toMatch(/15/);
      expect(problems("dev", { postgres: { majorVersion: 17 }, apps })).toEqual([]);
      expect(problems("dev", { postgres: { majorVersion: 15, customImage: "team/postgres:15.8-pgvector" }, apps })).toEqual([]);
      expect(problems("dev", { postgres: { majorVersion: 15 }, apps: [{ name: "a", extensions: ["pg_trgm"] }] })).toEqual([]);
    });

    it("rejects unknown extensions", () => {
      expectProblem("dev", { apps: [{ name: "a", extensions: ["vector", "pg_evil"] }] }, "homelab-postgres:apps[0].extensions[1]", /unknown extension/);
    });

    it("rejects read-only users that would need quoting tricks", () => {
      expectProblem("dev", { apps: [{ name: "a", readonlyUsers: ['x"; drop'] }] }, "homelab-postgres:apps[0].readonlyUsers[0]", /must match/);
    });

    it("rejects a read-only user whose role clashes with another app's role", () => {
      // app "a" + read-only "b_owner" → role a_b_owner, the owner role of app "a-b"
      expectProblem(
        "dev",
        { apps: [{ name: "a", readonlyUsers: ["b_owner"] }, { name: "a-b" }] },
        "homelab-postgres:apps[1].name",
        /clashes/,
      );
    });

    it("expands read-only users to <database>_<user> roles", () => {
      const c = parseConfig("dev", { apps: [{ name: "n8n-main", readonlyUsers: ["analytics"] }] });
      expect(c.apps[0].readonlyUsers).toEqual([{ user: "analytics", role: "n8n_main_analytics" }]);
    });
  });

  describe("bind address", () => {
    it.each([
      ["0.0.0.0", /every interface/],
      ["::", /every interface/],
      ["", /empty/],
      ["300.1.1.1", /not a valid IP/],
      ["homelab", /not a valid IP/],
      ["192.168.1.10", /neither a tailnet address/],
      ["fd7a:115c:a1e0::1", /IPv4 tailnet address/],
    ])("rejects tailscale.ip %j", (ip, msg) => {
      expectProblem("dev", { tailscale: { ip } }, "homelab-postgres:tailscale.ip", msg);
    });

    it("accepts a tailnet IP and loopback", () => {
      expect(parseConfig("dev", { tailscale: { ip: "100.64.0.1" } }).tailscale.ip).toBe("100.64.0.1");
      expect(parseConfig("dev", { tailscale: { ip: "127.0.0.1" } }).tailscale.ip).toBe("127.0.0.1");
    });

    it("rejects ip and device together", () => {
      expectProblem("dev", { tailscale: { ip: "100.64.0.1", device: "box" } }, "homelab-postgres:tailscale", /either ip or device/);
    });

    it("requires a tailnet binding in prod", () => {
      expectProblem("prod", { ...goodProd, tailscale: undefined }, "homelab-postgres:tailscale", /prod stack must bind/);
    });
  });

  describe("ports", () => {
    it("rejects out-of-range ports", () => {
      expectProblem("dev", { postgres: { port: 70000 } }, "homelab-postgres:postgres.port", /between 1024 and 65535/);
      expectProblem("dev", { pgbouncer: { port: 22 } }, "homelab-postgres:pgbouncer.port", /between/);
    });

    it("rejects clashes between postgres, pgbouncer and pgadmin", () => {
      expectProblem("dev", { postgres: { port: 6000 }, pgbouncer: { port: 6000 } }, "homelab-postgres:pgbouncer.port", /already used by homelab-postgres:postgres.port/);
      expectProblem(
        "dev",
        { pgbouncer: { port: 7000 }, pgadmin: { enabled: true, email: "a@b.io", port: 7000 } },
        "homelab-postgres:pgadmin.port",
        /already used by homelab-postgres:pgbouncer.port/,
      );
    });

    it("ignores the port of a disabled component", () => {
      expect(() => parseConfig("dev", { postgres: { port: 6000 }, pgbouncer: { enabled: false, port: 6000 } })).not.toThrow();
    });
  });

  describe("postgres", () => {
    it("retires postgres.image and pgbouncer.image: each refused by name, saying what to set instead", () => {
      // even a pinned reference of the image the stack used to pull: the key itself is gone
      const found = problems("dev", { postgres: { image: "pgvector/pgvector:0.8.0-pg17" }, pgbouncer: { image: "edoburu/pgbouncer:v1.26.0-p0" } });
      expect(found.map((p) => p.path).sort()).toEqual(["homelab-postgres:pgbouncer.image", "homelab-postgres:postgres.image"]);
      const pg = found.find((p) => p.path === "homelab-postgres:postgres.image")?.message;
      expect(pg).toMatch(/retired/);
      expect(pg).toMatch(/postgres\.majorVersion/);
      expect(pg).toMatch(/\b15\b.*\b17\b/);
      expect(pg).toMatch(/postgres\.customImage/);
      const pb = found.find((p) => p.path === "homelab-postgres:pgbouncer.image")?.message;
      expect(pb).toMatch(/retired/);
      expect(pb).toMatch(/Remove it/);
      expect(pb).toMatch(/images\.trixie/);
      // a digest-pinned one too
      expectProblem("dev", { postgres: { image: `postgres:17.2@sha256:${"c".repeat(64)}` } }, "homelab-postgres:postgres.image", /retired/);
    });

    it("defaults majorVersion to 17 and takes only a major the stack builds, unless customImage brings the server", () => {
      expect(parseConfig("dev", {}).postgres.majorVersion).toBe(17);
      expect(parseConfig("dev", {}).postgres.customImage).toBeUndefined();
      expect(parseConfig("dev", { postgres: { majorVersion: 15 } }).postgres.majorVersion).toBe(15);
      expect(parseConfig("dev", { postgres: { majorVersion: 17 } }).postgres.majorVersion).toBe(17);
      // 16 is in no Debian suite: refused, naming the key, the majors that are built and the way out
      const found = problems("dev", { postgres: { majorVersion: 16 } });
      expect(found.map((p) => p.path)).toEqual(["homelab-postgres:postgres.majorVersion"]);
      expect(found[0].message).toMatch(/PostgreSQL 16/);
      expect(found[0].message).toMatch(/15, 17/);
      expect(found[0].message).toMatch(/postgres\.customImage/);
      const custom = parseConfig("dev", { postgres: { majorVersion: 16, customImage: "registry.local:5000/team/postgres:16.4" } });
      expect(custom.postgres).toMatchObject({ majorVersion: 16, customImage: "registry.local:5000/team/postgres:16.4" });
      // the range still holds with an image of one's own
      expectProblem("dev", { postgres: { majorVersion: 18, customImage: "postgres:18.1" } }, "homelab-postgres:postgres.majorVersion", /between 15 and 17/);
    });

    it("takes customImage only pinned: a tag other than latest, or a digest", () => {
      expectProblem("dev", { postgres: { customImage: "registry.local:5000/team/pg" } }, "homelab-postgres:postgres.customImage", /no tag/);
      expectProblem("dev", { postgres: { customImage: "team/postgres:latest" } }, "homelab-postgres:postgres.customImage", /latest/);
      expectProblem("dev", { postgres: { customImage: "Not An Image" } }, "homelab-postgres:postgres.customImage", /not an image reference/);
      expect(problems("dev", { postgres: { customImage: `team/postgres@sha256:${"d".repeat(64)}` } })).toEqual([]);
    });

    it("rejects settings the program manages, bad names and multi-line values", () => {
      expectProblem("dev", { postgres: { settings: { listen_addresses: "*" } } }, "homelab-postgres:postgres.settings.listen_addresses", /managed/);
      expectProblem("dev", { postgres: { settings: { "bad key": 1 } } }, "homelab-postgres:postgres.settings.bad key", /not a postgresql.conf parameter/);
      expectProblem("dev", { postgres: { settings: { work_mem: "4MB\nssl = off" } } }, "homelab-postgres:postgres.settings.work_mem", /single line/);
    });

    it.each([
      "superuser_reserved_connections", "ssl_min_protocol_version", "ssl_ciphers", "include", "include_dir",
      "include_if_exists", "archive_library", "shared_preload_libraries", "session_preload_libraries", "restore_command",
    ])("refuses %s, which could undo what the program manages", (key) => {
      expectProblem("dev", { postgres: { settings: { [key]: "x" } } }, `homelab-postgres:postgres.settings.${key}`, /managed/);
    });

    it("requires certificate and key when TLS is on", () => {
      const p = problems("dev", { postgres: { tls: { enabled: true } } }).map((x) => x.path);
      expect(p).toEqual(expect.arrayContaining(["homelab-postgres:postgres.tls.certificate", "homelab-postgres:postgres.tls.privateKey"]));
    });
  });

  describe("images", () => {
    it("defaults to the official slim images of each suite", () => {
      expect(parseConfig("dev", {}).images).toEqual({ bookworm: "debian:bookworm-slim", trixie: "debian:trixie-slim" });
    });

    it("takes a mirror, a dated tag or a digest, as long as the tag names the suite", () => {
      const ok = {
        trixie: `registry.local:5000/debian:trixie-20250811-slim@sha256:${"e".repeat(64)}`,
        bookworm: "registry.local:5000/library/debian:bookworm",
      };
      expect(parseConfig("dev", { images: ok }).images).toEqual(ok);
    });

    it("refuses a base whose tag names another suite, or none, at the suite's key", () => {
      const swapped = problems("dev", { images: { trixie: "debian:bookworm-slim", bookworm: "debian:trixie-slim" } });
      expect(swapped.map((p) => p.path).sort()).toEqual(["homelab-postgres:images.bookworm", "homelab-postgres:images.trixie"]);
      expect(swapped.find((p) => p.path.endsWith("trixie"))?.message).toMatch(/"debian:bookworm-slim" does not name Debian trixie/);
      expect(swapped.find((p) => p.path.endsWith("bookworm"))?.message).toMatch(/does not name Debian bookworm/);
      expectProblem("dev", { images: { trixie: `debian@sha256:${"e".repeat(64)}` } }, "homelab-postgres:images.trixie", /does not name Debian trixie/);
      expectProblem("dev", { images: { trixie: "debian:trixiefoo" } }, "homelab-postgres:images.trixie", /does not name Debian trixie/);
      expectProblem("dev", { images: { trixie: "debian:13-slim" } }, "homelab-postgres:images.trixie", /does not name Debian trixie/);
    });

    it("refuses a floating or missing tag like any other image", () => {
      expectProblem("dev", { images: { trixie: "debian:latest" } }, "homelab-postgres:images.trixie", /floating tag 'latest'/);
      expectProblem("dev", { images: { bookworm: "debian" } }, "homelab-postgres:images.bookworm", /no tag/);
      expectProblem("dev", { images: { trixe: "debian:trixie-slim" } }, "homelab-postgres:images.trixe", /did you mean 'trixie'/);
    });
  });

  describe("pgbouncer", () => {
    it("rejects pool modes outside session/transaction/statement", () => {
      expectProblem("dev", { pgbouncer: { poolMode: "sesion" } }, "homelab-postgres:pgbouncer.poolMode", /session, transaction or statement/);
    });

    it("rejects pools that cannot fit max_connections", () => {
      const apps = [{ name: "a", connectionLimit: 30 }, { name: "b", connectionLimit: 30 }, { name: "c", connectionLimit: 30 }];
      // 3 × 30 + 1 = 91 > 100 - 3 - 10
      expectProblem("dev", { postgres: { maxConnections: 100 }, apps, pgbouncer: { defaultPoolSize: 30 } }, "homelab-postgres:pgbouncer.defaultPoolSize", /leaves only 87/);
      expect(() => parseConfig("dev", { postgres: { maxConnections: 100 }, apps, pgbouncer: { defaultPoolSize: 28 } })).not.toThrow();
    });
  });

  describe("pgadmin", () => {
    it("requires an email when enabled", () => {
      expectProblem("dev", { pgadmin: { enabled: true } }, "homelab-postgres:pgadmin.email", /required/);
      expectProblem("dev", { pgadmin: { enabled: true, email: "not-an-email" } }, "homelab-postgres:pgadmin.email", /not an email/);
    });
  });

  describe("backup", () => {
    it("prod must have backups", () => {
      expectProblem("prod", { ...goodProd, backup: { enabled: false } }, "homelab-postgres:backup.enabled", /must have backups/);
    });

    it("requires a bucket when enabled", () => {
      expectProblem("dev", { backup: { enabled: true } }, "homelab-postgres:backup.bucket", /required/);
      expectProblem("dev", { backup: { enabled: true, bucket: "Bad_Bucket" } }, "homelab-postgres:backup.bucket", /not a name S3 accepts/);
    });

    it("rejects a retention of zero", () => {
      expectProblem("dev", { backup: { enabled: true, bucket: "b-1", retention: { full: 0 } } }, "homelab-postgres:backup.retention.full", /between 1/);
    });

    it.each([
      ["every day", /5 cron fields/],
      ["61 * * * *", /outside 0-59/],
      ["0 3 * * 8", /outside 0-7/],
      ["0 5-3 * * *", /reversed/],
      ["*/0 * * * *", /step/],
    ])("rejects schedule %j", (expr, msg) => {
      expectProblem("dev", { backup: { enabled: true, bucket: "b-1", schedule: { full: expr } } }, "homelab-postgres:backup.schedule.full", msg);
    });

    it("refuses passphrases pgbackrest.conf could not carry", () => {
      const b = { enabled: true, bucket: "b-1" };
      expectProblem("dev", { backup: { ...b, encryptionPassphrase: "has spaces and # a comment 123\n" } }, "homelab-postgres:backup.encryptionPassphrase", /control character/);
      expectProblem("dev", { backup: { ...b, encryptionPassphrase: "short" } }, "homelab-postgres:backup.encryptionPassphrase", /at least 20/);
      expect(() => parseConfig("dev", { backup: { ...b, encryptionPassphrase: "Zm9vYmFyYmF6cXV4+/==0123456789ab" } })).not.toThrow();
    });

    it("requires the passphrase in prod, and only there", () => {
      expectProblem("prod", { ...goodProd, backup: { enabled: true, bucket: "b-1" } }, "homelab-postgres:backup.encryptionPassphrase", /required in prod/);
      expect(() => parseConfig("dev", { backup: { enabled: true, bucket: "b-1" } })).not.toThrow();
    });

    it("needs keys and a DNS name for an S3-compatible endpoint", () => {
      const b = { enabled: true, bucket: "b-1", endpoint: "https://minio.tail1234.ts.net:9000" };
      expectProblem("dev", { backup: b }, "homelab-postgres:backup.endpointCredentials", /required with an S3-compatible endpoint/);
      expect(() => parseConfig("dev", { backup: { ...b, endpointCredentials: { accessKeyId: "k", secretAccessKey: "s" } } })).not.toThrow();
      expectProblem("dev", { backup: { ...b, endpoint: "https://100.64.1.2:9000", endpointCredentials: { accessKeyId: "k", secretAccessKey: "s" } } }, "homelab-postgres:backup.endpoint", /DNS name/);
    });

    it("caps archive_timeout at 60 s and takes https endpoints only", () => {
      expectProblem("dev", { backup: { enabled: true, bucket: "b-1", archiveTimeout: 300 } }, "homelab-postgres:backup.archiveTimeout", /between 1 and 60/);
      expectProblem("dev", { backup: { enabled: true, bucket: "b-1", endpoint: "http://minio:9000" } }, "homelab-postgres:backup.endpoint", /https/);
    });
  });

  it("rejects unknown keys at every level", () => {
    const p = problems("dev", { postgres: { maxConnection: 10 }, backup: { schedule: { weekly: "0 0 * * 0" } }, pgbouncer: { mode: "session" } }).map((x) => x.path);
    expect(p).toEqual(
      expect.arrayContaining(["homelab-postgres:postgres.maxConnection", "homelab-postgres:backup.schedule.weekly", "homelab-postgres:pgbouncer.mode"]),
    );
  });

  it("rejects a loopback bind on a remote docker host (the provider could not reach it)", () => {
    expectProblem("dev", { dockerHost: "ssh://ops@homelab" }, "homelab-postgres:dockerHost", /remote but the bind address is loopback/);
    expectProblem("dev", { dockerHost: "tcp://10.0.0.2:2376", tailscale: { ip: "127.0.0.1" } }, "homelab-postgres:dockerHost", /remote/);
    expect(() => parseConfig("dev", { dockerHost: "ssh://ops@homelab", tailscale: { ip: "100.64.1.1" } })).not.toThrow();
    expect(() => parseConfig("dev", { dockerHost: "unix:///var/run/docker.sock" })).not.toThrow();
  });

  it("rejects a docker host that is not a docker URL", () => {
    expectProblem("dev", { dockerHost: "homelab:2375" }, "homelab-postgres:dockerHost", /unix:\/\/, ssh:\/\//);
  });
});

describe("the bucket's region and the aws:* settings", () => {
  const backup = { enabled: true, bucket: "my-backups" };

  it("takes backup.region, else aws:region, else us-east-1", () => {
    expect(parseConfig("dev", { backup: { ...backup, region: "eu-north-1" } }, { region: "eu-west-3" }).backup.region).toBe("eu-north-1");
    expect(parseConfig("dev", { backup }, { region: "eu-west-3" }).backup.region).toBe("eu-west-3");
    expect(parseConfig("dev", { backup }).backup.region).toBe("us-east-1");
  });

  it("keeps the provider settings users give the default provider, and nothing else", () => {
    const c = parseConfig("dev", { backup }, {
      profile: "homelab", region: "eu-west-3", sharedCredentialsFiles: ["/c"], sharedConfigFiles: ["/f"], skipMetadataApiCheck: "true",
    });
    expect(c.aws).toEqual({ profile: "homelab", region: "eu-west-3", sharedCredentialsFiles: ["/c"], sharedConfigFiles: ["/f"] });
    expect(parseConfig("dev", {}).aws).toEqual({});
  });

  it("reports aws:* values of the wrong shape with the other problems, at once", () => {
    let error: ConfigError | undefined;
    try {
      parseConfig("dev", { backup: { ...backup, compression: "xz" } }, { profile: 7, sharedConfigFiles: [], region: "EU West" });
    } catch (e) {
      if (e instanceof ConfigError) error = e;
    }
    expect(error?.problems.map((p) => p.path).sort()).toEqual(["aws:profile", "aws:region", "aws:sharedConfigFiles", "homelab-postgres:backup.compression"]);
  });
});
