// A standby bootstrapped from the backup repository (standby.bootstrap: backup) and
// falling back to the archive, on real PostgreSQL 15 + pgBackRest: a primary
// archiving to a posix repository (backup/fixture.ts), the entrypoint's rendered
// standby bootstrap (`pgbackrest restore --type=standby` into an empty volume), the
// rendered standby settings with restore_command = the rendered archive-get. Then:
// the restored standby streams through the managed slot; stopped, it loses the
// slot and the primary removes the WAL it needs; restarted, it replays that WAL
// from the archive and streams again.
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import { archiveGetCommand, archiveSettings, renderPgBackRestConf } from "../../../components/backup";
import { renderPostgresEntrypoint } from "../../../components/server/entrypoint";
import { renderPgpass } from "../../../components/server/standby-conf";
import { REPLICATOR, STANDBY_APPLICATION_NAME, defaultSlotName, standbyConf } from "../../../components/replica/model";
import { physicalSlotSql, roleCreate } from "../../helpers/provider-sql";
import { BackupFixture, archiveCurrentWal, expectOk, startBackupFixture } from "../backup/fixture";
import { PgInstance, pgBinDir, requireBinary, run, startPostgres, tempDir, waitFor, writeFile } from "../harness";

const HOST = "127.0.0.1";

