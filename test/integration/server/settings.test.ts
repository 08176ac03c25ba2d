// The settings command on real servers started from the static postgresql.conf a
// container gets, with a supervisor that starts the postmaster again after a clean
// exit (the container's restart policy): the live settings end exactly where the
// one-file configuration puts them; a reloadable change restarts nothing; a
// restart-only change restarts once; a refused value changes nothing at all.
import { Client } from "pg";
import { PG_CATALOGS } from "../../../components/config/pg-settings-catalogs";
import { specOf } from "../../../components/config/pg-settings";
import type { ConfValue } from "../../../components/config";
import { PostgresConfInput, liveSettings } from "../../../components/server/postgresql-conf";
import { renderSettingsScript, renderSettingsSql } from "../../../components/server/settings-command";
import { PgInstance, PgMajor, run, startPostgres } from "../harness";

const OPERATOR: Record<string, ConfValue> = {
  statement_timeout: "30s",
  search_path: '"$user", public, app',
  datestyle: "ISO, DMY",
  log_connections: true,
  "pg_stat_statements.max": 2000,
};

function confInput(major: PgMajor, settings: Record<string, ConfValue>, memoryMb = 1024): Partial<PostgresConfInput> {
  return { majorVersion: major, memoryMb, maxConnections: 60, settings };
}

async function apply(pg: PgInstance, major: PgMajor, settings: Record<string, ConfValue>, memoryMb = 1024) {
  const live = liveSettings({
    majorVersion: major, listenAddresses: "127.0.0.1", port: pg.port, maxConnections: 60, memoryMb,
    hbaFile: "/unused", unixSocketDirectory: "/unused", settings,
  });
  const catalog = PG_CATALOGS[major];
  const sql = renderSettingsSql({ settings: live, isList: (n) => specOf(catalog, n)?.list === true });
  return run("sh", ["-c", renderSettingsScript({ restartTimeoutSeconds: 60 })], {
    input: sql,
    env: { PGHOST: "127.0.0.1", PGPORT: String(pg.port), PGUSER: "postgres", PGPASSWORD: pg.superPassword, PGDATABASE: "postgres", PGSSLMODE: "disable" },
  });
}

async function values(pg: PgInstance, names: string[]): Promise<Record<string, string>> {
  const c: Client = await pg.connect();
  try {
    const r = await c.query<{ name: string; setting: string }>("select lower(name) as name, setting from pg_settings where lower(name) = any($1) order by 1", [names.map((n) => n.toLowerCase())]);
    return Object.fromEntries(r.rows.map((x) => [x.name, x.setting]));
  } finally {
    await c.end();
  }
}

async function startTime(pg: PgInstance): Promise<string> {
  const c = await pg.connect();
  try {
    return String((await c.query("select pg_postmaster_start_time()::text as t")).rows[0].t);
  } finally {
    await c.end();
  }
}

describe.each([15, 17] as const)("settings command on PostgreSQL %i", (major) => {
  let deployed: PgInstance;
  let oneFile: PgInstance;
  const names = () => Object.keys(liveSettings({ majorVersion: major, listenAddresses: "", port: 1, maxConnections: 60, memoryMb: 1024, hbaFile: "/x", unixSocketDirectory: "/x", settings: OPERATOR }));

  beforeAll(async () => {
    deployed = await startPostgres({ major, staticConfOnly: true, supervise: true, conf: confInput(major, OPERATOR) });
    oneFile = await startPostgres({ major, conf: confInput(major, OPERATOR) });
  });
  afterAll(async () => {
    await deployed?.destroy();
    await oneFile?.destroy();
  });

  it("first apply: every live setting ends where the one-file configuration puts it, after one restart", async () => {
    const before = await startTime(deployed);
    const r = await apply(deployed, major, OPERATOR);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/restarting PostgreSQL once for: .*shared_buffers/);
    expect(deployed.restarts).toBe(1);
    expect(await startTime(deployed)).not.toBe(before);
    const want = await values(oneFile, names());
    expect(Object.keys(want).length).toBe(names().length);
    expect(await values(deployed, names())).toEqual(want);
  });

  it("running it again with the same settings restarts nothing", async () => {
    const before = await startTime(deployed);
    const r = await apply(deployed, major, OPERATOR);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/no restart needed/);
    expect(deployed.restarts).toBe(1);
    expect(await startTime(deployed)).toBe(before);
  });

  it("a reloadable change applies without a restart; a removed setting goes back to its default", async () => {
    const before = await startTime(deployed);
    const { datestyle: _drop, ...rest } = OPERATOR;
    void _drop;
    const r = await apply(deployed, major, { ...rest, statement_timeout: "45s", work_mem: "8MB" });
    expect(r.code).toBe(0);
    expect(deployed.restarts).toBe(1);
    expect(await startTime(deployed)).toBe(before);
    expect(await values(deployed, ["statement_timeout", "work_mem", "datestyle"])).toEqual({ statement_timeout: "45000", work_mem: "8192", datestyle: "ISO, MDY" });
  });

  it("a restart-only change restarts once and is live afterwards", async () => {
    const r = await apply(deployed, major, OPERATOR, 2048);
    expect(r.code).toBe(0);
    expect(deployed.restarts).toBe(2);
    expect((await values(deployed, ["shared_buffers"])).shared_buffers).toBe(String((512 * 1024) / 8));
  });

  it("a refused value changes nothing: no reload, no restart, the file as it was", async () => {
    const c = await deployed.connect();
    const file = async () => (await c.query("select name, setting from pg_file_settings where sourcefile like '%/postgresql.auto.conf' order by name")).rows;
    const before = { file: await file(), start: await startTime(deployed), live: await values(deployed, names()) };
    try {
      const r = await apply(deployed, major, { ...OPERATOR, statement_timeout: "1min", work_mem: "64XB" }, 4096);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/work_mem|64XB/);
      expect(await file()).toEqual(before.file);
      expect(await startTime(deployed)).toBe(before.start);
      expect(await values(deployed, names())).toEqual(before.live);
      expect(deployed.restarts).toBe(2);
    } finally {
      await c.end();
    }
  });
});
