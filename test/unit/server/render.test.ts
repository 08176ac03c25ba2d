// Properties of the rendered postgresql.conf and pg_hba.conf, and of the settings
// command (PostgresSettings) that applies the live settings.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { installMocks } from "../../helpers/mocks";
import { RegisteredResource, isSecretValue, reveal } from "../../helpers/record";
import { renderPgHba } from "../../../components/server/pg-hba";
import { PostgresSettings } from "../../../components/server/settings";
import { PostgresConfInput, renderPostgresqlConf } from "../../../components/server/postgresql-conf";
import { quoteConfValue, quoteIdent, quoteLiteral } from "../../../components/lib/quote";

const base: PostgresConfInput = {
  majorVersion: 17,
  listenAddresses: "*",
  port: 5432,
  maxConnections: 100,
  memoryMb: 4096,
  hbaFile: "/etc/postgresql/pg_hba.conf",
  unixSocketDirectory: "/var/run/postgresql",
  settings: {},
};

/** Minimal postgresql.conf reader: key = 'quoted value' lines. */
function parseConf(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    if (!line.trim() || line.trim().startsWith("#")) continue;
    const m = /^([a-z0-9_.]+) = '((?:[^'\\]|''|\\.)*)'$/.exec(line);
    if (!m) throw new Error(`unparseable line: ${line}`);
    const value = m[2].replace(/''/g, "'").replace(/\\\\/g, "\\");
    out.set(m[1], [...(out.get(m[1]) ?? []), value]);
  }
  return out;
}

function one(conf: Map<string, string[]>, key: string): string {
  const v = conf.get(key);
  expect(v).toHaveLength(1);
  return (v as string[])[0];
}

const mb = (s: string) => {
  const m = /^(\d+)(kB|MB|GB)$/.exec(s);
  if (!m) throw new Error(`not a size: ${s}`);
  return Number(m[1]) / (m[2] === "kB" ? 1024 : m[2] === "GB" ? 1 / 1024 : 1);
};

describe("renderPostgresqlConf", () => {
  it.each([1024, 4096, 16384])("derives memory settings from memoryMb=%i (PGTune web profile)", (memoryMb) => {
    const conf = parseConf(renderPostgresqlConf({ ...base, memoryMb }));
    const shared = mb(one(conf, "shared_buffers"));
    expect(shared).toBe(memoryMb / 4);
    expect(mb(one(conf, "effective_cache_size"))).toBe((memoryMb * 3) / 4);
    expect(mb(one(conf, "maintenance_work_mem"))).toBeLessThanOrEqual(2048);
    expect(mb(one(conf, "maintenance_work_mem"))).toBeGreaterThanOrEqual(memoryMb / 16 - 1);
    // three sorts per connection at work_mem must fit beside shared_buffers
    expect(mb(one(conf, "work_mem")) * base.maxConnections * 3).toBeLessThanOrEqual(memoryMb - shared);
    expect(mb(one(conf, "wal_buffers"))).toBeLessThanOrEqual(16);
  });

  it("enforces scram-sha-256, the hba file and the listen address it is given", () => {
    const conf = parseConf(renderPostgresqlConf(base));
    expect(one(conf, "password_encryption")).toBe("scram-sha-256");
    expect(one(conf, "hba_file")).toBe(base.hbaFile);
    expect(one(conf, "listen_addresses")).toBe("*");
    expect(one(conf, "port")).toBe("5432");
    expect(one(conf, "max_connections")).toBe("100");
  });

  it("lets operator settings override tuning, each key once", () => {
    const conf = parseConf(renderPostgresqlConf({ ...base, settings: { work_mem: "64MB", statement_timeout: "30s" } }));
    expect(one(conf, "work_mem")).toBe("64MB");
    expect(one(conf, "statement_timeout")).toBe("30s");
  });

  it("refuses to let settings override managed keys", () => {
    expect(() => renderPostgresqlConf({ ...base, settings: { listen_addresses: "0.0.0.0" } })).toThrow(/managed/);
    expect(() => renderPostgresqlConf({ ...base, settings: { "bad key": "x" } })).toThrow(/invalid/);
  });

  it("quotes values so a quote cannot end the line early", () => {
    const conf = parseConf(renderPostgresqlConf({ ...base, settings: { application_name: "it's'; ssl = 'off" } }));
    expect(one(conf, "application_name")).toBe("it's'; ssl = 'off");
    expect(one(conf, "ssl")).toBe("off"); // the managed one, once
    expect(() => renderPostgresqlConf({ ...base, settings: { application_name: "a\nssl = off" } })).toThrow(/newline/);
  });

  it("turns TLS on with the given files only when asked", () => {
    const off = parseConf(renderPostgresqlConf(base));
    expect(one(off, "ssl")).toBe("off");
    expect(off.has("ssl_cert_file")).toBe(false);
    const on = parseConf(renderPostgresqlConf({ ...base, tls: { certFile: "/c.crt", keyFile: "/k.key" } }));
    expect(one(on, "ssl")).toBe("on");
    expect(one(on, "ssl_cert_file")).toBe("/c.crt");
    expect(one(on, "ssl_key_file")).toBe("/k.key");
  });

  it("archives WAL only when backups are wired, with the given timeout", () => {
    expect(one(parseConf(renderPostgresqlConf(base)), "archive_mode")).toBe("off");
    const conf = parseConf(renderPostgresqlConf({ ...base, archive: { command: "pgbackrest --stanza=main archive-push %p", timeoutSeconds: 60 } }));
    expect(one(conf, "archive_mode")).toBe("on");
    expect(one(conf, "archive_command")).toBe("pgbackrest --stanza=main archive-push %p");
    expect(one(conf, "archive_timeout")).toBe("60s");
    expect(one(conf, "wal_level")).toBe("replica");
  });

  it("refuses majors older than 15", () => {
    expect(() => renderPostgresqlConf({ ...base, majorVersion: 14 })).toThrow(/not supported/);
  });
});

