// Disaster recovery for real: cluster A (the program's roles, an app's data)
// archives and backs up to S3 (s3rver over HTTPS); A's data is destroyed; the
// postgres container's rendered entrypoint, with postgres.bootstrap set, restores
// an empty data directory from the repository to a point in time, recovers it
// privately and promotes it; cluster B then starts on it. Rows up to the target
// are there and none after it, the app logs in with the password of the stack's
// state (re-applied by the program's password command), the program's access SQL
// applies in its adopting form, B archives on a new timeline, and a second
// bootstrap onto the now non-empty volume is refused.
import * as fs from "fs";
import * as path from "path";
import { parseConfig } from "../../../components/config";
import { accessModel, renderAccessSql, renderAdoptSql } from "../../../components/apps/access";
import { renderPasswordSyncSql } from "../../../components/apps/adopt";
import { renderPostgresEntrypoint } from "../../../components/server/entrypoint";
import { parseRestoreTarget } from "../../../components/lib/restore-target";
import { PgInstance, applyAccessSql, freePort, pgBin, pgBinDir, run, tempDir, writeFile } from "../harness";
import { BackupFixture, archiveCurrentWal, expectOk, serverNow, startBackupFixture } from "./fixture";

const config = parseConfig("dev", { apps: [{ name: "notes", readonlyUsers: ["viewer"] }] });
const model = accessModel(config.apps);

