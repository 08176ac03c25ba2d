// What changes with the stack reaches a running sidecar without a restart, on
// real processes: the scheduler (the container's script, its secrets from the
// secrets file, its conf the one with secrets) re-reads the runtime file every
// minute, so an app added there is dumped by the next `logical` run and a new
// schedule applies; a broken runtime file is refused and the last good values
// stay; a new pgbackrest.conf is checked again (init) and archive-push, which
// reads its conf on every call, uses it from the next segment. And init retries
// stanza-create while the bucket's key is refused (IAM propagation), for a
// bounded time, then fails loudly.
import * as fs from "fs";
import * as path from "path";
import { BackupApp, DEFAULT_BACKUP_SCHEDULE, JobSchedule, LOGICAL_PREFIX, runbook } from "../../../components/backup";
import { ServerProcess, waitFor } from "../harness";
import { BackupFixture, archiveCurrentWal, expectOk, startBackupFixture } from "./fixture";

const NOTES: BackupApp = { name: "notes", database: "notes", owner: "notes_owner" };
const EXTRA: BackupApp = { name: "extra-app", database: "extra_app", owner: "extra_app_owner" };
/** Nothing runs during the test (00:00 on 1 January) until the runtime file says otherwise. */
const QUIET: JobSchedule = { full: "0 0 1 1 *", diff: "0 0 1 1 *", logical: "0 0 1 1 *", drill: "0 0 1 1 *" };

async function createApp(f: BackupFixture, a: BackupApp): Promise<void> {
  await f.pg.sql(`create role ${a.owner} login password 'pw-${a.owner}'`);
  await f.pg.sql(`create database ${a.database} owner ${a.owner} template template0`);
  await f.pg.sql(`set role ${a.owner}; create table t (id int primary key); insert into t select generate_series(1, 100)`, a.database);
}

describe("the runtime file reaches a running scheduler without a restart", () => {
  let f: BackupFixture;
  let scheduler: ServerProcess | undefined;
  const dumps = async (a: BackupApp) => (await f.s3.listKeys(`${LOGICAL_PREFIX}${a.name}/`)).filter((k) => k.endsWith(".dump.age"));
  const state = (file: string) => path.join(f.workDir, "state", file);

  beforeAll(async () => {
    f = await startBackupFixture({ apps: [NOTES], schedule: QUIET });
    await createApp(f, NOTES);
    await createApp(f, EXTRA);
  });
  afterAll(async () => {
    await scheduler?.stop("SIGTERM");
    await f?.destroy();
  });

  it("starts with the runtime file's apps and schedule (the container's way: secrets from files only)", async () => {
    scheduler = new ServerProcess(f.filesScriptFile, ["scheduler"], { env: f.filesEnv });
    await waitFor("scheduler loop", async () => /scheduler: running/.test(scheduler!.output), 90_000, scheduler);
    expect(scheduler.output).toContain("scheduler: running; apps: notes schedule (container time zone UTC): 0 0 1 1 *|full");
    await waitFor("first full backup", async () => fs.existsSync(state("backup.ok")), 90_000, scheduler);
    expect(await dumps(NOTES)).toEqual([]);
  });

  it("an app added and a schedule changed in the runtime file are dumped by the next minute's logical run; a new pgbackrest.conf is checked again and archived with", async () => {
    f.writeRuntime({ apps: [NOTES, EXTRA], schedule: { ...QUIET, logical: "* * * * *" } });
    f.writeConf("lz4"); // was zst: compression is a pgbackrest.conf setting
    const initBefore = fs.statSync(state("init.ok")).mtimeMs;
    // the object is listed a moment before the job logs it: wait for both
    const logged = /logical: extra-app -> logical\/extra-app\/\d{8}T\d{6}Z\.dump\.age/;
    await waitFor("dumps of both apps", async () => (await dumps(EXTRA)).length > 0 && (await dumps(NOTES)).length > 0 && logged.test(scheduler!.output), 150_000, scheduler);
    expect(scheduler!.running).toBe(true); // the same process all along
    expect(scheduler!.output).toMatch(/scheduler: runtime file changed; apps: notes extra-app schedule: .*\* \* \* \* \*\|logical/);
    expect(scheduler!.output).toMatch(/changed; running init again \(stanza-create, check\)/);
    expect(scheduler!.output).toMatch(logged);
    await waitFor("init again", async () => fs.statSync(state("init.ok")).mtimeMs > initBefore, 60_000, scheduler);
    expect(fs.existsSync(state("init.failed"))).toBe(false);
    // archive-push read the new conf: the next segment went up lz4-compressed
    const wal = await archiveCurrentWal(f.pg);
    const archived = await f.s3.listKeys(`pgbackrest/${f.stanza}/archive/${f.stanza}/`);
    expect(archived.filter((k) => k.includes(`/${wal}-`))).toEqual([expect.stringMatching(/\.lz4$/)]);
    expect(archived.some((k) => k.endsWith(".zst"))).toBe(true); // the earlier ones, before the change
  });

  it("a broken runtime file is refused, logged and shown red by health; the scheduler goes on with the last good values", async () => {
    const good = fs.readFileSync(f.runtimeFile, "utf8");
    // A new key, not a larger count: the pruning keeps the newest dump of each day, so the
    // count stays at one and grows only for the moment between upload and prune.
    const extraBefore = new Set(await dumps(EXTRA));
    const broken = path.join(path.dirname(f.runtimeFile), ".broken.tmp");
    fs.writeFileSync(broken, `${good}retention\t9\n`, { mode: 0o444 });
    fs.renameSync(broken, f.runtimeFile);
    await waitFor("the refusal in the log", async () => /scheduler: ERROR: runtime file .* unknown or malformed line: retention 9; keeping the last good values/.test(scheduler!.output), 90_000, scheduler);
    const health = await f.scriptFromFiles(runbook.health());
    expect(health.code).toBe(1);
    expect(health.stdout).toMatch(/unknown or malformed line: retention 9/);
    await waitFor("another dump of extra-app on the last good values", async () => (await dumps(EXTRA)).some((k) => !extraBefore.has(k)), 90_000, scheduler);
    expect(scheduler!.running).toBe(true);
    f.writeRuntime({}); // the carrier's next copy
    expect(expectOk(await f.scriptFromFiles(runbook.listDumps(EXTRA.name)), "list-dumps extra-app").stdout).toContain(`${LOGICAL_PREFIX}${EXTRA.name}/`);
  });
});

