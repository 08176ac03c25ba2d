// PostgresPlatform: wires server, apps, pooler, pgAdmin, backups. No logic of
// its own beyond deciding what depends on what.
import * as fs from "fs";
import * as docker from "@pulumi/docker";
import * as postgresql from "@pulumi/postgresql";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { adminModel } from "./apps/admin";
import { adoptOptions, passwordSyncCommand } from "./apps/adopt";
import { AppDatabase, Credentials } from "./apps/app-database";
import { BackupBucket, BackupRepository, BackupSidecar, CONTAINER_PATHS } from "./backup";
import { parseRestoreTarget } from "./lib/restore-target";
import { CiAccess } from "./ci/ci-access";
import { ExternalPostgres } from "./external";
import { Monitoring } from "./monitoring";
import type { ScrapeTargets } from "./monitoring";
import { PgAdmin } from "./pgadmin/pgadmin";
import { PgBouncer } from "./pooler/pgbouncer";
import { type PoolerConsole, pauseCommand, resumeCommand } from "./pooler/maintenance";
import { EXPORTER_PACKAGES, PGBOUNCER_PACKAGE, POSTGRES_PACKAGES, type StackConfig } from "./config";
import type { DatabaseEntry } from "./outputs";
import { accessModel, clusterGrants } from "./apps/access";
import { PostgresImage } from "./server/image";
import { PostgresServer } from "./server/server";
import { FAILOVER_SCRIPT_FILE, PostgresStandby } from "./replica";
import { CONTAINER_PATHS as BACKUP_PATHS, RUNTIME_FILE_NAMES, archiveGetCommand } from "./backup";
import { resolveBindAddress } from "./server/tailnet";
import { PostgresTls, StackCa, tlsReloadCommand } from "./tls";

export interface PostgresPlatformArgs {
  /** Validated stack config (components/config). */
  config: StackConfig;
}

export class PostgresPlatform extends pulumi.ComponentResource {
  readonly host: pulumi.Output<string>;
  readonly port: number;
  readonly poolerPort?: number;
  readonly network: pulumi.Output<string>;
  /** Secret: every app's connection details. */
  readonly databases: pulumi.Output<Record<string, DatabaseEntry>>;
  /** Absent with postgres.external (an existing server). */
  readonly server?: PostgresServer;
  readonly apps: AppDatabase[];
  readonly pooler?: PgBouncer;
  readonly pgadmin?: PgAdmin;
  readonly pgadminUrl?: pulumi.Output<string>;
  readonly backupBucket?: pulumi.Output<string>;
  readonly backupSidecar?: BackupSidecar;
  /** The admin role for people (pgAdmin, admin shells); its password is secret. */
  readonly admin: { user: string; password: pulumi.Output<string> };
  readonly monitoring?: Monitoring;
  /** `host:port` of each exporter, when monitoring is on. */
  readonly scrapeTargets?: pulumi.Output<ScrapeTargets>;
  /** Ready-to-paste Prometheus `scrape_configs` entries, when monitoring is on. */
  readonly prometheusScrapeConfig?: pulumi.Output<string>;
  /** The streaming standby on the second host, when `standby.enabled`. */
  readonly standby?: PostgresStandby;
  /** Where the standby listens (`standby.enabled`): its tailnet address and published port. */
  readonly standbyEndpoint?: pulumi.Output<{ host: string; port: number }>;
  /** PEM of the stack CA (postgres.tls.mode stack-ca): public; app stacks verify the servers with it. */
  readonly caCertificate?: pulumi.Output<string>;
  /** Secret: ephemeral tagged tailnet key for CI runners, when `ci.tailnetKey`. */
  readonly ciTailnetAuthKey?: pulumi.Output<string>;