describe("standby from the backup repository, with the archive as fallback (PostgreSQL 15, pgBackRest)", () => {
  let f: BackupFixture;
  let standby: PgInstance | undefined;
  let restarted: PgInstance | undefined;
  let work: string;
  let pgdata: string;
  let tlsFiles: Record<string, string>;
  let standbyStart: () => Promise<PgInstance>;
  let restoreCommand: string;
  const tlsConf = { tls: { certFile: "tls/server.crt", keyFile: "tls/server.key" } };
  const hbaReplication = { user: REPLICATOR.name, address: HOST };
  const slot = defaultSlotName("dev");
  const replicatorPassword = `repl-${Math.random().toString(36).slice(2)}`;

  const rows = async (pg: PgInstance, sql: string): Promise<Record<string, unknown>[]> => {
    const c = await pg.connect();
    try {
      return (await c.query(sql)).rows as Record<string, unknown>[];
    } finally {
      await c.end();
    }
  };
  const notes = async (pg: PgInstance) => (await rows(pg, "select note from t order by id")).map((r) => r.note);
  /** Waits until the primary streams to the standby through the slot; a timeout shows the standby's log. */
  const streaming = (sb: PgInstance) =>
    waitFor("the standby streams through the slot", async () => (await rows(f.pg, `
      select 1 from pg_stat_replication r join pg_replication_slots s on s.active_pid = r.pid
      where s.slot_name = '${slot}' and r.state = 'streaming' and r.application_name = '${STANDBY_APPLICATION_NAME}'`)).length === 1, 20_000, sb.server);
  const caughtUp = async (to: PgInstance) => {
    const [{ lsn }] = await rows(f.pg, "select pg_current_wal_lsn()::text as lsn");
    await waitFor("the standby replays the primary's WAL", async () =>
      (await rows(to, `select pg_last_wal_replay_lsn() >= '${String(lsn)}'::pg_lsn as ok`))[0].ok === true, 20_000);
  };
  const entrypoint = (dataDir: string) =>
    run("bash", [path.join(work, "entrypoint.sh"), "postgres"], {
      env: { PATH: `${pgBinDir()}:${process.env.PATH ?? ""}`, PGDATA: dataDir, POSTGRES_PASSWORD_FILE: path.join(work, "password"), TZ: "UTC" },
      timeoutMs: 60_000,
    });

  beforeAll(async () => {
    work = tempDir("standby-backup");
    execFileSync(requireBinary("/usr/bin/openssl", "openssl"), [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=postgres",
      "-keyout", path.join(work, "server.key"), "-out", path.join(work, "server.crt"),
    ], { stdio: "ignore" });
    tlsFiles = { "tls/server.crt": fs.readFileSync(path.join(work, "server.crt"), "utf8"), "tls/server.key": fs.readFileSync(path.join(work, "server.key"), "utf8") };
    // a posix repository: the same pgBackRest code path for restore and archive-get, without s3rver
    f = await startBackupFixture({ s3: false, posix: true, archiveTimeout: 5, conf: tlsConf, server: { extraFiles: tlsFiles, hbaReplication } });
    // what `pulumi up` creates on the primary: the replication role and the slot
    await f.pg.sql(roleCreate({ ...REPLICATOR, password: replicatorPassword }));
    const c = await f.pg.connect();
    await c.query(physicalSlotSql.create, [slot]);
    await c.end();
    await f.pg.sql("create table t (id serial primary key, note text not null); insert into t (note) values ('before the backup')");
    expectOk(await f.pgbackrestFromConf(["stanza-create"]), "stanza-create");
    expectOk(await f.pgbackrestFromConf(["--type=full", "backup"]), "full backup");
    await f.pg.sql("insert into t (note) values ('after the backup')");

    // the standby host: the primary's pgbackrest.conf with its secrets (as the stack delivers it), whose
    // pg1-path is the standby's PGDATA (in the stack both containers mount the volume at the same path;
    // archive-get refuses to run in a data directory that is not pg1-path); its recovery settings
    // with the repository's archive-get as restore_command; the primary's archiving (idle in recovery)
    pgdata = path.join(tempDir("standby-volume"), "pgdata");
    const standbyPgbackrestConf = path.join(work, "pgbackrest.conf");
    writeFile(standbyPgbackrestConf, renderPgBackRestConf({
      stanza: f.stanza, posix: { path: f.posixDir! }, archiveQueue: { spoolPath: path.join(work, "spool"), maxMb: 4096 }, compression: "zst",
      retentionFull: 2, processMax: 2, pgPath: pgdata, socketPath: path.join(work, "sock"), pgPort: 5432, lockPath: path.join(work, "lock"),
    }, { cipherPass: f.passphrase }), 0o600);
    const passfile = path.join(work, "replication.pgpass");
    writeFile(passfile, renderPgpass([{ host: HOST, port: f.pg.port, database: "replication", user: REPLICATOR.name, password: replicatorPassword }]), 0o600);
    restoreCommand = archiveGetCommand({ stanza: f.stanza, configFile: standbyPgbackrestConf });
    const conf = standbyConf({ primary: { host: HOST, port: f.pg.port }, slot, sslmode: "require", passfile, restoreCommand });
    const archive = archiveSettings({ stanza: f.stanza, configFile: standbyPgbackrestConf, timeoutSeconds: 5 });
    standbyStart = () => startPostgres({
      existingDataDir: pgdata, superPassword: f.pg.superPassword, extraFiles: tlsFiles, hbaReplication, conf: { ...tlsConf, standby: conf, archive },
    });
    writeFile(path.join(work, "next.sh"), '#!/usr/bin/env bash\necho "handed over: $*"\n', 0o755);
    writeFile(path.join(work, "password"), f.pg.superPassword, 0o600);
    writeFile(path.join(work, "entrypoint.sh"), renderPostgresEntrypoint({
      configFile: path.join(work, "unused.conf"), next: path.join(work, "next.sh"),
      standby: { from: "backup", pgbackrestConf: standbyPgbackrestConf, stanza: f.stanza },
    }), 0o755);
  });

  afterAll(async () => {
    await restarted?.destroy();
    if (standby) {
      await standby.stop();
      fs.rmSync(standby.dir, { recursive: true, force: true });
    }
    await f?.destroy();
    if (pgdata) fs.rmSync(path.dirname(pgdata), { recursive: true, force: true });
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it("the rendered bootstrap restores the newest backup as a standby into the empty volume; it streams through the slot and refuses writes", async () => {
    const boot = await entrypoint(pgdata);
    expect({ code: boot.code, stderr: boot.stderr }).toEqual({ code: 0, stderr: "" });
    expect(boot.stdout).toMatch(/is empty: cloning the standby \(backup\)/);
    expect(boot.stdout).toMatch(/standby cloned/);
    expect(boot.stdout).toMatch(/handed over: postgres$/m);
    expect(fs.existsSync(path.join(pgdata, "standby.signal"))).toBe(true);
    expect(fs.existsSync(`${pgdata}.hlpg-standby-partial`)).toBe(false);

    // pgBackRest's own restore_command (with --pg1-path of the staging directory, gone now) is
    // commented out of postgresql.auto.conf: the rendered one in postgresql.conf is in force
    const autoConf = fs.readFileSync(path.join(pgdata, "postgresql.auto.conf"), "utf8");
    expect(autoConf).toMatch(/Recovery settings generated by pgBackRest/);
    expect(autoConf).not.toMatch(/^\s*restore_command/m);
    standby = await standbyStart();
    expect(await rows(standby, "show restore_command")).toEqual([{ restore_command: restoreCommand }]);
    await streaming(standby);
    const [r] = await rows(f.pg, `
      select r.usename, s.ssl from pg_stat_replication r join pg_stat_ssl s using (pid) where r.application_name = '${STANDBY_APPLICATION_NAME}'`);
    expect(r).toEqual({ usename: REPLICATOR.name, ssl: true });
    // the row written after the backup came from the archive or the stream; the next one from the stream
    await f.pg.sql("insert into t (note) values ('streamed')");
    await caughtUp(standby);
    expect(await notes(standby)).toEqual(["before the backup", "after the backup", "streamed"]);
    expect(await rows(standby, "select pg_is_in_recovery() as r")).toEqual([{ r: true }]);
    await expect(standby.sql("insert into t (note) values ('on the standby')")).rejects.toThrow(/read-only transaction/);
  });

  it("a data directory that is not empty is never restored over", async () => {
    const other = path.join(work, "not-empty");
    writeFile(path.join(other, "keep-me"), "operator's file\n", 0o600);
    const r = await entrypoint(other);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/holds a cluster without standby\.signal \(promoted\): starting it as a primary; it is never overwritten/);
    expect(fs.readdirSync(other)).toEqual(["keep-me"]);
    expect(fs.existsSync(`${other}.hlpg-standby-partial`)).toBe(false);
    // and the standby's own volume starts as it is
    const again = await entrypoint(pgdata);
    expect(again.stdout).toMatch(/holds a standby; starting it as it is/);
  });

  it("behind a dropped slot and removed WAL, the restarted standby replays from the archive, then streams again", async () => {
    await standby!.stop();
    const [{ wal: needed }] = await rows(f.pg, "select pg_walfile_name(restart_lsn) as wal from pg_replication_slots where slot_name = '" + slot + "'");
    expect(needed).toMatch(/^[0-9A-F]{24}$/);
    // the slot is lost (dropped, or invalidated by max_slot_wal_keep_size): nothing keeps the WAL for the standby
    const c = await f.pg.connect();
    await c.query(physicalSlotSql.delete, [slot]);
    await c.end();
    for (let i = 0; i < 3; i++) {
      await f.pg.sql(`insert into t (note) values ('while the standby was down ${i}')`);
      await archiveCurrentWal(f.pg);
    }
    await f.pg.sql("checkpoint");
    const onPrimary = (await rows(f.pg, "select name from pg_ls_waldir()")).map((w) => w.name as string);
    expect(onPrimary).not.toContain(needed);
    // the managed slot comes back (the next `pulumi up` recreates it)
    const c2 = await f.pg.connect();
    await c2.query(physicalSlotSql.create, [slot]);
    await c2.end();

    restarted = await standbyStart();
    await streaming(restarted);
    await f.pg.sql("insert into t (note) values ('streamed again')");
    await caughtUp(restarted);
    expect((await notes(restarted)).slice(3)).toEqual([0, 1, 2].map((i) => `while the standby was down ${i}`).concat("streamed again"));
    // the WAL the primary no longer had came from the repository through restore_command
    expect(restarted.server.output).toMatch(new RegExp(`restored log file "${String(needed)}" from archive`));
    expect(restarted.server.output).not.toMatch(/archive-get command end: aborted/);
  });
});