describe("init while the bucket's key does not work yet", () => {
  let f: BackupFixture;

  beforeAll(async () => {
    f = await startBackupFixture({ schedule: DEFAULT_BACKUP_SCHEDULE, repoRetrySeconds: 20 });
  });
  afterAll(async () => {
    f?.s3.refuseKey(false);
    await f?.destroy();
  });

  it("retries stanza-create with backoff and succeeds once the key is accepted", async () => {
    f.s3.refuseKey(true);
    const started = Date.now();
    const init = f.scriptFromFiles(["init"]);
    // The key starts working once two attempts were refused (not after a fixed time, which a
    // loaded machine can stretch past the second attempt): refusals more than 1.5 s apart
    // belong to different attempts, the backoff between them being 2 s.
    const attemptsRefused = (): number =>
      f.s3.requests.filter((q) => q.at >= started && q.status === 403).reduce((n, q, i, all) => (i === 0 || q.at - all[i - 1].at > 1_500 ? n + 1 : n), 0);
    await waitFor("two refused attempts", async () => attemptsRefused() >= 2, 60_000);
    f.s3.refuseKey(false);
    const r = expectOk(await init, "hlpg-backup init (key accepted after two attempts)");
    expect(r.stderr).toMatch(/pgbackrest stanza-create failed \(exit \d+, attempt 1\); the bucket or its key may not be usable yet, retrying in 2 s/);
    expect(r.stderr).toMatch(/attempt 2\); .* retrying in 4 s/);
    expect(r.stderr).not.toMatch(/attempt 3\)/);
    expect(r.stdout).toMatch(/ERROR: \[039\]: HTTP request failed with 403 \(Forbidden\)/); // what pgBackRest saw
    expect(r.stdout).toMatch(/stanza-create command end: completed successfully/);
    expect(r.stdout).toMatch(/check command end: completed successfully/);
    expect((await f.scriptFromFiles(runbook.health())).stdout).not.toMatch(/init/);
  });

  it("gives up after the bound, loudly, and health says init failed", async () => {
    f.s3.refuseKey(true);
    const started = Date.now();
    const r = await f.scriptFromFiles(["init"]);
    const took = (Date.now() - started) / 1000;
    f.s3.refuseKey(false);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/pgbackrest stanza-create still failed after \d+ attempts in 20 s: giving up/);
    expect(r.stderr).toMatch(/job_init: FAILED/);
    expect(took).toBeGreaterThanOrEqual(14); // 2 + 4 + 8 s of backoff at least
    expect(took).toBeLessThan(60);
    const health = await f.scriptFromFiles(runbook.health());
    expect(health.code).toBe(1);
    expect(health.stdout).toMatch(/init: last run failed/);
    // and a later init, with the key working, clears it
    expectOk(await f.scriptFromFiles(["init"]), "hlpg-backup init (key works)");
    expect((await f.scriptFromFiles(runbook.health())).stdout).not.toMatch(/init/);
  });
});
