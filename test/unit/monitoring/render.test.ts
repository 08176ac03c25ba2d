// The monitoring renderers and the config keys behind them, without the engine.
import * as yaml from "js-yaml";
import { ConfigError, parseConfig } from "../../../components/config";
import { renderNotifyLines, renderSidecarSecretsEnv } from "../../../components/backup/sidecar-secrets";
// the pure modules, not the area's index: that would load the providers for nothing
import { pgbouncerExporterProcess, postgresExporterProcess, renderMonitorRoleSql, renderPgpassLine } from "../../../components/monitoring/exporters";
import { EXPORTERS_CONTEXT, exportersImageRef } from "../../../components/monitoring/image";
import { contextFiles } from "../../../components/lib/built-image";
import { customMetricNames, renderExporterQueries } from "../../../components/monitoring/queries";
import { renderScrapeConfig } from "../../../components/monitoring/scrape";
import { liveSettings, renderStaticConf, slowStatementSetting, type PostgresConfInput } from "../../../components/server/postgresql-conf";
import { renderAuthFile, renderPgBouncerIni } from "../../../components/pooler/render";

const problems = (stack: string, raw: Record<string, unknown>): string[] => {
  try {
    parseConfig(stack, raw);
    return [];
  } catch (e) {
    return (e as ConfigError).problems.map((p) => `${p.path}: ${p.message}`.replace(/^homelab-postgres:/, ""));
  }
};

describe("exporter queries", () => {
  it("parse as postgres_exporter's YAML; the backup tables' queries only with backups on", () => {
    const withBackup = yaml.load(renderExporterQueries({ backup: true })) as Record<string, { query: string; master: boolean; metrics: Record<string, { usage: string }>[] }>;
    const without = yaml.load(renderExporterQueries({ backup: false })) as Record<string, unknown>;
    expect(Object.keys(withBackup).sort()).toEqual(["hlpg_archiver", "hlpg_backup_group", "hlpg_backup_job", "hlpg_database", "hlpg_replication", "hlpg_replication_slot"]);
    expect(Object.keys(without).sort()).toEqual(["hlpg_archiver", "hlpg_database", "hlpg_replication", "hlpg_replication_slot"]);
    expect(withBackup.hlpg_backup_job.metrics.map((m) => Object.keys(m)[0])).toContain("backup_job");
    // `job` would collide with Prometheus' own target label
    expect(withBackup.hlpg_backup_job.metrics.map((m) => Object.keys(m)[0])).not.toContain("job");
    expect(customMetricNames({ backup: true })).toContain("hlpg_backup_group_max_age_seconds");
    expect(customMetricNames({ backup: false }).filter((n) => n.startsWith("hlpg_backup"))).toEqual([]);
  });
});

describe("scrape config", () => {
  it("is a YAML list of scrape jobs with the stack's labels, to paste under scrape_configs", () => {
    const text = renderScrapeConfig({ stack: "prod", targets: { postgres: "100.90.1.7:9187", pgbouncer: "100.90.1.7:9127" }, intervalSeconds: 30 });
    const doc = yaml.load(`scrape_configs:\n${text}`) as { scrape_configs: { job_name: string; scrape_interval: string; static_configs: { targets: string[]; labels: Record<string, string> }[] }[] };
    expect(doc.scrape_configs.map((j) => [j.job_name, j.scrape_interval, j.static_configs[0].targets, j.static_configs[0].labels])).toEqual([
      ["hlpg-postgres-prod", "30s", ["100.90.1.7:9187"], { hlpg_stack: "prod", hlpg_component: "postgres" }],
      ["hlpg-pgbouncer-prod", "30s", ["100.90.1.7:9127"], { hlpg_stack: "prod", hlpg_component: "pgbouncer" }],
    ]);
    expect(() => renderScrapeConfig({ stack: "prod", targets: { postgres: "0.0.0.0 9187" }, intervalSeconds: 30 })).toThrow(/invalid target/);
  });
});

