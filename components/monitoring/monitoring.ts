// Monitoring: postgres_exporter and the pgBouncer exporter as containers on the
// stack network, each with its own least-privilege login (the pg_monitor member
// MONITOR_ROLE; pgBouncer's stats user), published only on the bind address, and
// the scrape targets and Prometheus snippet as outputs. Texts come from
// queries.ts, exporters.ts and scrape.ts; this file only wires.
//
// Passwords are uploaded files (DATA_SOURCE_PASS_FILE, PGPASSFILE), never env:
// `docker inspect` shows env in clear. Uploads are ForceNew, so a new password or
// queries file replaces the exporter, which holds no state.
import * as docker from "@pulumi/docker";
import * as postgresql from "@pulumi/postgresql";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { AdminConnection, adoptOptions, passwordSyncCommand } from "../apps/adopt";
import { MONITOR_ROLE, type MonitoringConfig } from "../config";
import { hardenedContainerArgs, publishedPort } from "../lib/container";
import {
  EXPORTER_CONTAINER, exporterHealthcheck, pgbouncerExporterProcess, postgresExporterProcess, renderPgpassLine,
} from "./exporters";
import { ExporterImage } from "./image";
import { renderExporterQueries } from "./queries";
import { ScrapeTargets, renderScrapeConfig, target } from "./scrape";

export interface MonitoringArgs {
  /** Stack name: containers `<stack>-postgres-exporter`, `<stack>-pgbouncer-exporter`. */
  stack: string;
  /** Validated monitoring section (construct only when enabled). */
  config: MonitoringConfig;
  /** The exporters' image builds on the configured Postgres image (postgres.image). */
  baseImage: string;
  /** The docker host's platform (postgres.platform). */
  platform: "linux/amd64" | "linux/arm64";
  /** The stack's docker network. */
  network: pulumi.Input<string>;
  /** The only host address ports are published on (tailnet IP or loopback). */
  bindAddress: pulumi.Input<string>;
  /** Postgres on the stack network (PostgresServer.internal). */
  postgres: { host: string; port: number };
  /** Postgres and pgBouncer require TLS (postgres.tls.enabled). */
  tls: boolean;
  /** Backups on: the sidecar's job tables exist and their queries are included. */
  backup: boolean;
  /** pgBouncer on the stack network and its stats user (PgBouncer.statsUser), when pgBouncer is on. */
  pgbouncer?: { host: string; port: number; user: string; password: pulumi.Input<string> };
  /** What the Postgres exporter waits for: the server's container and live settings. */
  postgresReady: pulumi.Input<pulumi.Resource>[];
  /** postgres.bootstrap is set: the monitor role may exist already (restored) and is adopted (apps/adopt.ts). */
  adopt: boolean;
  /** Where and when its password is set again from state (apps/adopt.ts passwordSyncCommand). */
  passwords: { admin: AdminConnection; triggers: pulumi.Input<string>[] };
  /** What the pgBouncer exporter waits for: the pgBouncer container. */
  pgbouncerReady?: pulumi.Input<pulumi.Resource>[];
}

export class Monitoring extends pulumi.ComponentResource {
  /** `host:port` per exporter. */
  readonly scrapeTargets: pulumi.Output<ScrapeTargets>;
  /** Ready-to-paste `scrape_configs` entries. */
  readonly prometheusScrapeConfig: pulumi.Output<string>;
  /** The pg_monitor member postgres_exporter logs in as. */
  readonly monitorRole: postgresql.Role;
  /** Its password: secret. */
  readonly monitorPassword: pulumi.Output<string>;
  readonly postgresExporter: docker.Container;
  readonly pgbouncerExporter?: docker.Container;
  /** The custom queries file the Postgres exporter runs. */
  readonly queries: string;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    // inputs deliberately not passed to super: they would be stored in state as the component's inputs
    super("homelab:postgres:Monitoring", name, {}, opts);
    const child = { parent: this };
    const { stack, config } = args;
    const sslmode = args.tls ? "require" : "disable";

    const pw = new random.RandomPassword(`${name}-monitor-password`, { length: 40, special: false }, child);
    this.monitorPassword = pulumi.secret(pw.result);
    // pg_monitor: pg_stat_* of every session, pg_ls_archive_statusdir, pg_database_size; nothing else
    this.monitorRole = new postgresql.Role(
      `${name}-monitor-role`,
      {
        name: MONITOR_ROLE, login: true, password: this.monitorPassword, roles: ["pg_monitor"],
        superuser: false, createDatabase: false, createRole: false, replication: false, bypassRowLevelSecurity: false,
      },
      { ...child, additionalSecretOutputs: ["password"], ...adoptOptions("role", MONITOR_ROLE, args.adopt) },
    );
    passwordSyncCommand(`${name}-monitor-password-sync`, {
      roles: [{ name: MONITOR_ROLE, password: this.monitorPassword }], admin: args.passwords.admin, triggers: args.passwords.triggers, dependsOn: [this.monitorRole],
    }, child);
    // the platform revokes CONNECT on the maintenance database from PUBLIC
    const connect = new postgresql.Grant(
      `${name}-monitor-connect`,
      { database: "postgres", role: MONITOR_ROLE, objectType: "database", privileges: ["CONNECT"] },
      { ...child, dependsOn: [this.monitorRole] },
    );