describe("renderPgHba", () => {
  const lines = (tls: boolean) =>
    renderPgHba({ tls })
      .split("\n")
      .filter((l) => l.trim() && !l.startsWith("#"))
      .map((l) => l.split(/\s+/));

  it.each([false, true])("never trusts and uses scram-sha-256 for every TCP line (tls=%s)", (tls) => {
    const rows = lines(tls);
    expect(rows.length).toBeGreaterThanOrEqual(5);
    expect(rows.flat()).not.toContain("trust");
    expect(rows.flat()).not.toContain("md5");
    expect(rows.flat()).not.toContain("password");
    for (const r of rows.filter((x) => x[0] !== "local")) expect(r[r.length - 1]).toBe("scram-sha-256");
    // no catch-all network
    expect(rows.flat()).not.toContain("0.0.0.0/0");
    expect(rows.flat()).not.toContain("::/0");
  });

  it("allows peer only for the postgres OS user on the socket", () => {
    const peer = lines(false).filter((r) => r.includes("peer"));
    expect(peer).toEqual([["local", "all", "postgres", "peer"]]);
  });

  it("makes every non-loopback TCP line hostssl when TLS is on", () => {
    const remote = (tls: boolean) => lines(tls).filter((r) => r[0] !== "local" && !["127.0.0.1/32", "::1/128"].includes(r[3]));
    expect(remote(true).length).toBeGreaterThan(0);
    expect(remote(true).every((r) => r[0] === "hostssl")).toBe(true);
    expect(remote(false).every((r) => r[0] === "host")).toBe(true);
  });
});

describe("quoting", () => {
  it("double-quotes identifiers and refuses anything outside the safe pattern", () => {
    expect(quoteIdent("user")).toBe('"user"');
    for (const bad of ['a"b', "A", "a-b", "", "a;b", "x".repeat(64)]) expect(() => quoteIdent(bad)).toThrow(/unsafe/);
  });

  it("escapes literals", () => {
    expect(quoteLiteral("it's")).toBe("'it''s'");
    expect(quoteLiteral("a\\b")).toBe("E'a\\\\b'");
    expect(() => quoteLiteral("a\0b")).toThrow();
  });

  it("quotes conf values and rejects newlines", () => {
    expect(quoteConfValue("a'b")).toBe("'a''b'");
    expect(() => quoteConfValue("a\nb")).toThrow();
  });
});