describe("exporter processes", () => {
  it("carry no secret in argv or env: the password is a file", () => {
    const pg = postgresExporterProcess({ postgres: { host: "postgres", port: 5432 }, sslmode: "require", listen: ":9187", passwordFile: "/etc/hlpg-exporter/password", queriesFile: "/q.yaml" });
    expect(pg.env).toEqual({
      DATA_SOURCE_URI: "postgres:5432/postgres?sslmode=require&application_name=hlpg-postgres-exporter",
      DATA_SOURCE_USER: "hlpg_monitor",
      DATA_SOURCE_PASS_FILE: "/etc/hlpg-exporter/password",
    });
    const pb = pgbouncerExporterProcess({ pgbouncer: { host: "pgbouncer", port: 6432 }, sslmode: "disable", listenHost: "0.0.0.0", listenPort: 9127, pgpassFile: "/p" });
    expect(pb.args).toEqual(["--host", "0.0.0.0", "--port", "9127", "--pgbouncer-host", "pgbouncer", "--pgbouncer-port", "6432", "--pgbouncer-user", "hlpg_stats"]);
    expect(Object.keys(pb.env).sort()).toEqual(["PGAPPNAME", "PGCONNECT_TIMEOUT", "PGPASSFILE", "PGSSLMODE"]);
  });

  it("escape the pgpass fields as libpq reads them, and refuse a multi-line password", () => {
    expect(renderPgpassLine("pgbouncer", 6432, "hlpg_stats", "a:b\\c")).toBe("pgbouncer:6432:pgbouncer:hlpg_stats:a\\:b\\\\c\n");
    expect(() => renderPgpassLine("pgbouncer", 6432, "hlpg_stats", "a\nb")).toThrow(/one non-empty line/);
  });

  it("the monitor role is a pg_monitor member with CONNECT on postgres, and nothing more", () => {
    expect(renderMonitorRoleSql("pw'1")).toEqual([
      "CREATE ROLE \"hlpg_monitor\" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD 'pw''1'",
      "GRANT pg_monitor TO \"hlpg_monitor\"",
      "GRANT CONNECT ON DATABASE postgres TO \"hlpg_monitor\"",
    ]);
  });

  it("the exporters' image tag changes with the compatibility sed, the base and the platform", () => {
    const files: [string, string][] = [["Dockerfile", "FROM x"], ["pgbouncer-exporter-compat.sed", "s/a/b/"]];
    const a = exportersImageRef("debian:bookworm-slim", "linux/amd64", files);
    expect(a).toMatch(/^homelab-postgres\/exporters:exporters-amd64-[0-9a-f]{12}$/);
    expect(exportersImageRef("debian:bookworm-slim", "linux/amd64", files)).toBe(a);
    const others = [
      exportersImageRef("debian:bookworm-slim", "linux/amd64", [files[0], ["pgbouncer-exporter-compat.sed", "s/a/c/"]]),
      exportersImageRef(`debian:bookworm-slim@sha256:${"f".repeat(64)}`, "linux/amd64", files),
      exportersImageRef("debian:bookworm-slim", "linux/arm64", files),
    ];
    for (const o of others) expect(o).not.toBe(a);
    expect(others[2]).toMatch(/^homelab-postgres\/exporters:exporters-arm64-/);
    // by default the checkout's own context: both files, read as they are
    const context = contextFiles(EXPORTERS_CONTEXT);
    expect(context.map(([n]) => n)).toEqual(expect.arrayContaining(["Dockerfile", "pgbouncer-exporter-compat.sed"]));
    expect(exportersImageRef("debian:bookworm-slim", "linux/amd64")).toBe(exportersImageRef("debian:bookworm-slim", "linux/amd64", context));
    expect(() => exportersImageRef("Not An Image", "linux/amd64", files)).toThrow(/invalid base image/);
  });
});

describe("pgBouncer's stats user", () => {
  it("is in the auth file after the auth role and is the only stats user; admin stays empty", () => {
    expect(renderAuthFile("pgbouncer_auth", "p1", [{ user: "hlpg_stats", password: "p\"2" }])).toBe('"pgbouncer_auth" "p1"\n"hlpg_stats" "p""2"\n');
    const ini = (statsUsers?: string[]) => renderPgBouncerIni({
      databases: ["shop"], server: { host: "postgres", port: 5432 }, listen: { addr: "*", port: 6432, unixSocketDir: "/tmp" },
      pool: { mode: "transaction", defaultPoolSize: 5, maxClientConn: 100 }, authFile: "/u", statsUsers,
    });
    expect(ini(["hlpg_stats"])).toMatch(/^stats_users = hlpg_stats$/m);
    expect(ini(["hlpg_stats"])).toMatch(/^admin_users =$/m);
    expect(ini()).toMatch(/^stats_users =$/m);
    expect(() => ini(["pgbouncer_auth"])).toThrow(/auth role must not be a stats user/);
  });
});

