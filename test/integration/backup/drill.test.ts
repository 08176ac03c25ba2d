// The sidecar's life, on real processes: the entrypoint (scheduler) creates the
// stanza and takes the first full backup by itself; the restore drill restores
// that backup into scratch space, starts it, reads every app table and decrypts
// the latest dumps; health reflects success, failure and staleness.
import * as fs from "fs";
import * as path from "path";
import { runbook } from "../../../components/backup";
import { ServerProcess, waitFor, writeFile } from "../harness";
import { BackupFixture, expectOk, startBackupFixture } from "./fixture";

describe("backup sidecar: entrypoint, restore drill and health", () => {
  let f: BackupFixture;
  let scheduler: ServerProcess | undefined;
  const state = (file: string) => path.join(f.workDir, "state", file);

  beforeAll(async () => {
    f = await startBackupFixture({ apps: [{ name: "notes", database: "notes", owner: "notes_owner" }] });
    await f.pg.sql("create role notes_owner login password 'notes-pw'");
    await f.pg.sql("create database notes owner notes_owner template template0");
    await f.pg.sql("set role notes_owner; create table note (id int primary key, body text); insert into note select g, repeat('n', 100) from generate_series(1, 2000) g", "notes");
  });
  afterAll(async () => {
    await scheduler?.stop("SIGTERM");
    await f?.destroy();
  });

  it("entrypoint: initialises the stanza and takes the first full backup unprompted", async () => {
    scheduler = new ServerProcess(f.scriptFile, ["scheduler"], { env: f.env });
    await waitFor("first full backup by the scheduler", async () => fs.existsSync(state("backup.ok")) || fs.existsSync(state("backup.failed")), 90_000, scheduler);
    expect(fs.existsSync(state("backup.failed"))).toBe(false);
    expect(fs.existsSync(state("init.ok"))).toBe(true);
    await waitFor("scheduler loop", async () => /scheduler: running/.test(scheduler!.output), 10_000, scheduler);
    expect(scheduler.output).toMatch(/stanza-create command end: completed successfully/);
    expect(scheduler.output).toMatch(/check command end: completed successfully/);
    expect(scheduler.output).toMatch(/no backup yet, taking a full backup now/);
    expect(scheduler.output).toMatch(/new backup label = \d{8}-\d{6}F/);
    await scheduler.stop("SIGTERM");
    expect(scheduler.running).toBe(false);
    expect(scheduler.output).toMatch(/scheduler: stopping/);
  });

  it("drill: restores the latest backup, reads every app table, decrypts the latest dumps; health is green", async () => {
    expectOk(await f.script(["logical"]), "hlpg-backup logical");
    const drill = expectOk(await f.script(runbook.drill()), "hlpg-backup drill");
    const out = drill.stdout + drill.stderr;
    expect(out).toMatch(/restore command end: completed successfully/);
    expect(out).toMatch(/drill: notes: database notes restored, 1 tables read in full, 2000 rows/);
    expect(out).toMatch(/drill: logical dump logical\/notes\/\d{8}T\d{6}Z\.dump\.age decrypts, \d+ archive entries/);
    expect(out).toMatch(/job_drill: ok/);
    // the scratch copy is gone and it pushed nothing into the repository (archive_mode was off)
    expect(fs.existsSync(path.join(f.workDir, "scratch", "drill"))).toBe(false);
    expect((await f.s3.listKeys(`pgbackrest/${f.stanza}/archive/${f.stanza}/`)).filter((k) => /\.history|\/00000002/.test(k))).toEqual([]);

    const health = await f.script(runbook.health());
    expect({ code: health.code, out: health.stdout.trim() }).toEqual({ code: 0, out: "healthy" });
  });

  it("a drill that cannot decrypt the repository fails, and health turns red until a drill succeeds", async () => {
    const bad = await f.script(runbook.drill(), { PGBACKREST_REPO1_CIPHER_PASS: "wrong-wrong-wrong-wrong-wrong" });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/repository status is not ok/);
    expect(bad.stderr).toMatch(/job_drill: FAILED with exit \d+/);
    const red = await f.script(runbook.health());
    expect(red.code).toBe(1);
    expect(red.stdout).toMatch(/drill: last run failed/);

    expectOk(await f.script(runbook.drill()), "hlpg-backup drill");
    expect((await f.script(runbook.health())).code).toBe(0);
  });

  it("health turns red when the last good backup is older than the schedule allows", async () => {
    const twoDaysAgo = Math.floor(Date.now() / 1000) - 2 * 86400;
    writeFile(state("backup.ok"), `${twoDaysAgo}\n`, 0o644);
    const r = await f.script(runbook.health());
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/backup: no successful run for 28\d\d min \(limit 1800 min\)/);
    expectOk(await f.script(["diff"]), "hlpg-backup diff");
    expect((await f.script(runbook.health())).code).toBe(0);
  });
});
