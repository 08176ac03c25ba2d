// The observability pieces the monitoring test starts around a real PostgreSQL 15
// and pgBouncer: Debian's postgres_exporter and pgBouncer exporter with the
// rendered arguments and files, a real Prometheus with the rendered scrape config
// and the repository's alert rules, and a local HTTP server that records the
// backup jobs' pings. Everything listens on 127.0.0.1 on free ports.
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as path from "path";
import * as yaml from "js-yaml";
import { PgBouncerExporterInput, pgbouncerExporterProcess, postgresExporterProcess, renderPgpassLine } from "../../../components/monitoring/exporters";
import { renderExporterQueries } from "../../../components/monitoring/queries";
import { ServerProcess, chownTree, freePort, requireBinary, run, tempDir, waitFor, writeFile } from "../harness";

export const POSTGRES_EXPORTER = process.env.POSTGRES_EXPORTER_BIN ?? "/usr/bin/prometheus-postgres-exporter";
export const PGBOUNCER_EXPORTER_PACKAGE = "/usr/lib/python3/dist-packages/prometheus_pgbouncer_exporter";
export const PROMETHEUS = process.env.PROMETHEUS_BIN ?? "/usr/bin/prometheus";
export const PROMTOOL = process.env.PROMTOOL_BIN ?? "/usr/bin/promtool";
const ROOT = path.resolve(__dirname, "../../..");
export const RULES_FILE = path.join(ROOT, "components/monitoring/alerts.rules.yml");
export const DASHBOARD_FILE = path.join(ROOT, "components/monitoring/dashboard.json");
export const COMPAT_SED = path.join(ROOT, "docker/exporters/pgbouncer-exporter-compat.sed");

export function requireObservabilityBinaries(): void {
  requireBinary(POSTGRES_EXPORTER, "prometheus-postgres-exporter");
  requireBinary(path.join(PGBOUNCER_EXPORTER_PACKAGE, "collectors.py"), "prometheus-pgbouncer-exporter");
  requireBinary(PROMETHEUS, "prometheus");
  requireBinary("/usr/lib/postgresql/15/lib/pgaudit.so", "postgresql-15-pgaudit");
}

/** GET a URL on loopback: status and body. */
export function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    }).on("error", reject);
  });
}

/** Metric names (no labels) in a text exposition. */
export function metricNames(exposition: string): Set<string> {
  return new Set(exposition.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split(/[{ ]/)[0]));
}

export interface Exporter {
  port: number;
  proc: ServerProcess;
  dir: string;
  scrape(): Promise<string>;
  stop(): Promise<void>;
}

