// PostgresSettings: runs the settings command (settings-command.ts) with psql from
// where `pulumi up` runs, like the pgBouncer auth setup: the postgresql provider
// has no resource for ALTER SYSTEM. It re-runs when the live settings change and
// when the container is new; it never replaces the container.
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { type CatalogMajor, type ConfValue, PG_CATALOGS, specOf } from "../config";
import { renderSettingsScript, renderSettingsSql } from "./settings-command";

/** Seconds the command waits for PostgreSQL to come back after a restart (crash recovery included). */
export const SETTINGS_RESTART_TIMEOUT_SECONDS = 300;

export interface PostgresSettingsArgs {
  /** The live settings (postgresql-conf.ts liveSettings). */
  settings: Record<string, ConfValue>;
  /** Major of the server, for the catalog that says which parameters are lists. */
  majorVersion: number;
  /** Where psql reaches Postgres from this machine: the bind address and published port. */
  host: pulumi.Input<string>;
  port: number;
  /** Superuser password (secret). */
  password: pulumi.Input<string>;
  sslmode: "disable" | "require";
  /** The Postgres container: the command runs once it is healthy, and again for a new one. */
  container: docker.Container;
}

export class PostgresSettings extends pulumi.ComponentResource {
  /** The command; resources that use SQL depend on it (a restart must not interrupt them). */
  readonly applied: command.local.Command;
  /** The SQL it runs (for inspection and tests). */
  readonly sql: string;

  constructor(name: string, args: PostgresSettingsArgs, opts?: pulumi.ComponentResourceOptions) {
    // inputs deliberately not passed to super: they would be stored in state as the component's inputs
    super("homelab:postgres:PostgresSettings", name, {}, opts);
    const catalog = PG_CATALOGS[args.majorVersion as CatalogMajor];
    if (!catalog) throw new Error(`no settings catalog for PostgreSQL ${args.majorVersion}`);
    this.sql = renderSettingsSql({ settings: args.settings, isList: (n) => specOf(catalog, n)?.list === true });
    this.applied = new command.local.Command(
      `${name}-command`,
      {
        create: renderSettingsScript({ restartTimeoutSeconds: SETTINGS_RESTART_TIMEOUT_SECONDS }),
        // a changed `stdin` is an update that runs `create` again (pulumi-command
        // provider/pkg/provider/provider.go: only `triggers` replaces)
        stdin: this.sql,
        environment: {
          PGHOST: args.host,
          PGPORT: String(args.port),
          PGUSER: "postgres",
          PGPASSWORD: pulumi.secret(args.password),
          PGDATABASE: "postgres",
          PGSSLMODE: args.sslmode,
          PGCONNECT_TIMEOUT: "30",
          PGAPPNAME: "homelab-postgres-settings",
        },
        // a new container (a new cluster, or a retained volume on a new container) is set up again
        triggers: [args.container.id],
      },
      { parent: this, dependsOn: [args.container], additionalSecretOutputs: ["environment"] },
    );
    this.registerOutputs({ applied: this.applied.id });
  }
}
