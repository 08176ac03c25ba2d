// postgres.external's config rules: its own keys, and every key that needs what an
// existing server reached by a non-superuser admin cannot give, refused all at once
// and each by name.
import { parseConfig } from "../../../components/config";
import { SERVER_ONLY_POSTGRES_KEYS, TRUSTED_EXTENSIONS } from "../../../components/config/schema-external";
import { problems } from "../../helpers/config";

const P = "homelab-postgres:";
const ext = { host: "db.example.com", adminUser: "platform_admin", adminPassword: "pw-0123456789" };
const good = { postgres: { majorVersion: 16, external: ext }, pgbouncer: { enabled: false }, apps: [{ name: "shop", extensions: ["pgcrypto"] }] };

describe("postgres.external", () => {
  it("parses with its defaults (port 5432, sslmode require, database postgres) and turns monitoring off in prod", () => {
    const c = parseConfig("prod", { ...good, tailscale: { ip: "100.88.1.2" } });
    expect(c.postgres.external).toEqual({ ...ext, port: 5432, sslmode: "require", database: "postgres" });
    expect(c.monitoring.enabled).toBe(false);
    expect(c.backup.enabled).toBe(false); // a prod stack needs no backup section here: the server's own tooling backs it up
  });

  it("needs no tailnet bind in prod when nothing is published (pgBouncer off), and does with pgBouncer", () => {
    expect(problems("prod", good)).toEqual([]);
    expect(problems("prod", { ...good, pgbouncer: { enabled: true } }).map((p) => p.path)).toEqual([`${P}tailscale`]);
  });

  it("refuses every server-only key and every section that needs the server's files or superuser, all at once, by name", () => {
    const found = problems("dev", {
      postgres: {
        majorVersion: 16, external: ext,
        image: "postgres:16.4", customImage: "registry.local:5000/team/postgres:16.4", platform: "linux/arm64", port: 5433, memoryMb: 512, settings: { work_mem: "8MB" },
        tls: { enabled: false }, logging: { connections: false }, audit: { enabled: true }, bootstrap: { from: "backup" },
      },
      backup: { enabled: true, bucket: "my-backups", encryptionPassphrase: "a-long-enough-backup-passphrase" },
      pgadmin: { enabled: true, email: "ops@example.com" },
      monitoring: { enabled: true },
      pgbouncer: { enabled: false },
      apps: [{ name: "shop", extensions: ["vector", "pgcrypto", "pg_stat_statements"] }],
    });
    const paths = found.map((p) => p.path.replace(P, ""));
    // the image keys, retired or not: no image runs the server
    expect(paths).toEqual(expect.arrayContaining(["postgres.image", "postgres.customImage"]));
    expect(paths.sort()).toEqual([
      ...Object.keys(SERVER_ONLY_POSTGRES_KEYS).map((k) => `postgres.${k}`),
      "apps[0].extensions[0]", "apps[0].extensions[2]", "backup.enabled", "monitoring.enabled", "pgadmin.enabled",
    ].sort());
    for (const p of found) expect(p.message).toMatch(/postgres\.external|trusted extension/);
    expect(found.find((p) => p.path.endsWith("extensions[0]"))?.message).toMatch(/vector is not a trusted extension on PostgreSQL 16/);
  });

  it("checks its own keys: host, sslmode, identifiers, required admin and password, the server's major", () => {
    const found = problems("dev", {
      postgres: { external: { host: "bad host!", sslmode: "verify-full", adminUser: "Admin", database: "x-y", port: 0 } },
      pgbouncer: { enabled: false },
    });
    expect(Object.fromEntries(found.map((p) => [p.path.replace(P, ""), p.message]))).toEqual({
      "postgres.external.host": expect.stringMatching(/not a host name or an IP address/),
      "postgres.external.sslmode": expect.stringMatching(/must be require or disable/),
      "postgres.external.adminUser": expect.stringMatching(/must match/),
      "postgres.external.adminPassword": expect.stringMatching(/required/),
      "postgres.external.database": expect.stringMatching(/must match/),
      "postgres.external.port": expect.stringMatching(/between 1 and 65535/),
      "postgres.majorVersion": expect.stringMatching(/required with postgres.external/),
    });
    // not the major the stack builds by default: the existing server's, said, whichever it is
    expect(problems("dev", { ...good, postgres: { majorVersion: null, external: ext } }).map((p) => p.path)).toEqual([`${P}postgres.majorVersion`]);
    expect(parseConfig("dev", { ...good, postgres: { majorVersion: 15, external: ext } }).postgres.majorVersion).toBe(15);
    expect(problems("dev", { ...good, postgres: { majorVersion: 16, external: { ...ext, host: "fd7a:115c:a1e0::5" } } })).toEqual([]);
    expect(problems("dev", { ...good, postgres: { majorVersion: 16, external: { ...ext, host: "10.0.0.7" } } })).toEqual([]);
  });

  it("refuses a loopback host with pgBouncer on (its container could not reach it), and an admin named like an app role", () => {
    const found = problems("dev", {
      postgres: { majorVersion: 16, external: { ...ext, host: "127.0.0.1", adminUser: "shop_owner" } },
      apps: [{ name: "shop" }],
    });
    expect(found.map((p) => [p.path.replace(P, ""), p.message])).toEqual([
      ["postgres.external.host", expect.stringMatching(/loopback: pgBouncer's container could not reach it/)],
      ["postgres.external.adminUser", expect.stringMatching(/is a role of app shop/)],
    ]);
  });

  it("refuses an admin named like an app role's second login, and a standby (it streams from our own container)", () => {
    const found = problems("dev", {
      postgres: { majorVersion: 16, external: { ...ext, adminUser: "shop_reader_b" } },
      apps: [{ name: "shop", readonlyUsers: ["reader"] }],
      standby: { enabled: true },
    });
    expect(found.map((p) => [p.path.replace(P, ""), p.message])).toEqual(expect.arrayContaining([
      ["postgres.external.adminUser", expect.stringMatching(/is a role of app shop/)],
      ["standby.enabled", expect.stringMatching(/not available with postgres.external/)],
    ]));
  });

  it("takes the admin password only as a secret in prod", () => {
    const raw = { ...good, tailscale: { ip: "100.88.1.2" } };
    const plain = () => parseConfig("prod", raw, {}, { secretKeys: [] });
    expect(plain).toThrow(/postgres\.external\.adminPassword: is in plain text in a prod stack/);
    expect(() => parseConfig("prod", raw, {}, { secretKeys: ["postgres"] })).not.toThrow();
  });

  it("knows which extensions each major trusts, from real servers (the integration test compares)", () => {
    for (const major of [15, 16, 17]) {
      expect(TRUSTED_EXTENSIONS[major].has("pgcrypto")).toBe(true);
      for (const untrusted of ["vector", "pg_stat_statements", "pg_buffercache"]) expect(TRUSTED_EXTENSIONS[major].has(untrusted)).toBe(false);
    }
  });
});
