// PgBouncer: the auth role, the auth_query lookup in every app database, and the
// pinned pgBouncer container on the stack network. Text (pgbouncer.ini, the auth
// file, the lookup SQL, the entrypoint wrapper) comes from render.ts and wrapper.ts
// beside it; this file only wires.
//
// What changes with the stack (the apps, pool mode and sizes: the whole ini) is
// delivered through RuntimeFiles, so it replaces the small config carrier and
// pgBouncer reloads. The container's own inputs hold only what is fixed for the
// stack: the image, the wrapper, the auth file, TLS files, the published port and
// limits. The docker provider replaces a container when any of those changes
// (upload, ports, ulimit, command, entrypoint... are ForceNew in
// kreuzwerker/terraform-provider-docker v4.5.0 internal/provider/resource_docker_container.go).
import { createHash } from "crypto";
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as postgresql from "@pulumi/postgresql";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { PGBOUNCER_PACKAGE, PGBOUNCER_STATS_USER, pgbouncerBuildArgs, type AppConfig, type PgBouncerConfig } from "../config";
import { buildImage, type ImagePlatform } from "../lib/built-image";
import { PGBOUNCER_CONTEXT, pgbouncerImageRef } from "./image";
import { POOLER_ADMIN_USER } from "./maintenance";
import { hardenedContainerArgs, publishedPort } from "../lib/container";
import { type RuntimeFile, RuntimeFiles } from "../runtime";
import { adoptOptions, passwordSyncCommand } from "../apps/adopt";
import {
  AUTH_FILE_PERMISSIONS,
  authPsqlCommand,
  PGBOUNCER_AUTH_ROLE,
  pgbouncerHealthcheck,
  renderAuthCreateScript,
  renderAuthFile,
  renderAuthRemoveScript,
  renderPgBouncerIni,
  type PgBouncerIniInput,
  renderUsersAuthFile,
} from "./render";
import { renderPgBouncerWrapper } from "./wrapper";
import { RUNTIME_INI, RUNTIME_TLS, RUNTIME_TLS_MODES, stampIni } from "./tls-files";

export { RUNTIME_INI, RUNTIME_TLS, tlsStampLine } from "./tls-files";

/** The release the image installs (components/config/images.ts): what the ini is rendered for and the advisories are checked against. */
export const PGBOUNCER_VERSION = { major: PGBOUNCER_PACKAGE.release[0], minor: PGBOUNCER_PACKAGE.release[1], patch: PGBOUNCER_PACKAGE.release[2] };
import { pgbouncerAdvisoryWarnings } from "./advisories";

/** Paths and ids inside the pgBouncer container (docker/pgbouncer: Debian's package). */
export const PGBOUNCER_CONTAINER = {
  /** Memory limit in MiB: pgBouncer itself needs a few MiB per thousand clients. */
  memoryMb: 128,
  /** uid/gid of `postgres` in the image; the container runs as it and owns the uploads. */
  uid: "999",
  confDir: "/etc/pgbouncer",
  /** Where the runtime volume (the ini) is mounted, read-only. */
  runtimeDir: "/etc/pgbouncer/runtime",
  /** World-writable in the image; the admin console socket lives here. */
  socketDir: "/tmp",
  /** Name other containers on the stack network reach the pooler by. */
  hostname: "pgbouncer",
  /**
   * Port pgBouncer listens on inside its network namespace, fixed: only the
   * published host port follows `pgbouncer.port` (listen_port is not applied by a
   * reload, and the published port is a container input anyway).
   */
  port: 6432,
} as const;