    const image = new ExporterImage(`${name}-exporters-image`, { baseImage: args.baseImage, platform: args.platform }, child);
    const owner = { owner: EXPORTER_CONTAINER.uid, group: EXPORTER_CONTAINER.uid };
    const user = `${EXPORTER_CONTAINER.uid}:${EXPORTER_CONTAINER.uid}`;
    const dir = EXPORTER_CONTAINER.confDir;
    this.queries = renderExporterQueries({ backup: args.backup });

    const pgProc = postgresExporterProcess({
      postgres: args.postgres, sslmode, listen: `:${EXPORTER_CONTAINER.postgresPort}`,
      passwordFile: `${dir}/password`, queriesFile: `${dir}/queries.yaml`,
    });
    // What both exporters share: the image, an unprivileged user without capabilities,
    // one port published on the bind address only, the hardening, and replacement
    // (delete first: the container name stays the same).
    const exporter = (role: "postgres" | "pgbouncer", spec: {
      binary: string; proc: { args: string[]; env: Record<string, string> }; port: number; hostPort: number;
      uploads: docker.types.input.ContainerUpload[]; dependsOn: pulumi.Input<pulumi.Resource>[];
    }): docker.Container =>
      new docker.Container(
        `${name}-${role}-exporter`,
        {
          name: `${stack}-${role}-exporter`,
          image: image.imageName,
          user,
          entrypoints: [spec.binary],
          command: spec.proc.args,
          envs: Object.entries(spec.proc.env).map(([k, v]) => `${k}=${v}`),
          uploads: spec.uploads,
          ports: [publishedPort(spec.port, spec.hostPort, args.bindAddress)],
          networksAdvanced: [{ name: args.network }],
          capabilities: { drops: ["ALL"] },
          ...hardenedContainerArgs({
            role: "exporter", stack, memoryMb: EXPORTER_CONTAINER.memoryMb,
            healthcheck: ["CMD", ...exporterHealthcheck(spec.port)], waitTimeoutSeconds: 120,
          }),
          destroyGraceSeconds: 10,
          stopTimeout: 10,
        },
        { ...child, additionalSecretOutputs: ["uploads"], deleteBeforeReplace: true, dependsOn: spec.dependsOn },
      );

    this.postgresExporter = exporter("postgres", {
      binary: EXPORTER_CONTAINER.postgresBinary, proc: pgProc, port: EXPORTER_CONTAINER.postgresPort, hostPort: config.postgresExporterPort,
      uploads: [
        { file: `${dir}/password`, content: this.monitorPassword, permissions: "0400", ...owner },
        { file: `${dir}/queries.yaml`, content: this.queries, permissions: "0444", ...owner },
      ],
      dependsOn: [connect, ...args.postgresReady],
    });

    if (args.pgbouncer) {
      const pb = args.pgbouncer;
      const pbProc = pgbouncerExporterProcess({
        // inside the container's own network namespace: Docker forwards to its interface,
        // and publishes the port on the bind address only (the ports entry)
        pgbouncer: { host: pb.host, port: pb.port }, sslmode, listenHost: "0.0.0.0", listenPort: EXPORTER_CONTAINER.pgbouncerPort,
        pgpassFile: `${dir}/pgpass`, user: pb.user,
      });
      this.pgbouncerExporter = exporter("pgbouncer", {
        binary: EXPORTER_CONTAINER.pgbouncerBinary, proc: pbProc, port: EXPORTER_CONTAINER.pgbouncerPort, hostPort: config.pgbouncerExporterPort,
        uploads: [{
          file: `${dir}/pgpass`,
          content: pulumi.secret(pulumi.output(pb.password).apply((p) => renderPgpassLine(pb.host, pb.port, pb.user, p))),
          // libpq ignores a password file others can read
          permissions: "0600",
          ...owner,
        }],
        dependsOn: args.pgbouncerReady ?? [],
      });
    }

    this.scrapeTargets = pulumi.output(args.bindAddress).apply((host) => ({
      postgres: target(host, config.postgresExporterPort),
      ...(args.pgbouncer ? { pgbouncer: target(host, config.pgbouncerExporterPort) } : {}),
    }));
    this.prometheusScrapeConfig = this.scrapeTargets.apply((targets) =>
      renderScrapeConfig({ stack, targets, intervalSeconds: config.scrapeInterval }));
    this.registerOutputs({
      scrapeTargets: this.scrapeTargets,
      prometheusScrapeConfig: this.prometheusScrapeConfig,
      monitorPassword: this.monitorPassword,
    });
  }
}
