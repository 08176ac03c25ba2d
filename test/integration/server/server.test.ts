// The rendered postgresql.conf and pg_hba.conf, on a real PostgreSQL 15.
import { PgInstance, startPostgres } from "../harness";
import { tune } from "../../../components/server/postgresql-conf";

describe("rendered server config on PostgreSQL 15", () => {
  let pg: PgInstance;
  const memoryMb = 2048;
  const maxConnections = 60;

  beforeAll(async () => {
    pg = await startPostgres({ conf: { memoryMb, maxConnections, settings: { statement_timeout: "45s" } } });
  });
  afterAll(async () => {
    await pg?.destroy();
  });

  it("accepts the superuser over scram-sha-256 and refuses a wrong password", async () => {
    const ok = await pg.connect();
    const { rows } = await ok.query("select rolpassword like 'SCRAM-SHA-256$%' as scram from pg_authid where rolname = 'postgres'");
    expect(rows[0].scram).toBe(true);
    await ok.end();
    await expect(pg.connect({ password: "definitely-wrong" })).rejects.toThrow(/password authentication failed/);
  });

  it("runs with the memory-derived tuning live", async () => {
    const c = await pg.connect();
    const want = tune(memoryMb, maxConnections);
    // SHOW normalises units (e.g. 512MB); compare through pg_size_bytes on both sides
    for (const [name, value] of Object.entries(want)) {
      const { rows } = await c.query(
        "select pg_size_bytes(current_setting($1)) = pg_size_bytes($2) as same, current_setting($1) as live",
        [name, value],
      );
      expect({ name, same: rows[0].same, live: rows[0].live }).toEqual({ name, same: true, live: rows[0].live });
    }
    const sb = await c.query("show shared_buffers");
    expect(sb.rows[0].shared_buffers).toBe("512MB");
    const misc = await c.query("select current_setting('max_connections') mc, current_setting('password_encryption') pe, current_setting('statement_timeout') st, current_setting('shared_preload_libraries') spl");
    expect(misc.rows[0]).toEqual({ mc: "60", pe: "scram-sha-256", st: "45s", spl: "pg_stat_statements" });
    await c.end();
  });

  it("loads the rendered pg_hba.conf with no trust rule", async () => {
    const c = await pg.connect();
    const { rows } = await c.query("select type, auth_method, error from pg_hba_file_rules");
    await c.end();
    expect(rows.length).toBeGreaterThan(3);
    expect(rows.filter((r) => r.error !== null)).toEqual([]);
    expect(rows.map((r) => r.auth_method)).not.toContain("trust");
    expect(new Set(rows.filter((r) => r.type !== "local").map((r) => r.auth_method))).toEqual(new Set(["scram-sha-256"]));
  });
});
