// Per-app pooling: the `apps[].pool` keys and the rules that hold every app's pool
// against the server's connection budget and the app's own connection limits. Part
// of schema.ts, apart only to keep each file readable.
import { DIRECT_HEADROOM, SUPERUSER_RESERVED } from "./constants";
import { int, optOneOf, section } from "./fields";
import { Report, isNum, isObj, isStr } from "./rules";

export const POOL_MODES = ["session", "transaction", "statement"] as const;

/** `apps[].pool`: both keys default to the pgbouncer section's. */
export const appPool = section({
  mode: optOneOf(POOL_MODES, {
    shown: "`pgbouncer.poolMode`",
    doc: "this app's `pool_mode`: `session` for apps that need session state (prepared statements by name, `SET`, advisory locks, `LISTEN`, temp tables)",
  }),
  size: int({
    min: 1, max: 1000, shown: "`pgbouncer.defaultPoolSize`",
    doc: "server connections pgBouncer may open for this app's database, all its login roles together (`pool_size` and `max_db_connections`)",
  }),
});

/** The pool size an app gets: its own, else the pgbouncer section's (undefined while either is invalid). */
function poolSizeOf(app: Record<string, unknown>, pb: Record<string, unknown>): { size?: number; own: boolean } {
  const own = isObj(app.pool) && app.pool.size !== undefined;
  const size = own ? (app.pool as Record<string, unknown>).size : pb.defaultPoolSize;
  return { size: isNum(size) ? size : undefined, own };
}

/**
 * With pgBouncer on: no app's `connectionLimit` or `databaseConnectionLimit` below what
 * the pooler may open for it, and every pool plus the auth lookup within what Postgres
 * leaves after superuser-reserved slots and the direct headroom.
 *
 * What the pooler may open per app database is `max_db_connections` = the pool size,
 * whatever the number of login roles (rotation gives each app role two): pgBouncer
 * refuses to launch a server connection once the database's count reaches it, and the
 * auth_query connection, which 1.18 opens in the client's database (no auth_dbname), is
 * one of them (pgbouncer/pgbouncer src/objects.c launch_new_connection,
 * database_max_connections; src/client.c start_auth_query, get_pool(auth_db, ...)).
 * The budget still counts one auth connection on top, as it always did.
 */
export function poolRules(list: unknown[], pg: Record<string, unknown>, pb: Record<string, unknown>, report: Report): void {
  if (pb.enabled !== true) return;
  let total = 0;
  let inherited = false;
  let largest: { i: number; size: number } | undefined;
  let complete = true;
  list.forEach((a, i) => {
    if (!isObj(a)) return;
    const { size, own } = poolSizeOf(a, pb);
    if (size === undefined) {
      complete = false;
      return;
    }
    total += size;
    if (!own) inherited = true;
    else if (!largest || size > largest.size) largest = { i, size };
    const from = own ? `pool.size ${size}` : `pgbouncer.defaultPoolSize ${size}`;
    const lower = own ? "lower pool.size" : "lower pgbouncer.defaultPoolSize or set this app's pool.size";
    for (const key of ["connectionLimit", "databaseConnectionLimit"] as const) {
      const limit = a[key];
      if (isNum(limit) && limit < size) {
        const who = key === "connectionLimit" ? "as one login role of this app" : "into this app's database";
        report(["apps", i, key], `${limit} is below ${from}: the pooler may open that many server connections ${who}; raise ${key} or ${lower}`);
      }
    }
  });
  if (!complete || !isNum(pg.maxConnections)) return;
  const budget = pg.maxConnections - SUPERUSER_RESERVED - DIRECT_HEADROOM;
  const needed = total + 1;
  if (needed <= budget) return;
  const where: PropertyKey[] = inherited || !largest ? ["pgbouncer", "defaultPoolSize"] : ["apps", largest.i, "pool", "size"];
  const pools = largest
    ? `${list.length} app pool(s) (${list.filter(isObj).map((a) => `${isStr(a.name) ? a.name : "?"} ${poolSizeOf(a, pb).size}`).join(", ")})`
    : `${list.length} app pool(s) × ${String(pb.defaultPoolSize)}`;
  report(
    where,
    `${pools} + 1 auth connection = ${needed} server connections, ` +
      `but postgres.maxConnections ${pg.maxConnections} leaves only ${budget} ` +
      `(minus ${SUPERUSER_RESERVED} superuser-reserved and ${DIRECT_HEADROOM} direct). Lower the pool sizes or raise postgres.maxConnections`,
  );
}
