// Config behaviour the other config tests reach only in part (issue #15, surviving
// mutants): value coercion, how a wrong value reads in its message, the rules of the
// tailscale, audit, app, ci and port-sharing checks, each problem at its key path.
import { parseConfig } from "../../../components/config";
import { plaintextSecretProblems } from "../../../components/config/secrets";
import { goodProd, problems } from "../../helpers/config";

const K = "homelab-postgres:";

describe("values as Pulumi config gives them", () => {
  it("takes whole-number strings as integers, a leading minus included", () => {
    const c = parseConfig("dev", { postgres: { port: "5433", logging: { slowStatementMs: "-1" } } });
    expect(c.postgres.port).toBe(5433);
    expect(c.postgres.logging.slowStatementMs).toBe(-1);
  });

  it.each(["x5", "5x", "5 4"])("refuses the integer %j as the string it is", (port) => {
    expect(problems("dev", { postgres: { port } })).toEqual([
      { path: `${K}postgres.port`, message: `expected an integer, got string ${JSON.stringify(port)}` },
    ]);
  });

  it("takes the strings true and false as booleans, with or without a fixed default", () => {
    const c = parseConfig("dev", { pgbouncer: { enabled: "false" }, pgadmin: { enabled: "true", email: "ops@example.com" }, monitoring: { enabled: "true" } });
    expect(c.pgbouncer.enabled).toBe(false);
    expect(c.pgadmin.enabled).toBe(true);
    expect(c.monitoring.enabled).toBe(true);
    expect(parseConfig("prod", { ...goodProd, monitoring: { enabled: "false" } }).monitoring.enabled).toBe(false);
  });

  it("treats a YAML key with no value (null) as absent: the default applies", () => {
    const c = parseConfig("dev", { postgres: { port: null, settings: null, bootstrap: null } });
    expect(c.postgres.port).toBe(5432);
    expect(c.postgres.settings).toEqual({});
    expect(c.postgres.bootstrap).toBeUndefined();
  });

  it("takes a number as text only where the key says so (rotation), not elsewhere", () => {
    expect(problems("dev", { pgadmin: { email: 5 } })).toEqual([{ path: `${K}pgadmin.email`, message: "expected a string, got number 5" }]);
    expect(problems("dev", { apps: [{ name: "shop", rotation: true }] })).toEqual([
      { path: `${K}apps[0].rotation`, message: "expected a string, got boolean true" },
    ]);
  });

  it("names what a wrong value is: a list, an object, null", () => {
    expect(problems("dev", { postgres: { port: [5432], maxConnections: { n: 1 }, settings: { work_mem: null } } })).toEqual([
      { path: `${K}postgres.port`, message: "expected an integer, got a list" },
      { path: `${K}postgres.maxConnections`, message: "expected an integer, got an object" },
      { path: `${K}postgres.settings.work_mem`, message: "expected a string, number or boolean, got null" },
    ]);
  });

  it("refuses a setting whose value is an object", () => {
    expect(problems("dev", { postgres: { settings: { work_mem: { mb: 4 } } } })).toEqual([
      { path: `${K}postgres.settings.work_mem`, message: "expected a string, number or boolean, got an object" },
    ]);
  });

  it("refuses a section that is not an object, once, at the section", () => {
    expect(problems("dev", { postgres: "big" })).toEqual([{ path: `${K}postgres`, message: 'expected an object, got string "big"' }]);
  });

  it("an app entry that is not an object is one problem, not also a missing name", () => {
    expect(problems("dev", { apps: [["shop"], "shop"] })).toEqual([
      { path: `${K}apps[0]`, message: "expected an object, got a list" },
      { path: `${K}apps[1]`, message: 'expected an object, got string "shop"' },
    ]);
  });

  it("an image that is not a string is a type problem only", () => {
    expect(problems("dev", { postgres: { customImage: 5 } })).toEqual([{ path: `${K}postgres.customImage`, message: "expected a string, got number 5" }]);
    expect(problems("dev", { images: { trixie: 5 } })).toEqual([{ path: `${K}images.trixie`, message: "expected a string, got number 5" }]);
  });

  it("a limit that is not a finite number is a type problem only, not also below connectionLimit", () => {
    const found = problems("dev", { apps: [{ name: "shop", databaseConnectionLimit: -Infinity }] });
    expect(found.map((p) => p.path)).toEqual([`${K}apps[0].databaseConnectionLimit`]);
    expect(found[0].message).not.toMatch(/below/);
  });
});