  constructor(name: string, args: PostgresPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:postgres:PostgresPlatform", name, {}, opts);
    const cfg = args.config;
    const child = { parent: this };

    // an existing server: no container, volume or image; the same apps, pooler and outputs
    if (cfg.postgres.external) {
      const ext = new ExternalPostgres(`${name}-external`, { config: cfg }, child);
      [this.host, this.port, this.network, this.apps, this.pooler, this.poolerPort, this.admin] = [ext.host, ext.port, ext.network, ext.apps, ext.pooler, ext.pooler?.port, ext.admin];
      this.databases = databasesOutput(cfg.apps, this.apps);
      this.register();
      return;
    }

    const dockerProvider = new docker.Provider(`${name}-docker`, { host: cfg.dockerHost }, child);
    const bindAddress = resolveBindAddress(cfg.tailscale, child);

    // One image for Postgres, the backup sidecar, the standby and their carriers: built
    // here from Debian packages (docker/postgres), or the operator's own (postgres.customImage).
    // the Debian base of the major's suite; absent with an image of one's own
    const postgresBase = cfg.postgres.customImage === undefined ? cfg.images[POSTGRES_PACKAGES[cfg.postgres.majorVersion].suite] : undefined;
    const builtImage = postgresBase !== undefined
      ? new PostgresImage(`${name}-postgres-image`, { majorVersion: cfg.postgres.majorVersion, baseImage: postgresBase, platform: cfg.postgres.platform }, { parent: this, providers: [dockerProvider] })
      : undefined;
    const postgresImage = builtImage?.imageName
      ?? new docker.RemoteImage(`${name}-postgres-custom-image`, { name: cfg.postgres.customImage as string, keepLocally: true }, { parent: this, provider: dockerProvider }).imageId;
    // postgres.bootstrap: an empty volume starts from the repository; roles and databases that came back with it are adopted
    const adopt = cfg.postgres.bootstrap !== undefined;
    let repo: BackupRepository | undefined;
    if (cfg.backup.enabled) {
      const creds = cfg.backup.endpointCredentials;
      // no bucket: the posix repository (backup.posix) is the only one
      const bucket = cfg.backup.bucket === "" ? undefined : new BackupBucket(
        `${name}-backup-bucket`,
        {
          stack: cfg.stack,
          backup: cfg.backup,
          aws: cfg.aws,
          endpointCredentials: creds ? { accessKeyId: creds.accessKeyId, secretAccessKey: pulumi.secret(creds.secretAccessKey) } : undefined,
        },
        child,
      );
      repo = new BackupRepository(`${name}-backup-repo`, { stack: cfg.stack, backup: cfg.backup, bucket, image: postgresImage }, { parent: this, providers: [dockerProvider] });
      this.backupBucket = bucket?.bucketName;
    }

    const standbyAddress = cfg.standby.enabled ? resolveBindAddress(cfg.standby.tailscale, child) : undefined;
    // postgres.tls.mode stack-ca: the CA, its server certificate, and their carrier for Postgres
    const tlsCfg = cfg.postgres.tls;
    const ca = tlsCfg.enabled && tlsCfg.mode === "stack-ca"
      ? new StackCa(`${name}-ca`, { stack: cfg.stack, bindAddress, device: cfg.tailscale.device, dnsNames: tlsCfg.dnsNames, validityDays: tlsCfg.validityDays, renewBeforeDays: tlsCfg.renewBeforeDays, caValidityDays: tlsCfg.caValidityDays }, child)
      : undefined;
    const pgTls = ca && new PostgresTls(`${name}-postgres-tls`, { stack: cfg.stack, image: postgresImage, certificate: ca.certificate, privateKey: ca.privateKey }, { parent: this, providers: [dockerProvider] });
    this.caCertificate = ca?.caCertificate;

    // pgBouncer's maintenance user: PAUSE before each replacement of the Postgres container,
    // RESUME once the new one is healthy (pooler/maintenance.ts), so pooled clients wait
    const poolerConsole = cfg.pgbouncer.enabled ? {
      host: bindAddress,
      port: cfg.pgbouncer.port,
      password: pulumi.secret(new random.RandomPassword(`${name}-pgbouncer-admin-password`, { length: 40, special: false }, child).result),
      sslmode: cfg.postgres.tls.enabled ? "require" as const : "disable" as const,
    } : undefined;
    const target = cfg.postgres.bootstrap ? parseRestoreTarget(cfg.postgres.bootstrap.target) : undefined;
    const bootstrap = target && repo ? { stanza: repo.stanza, target, pgbackrestConf: CONTAINER_PATHS.pgbackrestConf } : undefined;
    const server = new PostgresServer(
      `${name}-postgres`,
      {
        stack: cfg.stack,
        config: cfg.postgres,
        bindAddress,
        image: postgresImage,
        backup: repo?.serverWiring,
        tlsPrivateKey: cfg.postgres.tls.privateKey ? pulumi.secret(cfg.postgres.tls.privateKey) : undefined,
        tlsVolume: pgTls?.wiring,
        bootstrap,
        extensions: cfg.apps.flatMap((a) => a.extensions),
        replicationPeer: standbyAddress,
        beforeReplace: poolerConsole && ((key, after) => [pauseCommand(`${name}-pgbouncer-pause`, poolerConsole, key, { ...child, dependsOn: after })]),
        failoverScript: standbyAddress ? fs.readFileSync(FAILOVER_SCRIPT_FILE, "utf8") : undefined,
      },
      { parent: this, providers: [dockerProvider] },
    );
    this.server = server;
    if (bootstrap) {
      pulumi.log.warn(
        `postgres.bootstrap is set (${server.bootstrapId}): an EMPTY data volume is restored from the backup repository; ` +
          "a volume that is not empty makes the bootstrap job refuse, and `pulumi up` fail with its log. Remove the key once the cluster is back (docs/backup.md, The host died).",
        this,
      );
    }

    if (pgTls) {
      // a renewed certificate replaces the carrier; Postgres then reloads it (no restart)
      tlsReloadCommand(`${name}-postgres-tls-reload`, {
        admin: { host: bindAddress, port: cfg.postgres.port, password: this.server.superuserPassword, sslmode: "require" },
        carrier: pgTls.files.container,
        dependsOn: [this.server.container],
      }, child);
    }

    if (repo) {
      this.backupSidecar = new BackupSidecar(
        `${name}-backup`,
        {
          stack: cfg.stack,
          repository: repo,
          image: postgresImage,
          majorVersion: cfg.postgres.majorVersion,
          network: server.network.name,
          dataVolume: server.dataVolume.name,
          socketVolume: server.socketVolume.name,
          apps: cfg.apps,
          dumpKeep: { daily: cfg.backup.dumps.keepDaily, weekly: cfg.backup.dumps.keepWeekly, monthly: cfg.backup.dumps.keepMonthly },
        },
        // after the settings command: its restart must not interrupt stanza-create
        { parent: this, providers: [dockerProvider], dependsOn: [server.container, server.settings.applied] },
      );
    }

    // Straight to Postgres, never through pgBouncer (transaction pooling breaks the
    // provider's sessions), and only once the container reports healthy (wait: true).
    const pgProvider = new postgresql.Provider(
      `${name}-postgresql`,
      {
        host: bindAddress,
        port: cfg.postgres.port,
        username: "postgres",
        password: server.superuserPassword,
        database: "postgres",
        sslmode: cfg.postgres.tls.enabled ? "require" : "disable",
        superuser: true,
        connectTimeout: 30,
        expectedVersion: String(cfg.postgres.majorVersion),
      },
      // and after the live settings: a restart they cause must not cut the provider's sessions
      { ...child, dependsOn: [server.container, server.settings.applied] },
    );

    // PUBLIC loses CONNECT/TEMPORARY on postgres and template1 (chained: one catalog row each,
    // but the provider's own connection to `postgres` should not race the first revoke)
    let previous: pulumi.Resource | undefined;
    for (const g of clusterGrants()) {
      previous = new postgresql.Grant(
        `${name}-cluster-${g.role}-${g.database}`,
        { database: g.database, role: g.role, objectType: g.objectType, privileges: g.privileges },
        { parent: this, provider: pgProvider, dependsOn: previous ? [previous] : [] },
      );
    }

    if (standbyAddress && tlsKey(cfg)) {
      this.standby = new PostgresStandby(`${name}-standby`, {
        stack: cfg.stack,
        config: cfg.standby,
        postgres: cfg.postgres,
        bindAddress: standbyAddress,
        primary: { host: bindAddress, port: cfg.postgres.port },
        superuserPassword: server.superuserPassword,
        tlsPrivateKey: pulumi.secret(tlsKey(cfg) as string),
        // the standby host builds the same image (or pulls the same custom one)
        baseImage: postgresBase,
        backup: repo ? {
          stanza: repo.stanza, pgbackrestConf: repo.pgbackrestConfWithSecrets, pgbackrestConfPath: BACKUP_PATHS.pgbackrestConf,
          pgbackrestConfDir: BACKUP_PATHS.pgbackrestDir, pgbackrestConfFileName: RUNTIME_FILE_NAMES.pgbackrestConf,
          restoreCommand: archiveGetCommand({ stanza: repo.stanza, configFile: BACKUP_PATHS.pgbackrestConf }),
          archive: { command: repo.serverWiring.archiveCommand, timeoutSeconds: repo.serverWiring.archiveTimeoutSeconds },
          volumes: repo.posixVolume ? [repo.posixVolume] : [],
        } : undefined,
      }, { parent: this, providers: [pgProvider] });
      this.standbyEndpoint = pulumi.output({ host: standbyAddress, port: cfg.standby.port });
    }
    // standby.promoted: the standby takes the writes; every URL follows it (docs/replication.md)
    const writer = cfg.standby.promoted && standbyAddress ? { host: standbyAddress, port: cfg.standby.port } : undefined;

    // The pooler grants its auth role CONNECT itself (after the apps exist), so the
    // access model here has no pooler role: that would make apps wait on the pooler.
    const model = accessModel(cfg.apps);
    // passwords from state, set again on a new cluster (container) and after a bootstrap (apps/adopt.ts)
    const superuserLogin = { host: bindAddress, port: cfg.postgres.port, password: server.superuserPassword, sslmode: cfg.postgres.tls.enabled ? "require" as const : "disable" as const };
    const passwordTriggers = [server.container.id, server.bootstrapId ?? "initdb"];
    // promoted: the pooler is on the lost host, so pooledUrl is the new primary's direct URL
    const pooled = cfg.pgbouncer.enabled ? writer ?? { host: bindAddress, port: cfg.pgbouncer.port } : undefined;
    this.apps = cfg.apps.map(
      (app, i) =>
        new AppDatabase(
          `${name}-app-${app.name}`,
          {
            app,
            access: model[i],
            direct: writer ?? { host: bindAddress, port: cfg.postgres.port },
            pooled,
            standby: standbyAddress ? { host: standbyAddress, port: cfg.standby.port } : undefined,
            requireTls: cfg.postgres.tls.enabled,
            verifyTls: ca ? { caFile: tlsCfg.clientCaFile } : undefined,
            adopt,
            passwords: { admin: superuserLogin, triggers: passwordTriggers },
          },
          { parent: this, providers: [pgProvider] },
        ),
    );

    // The admin role for people: member of every app owner, so it waits for them; its
    // memberships live in Role.roles only (the provider revokes any it did not list,
    // resource_postgresql_role.go revokeRoles, so no GrantRole may add one beside it).
    const admin = adminModel(cfg.postgres.majorVersion, cfg.apps);
    const adminPw = new random.RandomPassword(`${name}-admin-password`, { length: 40, special: false }, child);
    const adminPassword = pulumi.secret(adminPw.result);
    const adminRole = new postgresql.Role(
      `${name}-admin`,
      { name: admin.name, ...admin.attributes, connectionLimit: admin.connectionLimit, roles: admin.memberOf, password: adminPassword },
      {
        parent: this, provider: pgProvider, additionalSecretOutputs: ["password"], dependsOn: this.apps.map((a) => a.ownerRole),
        ...adoptOptions("role", admin.name, adopt),
      },
    );
    // its password from state, like the apps' (a restored pg_authid may hold an older one)
    passwordSyncCommand(`${name}-admin-password-sync`, {
      roles: [{ name: admin.name, password: adminPassword }], admin: superuserLogin, triggers: passwordTriggers, dependsOn: [adminRole],
    }, { parent: this });
    let adminReady: pulumi.Resource = adminRole;
    for (const g of admin.grants) {
      // after the cluster revokes: one pg_database row, and parallel grants on it fail
      adminReady = new postgresql.Grant(
        `${name}-admin-${g.objectType}-${g.database}`,
        { database: g.database, role: g.role, objectType: g.objectType, privileges: g.privileges },
        { parent: this, provider: pgProvider, dependsOn: [adminReady, ...(previous ? [previous] : [])] },
      );
    }
    this.admin = { user: admin.name, password: adminPassword };

    const tls = cfg.postgres.tls;
    if (cfg.pgbouncer.enabled) {
      this.pooler = new PgBouncer(
        `${name}-pgbouncer`,
        {
          stack: cfg.stack,
          config: cfg.pgbouncer,
          image: { baseImage: cfg.images[PGBOUNCER_PACKAGE.suite], platform: cfg.postgres.platform },
          apps: cfg.apps,
          network: server.network.name,
          bindAddress,
          postgres: server.internal,
          postgresMaxConnections: cfg.postgres.maxConnections,
          tls: ca
            ? { certificate: ca.certificate, privateKey: ca.privateKey, caCertificate: ca.caCertificate }
            : tls.enabled && tls.certificate && tls.privateKey ? { certificate: tls.certificate, privateKey: pulumi.secret(tls.privateKey) } : undefined,
          admin: {
            host: bindAddress,
            port: cfg.postgres.port,
            password: server.superuserPassword,
            sslmode: tls.enabled ? "require" : "disable",
          },
          // each database's lookup goes in after that app's grants and comes out before them
          databasesReady: Object.fromEntries(cfg.apps.map((app, i) => [app.database, this.apps[i].ready])),
          // a new cluster (container replaced) re-installs the lookup function
          rerunOn: [server.container.id],
          statsUser: cfg.monitoring.enabled,
          consoleAdminPassword: poolerConsole?.password,
          adopt,
          passwordTriggers,
        },
        { parent: this, providers: [dockerProvider, pgProvider] },
      );
      this.poolerPort = this.pooler.port;
      // after the new container is healthy, its settings applied (a restart they cause
      // included) and pgBouncer's lookups in place: then logins through the pooler work
      resumeCommand(`${name}-pgbouncer-resume`, poolerConsole as PoolerConsole, server.container.id, {
        ...child, dependsOn: [server.container, server.settings.applied, ...Object.values(this.pooler.authLookups)],
      });
    }

    if (cfg.pgadmin.enabled) {
      this.pgadmin = new PgAdmin(
        `${name}-pgadmin`,
        {
          stack: cfg.stack,
          config: cfg.pgadmin,
          network: server.network.name,
          bindAddress,
          postgres: server.internal,
          login: this.admin,
          loginReady: [adminRole, adminReady],
          tls: tls.enabled,
          https: ca ? { certificate: ca.certificate, privateKey: ca.privateKey } : undefined,
        },
        { parent: this, providers: [dockerProvider], dependsOn: [server.container] },
      );
      this.pgadminUrl = this.pgadmin.url;
    }

    if (cfg.monitoring.enabled) {
      const stats = this.pooler?.statsUser;
      this.monitoring = new Monitoring(
        `${name}-monitoring`,
        {
          stack: cfg.stack,
          config: cfg.monitoring,
          baseImage: cfg.images[EXPORTER_PACKAGES.suite],
          platform: cfg.postgres.platform,
          network: server.network.name,
          bindAddress,
          postgres: server.internal,
          tls: tls.enabled,
          backup: cfg.backup.enabled,
          pgbouncer: this.pooler && stats
            ? { host: this.pooler.internalHost, port: this.pooler.internalPort, user: stats.name, password: stats.password }
            : undefined,
          postgresReady: [server.container, server.settings.applied],
          adopt,
          passwords: { admin: superuserLogin, triggers: passwordTriggers },
          pgbouncerReady: this.pooler ? [this.pooler.container] : undefined,
        },
        { parent: this, providers: [dockerProvider, pgProvider] },
      );
      this.scrapeTargets = this.monitoring.scrapeTargets;
      this.prometheusScrapeConfig = this.monitoring.prometheusScrapeConfig;
    }

    this.host = writer ? writer.host : bindAddress;
    this.port = writer ? writer.port : cfg.postgres.port;
    this.network = server.network.name;
    this.databases = databasesOutput(cfg.apps, this.apps);

    if (cfg.ci.tailnetKey) {
      this.ciTailnetAuthKey = new CiAccess(`${name}-ci`, { tags: cfg.ci.tags, description: `${cfg.stack}-homelab-postgres-ci`.replace(/[^A-Za-z0-9-]/g, "-").slice(0, 50) }, child).authKey;
    }

    this.register();
  }

