// AppDatabase: one app's password(s), roles, database, extensions and grants,
// turned from the access model (access.ts) into postgresql resources.
import * as postgresql from "@pulumi/postgresql";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { AppConfig } from "../config";
import { AppAccess, renderConnectionUrl, tlsParams } from "./access";
import { AdminConnection, adoptOptions, passwordSyncCommand } from "./adopt";
import { ExternalLogin, ownerMembershipCommand } from "./external-admin";

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
  /** The streaming standby (standby.enabled): read-only users get a `standbyUrl` there. */
  standby?: Endpoint;
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
  /**
   * postgres.external: the provider's admin is not a superuser; it becomes a member of
   * the owner role (external-admin.ts) after the roles and before the database.
   */
  externalAdmin?: { login: ExternalLogin; majorVersion: number };
}

export interface Credentials {
  database: string;
  user: string;
  password: pulumi.Output<string>;
  url: pulumi.Output<string>;
  pooledUrl?: pulumi.Output<string>;
  /** Read-only users with a standby: the same login on the hot standby (reads only, may lag). */
  standbyUrl?: pulumi.Output<string>;
}

export class AppDatabase extends pulumi.ComponentResource {
  readonly database: postgresql.Database;
  /**
   * Every login of every app role, both of a rotation's pair: the database and the
   * password command wait for them, and an auth file lists them all.
   */
  readonly logins: { name: string; role: postgresql.Role; password: pulumi.Output<string> }[] = [];
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
      const secretOpts = { ...child, additionalSecretOutputs: ["password"], retainOnDelete: spec.kind === "owner" };
      let active: { name: string; password: pulumi.Output<string> } | undefined;
      let roleA: postgresql.Role | undefined;
      for (const login of spec.logins) {
        const tag = login.slot === "a" ? suffix : `${suffix}-b`;
        // keepers: the rotation that (last) activated this login; a new value is a new
        // password. The login that is not active keeps the keepers state has (ignoreChanges):
        // its password, the previous credentials, works until the next rotation (rotation.ts).
        const pw = new random.RandomPassword(
          `${name}-${tag}-password`,
          { length: 40, special: false, keepers: login.keepers },
          { ...child, ...(login.frozen ? { ignoreChanges: ["keepers"] } : {}) },
        );
        const password = pulumi.secret(pw.result);
        // A password change is an in-place `ALTER ROLE ... PASSWORD` (Update → setRolePassword);
        // no Role argument is ForceNew (cyrilgdn/terraform-provider-postgresql
        // postgresql/resource_postgresql_role.go). "a" is the app role as it always was: same
        // resource name and inputs. The owner's logins are retained like the database: its
        // data is theirs. Extra users own nothing; their grants go first, then they are dropped.
        const role: postgresql.Role = login.slot === "a"
          ? new postgresql.Role(
            `${name}-${suffix}`,
            { name: spec.name, ...spec.attributes, connectionLimit: spec.connectionLimit, password },
            { ...secretOpts, ...adoptOptions("role", spec.name, args.adopt === true) },
          )
          // member of the app role, switched to it at login: objects it creates belong to the
          // role, grants to the role are its own (provider: GRANT, ALTER ROLE ... SET ROLE TO)
          : new postgresql.Role(
            `${name}-${tag}`,
            { name: login.name, ...spec.attributes, connectionLimit: spec.connectionLimit, password, roles: [spec.name], assumeRole: spec.name },
            { ...secretOpts, dependsOn: roleA ? [roleA] : [], ...adoptOptions("role", login.name, args.adopt === true) },
          );
        if (login.slot === "a") {
          roleA = role;
          roles.set(spec.name, role);
        }
        this.logins.push({ name: login.name, role, password });
        if (login.active) active = { name: login.name, password };
      }
      if (!active) throw new Error(`role ${spec.name} has no active login`);
      const { name: user, password } = active;
      const url = (e: Endpoint) =>
        pulumi.secret(
          pulumi.all([e.host, password]).apply(([host, pwd]) =>
            renderConnectionUrl({ user, password: pwd, host, port: e.port, database: access.database.name, ...tlsParams(args) }),
          ),
        );
      credentials.set(spec.name, {
        database: access.database.name,
        user,
        password,
        url: url(args.direct),
        pooledUrl: args.pooled ? url(args.pooled) : undefined,
        standbyUrl: args.standby && spec.kind === "readonly" ? url(args.standby) : undefined,
      });
    }

    const ownerSpec = access.roles.find((r) => r.kind === "owner");
    const membership = args.externalAdmin && ownerSpec
      ? [ownerMembershipCommand(`${name}-admin-membership`, {
        login: args.externalAdmin.login, owner: ownerSpec.name, majorVersion: args.externalAdmin.majorVersion, dependsOn: [roles.get(ownerSpec.name) as postgresql.Role],
      }, child)]
      : [];
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
      { ...child, dependsOn: [...this.logins.map((l) => l.role), ...membership], retainOnDelete: true, ...adoptOptions("database", access.database.name, args.adopt === true) },
    );

    // every role's password as state has it, on a new cluster and after a restore (adopt.ts)
    if (args.passwords) {
      this.passwordSync = passwordSyncCommand(`${name}-passwords`, {
        roles: this.logins.map((l) => ({ name: l.name, password: l.password })),
        admin: args.passwords.admin,
        triggers: args.passwords.triggers,
        dependsOn: this.logins.map((l) => l.role),
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
