// Every ranged integer key accepts exactly its minimum and maximum and refuses
// one past either end. The keys and their ranges are read from the schema, so a
// new ranged key is covered without touching this file; the expected ranges are
// also written out below, so a bound that moves in the schema fails here too.
import type { z } from "zod";
import { ConfigError, parseConfig, RawConfig, SECTIONS } from "../../../components/config";
import { objectKeys, unwrap } from "../../../components/config/problems";

interface Ranged {
  /** `postgres.port`, `apps[].connectionLimit` */
  key: string;
  min: number;
  max: number;
}

type Def = { type: string; shape?: Record<string, z.ZodType>; element?: z.ZodType };
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** Walks objects and lists of objects down to number leaves with both bounds. */
function rangedKeys(prefix: string, schema: z.ZodType): Ranged[] {
  const inner = unwrap(schema);
  const def = defOf(inner);
  if (objectKeys(inner).length > 0) return objectKeys(inner).flatMap((k) => rangedKeys(`${prefix}.${k}`, def.shape![k]));
  if (def.type === "array" && def.element) return rangedKeys(`${prefix}[]`, def.element);
  if (def.type !== "number") return [];
  const n = inner as unknown as { minValue: number | null; maxValue: number | null };
  if (n.minValue === null || n.maxValue === null) throw new Error(`${prefix}: a number key without both bounds`);
  return [{ key: prefix, min: n.minValue, max: n.maxValue }];
}

const RANGED = Object.entries(SECTIONS).flatMap(([k, s]) => rangedKeys(k, s as z.ZodType));

/** A config that sets `key` to `value` and nothing else that could fail with it. */
function configWith(key: string, value: number): RawConfig {
  // connectionLimit may not exceed maxConnections: give it room, unless that is the key under test
  const raw: Record<string, unknown> = key === "postgres.maxConnections" ? {} : { postgres: { maxConnections: 10000 } };
  const [head, ...rest] = key.split(".");
  if (head.endsWith("[]")) {
    // an app's limits also answer to the pool (pgBouncer off here) and to each other
    // (databaseConnectionLimit >= connectionLimit: the lowest connectionLimit under it)
    const app: Record<string, unknown> = { name: "ranged" };
    let at = app;
    for (const part of rest.slice(0, -1)) at = (at[part] ??= {}) as Record<string, unknown>;
    at[rest[rest.length - 1]] = value;
    if (key === "apps[].databaseConnectionLimit") app.connectionLimit = 1;
    raw[head.slice(0, -2)] = [app];
    raw.pgbouncer = { enabled: false };
    return raw;
  }
  let o = raw;
  for (const part of [head, ...rest.slice(0, -1)]) o = (o[part] ??= {}) as Record<string, unknown>;
  o[rest[rest.length - 1]] = value;
  return raw;
}

function problems(raw: RawConfig): { path: string; message: string }[] {
  try {
    parseConfig("dev", raw);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

function withExternal(raw: RawConfig): RawConfig {
  const pg = raw.postgres as { external: object };
  return { ...raw, postgres: { ...pg, majorVersion: 15, external: { host: "db.example.com", adminUser: "platform_admin", adminPassword: "pw", ...pg.external } } };
}

const pathOf = (key: string) => `homelab-postgres:${key.replace("[]", "[0]")}`;

describe("ranged config keys", () => {
  it("finds every ranged key in the schema, with the documented bounds", () => {
    expect(Object.fromEntries(RANGED.map((r) => [r.key, [r.min, r.max]]))).toEqual({
      "postgres.majorVersion": [15, 17],
      "postgres.port": [1024, 65535],
      "standby.port": [1024, 65535],
      "postgres.maxConnections": [20, 10000],
      "postgres.memoryMb": [256, 1048576],
      "postgres.tls.validityDays": [2, 825],
      "postgres.tls.renewBeforeDays": [1, 824],
      "postgres.tls.caValidityDays": [30, 7300],
      "postgres.logging.slowStatementMs": [-1, 3600000],
      "postgres.external.port": [1, 65535],
      "apps[].connectionLimit": [1, 10000],
      "apps[].databaseConnectionLimit": [1, 10000],
      "apps[].pool.size": [1, 1000],
      "pgbouncer.port": [1024, 65535],
      "pgbouncer.defaultPoolSize": [1, 1000],
      "pgbouncer.maxClientConn": [10, 100000],
      "pgadmin.port": [1024, 65535],
      "backup.retention.full": [1, 365],
      "backup.retention.days": [1, 3650],
      "backup.archiveTimeout": [1, 60],
      "backup.archiveQueueMaxMb": [64, 1048576],
      "backup.dumps.keepDaily": [1, 366],
      "backup.dumps.keepWeekly": [0, 520],
      "backup.dumps.keepMonthly": [0, 120],
      "monitoring.postgresExporterPort": [1024, 65535],
      "monitoring.pgbouncerExporterPort": [1024, 65535],
      "monitoring.scrapeInterval": [5, 300],
    });
  });

  describe.each(RANGED)("$key ($min–$max)", ({ key, min, max }) => {
    // postgres.external's keys need the section's required ones and the server's major
    const complete = (raw: RawConfig): RawConfig => (key.startsWith("postgres.external.") ? withExternal(raw) : raw);

    it.each([min, max])("accepts %d", (v) => {
      expect(problems(complete(configWith(key, v)))).toEqual([]);
    });

    it.each([min - 1, max + 1])("refuses %d, naming the key and the range", (v) => {
      const found = problems(complete(configWith(key, v))).filter((p) => p.path === pathOf(key));
      // (connectionLimit past maxConnections also says so, with its own wording)
      expect(found.map((p) => p.message)).toContain(`must be between ${min} and ${max}, got ${v}`);
    });
  });
});
