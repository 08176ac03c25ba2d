// Journey: changes to a running stack. A reloadable setting changes with the same
// container and is live; a restart-only setting restarts PostgreSQL once, in the same
// container; adding an app replaces no service container and the app logs in; a
// rotation keeps every client loop working. What the engine does to each container is
// what the change-impact layer (test/impact) says it does.
import Docker from "dockerode";
import { Client } from "pg";
import type { Engine } from "./engine";
import { describeEngine, emptyDevStack, testEngine, wipe } from "./env";
import { startLoop } from "./loop";

jest.setTimeout(30 * 60_000);

const STACK = "dev";
type Dbs = Record<string, { url: string; pooledUrl: string; user: string }>;

describeEngine("changes to a running stack on a real engine", (socket) => {
  let docker: Docker;
  let engine: Engine;
  let base: Record<string, unknown>;
  let dbs: Dbs;
  const postgres = (extra: Record<string, unknown>) => ({ ...(base.postgres as Record<string, unknown>), ...extra });

  const containerId = async (name: string) => (await docker.getContainer(name).inspect()).Id;
  async function admin<T>(f: (c: Client) => Promise<T>): Promise<T> {
    const c = new Client({ connectionString: dbs.langfuse.url });
    await c.connect();
    try {
      return await f(c);
    } finally {
      await c.end();
    }
  }

  beforeAll(async () => {
    docker = new Docker({ socketPath: socket });
    base = await emptyDevStack(docker, socket);
    engine = testEngine(docker);
    const { program } = await engine.up(STACK, { overrides: base });
    dbs = program.outputs.databases as Dbs;
  });

  afterAll(async () => {
    await engine?.destroy().catch(() => undefined);
    if (docker) await wipe(docker, STACK);
  });

  it("applies a reloadable setting live, in the same container", async () => {
    const [id, started] = [await containerId("dev-postgres"), await admin((c) => c.query("select pg_postmaster_start_time() t"))];
    const { actions } = await engine.up(STACK, { overrides: { ...base, postgres: postgres({ settings: { statement_timeout: "90s" } }) } });
    expect(actions.get("docker:index/container:Container::homelab-postgres-container")).toBe("same");
    expect(await containerId("dev-postgres")).toBe(id);
    const now = await admin(async (c) => [(await c.query("show statement_timeout")).rows[0].statement_timeout, (await c.query("select pg_postmaster_start_time() t")).rows[0].t]);
    expect(now[0]).toBe("90s");
    expect(now[1]).toEqual(started.rows[0].t);
    base = { ...base, postgres: postgres({ settings: { statement_timeout: "90s" } }) };
  });

  it("restarts PostgreSQL once for a restart-only setting, in the same container", async () => {
    const id = await containerId("dev-postgres");
    const restartsBefore = (await docker.getContainer(id).inspect()).RestartCount;
    const started = await admin((c) => c.query("select pg_postmaster_start_time() t"));
    const settings = { statement_timeout: "90s", max_locks_per_transaction: 128 };
    await engine.up(STACK, { overrides: { ...base, postgres: postgres({ settings }) } });
    expect(await containerId("dev-postgres")).toBe(id);
    const [value, t, restarts] = await admin(async (c) => [
      (await c.query("show max_locks_per_transaction")).rows[0].max_locks_per_transaction,
      (await c.query("select pg_postmaster_start_time() t")).rows[0].t,
      (await docker.getContainer(id).inspect()).RestartCount,
    ]);
    expect(value).toBe("128");
    expect(t).not.toEqual(started.rows[0].t);
    // the settings command stops the postmaster and the restart policy starts it again: once, same container
    expect(restarts - restartsBefore).toBe(1);
    base = { ...base, postgres: postgres({ settings }) };
  });

  it("adds an app without replacing a service container, and the app logs in", async () => {
    const ids = { postgres: await containerId("dev-postgres"), pgbouncer: await containerId("dev-pgbouncer") };
    const apps = [
      { name: "langfuse", extensions: ["vector", "uuid-ossp", "pg_stat_statements"], connectionLimit: 30 },
      { name: "n8n-main", extensions: ["pg_trgm"], readonlyUsers: ["analytics"], rotation: "2026-11" },
      { name: "grafana" },
    ];
    const { program } = await engine.up(STACK, { overrides: { ...base, apps } });
    expect({ postgres: await containerId("dev-postgres"), pgbouncer: await containerId("dev-pgbouncer") }).toEqual(ids);
    const grafana = (program.outputs.databases as Dbs).grafana;
    for (const url of [grafana.url, grafana.pooledUrl]) {
      const c = new Client({ connectionString: url });
      await c.connect();
      expect((await c.query("select current_database() d")).rows[0].d).toBe("grafana");
      await c.end();
    }
    base = { ...base, apps };
    dbs = program.outputs.databases as Dbs;
  });

  it("rotates an app's password while client loops keep working", async () => {
    const loops = [startLoop(dbs.langfuse.url), startLoop(dbs.langfuse.pooledUrl)];
    await new Promise((r) => setTimeout(r, 500));
    const apps = (base.apps as { name: string }[]).map((a) => (a.name === "langfuse" ? { ...a, rotation: 1 } : a));
    const { program } = await engine.up(STACK, { overrides: { ...base, apps } });
    await new Promise((r) => setTimeout(r, 500));
    const results = await Promise.all(loops.map((l) => l.stop()));
    for (const r of results) {
      expect(r.errors).toEqual([]);
      expect(r.ok).toBeGreaterThan(0);
    }
    const rotated = (program.outputs.databases as Dbs).langfuse;
    expect(rotated.user).not.toBe(dbs.langfuse.user);
    for (const url of [rotated.url, rotated.pooledUrl, dbs.langfuse.url]) {
      const c = new Client({ connectionString: url });
      await c.connect();
      await c.end();
    }
  });
});