/** What the carrier delivers: the ini, and in stack-ca mode the TLS files with the ini stamped. */
export function runtimeFiles(ini: string, tls?: { certificate: pulumi.Input<string>; privateKey: pulumi.Input<string>; caCertificate?: pulumi.Input<string> }): Record<string, RuntimeFile> {
  if (!tls?.caCertificate) return { [RUNTIME_INI]: { content: ini } };
  return {
    [RUNTIME_TLS.ca]: { content: tls.caCertificate, mode: RUNTIME_TLS_MODES.ca },
    [RUNTIME_TLS.cert]: { content: tls.certificate, mode: RUNTIME_TLS_MODES.cert },
    [RUNTIME_TLS.key]: { content: pulumi.secret(tls.privateKey), mode: RUNTIME_TLS_MODES.key },
    [RUNTIME_INI]: { content: pulumi.all([tls.certificate, tls.caCertificate]).apply(([c, ca]) => stampIni(ini, c, ca)) },
  };
}

/** File descriptors pgBouncer may need: every client, every server connection Postgres can accept, and slack. */
export function pgbouncerNofile(maxClientConn: number, postgresMaxConnections: number): number {
  return Math.max(4096, maxClientConn + postgresMaxConnections + 256);
}

export interface PgBouncerArgs {
  /** Stack name: the container is `<stack>-pgbouncer`. */
  stack: string;
  /** Validated pgbouncer section of the stack config. Construct the component only when enabled. */
  config: PgBouncerConfig;
  /** What the image (docker/pgbouncer) is built on and for: images.trixie and postgres.platform. */
  image: { baseImage: string; platform: ImagePlatform };
  /** Apps whose databases get a pool; nothing else is routable through the pooler. */
  apps: AppConfig[];
  /** The stack's docker network (PostgresServer.network.name). */
  network: pulumi.Input<string>;
  /** The only host address the port is published on (tailnet IP or loopback). */
  bindAddress: pulumi.Input<string>;
  /** Postgres as seen from the docker network (PostgresServer.internal). */
  postgres: { host: string; port: number };
  /**
   * `postgres.maxConnections`: no number of apps or pools can make pgBouncer hold more
   * server connections than this, so it sizes the file-descriptor limit together
   * with maxClientConn (and adding an app does not change the container).
   */
  postgresMaxConnections: number;
  /**
   * Postgres TLS, when on: pgBouncer requires TLS toward Postgres and offers the same
   * certificate to its clients (client_tls_sslmode = require), so `sslmode=require`
   * URLs work against the pooler too.
   */
  tls?: {
    certificate: pulumi.Input<string>;
    privateKey: pulumi.Input<string>;
    /**
     * The stack CA (postgres.tls.mode stack-ca): pgBouncer verifies Postgres
     * (server_tls_sslmode = verify-full against it), and the three files travel in the
     * runtime carrier instead of uploads, so a renewed certificate reloads pgBouncer
     * instead of replacing it.
     */
    caCertificate?: pulumi.Input<string>;
  };
  /**
   * Direct superuser access for installing the auth lookup (the same endpoint and
   * credentials the postgresql provider uses; never the pooler). Required unless `authFile`.
   */
  admin?: {
    /** Host psql connects to (the bind address). */
    host: pulumi.Input<string>;
    /** Postgres' published port. */
    port: number;
    /** Default `postgres`. */
    user?: string;
    /** The superuser's password. */
    password: pulumi.Input<string>;
    /** `require` when Postgres has TLS on. */
    sslmode: "disable" | "require";
  };
  /**
   * Per app database (by database name): the resource after which it and its grants
   * exist (AppDatabase.ready). That database's lookup is installed after it, and
   * removed before it.
   */
  databasesReady?: Record<string, pulumi.Input<pulumi.Resource>>;
  /** Values whose change re-installs every lookup: the Postgres container id (a new cluster). */
  rerunOn?: pulumi.Input<string>[];
  /**
   * A stats-console user for the monitoring exporter (PGBOUNCER_STATS_USER, random
   * password, in the auth file; no Postgres role). Turning it on or off changes the
   * auth file, an upload: the container is replaced.
   */
  statsUser?: boolean;
  /**
   * The maintenance user's password (secret): POOLER_ADMIN_USER gets the admin console
   * over TCP, for PAUSE and RESUME around a Postgres restart (maintenance.ts). In the
   * auth file, an upload: adding it replaces the container once.
   */
  consoleAdminPassword?: pulumi.Input<string>;
  /** postgres.bootstrap is set: the auth role may exist already (restored) and is adopted (apps/adopt.ts). */
  adopt?: boolean;
  /** Set the auth role's password from state whenever these change (with `rerunOn`); the admin connection is `admin`. */
  passwordTriggers?: pulumi.Input<string>[];
  /**
   * postgres.external: no auth role and no auth_query lookup (installing its SECURITY
   * DEFINER function over pg_authid needs a superuser). pgBouncer checks every client
   * against an auth file of these users and passwords, delivered with the ini as a
   * runtime file (0400, secret), and logs in to the server with the same password.
   */
  authFile?: { users: { name: string; password: pulumi.Input<string> }[] };
  /** TLS toward the server (`server_tls_sslmode = require`) without offering it to clients: an existing server's own certificate. */
  upstreamTls?: boolean;
  /** Auth-file mode: what must exist before the auth file is delivered (the roles with these passwords). */
  authFileReady?: pulumi.Input<pulumi.Resource>[];
}

