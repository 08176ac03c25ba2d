// ExternalPostgres: the platform against an existing server (postgres.external:
// RDS, CloudNativePG, a Postgres on a NAS). No Postgres container, volume or image;
// the postgresql provider logs in as the configured admin, which need not be a
// superuser (CREATEROLE and CREATEDB), and manages the same per-app databases,
// roles, schemas, grants and extensions. pgBouncer, when enabled, runs on the Docker
// host and points at the server; it checks clients against an auth file (no
// auth_query: its lookup function needs a superuser). What is unavailable in this
// mode, and why, is in docs/external.md; the config refuses it (schema-external.ts).
import * as docker from "@pulumi/docker";
import * as postgresql from "@pulumi/postgresql";
import * as pulumi from "@pulumi/pulumi";
import { accessModel } from "../apps/access";
import { AppDatabase } from "../apps/app-database";
import type { ExternalLogin } from "../apps/external-admin";
import { PGBOUNCER_PACKAGE, type ExternalConfig, type StackConfig } from "../config";
import { PgBouncer } from "../pooler/pgbouncer";
import { resolveBindAddress } from "../server/tailnet";

export interface ExternalPostgresArgs {
  /** Validated stack config with `postgres.external` set. */
  config: StackConfig;
}

/**
 * Provider settings for a non-superuser admin. `superuser: false` only stops the
 * provider from reading passwords back from pg_authid (resource_postgresql_role.go
 * readRolePassword: it keeps the state's value); the temporary role grants it makes
 * around a Database, Schema, Grant or DefaultPrivileges depend on the login's real
 * rolsuper (helpers.go withRolesGranted, isSuperuser), whatever this flag says.
 */
export function externalProviderArgs(ext: ExternalConfig, majorVersion: number): postgresql.ProviderArgs {
  return {
    host: ext.host,
    port: ext.port,
    username: ext.adminUser,
    password: pulumi.secret(ext.adminPassword),
    database: ext.database,
    sslmode: ext.sslmode,
    superuser: false,
    connectTimeout: 30,
    expectedVersion: String(majorVersion),
  };
}

export class ExternalPostgres extends pulumi.ComponentResource {
  /** The server's host as clients reach it. */
  readonly host: pulumi.Output<string>;
  readonly port: number;
  /** The Docker network of pgBouncer, or "" without pgBouncer (no Docker resource at all then). */
  readonly network: pulumi.Output<string>;
  readonly apps: AppDatabase[];
  readonly pooler?: PgBouncer;
  /** The configured admin: the role people use here too (no db_admin is created). */
  readonly admin: { user: string; password: pulumi.Output<string> };
  readonly provider: postgresql.Provider;

  constructor(name: string, args: ExternalPostgresArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:postgres:ExternalPostgres", name, {}, opts);
    const cfg = args.config;
    const ext = cfg.postgres.external;
    if (!ext) throw new Error("ExternalPostgres needs postgres.external");
    const child = { parent: this };
    const password = pulumi.secret(ext.adminPassword);
    const login: ExternalLogin = { host: ext.host, port: ext.port, database: ext.database, user: ext.adminUser, password, sslmode: ext.sslmode };

    this.provider = new postgresql.Provider(`${name}-postgresql`, externalProviderArgs(ext, cfg.postgres.majorVersion), child);

    // No cluster grants: `postgres` and `template1` belong to the server's operator (the
    // admin is not their owner, and a REVOKE by a non-owner is only a warning).
    const model = accessModel(cfg.apps);
    const requireTls = ext.sslmode === "require";
    let bindAddress: pulumi.Output<string> | undefined;
    if (cfg.pgbouncer.enabled) bindAddress = resolveBindAddress(cfg.tailscale, child);
    const pooled = bindAddress ? { host: bindAddress, port: cfg.pgbouncer.port } : undefined;
    this.apps = cfg.apps.map(
      (app, i) =>
        new AppDatabase(
          `${name}-app-${app.name}`,
          {
            app,
            access: model[i],
            direct: { host: ext.host, port: ext.port },
            pooled,
            requireTls,
            externalAdmin: { login, majorVersion: cfg.postgres.majorVersion },
          },
          { parent: this, providers: [this.provider] },
        ),
    );

    let network: pulumi.Output<string> = pulumi.output("");
    if (cfg.pgbouncer.enabled && bindAddress) {
      const dockerProvider = new docker.Provider(`${name}-docker`, { host: cfg.dockerHost }, child);
      // pgBouncer's network, for app containers on the Docker host (the same name a server stack's has)
      const net = new docker.Network(`${name}-network`, { name: `${cfg.stack}-pg`, driver: "bridge", attachable: true }, { parent: this, provider: dockerProvider });
      network = net.name;
      // both logins of each role: the one a rotation retired still works until the next one
      const users = this.apps.flatMap((a) => a.logins);
      this.pooler = new PgBouncer(
        `${name}-pgbouncer`,
        {
          stack: cfg.stack,
          config: cfg.pgbouncer,
          image: { baseImage: cfg.images[PGBOUNCER_PACKAGE.suite], platform: cfg.postgres.platform },
          apps: cfg.apps,
          network: net.name,
          bindAddress,
          postgres: { host: ext.host, port: ext.port },
          postgresMaxConnections: cfg.postgres.maxConnections,
          authFile: { users },
          upstreamTls: requireTls,
          // the pool logs in as the apps' roles: they exist, with these passwords, first
          authFileReady: this.apps.map((a) => a.ready),
        },
        { parent: this, providers: [dockerProvider, this.provider] },
      );
    }

    this.host = pulumi.output(ext.host);
    this.port = ext.port;
    this.network = network;
    this.admin = { user: ext.adminUser, password };
    this.registerOutputs({ host: this.host, port: this.port, network: this.network, adminUser: this.admin.user });
  }
}
