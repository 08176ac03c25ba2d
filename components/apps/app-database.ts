// AppDatabase: one app's password(s), roles, database, extensions and grants,
// turned from the access model (access.ts) into postgresql resources.
import * as postgresql from "@pulumi/postgresql";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { AppConfig } from "../config";
import { AppAccess, renderConnectionUrl, tlsParams } from "./access";
import { AdminConnection, adoptOptions, passwordSyncCommand } from "./adopt";

/** Where clients reach the server (direct) and, optionally, the pooler. */
export interface Endpoint {
  host: pulumi.Input<string>;
  port: number;
}

export interface AppDatabaseArgs {
  /** The app as validated config. */
  app: AppConfig;
  /** This app's slice of the access model. */
  access: AppAccess;
  /** Direct Postgres endpoint (migrations, long jobs). */
  direct: Endpoint;
  /** pgBouncer endpoint, when enabled. */
  pooled?: Endpoint;
  /** Append `sslmode=require` to URLs (TLS on). */
  requireTls: boolean;
  /** The stack CA is on: `sslmode=verify-full&sslrootcert=<caFile>` instead. */
  verifyTls?: { caFile: string };
  /** postgres.bootstrap is set: the roles and the database may exist already (restored) and are adopted (adopt.ts). */
  adopt?: boolean;
  /**
   * Where the password command connects and what re-runs it (the container's id, the
   * bootstrap's identity). Absent: no password command (the provider's own Create/Update only).
   */
  passwords?: { admin: AdminConnection; triggers: pulumi.Input<string>[] };
}

export interface Credentials {
  database: string;
  user: string;
  password: pulumi.Output<string>;
  url: pulumi.Output<string>;
  pooledUrl?: pulumi.Output<string>;
}

export class AppDatabase extends pulumi.ComponentResource {
  readonly database: postgresql.Database;
  readonly owner: Credentials;
  readonly readonlyUsers: Record<string, Credentials> = {};
  /** Read-write (DML) users, by the name given in config. */
  readonly readwriteUsers: Record<string, Credentials> = {};
  /** The owner's Role: the admin role's membership in it waits for it. */
  readonly ownerRole: postgresql.Role;
  /** Sets the roles' passwords from state (absent without `passwords`). */
  readonly passwordSync?: pulumi.Resource;
  /** The last resource of this database's serialized chain; the pooler hangs its objects after it. */
  readonly ready: pulumi.Resource;

  constructor(name: string, args: AppDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:postgres:AppDatabase", name, {}, opts);
    const { app, access } = args;
    const child = { parent: this };

    const roles = new Map<string, postgresql.Role>();
    const credentials = new Map<string, Credentials>();
    for (const spec of access.roles) {
      const suffix = spec.kind === "owner" ? "owner" : spec.user;
      // keepers: changing `rotation` in config replaces this password, and only this one
      const pw = new random.RandomPassword(`${name}-${suffix}-password`, { length: 40, special: false, keepers: { rotation: app.rotation } }, child);
      const password = pulumi.secret(pw.result);
      // The owner owns the database and every table in it: the provider could not drop
      // it without dropping or reassigning the app's data, so it is retained with the
      // database. Extra users own nothing; their grants go first, then they are dropped.
      const role = new postgresql.Role(
        `${name}-${suffix}`,
        { name: spec.name, ...spec.attributes, connectionLimit: spec.connectionLimit, password },
        { ...child, additionalSecretOutputs: ["password"], retainOnDelete: spec.kind === "owner", ...adoptOptions("role", spec.name, args.adopt === true) },
      );
      roles.set(spec.name, role);
      const url = (e: Endpoint) =>
        pulumi.secret(
          pulumi.all([e.host, password]).apply(([host, pwd]) =>
            renderConnectionUrl({ user: spec.name, password: pwd, host, port: e.port, database: access.database.name, ...tlsParams(args) }),
          ),
        );
      credentials.set(spec.name, {
        database: access.database.name,
        user: spec.name,
        password,
        url: url(args.direct),
        pooledUrl: args.pooled ? url(args.pooled) : undefined,
      });
    }

    // retainOnDelete: removing an app from config forgets the database, never drops its data
    this.database = new postgresql.Database(
      `${name}-database`,
      {
        name: access.database.name,
        owner: access.database.owner,
        template: access.database.template,
        encoding: access.database.encoding,
        connectionLimit: access.database.connectionLimit,
      },
      { ...child, dependsOn: [...roles.values()], retainOnDelete: true, ...adoptOptions("database", access.database.name, args.adopt === true) },
    );

    // every role's password as state has it, on a new cluster and after a restore (adopt.ts)
    if (args.passwords) {
      this.passwordSync = passwordSyncCommand(`${name}-passwords`, {
        roles: access.roles.map((r) => ({ name: r.name, password: credentials.get(r.name)!.password })),
        admin: args.passwords.admin,
        triggers: args.passwords.triggers,
        dependsOn: [...roles.values()],
      }, child);
    }

    // One chain per database: parallel GRANTs on the same catalog row fail with
    // "tuple concurrently updated", so each statement waits for the previous one.
    // What stays with a retained database stays when the app is removed: dropping an
    // extension there would fail on (or silently break) the data that uses it, and
    // un-revoking PUBLIC would open the database to every login.
    let last: pulumi.Resource = this.database;
    const after = (extra: pulumi.Resource[] = [], retainOnDelete = false) => ({ ...child, dependsOn: [last, ...extra], retainOnDelete });
    for (const ext of access.extensions) {
      last = new postgresql.Extension(`${name}-ext-${ext.name}`, { name: ext.name, database: ext.database }, after([], true));
    }
    // owned by the app's owner, kept with the database: its tables are the app's data
    for (const sc of access.schemas) {
      last = new postgresql.Schema(`${name}-schema-${sc.name}`, { name: sc.name, database: sc.database, owner: sc.owner }, after([], true));
    }
    // names in public keep the form they always had (state); other schemas add theirs
    const inSchema = (schema?: string) => (schema === undefined || schema === "public" ? "" : `-${schema}`);
    for (const g of access.grants) {
      const grantee = roles.get(g.role);
      last = new postgresql.Grant(
        `${name}-${g.role}-${g.objectType}${g.objectType === "database" ? "" : inSchema(g.schema)}`,
        { database: g.database, role: g.role, objectType: g.objectType, schema: g.schema, privileges: g.privileges },
        after(grantee ? [grantee] : [], g.role === "public"),
      );
    }
    for (const d of access.defaultPrivileges) {
      last = new postgresql.DefaultPrivileges(
        `${name}-${d.role}-default-${d.objectType}${inSchema(d.schema)}`,
        { database: d.database, owner: d.owner, role: d.role, schema: d.schema, objectType: d.objectType, privileges: d.privileges },
        after(),
      );
    }
    this.ready = last;

    const ownerName = access.roles.find((r) => r.kind === "owner")?.name;
    if (!ownerName) throw new Error(`access model for ${app.name} has no owner role`);
    this.owner = credentials.get(ownerName) as Credentials;
    this.ownerRole = roles.get(ownerName) as postgresql.Role;
    for (const spec of access.roles) {
      if (spec.user && spec.kind === "readonly") this.readonlyUsers[spec.user] = credentials.get(spec.name) as Credentials;
      if (spec.user && spec.kind === "readwrite") this.readwriteUsers[spec.user] = credentials.get(spec.name) as Credentials;
    }

    this.registerOutputs({ database: this.database.name, user: this.owner.user, url: this.owner.url });
  }
}
