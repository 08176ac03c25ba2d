// Backups that do not need S3: the only repository a host directory (a NAS mount,
// a second disk) through the rendered config. The sidecar's commands work on it:
// init, full backup, logical dumps (into the directory, with the globals, rotated
// grandfather-father-son), the drill, health, and restore-cluster by backup label,
// transaction id and LSN.
import * as fs from "fs";
import * as path from "path";
import { parseRestoreTarget } from "../../../components/lib/restore-target";
import { runbook } from "../../../components/backup";
import { PgInstance, chownTree, tempDir, writeFile } from "../harness";
import { BackupFixture, archiveCurrentWal, expectOk, startBackupFixture } from "./fixture";

describe("posix repository without S3: sidecar, dumps, drill, health, restore by label, xid and LSN", () => {
  let f: BackupFixture;
  const scratch: string[] = [];
  const started: PgInstance[] = [];
  const fresh = () => {
    const parent = tempDir("posix-restore");
    scratch.push(parent);
    const d = path.join(parent, "data");
    fs.mkdirSync(d, { mode: 0o700 });
    chownTree(d);
    return d;
  };
  const restoreAndCount = async (args: string[], dataDir: string): Promise<number> => {
    expectOk(await f.script(args), `restore-cluster ${args.join(" ")}`);
    const pg = await f.startPostgres(dataDir);
    started.push(pg);
    const c = await pg.connect({ database: "notes" });
    try {
      for (let i = 0; i < 150 && (await c.query("select pg_is_in_recovery() as r")).rows[0].r; i++) await new Promise((r) => setTimeout(r, 200));
      return (await c.query("select count(*)::int as n from note")).rows[0].n as number;
    } finally {
      await c.end();
      await pg.stop();
    }
  };

  beforeAll(async () => {
    f = await startBackupFixture({
      s3: false, posix: true, archiveTimeout: 5,
      apps: [{ name: "notes", database: "notes", owner: "notes_owner" }], keep: { daily: 2, weekly: 1, monthly: 1 },
    });
    await f.pg.sql("create role notes_owner login password 'notes-pw'");
    await f.pg.sql("create database notes owner notes_owner template template0");
    await f.pg.sql("create table note (id serial primary key, body text); insert into note (body) select 'n' from generate_series(1, 100)", "notes");
  });
  afterAll(async () => {
    for (const pg of started) await pg.destroy().catch(() => undefined);
    await f?.destroy();
    for (const d of scratch) fs.rmSync(d, { recursive: true, force: true });
  });

  it("init and a full backup go to the directory; nothing touches S3", async () => {
    expectOk(await f.script(["init"]), "init");
    const full = expectOk(await f.script(["full"]), "full");
    expect(full.stderr + full.stdout).toMatch(/--repo=1 --type=full backup|new backup label = \d{8}-\d{6}F/);
    const info = expectOk(await f.script(runbook.info()), "info");
    expect(info.stdout).toMatch(/repo1: backup set size/);
    expect(fs.readdirSync(path.join(f.posixDir!, "pgbackrest", "itest", "backup", "itest")).some((n) => /^\d{8}-\d{6}F$/.test(n))).toBe(true);
    expect(f.s3.requests).toEqual([]);
  });

  it("logical dumps and the globals land in the directory, rotated; the drill restores and decrypts from it; health is green", async () => {
    // older dumps as if from earlier days: the rotation keeps 2 daily, 1 weekly, 1 monthly
    const appDir = path.join(f.posixDir!, "logical", "notes");
    fs.mkdirSync(appDir, { recursive: true });
    for (const stamp of ["20250101T024500Z", "20250102T024500Z", "20250103T024500Z"]) writeFile(path.join(appDir, `${stamp}.dump.age`), "old", 0o600);
    chownTree(path.join(f.posixDir!, "logical"));
    const logical = expectOk(await f.script(["logical"]), "logical");
    expect(logical.stderr).toMatch(/logical: globals -> logical\/_globals\/\d{8}T\d{6}Z\.sql\.age/);
    expect(logical.stderr).toMatch(/logical: pruned 2 old dump\(s\) under logical\/notes\//);
    const dumps = fs.readdirSync(appDir).sort();
    expect(dumps).toHaveLength(2);
    expect(dumps[0]).toBe("20250103T024500Z.dump.age");
    const globals = fs.readdirSync(path.join(f.posixDir!, "logical", "_globals"));
    expect(globals).toHaveLength(1);
    expect(fs.readFileSync(path.join(f.posixDir!, "logical", "_globals", globals[0])).subarray(0, 21).toString()).toBe("age-encryption.org/v1");

    const drill = expectOk(await f.script(runbook.drill()), "drill");
    expect(drill.stderr).toMatch(/drill: notes: database notes restored, 1 tables read in full, 100 rows/);
    expect(drill.stderr).toMatch(/drill: logical dump logical\/notes\/\d{8}T\d{6}Z\.dump\.age decrypts/);
    const health = await f.script(runbook.health());
    expect({ code: health.code, out: health.stdout.trim() }).toEqual({ code: 0, out: "healthy" });
    expect(f.s3.requests).toEqual([]);
  });

  it("restores by backup label, by transaction id and by LSN", async () => {
    const c = await f.pg.connect({ database: "notes" });
    let xid: string;
    let lsn: string;
    try {
      await c.query("insert into note (body) select 'a' from generate_series(1, 10)");
      xid = (await c.query("insert into note (body) values ('xid-target') returning txid_current()::text as x")).rows[0].x as string;
      await c.query("insert into note (body) select 'b' from generate_series(1, 20)");
      lsn = (await c.query("select pg_current_wal_insert_lsn()::text as l")).rows[0].l as string;
      await c.query("insert into note (body) select 'c' from generate_series(1, 40)");
    } finally {
      await c.end();
    }
    await archiveCurrentWal(f.pg);
    const info = JSON.parse(expectOk(await f.pgbackrest(["--output=json", "info"]), "info").stdout) as { backup: { label: string }[] }[];
    const label = info[0].backup[0].label;
    // the backup as it was: 100 rows
    expect(await restoreAndCount(runbook.restoreClusterTo(parseRestoreTarget(label)!, { pgPath: fresh(), repo: 1 }), scratch[scratch.length - 1] + "/data")).toBe(100);
    // up to and including the transaction: 100 + 10 + 1
    expect(await restoreAndCount(runbook.restoreClusterTo(parseRestoreTarget(`xid:${xid}`)!, { pgPath: fresh() }), scratch[scratch.length - 1] + "/data")).toBe(111);
    // up to the LSN: + 20
    expect(await restoreAndCount(runbook.restoreClusterTo(parseRestoreTarget(`lsn:${lsn}`)!, { pgPath: fresh() }), scratch[scratch.length - 1] + "/data")).toBe(131);
  });
});
