// For app stacks: read one app's connection details from this platform's stack
// outputs. Every value that carries a password comes back as a secret Output.
//
//   const pg = new pulumi.StackReference("organization/homelab-postgres/prod");
//   const db = appDatabase(pg, "langfuse");   // db.url, db.pooledUrl: secret
import * as pulumi from "@pulumi/pulumi";
import type { DatabaseEntry } from "./components/outputs";

export type { DatabaseEntry };

export interface AppConnection {
  database: pulumi.Output<string>;
  user: pulumi.Output<string>;
  /** Secret. */
  password: pulumi.Output<string>;
  /** Secret. Direct to Postgres: migrations, long transactions, LISTEN/NOTIFY. */
  url: pulumi.Output<string>;
  /** Secret. Through pgBouncer when the platform runs it, else the direct URL. */
  pooledUrl: pulumi.Output<string>;
  /**
   * PEM of the platform's CA when it runs postgres.tls.mode stack-ca (not secret), else
   * undefined. Its URLs say `sslmode=verify-full&sslrootcert=<caFile>`: put this there.
   */
  caCertificate: pulumi.Output<string | undefined>;
  /** Where the URLs expect the CA (their `sslrootcert`), when they verify. */
  caFile: pulumi.Output<string | undefined>;
  /** Platform host (tailnet IP) and docker network, for containers on the same host. */
  host: pulumi.Output<string>;
  network: pulumi.Output<string>;
}

/** Pure: pick an app's entry, or explain which apps exist. */
export function pickApp(databases: Record<string, DatabaseEntry> | undefined, app: string, stack: string): DatabaseEntry {
  const entry = databases?.[app];
  if (!entry) {
    const known = Object.keys(databases ?? {}).sort().join(", ") || "none";
    throw new Error(`app ${JSON.stringify(app)} is not in the 'databases' output of ${stack} (apps: ${known})`);
  }
  return entry;
}

/** Pure: the `sslrootcert` a URL names (verify-full URLs of a stack-CA platform), if any. */
export function sslRootCertOf(url: string): string | undefined {
  const q = url.indexOf("?");
  if (q < 0) return undefined;
  const v = new URLSearchParams(url.slice(q + 1)).get("sslrootcert");
  return v ?? undefined;
}

/** Pure: the URL with its CA file moved to `caFile` (an app that keeps the CA elsewhere). */
export function withCaFile(url: string, caFile: string): string {
  if (sslRootCertOf(url) === undefined) return url;
  return url.replace(/([?&])sslrootcert=[^&]*/, `$1sslrootcert=${encodeURI(caFile)}`);
}

export function appDatabase(platform: pulumi.StackReference, app: string): AppConnection {
  const entry = pulumi
    .all([platform.requireOutput("databases"), platform.name])
    .apply(([dbs, stack]) => pickApp(dbs as Record<string, DatabaseEntry>, app, stack));
  return {
    database: entry.apply((e) => e.database),
    user: entry.apply((e) => e.user),
    password: pulumi.secret(entry.apply((e) => e.password)),
    url: pulumi.secret(entry.apply((e) => e.url)),
    pooledUrl: pulumi.secret(entry.apply((e) => e.pooledUrl ?? e.url)),
    // getOutput: a platform from before the stack CA has no such output
    caCertificate: platform.getOutput("caCertificate") as pulumi.Output<string | undefined>,
    caFile: entry.apply((e) => sslRootCertOf(e.url)),
    host: platform.requireOutput("host") as pulumi.Output<string>,
    network: platform.requireOutput("network") as pulumi.Output<string>,
  };
}

/** Pure: a read-only user's URL for reads: on the standby when the platform runs one, else on the primary. */
export function pickReadonlyUrl(entry: DatabaseEntry, user: string): string {
  const c = entry.readonlyUsers[user];
  if (!c) {
    throw new Error(`${JSON.stringify(user)} is not a read-only user of ${entry.database} (read-only users: ${Object.keys(entry.readonlyUsers).sort().join(", ") || "none"})`);
  }
  return c.standbyUrl ?? c.url;
}

/** Secret: the URL an app's read-only user reads through (the hot standby when there is one). */
export function readonlyUrl(platform: pulumi.StackReference, app: string, user: string): pulumi.Output<string> {
  return pulumi.secret(
    pulumi.all([platform.requireOutput("databases"), platform.name]).apply(([dbs, stack]) =>
      pickReadonlyUrl(pickApp(dbs as Record<string, DatabaseEntry>, app, stack), user)),
  );
}
