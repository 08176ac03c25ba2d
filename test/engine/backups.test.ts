// Journey: backups in containers, on the default major (17) with the image's own
// pgBackRest (trixie's 2.55.1). The dev stack with a posix repository (a host
// directory the test made, bind-mounted into Postgres and the sidecar): the sidecar
// comes up healthy (stanza-create and check at its start, a first full backup), then
// full, diff and logical runs as an operator would start them (`docker exec
// dev-backup hlpg-backup …`), the drill, and the host died: every container, volume
// and built image gone but the repository, the runbook's refresh, and
// `postgres.bootstrap` with a time between two writes brings back the first write and
// not the second, and every app logs in with the passwords from state.
import Docker from "dockerode";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Client } from "pg";
import type { Engine } from "./engine";
import { describeEngine, emptyDevStack, removeBuiltImages, testEngine, wipe } from "./env";
import { dockerExec, dockerExecOk } from "./exec";

jest.setTimeout(30 * 60_000);

const STACK = "dev";
/** Nothing scheduled during the test (00:00 on 1 January): each job runs when the test says. */
const QUIET = { full: "0 0 1 1 *", diff: "0 0 1 1 *", logical: "0 0 1 1 *", drill: "0 0 1 1 *" };
type Dbs = Record<string, { url: string; pooledUrl: string }>;

