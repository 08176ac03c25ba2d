// The server certificate and key for Postgres in stack-ca mode, delivered through a
// RuntimeFiles carrier into a volume Postgres mounts read-only at the same paths a
// provided certificate is uploaded to. Uploads are ForceNew on a container
// (kreuzwerker/terraform-provider-docker resource_docker_container.go), so a renewed
// certificate as an upload would replace Postgres; through the carrier only the
// carrier is replaced, and tlsReloadCommand then runs pg_reload_conf(): PostgreSQL
// re-reads ssl_cert_file and ssl_key_file on SIGHUP (since 10; "ssl" settings are
// sighup context), new connections get the new certificate, open ones keep theirs.
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { type AdminConnection, superuserPsqlEnvironment } from "../apps/adopt";
import { RuntimeFiles } from "../runtime";
import { CONTAINER } from "../server/server";
import { POSTGRES_TLS_MODES, RELOAD_SQL } from "./names";

/** Where Postgres finds its TLS files (the same in both modes: postgresql.conf does not change with the mode). */
export const POSTGRES_TLS_DIR = `${CONTAINER.confDir}/tls`;
export const POSTGRES_TLS_FILES = { certFile: `${POSTGRES_TLS_DIR}/server.crt`, keyFile: `${POSTGRES_TLS_DIR}/server.key` } as const;

/**
 * The runtime files: the key 0600 and owned by Postgres' uid (the carrier's user),
 * as Postgres requires of a key it does not own through root.
 */
export function postgresTlsFiles(certificate: pulumi.Input<string>, privateKey: pulumi.Input<string>) {
  return {
    "server.crt": { content: certificate, mode: POSTGRES_TLS_MODES["server.crt"] },
    "server.key": { content: pulumi.secret(privateKey), mode: POSTGRES_TLS_MODES["server.key"] },
  };
}

export interface PostgresTlsArgs {
  stack: string;
  /** The image Postgres runs (built, or postgres.customImage): the carrier runs it too. */
  image: pulumi.Input<string>;
  certificate: pulumi.Input<string>;
  /** Secret. */
  privateKey: pulumi.Input<string>;
}

export class PostgresTls extends pulumi.ComponentResource {
  readonly files: RuntimeFiles;
  /** For PostgresServer's `tlsVolume`: mount the volume, start after the carrier. */
  readonly wiring: { volumes: docker.types.input.ContainerVolume[]; dependsOn: pulumi.Resource[] };

  constructor(name: string, args: PostgresTlsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:postgres:PostgresTls", name, {}, opts);
    const child = { parent: this };
    // the carrier needs sh, cp, cmp: Postgres' own image has them
    this.files = new RuntimeFiles(
      `${name}-runtime`,
      { stack: args.stack, purpose: "postgres-tls", image: args.image, user: `${CONTAINER.uid}:${CONTAINER.uid}`, files: postgresTlsFiles(args.certificate, args.privateKey) },
      child,
    );
    this.wiring = {
      volumes: [{ volumeName: this.files.volume.name, containerPath: POSTGRES_TLS_DIR, readOnly: true }],
      dependsOn: [this.files.container],
    };
    this.registerOutputs({ volume: this.files.volume.name });
  }
}

export interface TlsReloadArgs {
  /** The superuser login the program uses (bind address, port, password, sslmode). */
  admin: AdminConnection;
  /** The carrier whose replacement (a renewed certificate) triggers the reload. */
  carrier: docker.Container;
  /** The Postgres container: reloads run once it is up. */
  dependsOn: pulumi.Resource[];
}

export { RELOAD_SQL } from "./names";

/**
 * Runs pg_reload_conf() whenever the TLS carrier is replaced (its id is the trigger;
 * only `triggers` replaces a Command, pulumi-command provider.go Diff, and a
 * replacement runs `create` again).
 */
export function tlsReloadCommand(name: string, args: TlsReloadArgs, opts: pulumi.CustomResourceOptions): command.local.Command {
  return new command.local.Command(
    name,
    {
      create: `psql -X -q -v ON_ERROR_STOP=1 -Atc "${RELOAD_SQL}"`,
      environment: superuserPsqlEnvironment(args.admin, "homelab-postgres-tls-reload"),
      triggers: [args.carrier.id],
    },
    { ...opts, dependsOn: [args.carrier, ...args.dependsOn], additionalSecretOutputs: ["environment"] },
  );
}
