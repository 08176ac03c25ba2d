// PgAdmin: pinned dpage/pgadmin4 on the stack network, published on the bind
// address only, with the Postgres server provisioned (servers.json + pgpass) so it
// is there on login and re-applied on every start. Text comes from render.ts beside it.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { PgAdminConfig } from "../config";
import { hardenedContainerArgs, publishedPort } from "../lib/container";
import { labels } from "../lib/labels";
import {
  PGADMIN_DATA_DIR,
  PGADMIN_TLS_FILES,
  PGADMIN_UID,
  pgadminHealthcheck,
  renderPgAdminEntrypoint,
  renderPgpass,
  renderServersJson,
} from "./render";

/** Paths inside the pgAdmin container. */
export const PGADMIN_CONTAINER = {
  /** Memory limit in MiB. */
  memoryMb: 512,
  /** Unprivileged port: no-new-privileges keeps the image's cap_net_bind_service from working for :80. */
  listenPort: 5050,
  provisionDir: "/pgadmin-provision",
} as const;

export interface PgAdminArgs {
  /** Stack name: the container is `<stack>-pgadmin`, its data volume `<stack>-pgadmin`. */
  stack: string;
  /** Validated pgadmin section of the stack config. Construct the component only when enabled. */
  config: PgAdminConfig;
  /** The stack's docker network (PostgresServer.network.name). */
  network: pulumi.Input<string>;
  /** The only host address the port is published on (tailnet IP or loopback). */
  bindAddress: pulumi.Input<string>;
  /** Postgres as seen from the docker network (PostgresServer.internal). */
  postgres: { host: string; port: number };
  /**
   * The role pgAdmin logs in as: the admin role, never the superuser (which stays for
   * the program and break-glass use). The password goes into a pgpass file inside the
   * container, never into env or servers.json.
   */
  login: { user: string; password: pulumi.Input<string> };
  /** What the login needs in Postgres (its role, its CONNECT grant): the container starts after them. */
  loginReady?: pulumi.Resource[];
  /** Postgres TLS on: the connection uses sslmode=require (pg_hba has hostssl for the network). */
  tls: boolean;
  /**
   * Serve the UI over HTTPS with this pair (the stack CA's server certificate): uploaded
   * to /certs (the image's PGADMIN_ENABLE_TLS paths), the key 0600 for pgAdmin's uid.
   * A renewed certificate is a changed upload: the container is replaced (its data volume stays).
   */
  https?: { certificate: pulumi.Input<string>; privateKey: pulumi.Input<string> };
}

export class PgAdmin extends pulumi.ComponentResource {
  /** http(s)://<bind address>:<port> */
  readonly url: pulumi.Output<string>;
  readonly email: string;
  /** Login password: secret. Used on the first start of a fresh data volume only (pgAdmin keeps it in its DB). */
  readonly password: pulumi.Output<string>;
  readonly dataVolume: docker.Volume;
  readonly container: docker.Container;
  /** The rendered servers.json (no secrets in it). */
  readonly serversJson: string;