/** Name of the auth file in the runtime volume (auth-file mode); sorts before the ini, so the carrier renames it first. */
export const RUNTIME_AUTH_FILE = "auth-users.txt";

export class PgBouncer extends pulumi.ComponentResource {
  /** Host clients outside docker use: the bind address. */
  readonly host: pulumi.Output<string>;
  /** Published port (`pgbouncer.port`). */
  readonly port: number;
  /** Name on the stack network, for app containers on the same host. */
  readonly internalHost: string;
  /** Port on the stack network: fixed, whatever the published port. */
  readonly internalPort: number;
  /** Login role pgBouncer runs auth_query as. */
  readonly authRoleName: string;
  /** Its password: secret (absent in auth-file mode). */
  readonly authPassword?: pulumi.Output<string>;
  /** Absent in auth-file mode. */
  readonly authRole?: postgresql.Role;
  /** Per app database (by database name): installs the lookup there, and removes it on delete. */
  readonly authLookups: Record<string, command.local.Command>;
  /** Delivers the ini; replaced when it changes, while pgBouncer reloads. */
  readonly runtime: RuntimeFiles;
  readonly container: docker.Container;
  /** The rendered pgbouncer.ini (no secrets in it). */
  readonly ini: string;
  /** The stats user for the exporter, when `statsUser`; its password is secret. */
  readonly statsUser?: { name: string; password: pulumi.Output<string> };