describe("bootstrap from backup: a dead cluster comes back from the repository", () => {
  let f: BackupFixture;
  let b: PgInstance | undefined;
  let work: string;
  let pgdata: string;
  let mark: string;
  let timeline1Wal: string[];
  const passwords: Record<string, string> = { notes_owner: "owner-pw-at-backup-time-0001", notes_viewer: "viewer-pw-0002" };
  /** What the stack's state holds after the rotation that came after the target. */
  const statePasswords: Record<string, string> = { ...passwords, notes_owner: "owner-pw-rotated-after-the-target-0003" };

  const entrypoint = async (target: string) => {
    const script = path.join(work, `entrypoint-${Math.random().toString(36).slice(2)}.sh`);
    writeFile(script, renderPostgresEntrypoint({
      configFile: path.join(f.pg.confDir, "postgresql.conf"),
      next: path.join(work, "next.sh"),
      // the containers' way: the conf with the cipher pass inside, no secret in the environment
      bootstrap: { pgbackrestConf: f.secretsConfFile, stanza: f.stanza, target: parseRestoreTarget(target)!, privatePort: await freePort() },
    }), 0o755);
    return run("bash", [script, "postgres", "-c", "config_file=ignored-by-the-stub"], {
      env: { PATH: `${pgBinDir()}:${process.env.PATH ?? ""}`, PGDATA: pgdata, POSTGRES_PASSWORD_FILE: path.join(work, "password"), TZ: "UTC" },
      timeoutMs: 60_000,
    });
  };

  const psqlScript = (pg: PgInstance, sql: string) =>
    run(pgBin("psql"), ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"], {
      input: sql,
      env: { PGHOST: "127.0.0.1", PGPORT: String(pg.port), PGUSER: "postgres", PGPASSWORD: pg.superPassword, PGDATABASE: "postgres" },
    });

  beforeAll(async () => {
    f = await startBackupFixture({ archiveTimeout: 5 });
    work = tempDir("bootstrap");
    // the new host's volume is mounted where the old one was: the same PGDATA path (pgbackrest.conf's pg1-path)
    pgdata = f.pg.dataDir;
    // stands in for the image's docker-entrypoint.sh: the hand-over and its arguments
    writeFile(path.join(work, "next.sh"), '#!/usr/bin/env bash\necho "handed over: $*"\n', 0o755);
    writeFile(path.join(work, "password"), f.pg.superPassword, 0o600);
  });
  afterAll(async () => {
    await b?.destroy();
    await f?.destroy();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it("cluster A: the program's roles, the app's data, a full backup, more writes, a target, writes after it", async () => {
    await applyAccessSql(f.pg, renderAccessSql(model, passwords));
    const owner = await f.pg.connect({ user: "notes_owner", password: passwords.notes_owner, database: "notes" });
    try {
      await owner.query("create table entry (id serial primary key, phase text not null)");
      await owner.query("insert into entry (phase) select 'before-backup' from generate_series(1, 1000)");
    } finally {
      await owner.end();
    }
    expectOk(await f.script(["init"]), "init");
    expectOk(await f.script(["full"]), "full");
    await f.pg.sql("insert into entry (phase) select 'after-backup' from generate_series(1, 300)", "notes");
    await new Promise((r) => setTimeout(r, 50));
    mark = await serverNow(f.pg);
    await new Promise((r) => setTimeout(r, 50));
    await f.pg.sql("insert into entry (phase) select 'after-target' from generate_series(1, 200)", "notes");
    // the stack rotates the owner's password after the target: state has the new one
    await f.pg.sql(`alter role notes_owner password '${statePasswords.notes_owner}'`);
    await archiveCurrentWal(f.pg);
    timeline1Wal = (await f.s3.listKeys(`pgbackrest/${f.stanza}/archive/${f.stanza}/`)).filter((k) => /\/00000001[0-9A-F]{16}-/.test(k));
    expect(timeline1Wal.length).toBeGreaterThan(0);
    // the host dies: its data is gone
    await f.pg.stop();
    fs.rmSync(f.pg.dataDir, { recursive: true, force: true });
  });

  it("cluster B: the rendered entrypoint restores the empty volume to the target, promotes it, then hands over", async () => {
    const r = await entrypoint(mark);
    expect({ code: r.code, out: r.code === 0 ? "" : r.stdout + r.stderr }).toEqual({ code: 0, out: "" });
    expect(r.stdout).toMatch(/is empty and postgres.bootstrap is set: restoring from the backup repository/);
    expect(r.stdout).toMatch(/restored and promoted on timeline 2/);
    expect(r.stdout).toMatch(/superuser password set from/);
    expect(r.stdout).toMatch(/^handed over: postgres -c config_file=ignored-by-the-stub$/m);
    expect(fs.readFileSync(`${pgdata}.hlpg-bootstrap`, "utf8").trim()).toBe(`backup stanza=${f.stanza} target=${mark}`);
    expect(fs.existsSync(`${pgdata}.hlpg-bootstrap-partial`)).toBe(false);

    b = await f.startPostgres(pgdata);
    const c = await b.connect({ database: "notes" });
    try {
      expect((await c.query("select pg_is_in_recovery() as r")).rows[0].r).toBe(false);
      expect((await c.query("select timeline_id from pg_control_checkpoint()")).rows[0].timeline_id).toBe(2);
      const phases = await c.query("select phase, count(*)::int as n from entry group by phase order by phase");
      expect(phases.rows).toEqual([{ phase: "after-backup", n: 300 }, { phase: "before-backup", n: 1000 }]);
    } finally {
      await c.end();
    }
  });

  it("converges: the roles and database are adopted, the state's passwords re-applied, the app logs in", async () => {
    // the restored pg_authid holds the password of the target's time, not the state's
    await expect(b!.connect({ user: "notes_owner", password: statePasswords.notes_owner, database: "notes" })).rejects.toThrow(/password authentication failed/);
    // what the provider's Create would run fails: the roles came back with the data (hence the import)
    await expect(applyAccessSql(b!, renderAccessSql(model, statePasswords))).rejects.toThrow(/already exists/);
    // the program's adopting access SQL applies cleanly, twice (idempotent)
    await applyAccessSql(b!, renderAdoptSql(model, statePasswords));
    await applyAccessSql(b!, renderAdoptSql(model, statePasswords));
    // the password command, as the program runs it
    const sync = await psqlScript(b!, renderPasswordSyncSql(Object.entries(statePasswords).map(([name, password]) => ({ name, password }))));
    expect({ code: sync.code, stderr: sync.stderr }).toEqual({ code: 0, stderr: "" });
    const owner = await b!.connect({ user: "notes_owner", password: statePasswords.notes_owner, database: "notes" });
    const viewer = await b!.connect({ user: "notes_viewer", password: statePasswords.notes_viewer, database: "notes" });
    try {
      await owner.query("insert into entry (phase) values ('on-b')");
      expect((await viewer.query("select count(*)::int as n from entry")).rows[0].n).toBe(1301);
      await expect(viewer.query("insert into entry (phase) values ('nope')")).rejects.toThrow(/permission denied/);
    } finally {
      await owner.end();
      await viewer.end();
    }
    // an adoption of a role that is not there fails loudly (as the import would)
    const missing = accessModel(parseConfig("dev", { apps: [{ name: "ghost" }] }).apps);
    await expect(applyAccessSql(b!, renderAdoptSql(missing, { ghost_owner: "x-password-0000000000" }))).rejects.toThrow(/role ghost_owner is missing/);
  });

  it("B archives on its new timeline; the history it came from is left as it was", async () => {
    await archiveCurrentWal(b!, 30_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${b!.server.output.slice(-4000)}`);
    });
    const keys = await f.s3.listKeys(`pgbackrest/${f.stanza}/archive/${f.stanza}/`);
    expect(keys.some((k) => /\/00000002\.history$/.test(k))).toBe(true);
    expect(keys.some((k) => /\/00000002[0-9A-F]{16}-/.test(k))).toBe(true);
    expect(keys.filter((k) => /\/00000001[0-9A-F]{16}-/.test(k))).toEqual(timeline1Wal);
    expectOk(await f.pgbackrestFromConf([`--pg1-port=${b!.port}`, `--pg1-socket-path=${b!.socketDir}`, "check"]), "pgbackrest check on B");
  });

  it("a second bootstrap onto the non-empty volume is refused; a restart of the bootstrapped one is not", async () => {
    await b!.stop();
    const before = fs.readdirSync(pgdata).sort();
    const control = fs.readFileSync(path.join(pgdata, "global", "pg_control"));
    const other = await entrypoint("latest");
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/REFUSED: postgres.bootstrap is set \(backup stanza=itest target=latest\) but .* is not empty/);
    expect(other.stderr).toMatch(/it was restored by another bootstrap: backup stanza=itest target=/);
    expect(other.stdout).not.toMatch(/handed over/);
    expect(fs.readdirSync(pgdata).sort()).toEqual(before);
    expect(fs.readFileSync(path.join(pgdata, "global", "pg_control")).equals(control)).toBe(true);

    const again = await entrypoint(mark);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/was restored by this bootstrap earlier/);
    expect(again.stdout).not.toMatch(/restoring from the backup repository/);
    expect(again.stdout).toMatch(/handed over: postgres/);
  });
});