describeEngine("backups in containers on a real engine", (socket) => {
  let docker: Docker;
  let engine: Engine;
  let repo: string;
  let overrides: Record<string, unknown>;
  let dbs: Dbs;
  const backup = (args: string[]) => dockerExecOk(docker, `${STACK}-backup`, ["hlpg-backup", ...args]);

  async function query<T = Record<string, unknown>>(sql: string): Promise<T[]> {
    const c = new Client({ connectionString: dbs.langfuse.url });
    await c.connect();
    try {
      return (await c.query(sql)).rows as T[];
    } finally {
      await c.end();
    }
  }

  beforeAll(async () => {
    docker = new Docker({ socketPath: socket });
    // a host directory for the posix repository, owned by the image's postgres (uid 999)
    repo = fs.mkdtempSync(path.join(os.tmpdir(), "hlpg-engine-repo-"));
    fs.chownSync(repo, 999, 999);
    const base = await emptyDevStack(docker, socket);
    overrides = {
      ...base,
      backup: { enabled: true, posix: { path: repo }, encryptionPassphrase: "engine test passphrase, not a secret", schedule: QUIET, archiveTimeout: 5 },
    };
    engine = testEngine(docker);
    dbs = (await engine.up(STACK, { overrides })).program.outputs.databases as Dbs;
  });

  afterAll(async () => {
    await engine?.destroy().catch(() => undefined);
    if (docker) await wipe(docker, STACK);
    if (repo) fs.rmSync(repo, { recursive: true, force: true });
  });

  it("starts the sidecar healthy: stanza-create and check with the image's pgBackRest on 17, and a first full backup", async () => {
    const info = await docker.getContainer(`${STACK}-backup`).inspect();
    expect(info.State.Health?.Status).toBe("healthy");
    expect((await dockerExecOk(docker, `${STACK}-backup`, ["pgbackrest", "version"])).stdout).toMatch(/^pgBackRest 2\.55\.1/);
    expect((await query<{ v: string }>("select current_setting('server_version_num') v"))[0].v).toMatch(/^17/);
    // the first full backup runs at the scheduler's start when the repository has none
    const deadline = Date.now() + 120_000;
    let text = "";
    while (Date.now() < deadline) {
      text = (await backup(["info"])).stdout;
      if (/full backup: \d{8}-\d{6}F/.test(text)) break;
      await new Promise((r) => setTimeout(r, 2000));
    }
    expect(text).toMatch(/status: ok/);
    expect(text).toMatch(/full backup: \d{8}-\d{6}F/);
    // the repository is the host directory, encrypted
    expect(fs.readdirSync(path.join(repo, "pgbackrest", STACK)).sort()).toEqual(["archive", "backup"]);
  });

  it("runs full, diff and logical when an operator asks, and lists them", async () => {
    await query("create table if not exists marks (id int primary key, at timestamptz default now()); insert into marks (id) values (1)");
    await backup(["full"]);
    await query("insert into marks (id) values (2)");
    await backup(["diff"]);
    await backup(["logical"]);
    const info = (await backup(["info"])).stdout;
    expect(info.match(/full backup: /g)?.length).toBeGreaterThanOrEqual(2);
    expect(info).toMatch(/diff backup: \d{8}-\d{6}F_\d{8}-\d{6}D/);
    const dumps = (await backup(["list-dumps", "langfuse"])).stdout;
    expect(dumps).toMatch(/logical\/langfuse\/\d{8}T\d{6}Z\.dump\.age/);
  });

  it("passes the drill: a restore of the latest backup in the sidecar, and every app's dump", async () => {
    const r = await dockerExec(docker, `${STACK}-backup`, ["hlpg-backup", "drill"]);
    expect([r.code, r.stdout + r.stderr]).toEqual([0, expect.stringMatching(/drill: ok/)]);
    const health = await dockerExec(docker, `${STACK}-backup`, ["hlpg-backup", "health"]);
    expect([health.code, health.stdout]).toEqual([0, expect.anything()]);
  });

  // Bad input fails fast, with the reason, and the running stack stays as it was.
  /** What "fails fast" means here: the job's own work (a refusal, a pgBackRest error) plus the engine's steps around it. */
  const FAST_SECONDS = 60;
  const withPostgres = (extra: Record<string, unknown>) => ({ ...overrides, postgres: { ...(overrides.postgres as object), ...extra } });

  async function pooledCount(): Promise<number> {
    const c = new Client({ connectionString: dbs.langfuse.pooledUrl });
    await c.connect();
    try {
      return Number((await c.query("select count(*) n from marks")).rows[0].n);
    } finally {
      await c.end();
    }
  }

  /** `up` that must fail: its error and how long it took. */
  async function failingUp(o: Record<string, unknown>): Promise<{ message: string; seconds: number }> {
    const t0 = Date.now();
    const err = await engine.up(STACK, { overrides: o }).then(() => undefined, (e: unknown) => e);
    if (err === undefined) throw new Error("up succeeded; it must fail");
    const seconds = (Date.now() - t0) / 1000;
    const message = err instanceof Error ? err.message : String(err);
    console.log(`bad input: up failed after ${seconds.toFixed(1)} s: ${message.split("\n")[0]}`);
    return { message, seconds };
  }

  it("bad input: refuses a bootstrap onto a volume with data within seconds, with the job's reason, and leaves the cluster and pgBouncer serving", async () => {
    const before = await docker.getContainer(`${STACK}-postgres`).inspect();
    const { message, seconds } = await failingUp(withPostgres({ bootstrap: { target: "latest" } }));
    expect(message).toMatch(/postgres\.bootstrap: the one-shot container dev-postgres-bootstrap exited 1/);
    expect(message).toMatch(/REFUSED: postgres\.bootstrap is set \(backup stanza=dev target=latest\) but \S+ is not empty/);
    expect(message).toMatch(/run the job again: pulumi up --replace '\S+homelab-postgres-bootstrap-job'/);
    expect(seconds).toBeLessThan(FAST_SECONDS);
    // the server was not replaced, and pgBouncer was not paused (a paused pool would hang this query)
    const after = await docker.getContainer(`${STACK}-postgres`).inspect();
    expect([after.Id, after.State.Health?.Status]).toEqual([before.Id, "healthy"]);
    expect(await pooledCount()).toBe(2);
    // the refused job is gone once the key is removed again
    await engine.up(STACK, { overrides });
    await expect(docker.getContainer(`${STACK}-postgres-bootstrap`).inspect()).rejects.toThrow(/no such container/i);
  });

  it("bad input: refuses an image that does not keep the contract within seconds, with every problem, and leaves the running server alone", async () => {
    const before = await docker.getContainer(`${STACK}-postgres`).inspect();
    const { message, seconds } = await failingUp(withPostgres({ customImage: "debian:trixie-slim" }));
    expect(message).toMatch(/the Postgres image check: the one-shot container dev-postgres-image-check exited 1/);
    for (const want of [/postgres --version says: no postgres on PATH/, /gosu is not on PATH/, /pgbackrest is not on PATH/, /pgvector is missing/, /image check: \d+ problem\(s\)/]) expect(message).toMatch(want);
    expect(seconds).toBeLessThan(FAST_SECONDS);
    const after = await docker.getContainer(`${STACK}-postgres`).inspect();
    expect([after.Id, after.State.Health?.Status]).toEqual([before.Id, "healthy"]);
    expect(await pooledCount()).toBe(2);
    await engine.up(STACK, { overrides });
    expect((await docker.getContainer(`${STACK}-postgres`).inspect()).Id).toBe(before.Id);
  });

  let target = "";
  it("recovers from a dead host to a point in time with postgres.bootstrap: images built again, data back, apps log in", async () => {
    await query("insert into marks (id) values (3)");
    // the instant between the two writes, in the server's clock, then the second write, archived
    target = (await query<{ t: string }>("select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00' t"))[0].t;
    await new Promise((r) => setTimeout(r, 1100));
    await query("insert into marks (id) values (4)");
    // the segment with the second write, switched and archived (the superuser's: pg_switch_wal is not an app's)
    const superuser = engine.state("random:index/randomPassword:RandomPassword", "homelab-postgres-superuser-password")?.state.result as string;
    const su = new Client({ host: "127.0.0.1", port: (overrides.postgres as { port: number }).port, user: "postgres", password: superuser, database: "postgres" });
    await su.connect();
    const wal = (await su.query("select pg_walfile_name(pg_switch_wal()) w")).rows[0].w as string;
    for (let i = 0; i < 60 && (await su.query("select coalesce(last_archived_wal, '') w from pg_stat_archiver")).rows[0].w < wal; i++) {
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect((await su.query("select last_archived_wal w from pg_stat_archiver")).rows[0].w >= wal).toBe(true);
    await su.end();
    // The host died: every container, volume and built image of the stack gone, only the
    // repository (a host directory) left. The runbook: refresh the docker resources, then
    // `up` with the bootstrap. The built images leave the state with the rest and are
    // built again (a built image that stayed in state was never rebuilt, and its
    // containers could not be created: the tag was never pushed anywhere to pull from).
    await wipe(docker, STACK);
    await removeBuiltImages(docker, { keepCache: true });
    const gone = await engine.refresh();
    expect(gone).toEqual(expect.arrayContaining([
      "docker:index/container:Container::homelab-postgres-container", "docker:index/volume:Volume::homelab-postgres-data",
      "docker:index/remoteImage:RemoteImage::homelab-postgres-image-image", "docker:index/remoteImage:RemoteImage::homelab-pgbouncer-image",
    ]));
    // bad input first: a target before the first backup fails within seconds with pgBackRest's error, nothing started
    const early = await failingUp(withPostgres({ bootstrap: { target: "2020-01-01 00:00:00+00" } }));
    expect(early.message).toMatch(/exited 1\. The end of its log:/);
    expect(early.message).toMatch(/unable to find backup set with stop time less than '2020-01-01 00:00:00\+00'/);
    expect(early.message).toMatch(/bootstrap FAILED: pgbackrest restore failed/);
    expect(early.seconds).toBeLessThan(FAST_SECONDS);
    await expect(docker.getContainer(`${STACK}-postgres`).inspect()).rejects.toThrow(/no such container/i);
    expect((await docker.listImages()).some((i) => (i.RepoTags ?? []).some((t) => t.startsWith("homelab-postgres/postgres:")))).toBe(true); // built again
    // fixed: the job runs again (replaced: its target changed) and restores
    const { actions } = await engine.up(STACK, { overrides: withPostgres({ bootstrap: { target } }) });
    expect(actions.get("docker:index/remoteImage:RemoteImage::homelab-postgres-image-image")).toBe("same"); // built by the failed up
    expect(actions.get("docker:index/container:Container::homelab-postgres-bootstrap-job")).toBe("replace");
    const job = await docker.getContainer(`${STACK}-postgres-bootstrap`).inspect();
    expect([job.State.Status, job.State.ExitCode]).toEqual(["exited", 0]);
    const ids = (await query<{ id: number }>("select id from marks order by id")).map((r) => Number(r.id));
    expect(ids).toEqual([1, 2, 3]);
    // and it is a primary again, archiving on a new timeline
    expect((await query<{ r: boolean }>("select pg_is_in_recovery() r"))[0].r).toBe(false);
    expect(Number((await query<{ t: string }>("select timeline_id t from pg_control_checkpoint()"))[0].t)).toBeGreaterThan(1);
    // every app logs in with the passwords from state, directly and through pgBouncer
    for (const entry of Object.values(dbs)) {
      for (const url of [entry.url, entry.pooledUrl]) {
        const c = new Client({ connectionString: url });
        await c.connect();
        expect((await c.query("select 1 one")).rows[0].one).toBe(1);
        await c.end();
      }
    }
  });
});
