// Point-in-time recovery for real: PostgreSQL 15 archiving WAL with the rendered
// archive_command into an encrypted pgBackRest repository on an S3 endpoint
// (HTTPS, SigV4 checked), a full backup, more writes, a mark taken from the
// server's clock, damage, then the runbook's restore-cluster into a fresh data
// directory, started and inspected.
import * as fs from "fs";
import * as path from "path";
import { runbook } from "../../../components/backup";
import { PgInstance, chownTree, run, tempDir } from "../harness";
import { BackupFixture, archiveCurrentWal, expectOk, serverNow, startBackupFixture } from "./fixture";

const scratch: string[] = [];

/** An empty 0700 directory the service user owns, as pgBackRest and Postgres want it. */
function freshDataDir(prefix: string): string {
  const parent = tempDir(prefix);
  scratch.push(parent);
  const dataDir = path.join(parent, "data");
  fs.mkdirSync(dataDir, { mode: 0o700 });
  chownTree(dataDir);
  return dataDir;
}

describe("pgBackRest PITR through S3 with the rendered config", () => {
  let f: BackupFixture;
  let restored: PgInstance | undefined;

  beforeAll(async () => {
    f = await startBackupFixture();
  });
  afterAll(async () => {
    await restored?.destroy();
    await f?.destroy();
    for (const d of scratch) fs.rmSync(d, { recursive: true, force: true });
  });

  it("creates the stanza, archives WAL and takes an encrypted full backup", async () => {
    expectOk(await f.script(["init"]), "hlpg-backup init");
    await f.pg.sql(`
      create table ledger (id bigserial primary key, phase text not null, amount numeric not null, at timestamptz not null default clock_timestamp());
      create table customers (id int primary key, name text not null);
      insert into customers select g, 'customer-' || g from generate_series(1, 200) g;
      insert into ledger (phase, amount) select 'before-backup', g from generate_series(1, 1000) g;
    `);
    const full = expectOk(await f.script(["full"]), "hlpg-backup full");
    expect(full.stdout).toMatch(/new backup label = \d{8}-\d{6}F/);
    expect(fs.existsSync(path.join(f.workDir, "state", "backup.ok"))).toBe(true);

    const info = expectOk(await f.script(runbook.info()), "hlpg-backup info");
    expect(info.stdout).toMatch(/status: ok/);
    expect(info.stdout).toMatch(/cipher: aes-256-cbc/);
    expect(info.stdout).toMatch(/full backup: \d{8}-\d{6}F/);

    // What the bucket holds is ciphertext: the repository's info files are not readable INI.
    const keys = await f.s3.listKeys(`pgbackrest/${f.stanza}/`);
    expect(keys).toContain(`pgbackrest/${f.stanza}/backup/${f.stanza}/backup.info`);
    expect(keys.some((k) => /\/archive\/itest\/15-1\/[0-9A-F]{16}\/[0-9A-F]{24}-[0-9a-f]{40}\.zst$/.test(k))).toBe(true);
    const backupInfo = f.s3.readObject(`pgbackrest/${f.stanza}/backup/${f.stanza}/backup.info`);
    expect(backupInfo.toString("latin1")).not.toMatch(/\[backup:current\]|\[db\]|backrest-format/);
    // Every request was signed with the key the repository was given (the front checks SigV4).
    expect(f.s3.requests.length).toBeGreaterThan(0);
    expect(f.s3.requests.filter((r) => r.status === 403)).toEqual([]);
  });

  it("needs no secret env: pgBackRest and the script read the secrets from the uploaded files", async () => {
    // pgBackRest alone, with the conf the containers get (cipher pass + S3 key inside, 0600)
    expect(fs.statSync(f.secretsConfFile).mode & 0o777).toBe(0o600);
    expectOk(await f.pgbackrestFromConf(["stanza-create"]), "pgbackrest stanza-create (secrets conf)");
    expectOk(await f.pgbackrestFromConf(["check"]), "pgbackrest check (secrets conf)"); // archive-push of a fresh segment too
    const backup = expectOk(await f.pgbackrestFromConf(["--type=diff", "backup"]), "pgbackrest backup (secrets conf)");
    expect(backup.stdout).toMatch(/new backup label = \d{8}-\d{6}F_\d{8}-\d{6}D/);
    const info = JSON.parse(expectOk(await f.pgbackrestFromConf(["--output=json", "info"]), "pgbackrest info (secrets conf)").stdout) as {
      status: { code: number }; cipher: string; backup: { type: string }[];
    }[];
    expect(info[0].status.code).toBe(0);
    expect(info[0].cipher).toBe("aes-256-cbc");
    expect(info[0].backup.map((b) => b.type)).toEqual(["full", "diff"]);
    // the sidecar script, with only HLPG_SECRETS_FILE and TZ in its environment
    const viaScript = expectOk(await f.scriptFromFiles(runbook.info()), "hlpg-backup info (secrets files)");
    expect(viaScript.stdout).toMatch(/status: ok/);
    // without the conf's secrets the same call fails: the files are what made it work
    const bare = await run("/usr/bin/pgbackrest", [`--config=${f.confFile}`, `--stanza=${f.stanza}`, "check"], { env: { TZ: "UTC" } });
    expect(bare.code).not.toBe(0);
    expect(bare.stdout + bare.stderr).toMatch(/repo1-s3-key|repo1-cipher-pass/);
  });

  it("restores to a time between good writes and damage: the rows before the mark are there, the damage is not", async () => {
    await f.pg.sql("insert into ledger (phase, amount) select 'after-backup', g from generate_series(1, 500) g");
    await new Promise((r) => setTimeout(r, 50));
    const mark = await serverNow(f.pg);
    await new Promise((r) => setTimeout(r, 50));
    await f.pg.sql(`
      delete from ledger where id % 2 = 0;
      update ledger set amount = -1;
      insert into ledger (phase, amount) values ('damage', 666);
      drop table customers;
    `);
    // The WAL with the damage must be archived, or recovery could not see past the mark.
    await archiveCurrentWal(f.pg);

    const dataDir = freshDataDir("pitr");
    const r = expectOk(await f.script(runbook.restoreCluster(mark, dataDir)), "hlpg-backup restore-cluster");
    expect(r.stderr).toContain(`--type=time --target=${mark} --target-action=promote`);
    expect(r.stdout).toMatch(/restore command end: completed successfully/);
    expect(fs.readFileSync(path.join(dataDir, "postgresql.auto.conf"), "utf8")).toContain(`recovery_target_time = '${mark}'`);

    restored = await f.startPostgres(dataDir);
    const c = await restored.connect();
    try {
      // promote happens once the target is reached
      for (let i = 0; i < 150; i++) {
        const { rows } = await c.query("select pg_is_in_recovery() as rec");
        if (!rows[0].rec) break;
        await new Promise((res) => setTimeout(res, 200));
      }
      expect((await c.query("select pg_is_in_recovery() as rec")).rows[0].rec).toBe(false);
      const phases = await c.query("select phase, count(*)::int as n, sum(amount)::bigint as total from ledger group by phase order by phase");
      expect(phases.rows).toEqual([
        { phase: "after-backup", n: 500, total: "125250" },
        { phase: "before-backup", n: 1000, total: "500500" },
      ]);
      expect((await c.query("select count(*)::int as n from customers")).rows[0].n).toBe(200);
      // and the restored cluster is a working primary
      await c.query("insert into ledger (phase, amount) values ('after-restore', 1)");
    } finally {
      await c.end();
    }
  });

  it("fails loudly with a wrong repository passphrase", async () => {
    const wrong = { PGBACKREST_REPO1_CIPHER_PASS: "not-the-passphrase-at-all-0000" };
    const info = await f.script(runbook.info(), wrong);
    expect(info.code).not.toBe(0);
    expect(info.stderr).toMatch(/repository status is not ok/);
    expect(info.stdout).toMatch(/status: error/);

    const dataDir = freshDataDir("wrongpass");
    const restore = await f.script(runbook.restoreCluster("2030-01-01 00:00:00+00", dataDir), wrong);
    expect(restore.code).not.toBe(0);
    expect(restore.stdout + restore.stderr).toMatch(/unable to load info file/);
    expect(fs.existsSync(path.join(dataDir, "PG_VERSION"))).toBe(false);

    const wrongKey = await f.pgbackrest(["check"], { PGBACKREST_REPO1_S3_KEY_SECRET: "wrong-secret" });
    expect(wrongKey.code).not.toBe(0);
    expect(wrongKey.stdout + wrongKey.stderr).toMatch(/SignatureDoesNotMatch|403/);
  });
});