async function exporter(dir: string, port: number, proc: ServerProcess): Promise<Exporter> {
  const url = `http://127.0.0.1:${port}/metrics`;
  await waitFor(`exporter on ${port}`, async () => (await httpGet(url)).status === 200, 20_000, proc);
  return {
    port, proc, dir,
    async scrape() {
      const r = await httpGet(url);
      if (r.status !== 200) throw new Error(`scrape of ${url}: ${r.status}\n${r.body}\n${proc.output}`);
      return r.body;
    },
    async stop() {
      await proc.stop("SIGTERM");
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Debian's postgres_exporter as the container runs it: the rendered queries, the password from a file. */
export async function startPostgresExporter(pgPort: number, password: string, backup: boolean): Promise<Exporter> {
  const dir = tempDir("pgexp");
  const port = await freePort();
  const passwordFile = path.join(dir, "password");
  const queriesFile = path.join(dir, "queries.yaml");
  writeFile(passwordFile, password, 0o400);
  writeFile(queriesFile, renderExporterQueries({ backup }), 0o444);
  const p = postgresExporterProcess({ postgres: { host: "127.0.0.1", port: pgPort }, sslmode: "disable", listen: `127.0.0.1:${port}`, passwordFile, queriesFile });
  // only what the container's env holds: no secret, no DATA_SOURCE_NAME from the test's environment
  const proc = new ServerProcess(POSTGRES_EXPORTER, p.args, { env: { ...p.env, DATA_SOURCE_NAME: "", DATA_SOURCE_PASS: "" } });
  return exporter(dir, port, proc);
}

/**
 * A copy of Debian's pgBouncer exporter package with docker/exporters' compatibility
 * sed applied, as the image has it; `patched: false` copies it untouched.
 */
export async function pgbouncerExporterPackage(patched: boolean): Promise<string> {
  const dir = tempDir("pbexp-pkg");
  const pkg = path.join(dir, "prometheus_pgbouncer_exporter");
  fs.cpSync(PGBOUNCER_EXPORTER_PACKAGE, pkg, { recursive: true });
  chownTree(dir);
  if (patched) {
    const r = await run("sed", ["-i", "-f", COMPAT_SED, path.join(pkg, "collectors.py")]);
    if (r.code !== 0) throw new Error(`sed: ${r.stderr}`);
  }
  return dir;
}

/** The pgBouncer exporter (python3 -m, the package from `packageDir`) with the rendered arguments and pgpass. */
export async function startPgBouncerExporter(
  packageDir: string, pgbouncer: { host: string; port: number }, stats: { user: string; password: string },
): Promise<Exporter> {
  const dir = tempDir("pbexp");
  const port = await freePort();
  const pgpassFile = path.join(dir, "pgpass");
  writeFile(pgpassFile, renderPgpassLine(pgbouncer.host, pgbouncer.port, stats.user, stats.password), 0o600);
  const input: PgBouncerExporterInput = { pgbouncer, sslmode: "disable", listenHost: "127.0.0.1", listenPort: port, pgpassFile, user: stats.user };
  const p = pgbouncerExporterProcess(input);
  const proc = new ServerProcess("python3", ["-m", "prometheus_pgbouncer_exporter", ...p.args], {
    env: { ...p.env, PYTHONPATH: packageDir, PGPASSWORD: "" },
    cwd: packageDir,
  });
  return exporter(dir, port, proc);
}

export interface PromAlert {
  labels: Record<string, string>;
  state: "pending" | "firing";
}

export interface Prometheus {
  port: number;
  proc: ServerProcess;
  /** Instant query: the result vector. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  alerts(): Promise<PromAlert[]>;
  /** Resolves once the alert fires (with labels matching `labels`), or rejects with what was seen. */
  waitFiring(name: string, labels?: Record<string, string>, timeoutMs?: number): Promise<PromAlert>;
  stop(): Promise<void>;
}

/**
 * The repository's rules with every `for:` set to 0s: the expressions are the
 * shipped ones, only the waiting before a true condition counts as firing is cut.
 */
export function rulesForTest(): string {
  const doc = yaml.load(fs.readFileSync(RULES_FILE, "utf8")) as { groups: { rules: { for?: string }[] }[] };
  for (const g of doc.groups) for (const r of g.rules) r.for = "0s";
  return yaml.dump(doc);
}

/** A real Prometheus scraping and evaluating every second, with `scrapeConfig` pasted under scrape_configs. */
export async function startPrometheus(scrapeConfig: string): Promise<Prometheus> {
  const dir = tempDir("prom");
  const port = await freePort();
  writeFile(path.join(dir, "rules.yml"), rulesForTest(), 0o644);
  writeFile(path.join(dir, "prometheus.yml"), [
    "global:",
    "  scrape_interval: 1s",
    "  evaluation_interval: 1s",
    "rule_files:",
    "  - rules.yml",
    "scrape_configs:",
    scrapeConfig,
  ].join("\n"), 0o644);
  fs.mkdirSync(path.join(dir, "data"));
  chownTree(dir);
  const proc = new ServerProcess(PROMETHEUS, [
    `--config.file=${path.join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${path.join(dir, "data")}`,
    `--web.listen-address=127.0.0.1:${port}`, "--log.level=warn",
  ], { cwd: dir });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(`prometheus on ${port}`, async () => (await httpGet(`${base}/-/ready`)).status === 200, 30_000, proc);
  const api = async <T>(p: string): Promise<T> => {
    const r = await httpGet(`${base}${p}`);
    const j = JSON.parse(r.body) as { status: string; data: T; error?: string };
    if (j.status !== "success") throw new Error(`prometheus ${p}: ${j.error}`);
    return j.data;
  };
  const prom: Prometheus = {
    port, proc,
    query: async (expr) => (await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result,
    alerts: async () => (await api<{ alerts: PromAlert[] }>("/api/v1/alerts")).alerts,
    async waitFiring(name, labels = {}, timeoutMs = 30_000) {
      let seen: PromAlert[] = [];
      let hit: PromAlert | undefined;
      try {
        await waitFor(`alert ${name} firing`, async () => {
          seen = await prom.alerts();
          hit = seen.find((a) => a.labels.alertname === name && a.state === "firing" && Object.entries(labels).every(([k, v]) => a.labels[k] === v));
          return hit !== undefined;
        }, timeoutMs, proc);
      } catch (e) {
        throw new Error(`${(e as Error).message}\nalerts: ${JSON.stringify(seen)}`);
      }
      return hit as PromAlert;
    },
    async stop() {
      await proc.stop("SIGTERM");
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return prom;
}

export interface CapturedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A plain HTTP server on loopback that answers 200 and records every request (healthchecks.io / ntfy stand-in). */
export async function startCaptureServer(): Promise<{ url: string; requests: CapturedRequest[]; close(): Promise<void> }> {
  const requests: CapturedRequest[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("OK");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
