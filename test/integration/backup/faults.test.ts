// Faults with nothing lost, on real servers and the rendered config: the S3
// endpoint unreachable while writes continue (async archive-push queues WAL in
// pg_wal, health turns red within one archive interval, every segment goes up
// when the store is back, and a point inside the outage is restorable); then the
// sidecar killed in the middle of a full backup (the repository still passes
// `pgbackrest check`, and the next backup is accepted).
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { runbook } from "../../../components/backup";
import { PgInstance, chownTree, serviceSpawnOptions, tempDir } from "../harness";
import { BackupFixture, archiveCurrentWal, expectOk, serverNow, startBackupFixture } from "./fixture";

const ARCHIVE_TIMEOUT = 2;

describe("faults: S3 outage under writes, sidecar killed mid-backup", () => {
  let f: BackupFixture;
  let restored: PgInstance | undefined;
  const scratch: string[] = [];
  const readyFiles = () => fs.readdirSync(path.join(f.pg.dataDir, "pg_wal", "archive_status")).filter((n) => n.endsWith(".ready"));

  beforeAll(async () => {
    f = await startBackupFixture({ archiveTimeout: ARCHIVE_TIMEOUT });
    expectOk(await f.script(["init"]), "init");
    await f.pg.sql("create table ledger (id bigserial primary key, phase text not null)");
    await f.pg.sql("insert into ledger (phase) select 'before-outage' from generate_series(1, 1000)");
    expectOk(await f.script(["full"]), "full");
  });
  afterAll(async () => {
    f?.s3.unreachable(false);
    await restored?.destroy();
    await f?.destroy();
    for (const d of scratch) fs.rmSync(d, { recursive: true, force: true });
  });

  it("S3 unreachable: WAL queues locally, health is red within one archive interval, all of it goes up on return, PITR inside the outage works", async () => {
    const healthy = await f.script(runbook.health());
    expect({ code: healthy.code, out: healthy.stdout.trim() }).toEqual({ code: 0, out: "healthy" });
    f.s3.unreachable(true);
    const down = Date.now();
    await f.pg.sql("insert into ledger (phase) select 'outage-before-mark' from generate_series(1, 500)");
    // a few full segments while the store is away
    for (let i = 0; i < 3; i++) await f.pg.sql("select pg_switch_wal(); insert into ledger (phase) values ('switch')");
    await new Promise((r) => setTimeout(r, 50));
    const mark = await serverNow(f.pg);
    await new Promise((r) => setTimeout(r, 50));
    await f.pg.sql("insert into ledger (phase) select 'outage-after-mark' from generate_series(1, 500)");

    let red: { at: number; out: string } | undefined;
    while (!red && Date.now() - down < (ARCHIVE_TIMEOUT + 40) * 1000) {
      const h = await f.script(runbook.health());
      if (h.code !== 0) red = { at: Date.now(), out: h.stdout };
      else await new Promise((r) => setTimeout(r, 500));
    }
    expect(red?.out).toMatch(/^archive: [0-9A-F]{24} has waited \d+ s in pg_wal for the repository; \d+ segment\(s\) queued/m);
    // the switched segments are due at once: red one archive interval (+ the 10 s grace for a push) later
    expect((red!.at - down) / 1000).toBeLessThan(ARCHIVE_TIMEOUT + 10 + 5);
    // the segments wait in pg_wal (nothing is dropped: far below archive-push-queue-max)
    expect(readyFiles().length).toBeGreaterThanOrEqual(3);

    f.s3.unreachable(false);
    const last = await archiveCurrentWal(f.pg, 60_000);
    // every segment up to the last switch went up (a newer one may be on its way)
    expect(readyFiles().filter((n) => n.slice(0, 24) <= last)).toEqual([]);
    const green = await f.script(runbook.health());
    expect({ code: green.code, out: green.stdout.trim() }).toEqual({ code: 0, out: "healthy" });

    const parent = tempDir("outage-pitr");
    scratch.push(parent);
    const dataDir = path.join(parent, "data");
    fs.mkdirSync(dataDir, { mode: 0o700 });
    chownTree(dataDir);
    expectOk(await f.script(runbook.restoreCluster(mark, dataDir)), "restore-cluster inside the outage");
    restored = await f.startPostgres(dataDir);
    const c = await restored.connect();
    try {
      for (let i = 0; i < 150 && (await c.query("select pg_is_in_recovery() as r")).rows[0].r; i++) await new Promise((r) => setTimeout(r, 200));
      const phases = await c.query("select phase, count(*)::int as n from ledger where phase <> 'switch' group by phase order by phase");
      expect(phases.rows).toEqual([{ phase: "before-outage", n: 1000 }, { phase: "outage-before-mark", n: 500 }]);
    } finally {
      await c.end();
    }
    await restored.destroy();
    restored = undefined;
  });

  it("sidecar killed during a full backup: check and the next backup accept the repository", async () => {
    // enough data that the copy takes a few seconds
    await f.pg.sql("insert into ledger (phase) select md5(g::text) || repeat('x', 200) from generate_series(1, 250000) g");
    const before = f.s3.requests.length;
    const svc = serviceSpawnOptions();
    const child = spawn(f.scriptFile, ["full"], { ...svc, env: { ...svc.env, ...f.env }, detached: true, stdio: "ignore" });
    const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
    // the backup is copying files into the repository: kill the whole sidecar (SIGKILL, as `docker kill` does)
    const deadline = Date.now() + 60_000;
    while (!f.s3.requests.slice(before).some((r) => r.method === "PUT" && /\/backup\/itest\/\d{8}-\d{6}F\/(bundle|pg_data)\//.test(r.url))) {
      if (Date.now() > deadline) throw new Error("the backup never started copying");
      await new Promise((r) => setTimeout(r, 50));
    }
    process.kill(-child.pid!, "SIGKILL");
    await exited;
    const info = JSON.parse(expectOk(await f.pgbackrest(["--output=json", "info"]), "info").stdout) as { backup: { label: string }[] }[];
    expect(info[0].backup).toHaveLength(1); // the killed one never became a backup

    expectOk(await f.pgbackrest(["check"]), "pgbackrest check after the kill");
    const next = expectOk(await f.script(["full"]), "the next full backup");
    expect(next.stdout + next.stderr).toMatch(/new backup label = \d{8}-\d{6}F/);
    const after = expectOk(await f.script(runbook.info()), "info");
    expect(after.stdout).toMatch(/status: ok/);
    const health = await f.script(runbook.health());
    expect({ code: health.code, out: health.stdout.trim() }).toEqual({ code: 0, out: "healthy" });
  });
});