  private register(): void {
    this.registerOutputs({
      host: this.host,
      port: this.port,
      poolerPort: this.poolerPort,
      network: this.network,
      databases: this.databases,
      adminUser: this.admin.user,
      adminPassword: this.admin.password,
      pgadminUrl: this.pgadminUrl,
      backupBucket: this.backupBucket,
      scrapeTargets: this.scrapeTargets,
      prometheusScrapeConfig: this.prometheusScrapeConfig,
      ciTailnetAuthKey: this.ciTailnetAuthKey,
      standby: this.standbyEndpoint,
      caCertificate: this.caCertificate,
    });
  }
}

/** Secret: every app's entry, keyed by app name as written in config (not by database name). */
function databasesOutput(apps: { name: string }[], dbs: AppDatabase[]): pulumi.Output<Record<string, DatabaseEntry>> {
  return pulumi.secret(pulumi.all(Object.fromEntries(apps.map((app, i) => [app.name, databaseOutput(dbs[i])]))));
}

function credentialOutput(c: Credentials) {
  return { user: c.user, password: c.password, url: c.url, pooledUrl: c.pooledUrl, ...(c.standbyUrl ? { standbyUrl: c.standbyUrl } : {}) };
}

/** The TLS key a standby needs (the config refuses a standby without TLS). */
function tlsKey(cfg: StackConfig): string | undefined {
  return cfg.postgres.tls.enabled ? cfg.postgres.tls.privateKey : undefined;
}

function databaseOutput(a: AppDatabase) {
  return {
    database: a.owner.database,
    ...credentialOutput(a.owner),
    readonlyUsers: Object.fromEntries(Object.entries(a.readonlyUsers).map(([k, c]) => [k, credentialOutput(c)])),
    readwriteUsers: Object.fromEntries(Object.entries(a.readwriteUsers).map(([k, c]) => [k, credentialOutput(c)])),
  };
}