describe("tailscale", () => {
  it("refuses a device name that is not one, at tailscale.device", () => {
    expect(problems("dev", { tailscale: { device: "db host!" } })).toEqual([
      { path: `${K}tailscale.device`, message: '"db host!" is not a device name' },
    ]);
  });

  it("a prod stack may bind by device name instead of an IP", () => {
    expect(problems("prod", { ...goodProd, tailscale: { device: "db-host" } })).toEqual([]);
  });
});

describe("postgres", () => {
  it("refuses a major below the supported range once, as a range problem, not also as one the stack does not build", () => {
    const found = problems("dev", { postgres: { majorVersion: 13 } });
    expect(found).toEqual([{ path: `${K}postgres.majorVersion`, message: "must be between 15 and 17, got 13" }]);
  });

  it("refuses the retired postgres.image whatever it names, at its own key only", () => {
    const found = problems("dev", { postgres: { image: "pgvector/pgvector:0.8.0-pg13" } });
    expect(found.map((p) => p.path)).toEqual([`${K}postgres.image`]);
    expect(found[0].message).toMatch(/^is retired/);
  });

  it("audit: an unknown class is named at its index; enabled needs a class, disabled does not", () => {
    expect(problems("dev", { postgres: { audit: { classes: ["ddl", "rol"] } } })).toEqual([
      { path: `${K}postgres.audit.classes[1]`, message: expect.stringMatching(/^unknown pgAudit class "rol"/) },
    ]);
    expect(problems("dev", { postgres: { audit: { enabled: true, classes: [] } } })).toEqual([
      { path: `${K}postgres.audit.classes`, message: "audit is enabled: name at least one class" },
    ]);
    expect(problems("dev", { postgres: { audit: { enabled: false, classes: [] } } })).toEqual([]);
    expect(problems("dev", { postgres: { audit: { enabled: true, classes: ["ddl"] } } })).toEqual([]);
  });

  it("tls clientCaFile: a whole absolute path of plain characters", () => {
    for (const clientCaFile of ["etc/x/ca.pem", "/etc/ca pem"]) {
      expect(problems("dev", { postgres: { tls: { enabled: true, mode: "stack-ca", clientCaFile } } })).toEqual([
        { path: `${K}postgres.tls.clientCaFile`, message: expect.stringMatching(/^expected an absolute path/) },
      ]);
    }
  });
});

describe("apps", () => {
  it("refuses an extension listed twice, at the list", () => {
    expect(problems("dev", { apps: [{ name: "shop", extensions: ["vector", "vector"] }] })).toEqual([
      { path: `${K}apps[0].extensions`, message: "lists an extension twice" },
    ]);
  });

  it("rotation: up to 64 characters", () => {
    expect(problems("dev", { apps: [{ name: "shop", rotation: "r".repeat(64) }] })).toEqual([]);
    expect(problems("dev", { apps: [{ name: "shop", rotation: "r".repeat(65) }] })).toEqual([
      { path: `${K}apps[0].rotation`, message: 'expected a short string such as "2026-11"' },
    ]);
  });

  it("a users key that is not a list is one type problem", () => {
    expect(problems("dev", { apps: [{ name: "shop", readonlyUsers: "bob" }] })).toEqual([
      { path: `${K}apps[0].readonlyUsers`, message: 'expected a list, got string "bob"' },
    ]);
  });

  it("a user called owner is refused once, not also as a clash with the owner role", () => {
    expect(problems("dev", { apps: [{ name: "shop", readonlyUsers: ["owner"] }] })).toEqual([
      { path: `${K}apps[0].readonlyUsers[0]`, message: expect.stringMatching(/^"owner" must match .* and not be 'owner'$/) },
    ]);
  });

  it("accepts distinct extra schemas", () => {
    expect(problems("dev", { apps: [{ name: "shop", schemas: ["billing", "audit"] }] })).toEqual([]);
  });

  it("names the app whose database clashes after - folds to _", () => {
    expect(problems("dev", { apps: [{ name: "my-app" }, { name: "my_app" }] })).toEqual([
      { path: `${K}apps[1].name`, message: '"my_app" clashes with the database of app my-app' },
      { path: `${K}apps[1].name`, message: '"my_app_owner" clashes with owner role of my-app' },
      { path: `${K}apps[1].name`, message: '"my_app_owner_b" clashes with the owner\'s rotation login of my-app' },
    ]);
  });

  it("names the user whose rotation login clashes with another user's role", () => {
    // shop_x's rotation login is shop_x_b, the role of user x_b
    expect(problems("dev", { apps: [{ name: "shop", readonlyUsers: ["x_b", "x"] }] })).toEqual([
      { path: `${K}apps[0].readonlyUsers[1]`, message: '"shop_x_b" clashes with read-only user x_b of shop' },
    ]);
  });

  it("a broken apps key counts no app pools in the budget", () => {
    const found = problems("dev", { postgres: { maxConnections: 5 }, apps: "shop" });
    const budget = found.find((p) => p.path === `${K}pgbouncer.defaultPoolSize`);
    expect(budget?.message).toMatch(/^0 app pool\(s\) × 10 \+ 1 auth connection = 1 server connections/);
  });
});

