// Reads which extensions a real server lets a non-superuser with CREATE on the
// database create: `trusted` in pg_available_extension_versions (PostgreSQL 13+),
// for the version CREATE EXTENSION installs (the default one). Used by `npm run
// catalog` (which writes components/config/trusted-extensions.json) and by the
// external-mode integration test, which compares the committed list with the servers.
import type { PgInstance } from "../harness";

/** Names of the extensions whose default version is trusted on this server, sorted. */
export async function dumpTrustedExtensions(pg: PgInstance): Promise<string[]> {
  const c = await pg.connect();
  try {
    const r = await c.query<{ name: string }>(
      `SELECT v.name FROM pg_catalog.pg_available_extension_versions v
       JOIN pg_catalog.pg_available_extensions e ON e.name = v.name AND e.default_version = v.version
       WHERE v.trusted ORDER BY v.name`,
    );
    return r.rows.map((x) => x.name);
  } finally {
    await c.end();
  }
}