describe("PostgresSettings", () => {
  let registered: RegisteredResource[] = [];
  /** Outputs each component registered, by URN (the mock monitor keeps them but does not expose them). */
  const outputs = new Map<string, Record<string, unknown>>();
  let settings: PostgresSettings;
  const PASSWORD = "super-secret-pw-0123456789abcdefghij";

  beforeAll(async () => {
    registered = await installMocks(pulumi);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const rpc = require("@pulumi/pulumi/runtime/rpc") as { deserializeProperties(s: unknown): Record<string, unknown> };
    const monitor = pulumi.runtime.getMonitor() as unknown as {
      registerResourceOutputs(req: { getUrn(): string; getOutputs(): unknown }, cb: (err: unknown, res: unknown) => void): void;
    };
    const original = monitor.registerResourceOutputs.bind(monitor);
    monitor.registerResourceOutputs = (req, cb) => {
      outputs.set(req.getUrn(), rpc.deserializeProperties(req.getOutputs()));
      original(req, cb);
    };
    const container = new docker.Container("pg", { image: "postgres:17" });
    settings = new PostgresSettings("pg-settings", {
      settings: { shared_preload_libraries: "pg_stat_statements,vector", work_mem: "8MB,x" },
      majorVersion: 17,
      host: "127.0.0.1",
      port: 15432,
      password: PASSWORD,
      sslmode: "require",
      container,
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
  });

  const byName = (name: string): RegisteredResource => {
    const r = registered.find((x) => x.name === name);
    if (!r) throw new Error(`${name} not registered; have ${registered.map((x) => x.name).join(", ")}`);
    return r;
  };

  it("sets a list parameter element by element and any other parameter as one value, from the server major's catalog", () => {
    expect(settings.sql).toContain(`ALTER SYSTEM SET "shared_preload_libraries" = 'pg_stat_statements', 'vector';`);
    expect(settings.sql).toContain(`ALTER SYSTEM SET "work_mem" = '8MB,x';`);
    expect(reveal(byName("pg-settings-command").inputs.stdin)).toBe(settings.sql);
  });

  it("refuses a major it has no catalog for", () => {
    expect(() => new PostgresSettings("pg-settings-99", { ...settingsArgs(), majorVersion: 99 })).toThrow(/no settings catalog for PostgreSQL 99/);
  });

  it("connects psql to the server as postgres, with the password secret in state", () => {
    const cmd = byName("pg-settings-command");
    const env = cmd.inputs.environment as Record<string, unknown>;
    expect(reveal(env)).toMatchObject({ PGHOST: "127.0.0.1", PGPORT: "15432", PGUSER: "postgres", PGPASSWORD: PASSWORD, PGDATABASE: "postgres", PGSSLMODE: "require" });
    expect(isSecretValue(env.PGPASSWORD) || isSecretValue(cmd.inputs.environment)).toBe(true);
    expect(cmd.additionalSecretOutputs).toContain("environment");
  });

  it("runs again for a new container, once that container exists, as the component's child", () => {
    const cmd = byName("pg-settings-command");
    const container = byName("pg");
    expect(reveal(cmd.inputs.triggers)).toEqual(["pg-id"]);
    expect(cmd.dependencies).toContain(container.urn);
    expect(cmd.parent).toBe(byName("pg-settings").urn);
    expect(outputs.get(byName("pg-settings").urn)).toEqual({ applied: "pg-settings-command-id" });
  });

  function settingsArgs() {
    return { settings: {}, majorVersion: 17, host: "127.0.0.1", port: 15432, password: PASSWORD, sslmode: "require" as const, container: new docker.Container("pg-other", { image: "postgres:17" }) };
  }
});
