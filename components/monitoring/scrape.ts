// What an existing Prometheus needs to scrape the stack: the targets, and a
// `scrape_configs` snippet ready to paste. Pure; the integration test runs a real
// Prometheus with the same snippet (targets on loopback).
import { ipVersion, isHostname, isPort } from "../lib/net";

/** Job names of the snippet; the alert rules select on them. */
export const SCRAPE_JOBS = { postgres: "hlpg-postgres", pgbouncer: "hlpg-pgbouncer" } as const;

/** Label every series of the stack carries (several stacks can share one Prometheus). */
export const STACK_TARGET_LABEL = "hlpg_stack";

export interface ScrapeTargets {
  /** `host:port` of postgres_exporter. */
  postgres: string;
  /** `host:port` of the pgBouncer exporter, when pgBouncer is on. */
  pgbouncer?: string;
}

/** `host:port` after checking both. */
export function target(host: string, port: number): string {
  if (!isPort(port)) throw new Error(`invalid port ${port}`);
  if (ipVersion(host) === 4 || isHostname(host)) return `${host}:${port}`;
  throw new Error(`invalid scrape host ${JSON.stringify(host)}`);
}

export interface ScrapeConfigInput {
  stack: string;
  targets: ScrapeTargets;
  /** Seconds between scrapes. */
  intervalSeconds: number;
}

/** The `scrape_configs` entries (YAML list items, to paste under `scrape_configs:`). */
export function renderScrapeConfig(input: ScrapeConfigInput): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(input.stack)) throw new Error(`invalid stack name ${JSON.stringify(input.stack)}`);
  if (!Number.isInteger(input.intervalSeconds) || input.intervalSeconds < 1) throw new Error(`invalid scrape interval ${input.intervalSeconds}`);
  const job = (name: string, t: string) => [
    `- job_name: ${name}-${input.stack}`,
    `  scrape_interval: ${input.intervalSeconds}s`,
    // a scrape must end before the next one starts
    `  scrape_timeout: ${Math.max(1, Math.min(10, input.intervalSeconds - 1))}s`,
    "  static_configs:",
    `    - targets: ["${t}"]`,
    "      labels:",
    `        ${STACK_TARGET_LABEL}: "${input.stack}"`,
    `        hlpg_component: "${name === SCRAPE_JOBS.postgres ? "postgres" : "pgbouncer"}"`,
  ];
  const check = (t: string) => {
    const m = /^(.+):(\d+)$/.exec(t);
    if (!m) throw new Error(`invalid target ${JSON.stringify(t)}`);
    return target(m[1], Number(m[2]));
  };
  return [
    `# homelab-postgres stack ${input.stack}: paste under scrape_configs: in prometheus.yml`,
    ...job(SCRAPE_JOBS.postgres, check(input.targets.postgres)),
    ...(input.targets.pgbouncer ? job(SCRAPE_JOBS.pgbouncer, check(input.targets.pgbouncer)) : []),
  ].join("\n") + "\n";
}