describe("logging and audit settings", () => {
  const base: PostgresConfInput = {
    majorVersion: 17, listenAddresses: "*", port: 5432, maxConnections: 100, memoryMb: 1024, hbaFile: "/h", unixSocketDirectory: "/s", settings: {},
  };
  it("log connections and disconnections and statements over a second by default", () => {
    expect(liveSettings(base)).toEqual(expect.objectContaining({ log_connections: "on", log_disconnections: "on", log_min_duration_statement: "1s" }));
    expect(liveSettings({ ...base, logging: { connections: false, slowStatementMs: 250 } })).toEqual(
      expect.objectContaining({ log_connections: "off", log_disconnections: "off", log_min_duration_statement: "250ms" }));
    expect([slowStatementSetting(-1), slowStatementSetting(0), slowStatementSetting(3000)]).toEqual([-1, 0, "3s"]);
    // operator settings still win
    expect(liveSettings({ ...base, settings: { log_connections: "off" } }).log_connections).toBe("off");
  });
  it("preload pgaudit and set its classes only when audit is on", () => {
    expect(renderStaticConf(base)).toMatch(/^shared_preload_libraries = 'pg_stat_statements'$/m);
    expect(renderStaticConf({ ...base, audit: { classes: ["ddl", "role"] } })).toMatch(/^shared_preload_libraries = 'pg_stat_statements,pgaudit'$/m);
    expect(liveSettings({ ...base, audit: { classes: ["ddl", "role"] } })).toEqual(expect.objectContaining({ "pgaudit.log": "ddl,role", "pgaudit.log_parameter": "off" }));
    expect(Object.keys(liveSettings(base)).filter((k) => k.startsWith("pgaudit"))).toEqual([]);
  });
});

describe("notification lines of the sidecar's secrets file", () => {
  const secrets = { s3Key: "AK", s3KeySecret: "SK", ageIdentity: "AGE-SECRET-KEY-1X" };
  it("export the URLs quoted, the style and the events; nothing without a URL", () => {
    expect(renderNotifyLines({ url: "https://hc-ping.com/key", jobUrls: { drill: "https://hc-ping.com/u-1", full: undefined }, style: "healthchecks", events: ["failure"] })).toEqual([
      "export HLPG_NOTIFY_URL='https://hc-ping.com/key'",
      "export HLPG_NOTIFY_URL_drill='https://hc-ping.com/u-1'",
      "export HLPG_NOTIFY_STYLE='healthchecks'",
      "export HLPG_NOTIFY_EVENTS='failure'",
    ]);
    expect(renderNotifyLines({ style: "ntfy", events: ["failure"], jobUrls: {} })).toEqual([]);
    expect(renderSidecarSecretsEnv(secrets)).not.toMatch(/NOTIFY/);
  });
  it("refuse a URL that is not plain http(s), without echoing it", () => {
    expect(() => renderNotifyLines({ url: "https://x/'; rm -rf /", style: "ntfy", events: [] })).toThrow(/^invalid notify URL in HLPG_NOTIFY_URL: not an http\(s\) URL/);
    expect(() => renderNotifyLines({ url: "https://x/'; rm -rf /", style: "ntfy", events: [] })).not.toThrow(/rm -rf/);
  });
});

describe("config", () => {
  it("monitoring is on by default in prod, off elsewhere, and can be set either way", () => {
    expect(parseConfig("dev", {}).monitoring.enabled).toBe(false);
    expect(parseConfig("dev", { monitoring: { enabled: true } }).monitoring.enabled).toBe(true);
    expect(problems("prod", { monitoring: { enabled: "maybe" } })).toEqual(expect.arrayContaining(["monitoring.enabled: expected true or false, got string \"maybe\""]));
  });
  it("exporter ports must not clash with the other published ports", () => {
    expect(problems("dev", { monitoring: { enabled: true, postgresExporterPort: 6432 } })).toEqual([
      "monitoring.postgresExporterPort: port 6432 is already used by homelab-postgres:pgbouncer.port",
    ]);
    expect(problems("dev", { monitoring: { enabled: false, postgresExporterPort: 6432 } })).toEqual([]);
  });
  it("audit classes are checked, with a suggestion", () => {
    expect(problems("dev", { postgres: { audit: { enabled: true, classes: ["ddl", "rol"] } } })).toEqual([
      expect.stringMatching(/^postgres\.audit\.classes\[1\]: unknown pgAudit class "rol".*role/),
    ]);
    expect(problems("dev", { postgres: { audit: { enabled: true, classes: [] } } })).toEqual(["postgres.audit.classes: audit is enabled: name at least one class"]);
  });
  it("notify URLs must be http(s) URLs, events known words", () => {
    expect(problems("dev", { backup: { notify: { url: "ftp://x", events: ["boom"], jobUrls: { drill: "not a url" } } } })).toEqual(expect.arrayContaining([
      "backup.notify.url: must be an http(s) URL without spaces or quotes",
      "backup.notify.jobUrls.drill: must be an http(s) URL without spaces or quotes",
      "backup.notify.events[0]: unknown event \"boom\": start, success or failure",
    ]));
  });
});