  constructor(name: string, args: PgAdminArgs, opts?: pulumi.ComponentResourceOptions) {
    // inputs deliberately not passed to super: they would be stored in state as the component's inputs
    super("homelab:postgres:PgAdmin", name, {}, opts);
    const { stack, config } = args;
    const child = { parent: this };
    const dir = PGADMIN_CONTAINER.provisionDir;
    const pgHost = args.postgres.host;
    const pgPort = args.postgres.port;
    const user = args.login.user;
    this.email = config.email;

    const pw = new random.RandomPassword(`${name}-password`, { length: 32, special: false }, child);
    // setMocks and some engines do not mark provider secrets; mark it ourselves
    this.password = pulumi.secret(pw.result);

    // retainOnDelete: removing pgAdmin (or the stack) keeps saved queries and preferences
    this.dataVolume = new docker.Volume(
      `${name}-data`,
      { name: `${stack}-pgadmin`, labels: labels(stack) },
      { ...child, retainOnDelete: true },
    );

    this.serversJson = renderServersJson([
      {
        name: `homelab-postgres (${stack})`,
        group: "homelab-postgres",
        host: pgHost,
        port: pgPort,
        maintenanceDb: "postgres",
        username: user,
        sslmode: args.tls ? "require" : "prefer",
      },
    ]);
    const pgpass = pulumi.secret(
      pulumi.output(args.login.password).apply((p) => renderPgpass([{ host: pgHost, port: pgPort, database: "*", user, password: p }])),
    );
    const mine = { owner: PGADMIN_UID, group: PGADMIN_UID };
    const uploads: pulumi.Input<docker.types.input.ContainerUpload>[] = [
      {
        file: `${dir}/entrypoint.sh`,
        content: renderPgAdminEntrypoint({ email: config.email, pgpassSource: `${dir}/pgpass` }),
        permissions: "0555",
        ...mine,
      },
      { file: `${dir}/servers.json`, content: this.serversJson, permissions: "0444", ...mine },
      { file: `${dir}/pgpass`, content: pgpass, permissions: "0400", ...mine },
      { file: `${dir}/password`, content: this.password, permissions: "0400", ...mine },
    ];
    if (args.https) {
      uploads.push(
        { file: PGADMIN_TLS_FILES.certFile, content: args.https.certificate, permissions: "0444", ...mine },
        { file: PGADMIN_TLS_FILES.keyFile, content: pulumi.secret(args.https.privateKey), permissions: "0600", ...mine },
      );
    }

    const image = new docker.RemoteImage(`${name}-image`, { name: config.image, keepLocally: true }, child);
    this.container = new docker.Container(
      `${name}-container`,
      {
        name: `${stack}-pgadmin`,
        image: image.imageId,
        entrypoints: ["/bin/sh", `${dir}/entrypoint.sh`],
        envs: [
          `PGADMIN_DEFAULT_EMAIL=${config.email}`,
          // a file, not the value: env shows in `docker inspect`
          `PGADMIN_DEFAULT_PASSWORD_FILE=${dir}/password`,
          `PGADMIN_SERVER_JSON_FILE=${dir}/servers.json`,
          // pgAdmin >= 9.2: re-import servers.json with --replace on every start, not only the first
          "PGADMIN_REPLACE_SERVERS_ON_STARTUP=True",
          `PGADMIN_LISTEN_PORT=${PGADMIN_CONTAINER.listenPort}`,
          "PGADMIN_LISTEN_ADDRESS=0.0.0.0",
          // postfix is started through sudo, which no-new-privileges forbids; nothing here sends mail
          "PGADMIN_DISABLE_POSTFIX=True",
          "PGADMIN_CONFIG_UPGRADE_CHECK_ENABLED=False",
          ...(args.https ? ["PGADMIN_ENABLE_TLS=True"] : []),
        ],
        ports: [publishedPort(PGADMIN_CONTAINER.listenPort, config.port, args.bindAddress)],
        networksAdvanced: [{ name: args.network }],
        volumes: [{ volumeName: this.dataVolume.name, containerPath: PGADMIN_DATA_DIR }],
        uploads,
        // no cap drop here: the image's python carries a file capability (+ep
        // cap_net_bind_service), and exec fails with EPERM when the bounding set
        // lacks it. Running as uid 5050 under no-new-privileges grants it nothing anyway.
        ...hardenedContainerArgs({
          role: "pgadmin",
          stack,
          memoryMb: PGADMIN_CONTAINER.memoryMb,
          healthcheck: ["CMD", ...pgadminHealthcheck(PGADMIN_CONTAINER.listenPort, args.https !== undefined)],
          // the first start creates the config DB and imports servers
          waitTimeoutSeconds: 300,
        }),
      },
      {
        ...child,
        additionalSecretOutputs: ["uploads"],
        // the published host port cannot be held by two containers at once
        deleteBeforeReplace: true,
        dependsOn: args.loginReady ?? [],
      },
    );

    this.url = pulumi.interpolate`${args.https ? "https" : "http"}://${args.bindAddress}:${config.port}`;
    this.registerOutputs({ url: this.url, email: this.email, password: this.password });
  }
}