  constructor(name: string, args: PgBouncerArgs, opts?: pulumi.ComponentResourceOptions) {
    // inputs deliberately not passed to super: they would be stored in state as the component's inputs
    super("homelab:postgres:PgBouncer", name, {}, opts);
    const { stack, config } = args;
    const child = { parent: this };
    const databases = [...new Set(args.apps.map((a) => a.database))].sort();
    this.authRoleName = PGBOUNCER_AUTH_ROLE;

    this.authLookups = {};
    // auth-file mode (postgres.external) has no auth role and no lookups: see `authFile`
    const a = args.admin;
    if (!args.authFile) {
      if (!a) throw new Error("PgBouncer: `admin` is required unless `authFile` is given");
      const pw = new random.RandomPassword(`${name}-auth-password`, { length: 40, special: false }, child);
      // setMocks and some engines do not mark provider secrets; mark it ourselves
      const authPassword = pulumi.secret(pw.result);
      this.authPassword = authPassword;

      // LOGIN and nothing else: what it may read comes only from the lookup function
      this.authRole = new postgresql.Role(
        `${name}-auth-role`,
        {
          name: this.authRoleName,
          login: true,
          password: authPassword,
          superuser: false,
          createDatabase: false,
          createRole: false,
          replication: false,
          bypassRowLevelSecurity: false,
          inherit: false,
        },
        { ...child, additionalSecretOutputs: ["password"], ...adoptOptions("role", this.authRoleName, args.adopt === true) },
      );
      if (args.passwordTriggers) {
        // a restored cluster's auth role holds the password of the backup's time (apps/adopt.ts)
        passwordSyncCommand(`${name}-auth-password-sync`, {
          roles: [{ name: this.authRoleName, password: authPassword }],
          admin: { host: a.host, port: a.port, password: a.password, sslmode: a.sslmode },
          triggers: args.passwordTriggers,
          dependsOn: [this.authRole],
        }, child);
      }

      // postgresql.Function cannot emit `SET search_path` (and reads functions back by
      // parsing pg_get_functiondef), and the provider has no raw-SQL resource. psql runs
      // the rendered scripts the integration tests prove; a non-zero exit fails `up`.
      // One Command per database, so adding or removing an app creates or deletes only
      // that database's. Each depends on the auth role and on its database, so the
      // engine deletes it (running `delete`) before either: the postgresql provider
      // deletes a role with REASSIGN OWNED, DROP OWNED and DROP ROLE in its own database
      // only (`postgres`; cyrilgdn/terraform-provider-postgresql resource_postgresql_role.go,
      // resourcePostgreSQLRoleDelete), and DROP ROLE fails while the role still holds
      // privileges in an app database.
      const environment = {
        PGHOST: a.host,
        PGPORT: String(a.port),
        PGUSER: a.user ?? "postgres",
        PGPASSWORD: pulumi.secret(a.password),
        PGDATABASE: "postgres",
        PGSSLMODE: a.sslmode,
        PGCONNECT_TIMEOUT: "30",
        PGAPPNAME: "homelab-postgres-pgbouncer-setup",
      };
      for (const db of databases) {
        const ready = args.databasesReady?.[db];
        this.authLookups[db] = new command.local.Command(
          `${name}-auth-${db}`,
          {
            // A changed script or environment is an Update that re-runs `create`
            // (idempotent); only `triggers` replaces (pulumi-command v0.4.x
            // provider/pkg/provider/provider.go, Diff).
            create: authPsqlCommand(renderAuthCreateScript(db, this.authRoleName)),
            // runs on destroy and when the app or pgBouncer goes, with the script and
            // environment stored by the last create or update
            delete: authPsqlCommand(renderAuthRemoveScript(db, this.authRoleName)),
            // A new Postgres container (rerunOn) re-runs `create` as an update, never a
            // replacement: the script is idempotent, and a replacement would run the old
            // `delete` first, which takes the lookup away from a cluster that still has it
            // (a new image on the same volume): pgBouncer would then refuse every login until
            // server_login_retry lets it try again (found by test/engine/minor-upgrade.test.ts).
            environment: { ...environment, HLPG_CLUSTER: pulumi.output(args.rerunOn ?? []).apply((ids) => ids.join(",")) },
          },
          {
            ...child,
            dependsOn: [this.authRole, ...(ready ? [ready] : [])],
            additionalSecretOutputs: ["environment"],
            // A replacement is create-before-delete by default: the old `delete` would then
            // remove the lookup the new `create` had just installed in the same database.
            deleteBeforeReplace: true,
          },
        );
      }
    }

    if (args.statsUser) {
      const statsPw = new random.RandomPassword(`${name}-stats-password`, { length: 40, special: false }, child);
      this.statsUser = { name: PGBOUNCER_STATS_USER, password: pulumi.secret(statsPw.result) };
    }
    const statsUser = this.statsUser;

    const confDir = PGBOUNCER_CONTAINER.confDir;
    const stackCa = args.tls?.caCertificate !== undefined;
    const rt = PGBOUNCER_CONTAINER.runtimeDir;
    const tlsFiles = !args.tls
      ? undefined
      : stackCa
        ? { certFile: `${rt}/${RUNTIME_TLS.cert}`, keyFile: `${rt}/${RUNTIME_TLS.key}` }
        : { certFile: `${confDir}/tls/server.crt`, keyFile: `${confDir}/tls/server.key` };
    const fileMode = args.authFile !== undefined;
    // the auth-file mode is postgres.external's, which the config keeps off the stack CA
    if (fileMode && stackCa) throw new Error("pgBouncer: the auth-file mode (postgres.external) has no stack CA");
    const iniInput: PgBouncerIniInput = {
      databases,
      server: {
        host: args.postgres.host,
        port: args.postgres.port,
        // stack CA: the certificate names `postgres`, the host pgBouncer connects to (tls/stack-ca.ts INTERNAL_NAMES)
        tls: args.tls
          ? (stackCa ? { sslmode: "verify-full", caFile: `${rt}/${RUNTIME_TLS.ca}` } : { sslmode: "require" })
          : args.upstreamTls ? { sslmode: "require" } : undefined,
      },
      // inside the container's own network namespace; the host side binds one address
      listen: { addr: "*", port: PGBOUNCER_CONTAINER.port, unixSocketDir: PGBOUNCER_CONTAINER.socketDir },
      pool: { mode: config.poolMode, defaultPoolSize: config.defaultPoolSize, maxClientConn: config.maxClientConn },
      pools: Object.fromEntries(args.apps.map((a) => [a.database, a.pool])),
      authFile: fileMode ? `${PGBOUNCER_CONTAINER.runtimeDir}/${RUNTIME_AUTH_FILE}` : `${confDir}/userlist.txt`,
      authRole: this.authRoleName,
      authLookup: !fileMode,
      statsUsers: statsUser ? [statsUser.name] : [],
      adminUsers: args.consoleAdminPassword !== undefined ? [POOLER_ADMIN_USER] : [],
      clientTls: tlsFiles,
      version: PGBOUNCER_VERSION,
    };
    this.ini = renderPgBouncerIni(iniInput);
    // published pgBouncer CVEs this image and ini are exposed to (docs/pooling.md, Security: pgBouncer release)
    const imageRef = pgbouncerImageRef(args.image.baseImage, args.image.platform);
    for (const w of pgbouncerAdvisoryWarnings(`pgbouncer ${PGBOUNCER_PACKAGE.version} (${imageRef})`, PGBOUNCER_VERSION, this.ini)) pulumi.log.warn(w, this);

    const image = buildImage(`${name}-image`, { ref: imageRef, context: PGBOUNCER_CONTEXT, args: pgbouncerBuildArgs(args.image.baseImage), platform: args.image.platform }, child);
    const user = `${PGBOUNCER_CONTAINER.uid}:${PGBOUNCER_CONTAINER.uid}`;
    // The carrier runs the pgBouncer image (Debian: sh, cp, mv, cmp) as pgBouncer's
    // user. It starts after every lookup exists, so the ini never routes to a
    // database pgBouncer cannot authenticate against.
    const files: Record<string, RuntimeFile> = runtimeFiles(this.ini, stackCa ? args.tls : undefined);
    if (args.authFile) {
      // Users come and go with the apps and a rotation changes a password: a runtime
      // file, not an upload, so the container stays and pgBouncer reloads. The ini
      // carries the file's digest, so it changes with it and the wrapper sends SIGHUP
      // (a SHA-256 of 40-character random passwords gives nothing away).
      const users = [...args.authFile.users, ...(statsUser ? [{ name: statsUser.name, password: statsUser.password }] : [])];
      const authText = pulumi.secret(
        pulumi.all(users.map((u) => pulumi.output(u.password))).apply((pws) => renderUsersAuthFile(users.map((u, i) => ({ user: u.name, password: pws[i] })))),
      );
      files[RUNTIME_AUTH_FILE] = { content: authText, mode: "0400" };
      files[RUNTIME_INI] = { content: pulumi.unsecret(authText.apply((t) => renderPgBouncerIni({ ...iniInput, authFileDigest: createHash("sha256").update(t).digest("hex") }))) };
    }
    this.runtime = new RuntimeFiles(
      `${name}-runtime`,
      { stack, purpose: "pgbouncer", image: image.name, user, files },
      { ...child, dependsOn: [...Object.values(this.authLookups), ...(args.authFileReady ?? [])] },
    );

    const owner = { owner: PGBOUNCER_CONTAINER.uid, group: PGBOUNCER_CONTAINER.uid };
    const wrapperFile = `${confDir}/hlpg-pgbouncer.sh`;
    const uploads: pulumi.Input<docker.types.input.ContainerUpload>[] = [
      { file: wrapperFile, content: renderPgBouncerWrapper(), permissions: "0755", ...owner },
    ];
    const authPassword = this.authPassword;
    if (authPassword) {
      uploads.push({
        file: `${confDir}/userlist.txt`,
        content: pulumi.secret(
          pulumi.all([authPassword, statsUser?.password ?? "", args.consoleAdminPassword ?? ""]).apply(([p, sp, ap]) =>
            renderAuthFile(this.authRoleName, p, [
              ...(statsUser ? [{ user: statsUser.name, password: sp }] : []),
              ...(args.consoleAdminPassword !== undefined ? [{ user: POOLER_ADMIN_USER, password: ap }] : []),
            ])),
        ),
        permissions: AUTH_FILE_PERMISSIONS,
        ...owner,
      });
    }
    if (args.tls && tlsFiles && !stackCa) {
      uploads.push(
        { file: tlsFiles.certFile, content: args.tls.certificate, permissions: "0644", ...owner },
        { file: tlsFiles.keyFile, content: pulumi.secret(args.tls.privateKey), permissions: "0600", ...owner },
      );
    }

    // every client and pooled server connection is a file descriptor; do not depend on the daemon's default
    const nofile = pgbouncerNofile(config.maxClientConn, args.postgresMaxConnections);
    this.container = new docker.Container(
      `${name}-container`,
      {
        name: `${stack}-pgbouncer`,
        image: image.name,
        // the wrapper runs pgbouncer and reloads it; the image's entrypoint would generate a config from env
        entrypoints: ["/bin/sh", wrapperFile],
        command: [`${PGBOUNCER_CONTAINER.runtimeDir}/${RUNTIME_INI}`],
        user,
        ports: [publishedPort(PGBOUNCER_CONTAINER.port, config.port, args.bindAddress)],
        networksAdvanced: [{ name: args.network, aliases: [PGBOUNCER_CONTAINER.hostname] }],
        uploads,
        volumes: [{ volumeName: this.runtime.volume.name, containerPath: PGBOUNCER_CONTAINER.runtimeDir, readOnly: true }],
        ulimits: [{ name: "nofile", soft: nofile, hard: nofile }],
        capabilities: { drops: ["ALL"] },
        ...hardenedContainerArgs({
          role: "pgbouncer",
          stack,
          memoryMb: PGBOUNCER_CONTAINER.memoryMb,
          healthcheck: ["CMD", ...pgbouncerHealthcheck(PGBOUNCER_CONTAINER.socketDir, PGBOUNCER_CONTAINER.port)],
          waitTimeoutSeconds: 120,
        }),
      },
      {
        ...child,
        additionalSecretOutputs: ["uploads"],
        // the published host port cannot be held by two containers at once
        deleteBeforeReplace: true,
        // starts with the ini in place: the carrier is healthy once its copies are
        dependsOn: [this.runtime.container],
      },
    );

    this.host = pulumi.output(args.bindAddress);
    this.port = config.port;
    this.internalHost = PGBOUNCER_CONTAINER.hostname;
    this.internalPort = PGBOUNCER_CONTAINER.port;
    this.registerOutputs({
      host: this.host,
      port: this.port,
      internalHost: this.internalHost,
      internalPort: this.internalPort,
      authPassword: this.authPassword,
    });
  }
}
