// Properties of the rendered postgresql.conf and pg_hba.conf.
import { renderPgHba } from "../../../components/server/pg-hba";
import {
  PostgresConfInput, auditSettings, liveSettings, renderPostgresqlConf, renderStaticConf, slowStatementSetting, staticSettings, tune,
} from "../../../components/server/postgresql-conf";
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
    expect(one(parseConf(renderPostgresqlConf({ ...base, majorVersion: 15 })), "port")).toBe("5432");
  });

  // Worked by hand from the PGTune web profile: shared_buffers 1/4, effective_cache_size 3/4,
  // maintenance_work_mem 1/16 in [16MB, 2GB], work_mem (RAM - shared) / (3 x connections) >= 64kB,
  // wal_buffers 3% of shared_buffers in [64kB, 16MB].
  it.each([
    [1024, 100, { shared_buffers: "256MB", effective_cache_size: "768MB", maintenance_work_mem: "64MB", work_mem: "2621kB", wal_buffers: "7864kB" }],
    [4096, 100, { shared_buffers: "1024MB", effective_cache_size: "3072MB", maintenance_work_mem: "256MB", work_mem: "10485kB", wal_buffers: "16384kB" }],
    [128, 1000, { shared_buffers: "32MB", effective_cache_size: "96MB", maintenance_work_mem: "16MB", work_mem: "64kB", wal_buffers: "983kB" }],
    [65536, 100, { shared_buffers: "16384MB", effective_cache_size: "49152MB", maintenance_work_mem: "2048MB", work_mem: "167772kB", wal_buffers: "16384kB" }],
  ])("tunes memoryMb=%i with %i connections to the PGTune values", (memoryMb, connections, expected) => {
    expect(tune(memoryMb, connections)).toEqual(expected);
  });

  it("preloads pg_stat_statements, and pgaudit with its settings only when audit is on", () => {
    const off = parseConf(renderPostgresqlConf(base));
    expect(one(off, "shared_preload_libraries")).toBe("pg_stat_statements");
    expect([...off.keys()].filter((k) => k.startsWith("pgaudit"))).toEqual([]);
    const on = parseConf(renderPostgresqlConf({ ...base, audit: { classes: ["ddl", "role"] } }));
    expect(one(on, "shared_preload_libraries")).toBe("pg_stat_statements,pgaudit");
    expect(one(on, "pgaudit.log")).toBe("ddl,role");
    // no catalog noise, no parameters (they may hold secrets)
    expect(one(on, "pgaudit.log_catalog")).toBe("off");
    expect(one(on, "pgaudit.log_parameter")).toBe("off");
    expect(one(on, "pgaudit.log_relation")).toBe("off");
  });

  it("refuses pgAudit classes that are not single lower-case words, and an empty list", () => {
    expect(auditSettings(["write"])["pgaudit.log"]).toBe("write");
    for (const bad of ["read,write", "ddl; x", "Role", "", "misc "]) expect(() => auditSettings([bad])).toThrow(/invalid pgAudit class/);
    expect(() => auditSettings([])).toThrow(/at least one class/);
  });

  it("prints log_min_duration_statement as PostgreSQL does: -1, 0, whole seconds, else milliseconds", () => {
    expect(slowStatementSetting(-1)).toBe(-1);
    expect(slowStatementSetting(0)).toBe(0);
    expect(slowStatementSetting(1)).toBe("1ms");
    expect(slowStatementSetting(1000)).toBe("1s");
    expect(slowStatementSetting(2000)).toBe("2s");
    expect(slowStatementSetting(1500)).toBe("1500ms");
    for (const bad of [-2, 1.5, -0.5]) expect(() => slowStatementSetting(bad)).toThrow(/integer >= -1/);
    expect(one(parseConf(renderPostgresqlConf({ ...base, logging: { connections: false, slowStatementMs: 250 } })), "log_min_duration_statement")).toBe("250ms");
  });

  it("liveSettings (what the settings command applies) refuses an invalid key on its own", () => {
    expect(() => liveSettings({ ...base, settings: { "bad key": "x" } })).toThrow(/invalid postgresql.conf key/);
  });

  it("no static key can be set by an operator: each is refused as a managed setting", () => {
    const full: PostgresConfInput = {
      ...base,
      tls: { certFile: "/c", keyFile: "/k" },
      archive: { command: "true", timeoutSeconds: 60 },
      standby: { primary: { host: "h", port: 5432 }, user: "replicator", passfile: "/p", sslmode: "require", slot: "s1", applicationName: "standby", restoreCommand: "false" },
    };
    const keys = staticSettings(full).map(([k]) => k);
    expect(keys).toEqual(expect.arrayContaining(["ssl_cert_file", "archive_command", "primary_conninfo", "restore_command"]));
    for (const k of keys) expect(() => liveSettings({ ...base, settings: { [k]: "x" } })).toThrow(`setting ${k} is managed by the program`);
  });

  it("marks the uploaded file as rendered, and joins static and live parts with one blank line", () => {
    const text = renderStaticConf(base);
    expect(text.split("\n")[0]).toMatch(/^# Rendered by homelab-postgres\. Do not edit in the container/);
    expect(text.endsWith("\n")).toBe(true);
    const full = renderPostgresqlConf(base);
    expect(full).not.toMatch(/\n\n\n/);
    expect(full).toContain(`archive_mode = 'off'\n\n# live settings`);
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
