// Journey: bad input fails fast, with the reason. A bootstrap that cannot run (a data
// volume that is not empty, a target before the first backup) and an image that does
// not keep the contract (postgres.customImage: a bare Debian) end `up` within seconds
// with the end of the job's log and the command that runs it again, not after the
// create timeout of a container that restarts; the running cluster and pgBouncer are
// untouched by the refusal; once the input is fixed, the job runs again and the cluster
// comes back.
import Docker from "dockerode";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Client } from "pg";
import type { Engine } from "./engine";
import { describeEngine, emptyDevStack, testEngine, wipe } from "./env";
import { dockerExecOk } from "./exec";

jest.setTimeout(30 * 60_000);

const STACK = "dev";
const QUIET = { full: "0 0 1 1 *", diff: "0 0 1 1 *", logical: "0 0 1 1 *", drill: "0 0 1 1 *" };
/** What "fails fast" means here: the job's own work (a refusal, a pgBackRest error) plus the engine's steps around it. */
const FAST_SECONDS = 60;
type Dbs = Record<string, { url: string; pooledUrl: string }>;

describeEngine("bad input on a real engine", (socket) => {
  let docker: Docker;
  let engine: Engine;
  let repo: string;
  let overrides: Record<string, unknown>;
  let dbs: Dbs;
  const withBootstrap = (target: string) => ({ ...overrides, postgres: { ...(overrides.postgres as object), bootstrap: { target } } });

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
    return { message: err instanceof Error ? err.message : String(err), seconds: (Date.now() - t0) / 1000 };
  }

  beforeAll(async () => {
    docker = new Docker({ socketPath: socket });
    repo = fs.mkdtempSync(path.join(os.tmpdir(), "hlpg-engine-repo-"));
    fs.chownSync(repo, 999, 999);
    overrides = {
      ...(await emptyDevStack(docker, socket)),
      backup: { enabled: true, posix: { path: repo }, encryptionPassphrase: "engine test passphrase, not a secret", schedule: QUIET },
    };
    engine = testEngine(docker);
    dbs = (await engine.up(STACK, { overrides })).program.outputs.databases as Dbs;
    const c = new Client({ connectionString: dbs.langfuse.url });
    await c.connect();
    await c.query("create table marks (id int primary key); insert into marks values (1), (2), (3)");
    await c.end();
    await dockerExecOk(docker, `${STACK}-backup`, ["hlpg-backup", "full"]);
  });

  afterAll(async () => {
    await engine?.destroy().catch(() => undefined);
    if (docker) await wipe(docker, STACK);
    if (repo) fs.rmSync(repo, { recursive: true, force: true });
  });

  it("refuses a bootstrap onto a volume with data within seconds, with the job's reason, and leaves the cluster and pgBouncer serving", async () => {
    const before = await docker.getContainer(`${STACK}-postgres`).inspect();
    const { message, seconds } = await failingUp(withBootstrap("latest"));
    expect(message).toMatch(/postgres\.bootstrap: the one-shot container dev-postgres-bootstrap exited 1/);
    expect(message).toMatch(/REFUSED: postgres\.bootstrap is set \(backup stanza=dev target=latest\) but \S+ is not empty/);
    expect(message).toMatch(/run the job again: pulumi up --replace '\S+homelab-postgres-bootstrap-job'/);
    expect(seconds).toBeLessThan(FAST_SECONDS);
    // the server was not replaced, and pgBouncer was not paused (a paused pool would hang this query)
    const after = await docker.getContainer(`${STACK}-postgres`).inspect();
    expect([after.Id, after.State.Health?.Status]).toEqual([before.Id, "healthy"]);
    expect(await pooledCount()).toBe(3);
    // the refused job ran and is gone once the key is removed again
    await engine.up(STACK, { overrides });
    await expect(docker.getContainer(`${STACK}-postgres-bootstrap`).inspect()).rejects.toThrow(/no such container/i);
  });

  it("refuses an image that does not keep the contract within seconds, with every problem, and leaves the running server alone", async () => {
    const before = await docker.getContainer(`${STACK}-postgres`).inspect();
    const wrong = { ...overrides, postgres: { ...(overrides.postgres as object), customImage: "debian:trixie-slim" } };
    const { message, seconds } = await failingUp(wrong);
    expect(message).toMatch(/the Postgres image check: the one-shot container dev-postgres-image-check exited 1/);
    for (const want of [/postgres --version says: no postgres on PATH/, /gosu is not on PATH/, /pgbackrest is not on PATH/, /pgvector is missing/, /image check: \d+ problem\(s\)/]) expect(message).toMatch(want);
    expect(seconds).toBeLessThan(FAST_SECONDS);
    const after = await docker.getContainer(`${STACK}-postgres`).inspect();
    expect([after.Id, after.State.Health?.Status]).toEqual([before.Id, "healthy"]);
    expect(await pooledCount()).toBe(3);
    await engine.up(STACK, { overrides });
    expect((await docker.getContainer(`${STACK}-postgres`).inspect()).Id).toBe(before.Id);
  });

  it("fails a restore to a target before the first backup within seconds, with pgBackRest's error; fixed, the job runs again and the data is back", async () => {
    await wipe(docker, STACK); // the host died
    await engine.refresh();
    const { message, seconds } = await failingUp(withBootstrap("2020-01-01 00:00:00+00"));
    expect(message).toMatch(/exited 1\. The end of its log:/);
    expect(message).toMatch(/unable to find backup set with stop time less than '2020-01-01 00:00:00\+00'/);
    expect(message).toMatch(/bootstrap FAILED: pgbackrest restore failed/);
    expect(seconds).toBeLessThan(FAST_SECONDS);
    // nothing started on the half-done volume
    await expect(docker.getContainer(`${STACK}-postgres`).inspect()).rejects.toThrow(/no such container/i);
    const { actions } = await engine.up(STACK, { overrides: withBootstrap("latest") });
    expect(actions.get("docker:index/container:Container::homelab-postgres-bootstrap-job")).toBe("replace");
    expect(await pooledCount()).toBe(3);
  });
});
