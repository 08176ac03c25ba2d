// Journey: first deploy. The dev stack (two apps, pgBouncer) applied to an empty engine:
// every container healthy, the apps log in directly and through pgBouncer with the
// URLs of the `databases` output, pgvector works. Prints the time from an empty engine
// to a healthy stack, with the image builds and without them.
import Docker from "dockerode";
import { Client } from "pg";
import type { Engine } from "./engine";
import { describeEngine, emptyDevStack, removeBuiltImages, testEngine, wipe } from "./env";

jest.setTimeout(30 * 60_000);

const STACK = "dev";

describeEngine("first deploy on a real engine", (socket) => {
  let docker: Docker;
  let engine: Engine;
  let overrides: Record<string, unknown>;
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    docker = new Docker({ socketPath: socket });
    overrides = await emptyDevStack(docker, socket);
    await removeBuiltImages(docker);
    engine = testEngine(docker);
  });

  afterAll(async () => {
    await engine?.destroy().catch(() => undefined);
    if (docker) await wipe(docker, STACK);
  });

  let outputs: Record<string, unknown>;

  it("comes up healthy from an empty engine, images included", async () => {
    const t0 = Date.now();
    const { program } = await engine.up(STACK, { overrides });
    timings.withImages = (Date.now() - t0) / 1000;
    outputs = program.outputs;
    const all = await docker.listContainers({ all: true, filters: { label: [`homelab.postgres/stack=${STACK}`] } });
    // the image check ran once and exited 0; every service container runs, healthy
    const jobs = all.filter((c) => c.Names[0] === "/dev-postgres-image-check");
    expect(jobs.map((c) => [c.State, (c.Status.match(/Exited \((\d+)\)/) ?? [])[1]])).toEqual([["exited", "0"]]);
    const containers = all.filter((c) => !jobs.includes(c));
    const names = containers.map((c) => c.Names[0]).sort();
    expect(names).toEqual(["/dev-pgbouncer", "/dev-pgbouncer-config", "/dev-postgres"]);
    for (const c of containers) {
      const info = await docker.getContainer(c.Id).inspect();
      expect([info.Name, info.State.Health?.Status]).toEqual([info.Name, "healthy"]);
      // published on loopback only
      for (const bindings of Object.values(info.HostConfig.PortBindings ?? {}) as { HostIp: string }[][]) {
        for (const b of bindings) expect(b.HostIp).toBe("127.0.0.1");
      }
    }
  });

  it("lets every app log in directly and through pgBouncer, with pgvector", async () => {
    const dbs = outputs.databases as Record<string, { url: string; pooledUrl: string; readonlyUsers: Record<string, { url: string }> }>;
    for (const [app, entry] of Object.entries(dbs)) {
      for (const url of [entry.url, entry.pooledUrl]) {
        const c = new Client({ connectionString: url });
        await c.connect();
        const r = await c.query("select current_user, current_database()");
        expect(r.rows[0].current_database).toBe(app.replace(/-/g, "_"));
        await c.end();
      }
    }
    const owner = new Client({ connectionString: dbs.langfuse.url });
    await owner.connect();
    await owner.query("create table items (id bigserial primary key, embedding vector(3))");
    await owner.query("insert into items (embedding) values ('[1,2,3]'), ('[3,2,1]')");
    const nearest = await owner.query("select id from items order by embedding <-> '[1,2,2]' limit 1");
    expect(Number(nearest.rows[0].id)).toBe(1);
    await owner.end();
    // the read-only user reads and cannot write
    const ro = new Client({ connectionString: dbs["n8n-main"].readonlyUsers.analytics.url });
    await ro.connect();
    await expect(ro.query("create table t (x int)")).rejects.toThrow(/permission denied/);
    await ro.end();
  });

  it("destroys what the README says and keeps the data volume; comes up again with the images already built", async () => {
    const kept = await engine.destroy();
    expect(kept).toContain("docker:index/volume:Volume::homelab-postgres-data");
    expect(kept.filter((k) => k.startsWith("docker:index/container") || k.startsWith("docker:index/network"))).toEqual([]);
    // on the daemon: no container and no network of the stack, the data volume and only it
    expect(await docker.listContainers({ all: true, filters: { label: [`homelab.postgres/stack=${STACK}`] } })).toEqual([]);
    expect((await docker.listNetworks({ filters: { name: [`${STACK}-pg`] } })).map((n) => n.Name)).toEqual([]);
    const volumes = ((await docker.listVolumes()).Volumes ?? []).map((v) => v.Name).filter((n) => n.startsWith(`${STACK}-`));
    expect(volumes).toEqual(["dev-pgdata"]);
    await wipe(docker, STACK); // an empty engine but for the images
    const t0 = Date.now();
    await engine.up(STACK, { overrides });
    timings.imagesBuilt = (Date.now() - t0) / 1000;
     
    console.log(`time to a healthy stack from an empty engine: ${timings.withImages.toFixed(1)} s with image builds, ${timings.imagesBuilt.toFixed(1)} s with the images built`);
  });
});
