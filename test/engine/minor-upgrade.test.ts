// Journey: a minor upgrade. A new release of this project pins a new postgresql-17
// version in components/config/images.ts; the Postgres image is rebuilt under a new tag
// and replaces the Postgres container; the data volume and its data survive. (The test
// spells the same version as an apt version glob, so the build args and the tag change
// and the mirror's package still satisfies it.) Clients through pgBouncer, mid-loop, see a pause
// and no error: pgBouncer is PAUSEd before the old container stops and RESUMEd once the
// new one is healthy. Direct clients see the restart; the test prints both.
import Docker from "dockerode";
import { Client } from "pg";
import { POSTGRES_PACKAGES, type PostgresPackages } from "../../components/config";
import type { Engine } from "./engine";
import { describeEngine, emptyDevStack, testEngine, wipe } from "./env";
import { startLoop } from "./loop";

jest.setTimeout(30 * 60_000);

const STACK = "dev";
/** The table's entry for 17, which the test changes as a release would (and puts back). */
const pg17 = POSTGRES_PACKAGES[17] as PostgresPackages;
const released = pg17.postgresql;

describeEngine("a minor upgrade on a real engine", (socket) => {
  let docker: Docker;
  let engine: Engine;
  let base: Record<string, unknown>;
  let dbs: Record<string, { url: string; pooledUrl: string }>;

  beforeAll(async () => {
    docker = new Docker({ socketPath: socket });
    base = await emptyDevStack(docker, socket);
    engine = testEngine(docker);
    const { program } = await engine.up(STACK, { overrides: base });
    dbs = program.outputs.databases as typeof dbs;
    const c = new Client({ connectionString: dbs.langfuse.url });
    await c.connect();
    await c.query("create table kept (id int primary key, note text)");
    await c.query("insert into kept values (1, 'written before the upgrade')");
    await c.end();
  });

  afterAll(async () => {
    pg17.postgresql = released;
    await engine?.destroy().catch(() => undefined);
    if (docker) await wipe(docker, STACK);
  });

  it("replaces the Postgres container with the new image; the data survives and pooled clients see no error", async () => {
    const before = await docker.getContainer("dev-postgres").inspect();
    const pooled = [startLoop(dbs.langfuse.pooledUrl), startLoop(dbs["n8n-main"].pooledUrl)];
    const direct = startLoop(dbs.langfuse.url);
    await new Promise((r) => setTimeout(r, 1000));
    pg17.postgresql = `${released}*`;
    const { actions } = await engine.up(STACK, { overrides: base });
    await new Promise((r) => setTimeout(r, 1000));
    const [p1, p2] = await Promise.all(pooled.map((l) => l.stop()));
    const d = await direct.stop();
     
    console.log(`minor upgrade: pooled clients ${p1.ok + p2.ok} ok, ${p1.errors.length + p2.errors.length} errors, longest wait ${Math.max(p1.maxMs, p2.maxMs)} ms; direct client ${d.ok} ok, ${d.errors.length} errors`);

    expect(actions.get("docker:index/container:Container::homelab-postgres-container")).toBe("replace");
    // only Postgres: pgBouncer's image and container stay
    expect(actions.get("docker:index/container:Container::homelab-pgbouncer-container")).toBe("same");
    const after = await docker.getContainer("dev-postgres").inspect();
    expect(after.Id).not.toBe(before.Id);
    expect(after.Config.Image).not.toBe(before.Config.Image);
    expect(after.Mounts.find((m) => m.Destination === "/var/lib/postgresql/data")?.Name).toBe("dev-pgdata");
    for (const r of [p1, p2]) {
      expect(r.errors).toEqual([]);
      expect(r.ok).toBeGreaterThan(0);
    }
    const c = new Client({ connectionString: dbs.langfuse.url });
    await c.connect();
    expect((await c.query("select note from kept where id = 1")).rows[0].note).toBe("written before the upgrade");
    await c.end();
  });
});