describe("pool budget over: blamed on the largest own pool", () => {
  const over = (sizes: number[]) =>
    problems("dev", { postgres: { maxConnections: 100 }, apps: sizes.map((size, i) => ({ name: `app${i}`, connectionLimit: 100, pool: { size } })) })
      .map((p) => p.path);

  it("the largest, wherever it is in the list", () => {
    expect(over([30, 60])).toEqual([`${K}apps[1].pool.size`]);
    expect(over([60, 30])).toEqual([`${K}apps[0].pool.size`]);
  });

  it("the first of equal largest pools", () => {
    expect(over([50, 50])).toEqual([`${K}apps[0].pool.size`]);
  });

  it("no budget check while an app's pool size is invalid", () => {
    const found = problems("dev", {
      postgres: { maxConnections: 100 },
      apps: [{ name: "a", pool: { size: "x" } }, { name: "b", connectionLimit: 90, pool: { size: 90 } }],
    });
    expect(found.map((p) => p.path)).toEqual([`${K}apps[0].pool.size`]);
  });
});

describe("ci.tags", () => {
  it("an auth key needs a tag; no key needs none", () => {
    expect(problems("dev", { ci: { tailnetKey: true, tags: [] } })).toEqual([
      { path: `${K}ci.tags`, message: "an auth key for CI must carry at least one tag" },
    ]);
    expect(problems("dev", { ci: { tailnetKey: false, tags: [] } })).toEqual([]);
    expect(problems("dev", { ci: { tailnetKey: true, tags: ["tag:ci"] } })).toEqual([]);
  });
});

describe("published ports share one bind address: only ports that are published clash", () => {
  const clash = (key: string) => ({ path: `${K}${key}`, message: expect.stringMatching(/^port \d+ is already used by homelab-postgres:/) });

  it("pgAdmin's port only when pgAdmin is enabled", () => {
    expect(problems("dev", { pgadmin: { port: 5432 } })).toEqual([]);
  });

  it("the postgres exporter's port when monitoring is on: asked for, or by default on prod", () => {
    expect(problems("dev", { monitoring: { enabled: true, postgresExporterPort: 5432 } })).toEqual([clash("monitoring.postgresExporterPort")]);
    expect(problems("prod", { ...goodProd, monitoring: { postgresExporterPort: 5432 } })).toEqual([clash("monitoring.postgresExporterPort")]);
  });

  it("not when monitoring is off: turned off, or by default off a prod stack", () => {
    expect(problems("dev", { monitoring: { enabled: false, postgresExporterPort: 5432 } })).toEqual([]);
    expect(problems("dev", { monitoring: { postgresExporterPort: 5432 } })).toEqual([]);
    expect(problems("prod", { ...goodProd, monitoring: { enabled: false, postgresExporterPort: 5432 } })).toEqual([]);
  });

  it("the pgBouncer exporter's port only when pgBouncer is enabled too", () => {
    expect(problems("dev", { monitoring: { enabled: true, pgbouncerExporterPort: 6432 } })).toEqual([clash("monitoring.pgbouncerExporterPort")]);
    expect(problems("dev", { pgbouncer: { enabled: false }, monitoring: { enabled: true, pgbouncerExporterPort: 5432 } })).toEqual([]);
  });
});

describe("monitoring default", () => {
  it("on for a prod stack, off for others", () => {
    expect(parseConfig("prod", goodProd).monitoring.enabled).toBe(true);
    expect(parseConfig("dev", {}).monitoring.enabled).toBe(false);
  });
});

describe("plain-text secrets", () => {
  it("a missing, null or empty secret is not reported; a set one is", () => {
    expect(plaintextSecretProblems({ backup: null }, new Set())).toEqual([]);
    expect(plaintextSecretProblems({ backup: { encryptionPassphrase: null } }, new Set())).toEqual([]);
    expect(plaintextSecretProblems({ backup: { encryptionPassphrase: "" } }, new Set())).toEqual([]);
    expect(plaintextSecretProblems({ backup: { encryptionPassphrase: "p" } }, new Set()).map((p) => p.path)).toEqual([`${K}backup.encryptionPassphrase`]);
  });
});
