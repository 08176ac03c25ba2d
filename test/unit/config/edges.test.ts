// Edges a reviewer's seeded bugs slipped past: each case sits exactly on a
// boundary, so moving the boundary by one (or forgetting a term) fails here.
import { isManagedSetting, isProdStack, parseConfig } from "../../../components/config";
import { goodProd, problems } from "../../helpers/config";

describe("tailscale.ip: exactly 100.64.0.0/10 or loopback", () => {
  it.each(["100.64.0.0", "100.64.0.1", "100.127.255.255", "127.0.0.1", "127.255.255.254"])("accepts %s", (ip) => {
    expect(problems("dev", { tailscale: { ip } })).toEqual([]);
  });

  // 100.128.0.0 is the first address past the /10; 100.63.255.255 the last before it
  it.each(["100.128.0.0", "100.63.255.255", "100.255.0.1", "192.168.1.10", "10.0.0.1", "128.0.0.1"])("refuses %s", (ip) => {
    expect(problems("dev", { tailscale: { ip } })).toEqual([
      { path: "homelab-postgres:tailscale.ip", message: `${ip} is neither a tailnet address (100.64.0.0/10) nor loopback` },
    ]);
  });
});

describe("app names reserved after '-' folds to '_'", () => {
  // pgbouncer_auth is the pooler's auth role, pg_* are Postgres's own namespaces
  it.each(["pgbouncer-auth", "pg-stat", "pg-monitor", "information-schema", "pgbouncer_auth"])("refuses %j", (name) => {
    expect(problems("dev", { apps: [{ name }] })).toEqual([
      { path: "homelab-postgres:apps[0].name", message: `${JSON.stringify(name)} is reserved` },
    ]);
  });

  it.each(["pgbouncer-auth2", "pgx", "post-gres"])("accepts the near miss %j", (name) => {
    expect(problems("dev", { apps: [{ name }] })).toEqual([]);
  });
});

describe("pool budget: apps × defaultPoolSize + 1 auth connection ≤ maxConnections − 3 − 10", () => {
  // maxConnections 100 leaves 100 − 3 superuser-reserved − 10 direct = 87 for pgBouncer
  // each app's connectionLimit at least the pool (the pool connects as the app's roles)
  const apps = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `app${i}`, connectionLimit: 43 }));

  it("accepts exactly the budget: 2 × 43 + 1 = 87", () => {
    expect(problems("dev", { postgres: { maxConnections: 100 }, apps: apps(2), pgbouncer: { defaultPoolSize: 43 } })).toEqual([]);
  });

  it("refuses one over, where the one is the auth connection: 3 × 29 + 1 = 88", () => {
    const found = problems("dev", { postgres: { maxConnections: 100 }, apps: apps(3), pgbouncer: { defaultPoolSize: 29 } });
    expect(found.map((p) => p.path)).toEqual(["homelab-postgres:pgbouncer.defaultPoolSize"]);
    expect(found[0].message).toMatch(/^3 app pool\(s\) × 29 \+ 1 auth connection = 88 server connections, but postgres\.maxConnections 100 leaves only 87 /);
  });

  it("counts the auth connection with no apps at all: maxConnections 20 leaves 7", () => {
    expect(problems("dev", { postgres: { maxConnections: 20 } })).toEqual([]);
  });

  it("does not apply without pgBouncer", () => {
    expect(problems("dev", { postgres: { maxConnections: 100 }, apps: apps(3), pgbouncer: { enabled: false, defaultPoolSize: 29 } })).toEqual([]);
  });
});

describe("prod-* stacks are prod", () => {
  it.each(["prod", "prod-eu", "prod-2"])("%s gets the prod rules", (stack) => {
    expect(isProdStack(stack)).toBe(true);
    const paths = problems(stack, {}).map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(["homelab-postgres:tailscale", "homelab-postgres:backup.enabled"]));
    expect(parseConfig(stack, goodProd).isProd).toBe(true);
  });

  it.each(["dev", "preprod", "production", "prodeu", "staging-prod", "Prod"])("%s does not", (stack) => {
    expect(isProdStack(stack)).toBe(false);
    expect(problems(stack, {})).toEqual([]);
    expect(parseConfig(stack, {}).isProd).toBe(false);
  });
});

describe("managed postgresql.conf keys are matched by prefix, not anywhere in the name", () => {
  it.each(["ssl", "ssl_ciphers", "archive_command", "archive_library", "include_dir", "shared_preload_libraries", "session_preload_libraries"])("%s is managed", (key) => {
    expect(isManagedSetting(key)).toBe(true);
  });

  // extension parameters may well contain the words: only the prefixes are the server's
  it.each(["myext.ssl_mode", "myext.archive_dir", "myext.include_paths", "work_mem", "log_min_duration_statement"])("%s is not", (key) => {
    expect(isManagedSetting(key)).toBe(false);
  });
});
