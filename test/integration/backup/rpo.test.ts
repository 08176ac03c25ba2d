// The RPO the rendered archive_timeout promises, on a freshly started server.
// PostgreSQL 15+ starts the checkpointer during recovery, and its first sleep
// ignores archive_timeout (it lasts checkpoint_timeout, 5 min): without the
// sidecar's wake-up in `init`, a commit made now would reach the repository
// only minutes later. With it, within archive_timeout plus the push.
import { BackupFixture, expectOk, startBackupFixture } from "./fixture";

const ARCHIVE_TIMEOUT = 5;

describe("RPO bounded by archive_timeout from the first minute", () => {
  let f: BackupFixture;

  beforeAll(async () => {
    f = await startBackupFixture({ archiveTimeout: ARCHIVE_TIMEOUT });
  });
  afterAll(async () => {
    await f?.destroy();
  });

  it("a commit on a quiet, just-started server is in the repository within archive_timeout + a few seconds", async () => {
    const init = expectOk(await f.script(["init"]), "hlpg-backup init");
    expect(init.stderr).toMatch(/woke the checkpointer of the server started at/);
    const c = await f.pg.connect();
    try {
      await c.query("create table rpo (id int primary key)");
      const { rows } = await c.query("insert into rpo values (1) returning pg_walfile_name(pg_current_wal_insert_lsn()) as wal");
      const wal = rows[0].wal as string;
      const committed = Date.now();
      let archivedAfter: number | undefined;
      while (Date.now() - committed < 60_000) {
        const s = await c.query("select last_archived_wal from pg_stat_archiver");
        const last = s.rows[0].last_archived_wal as string | null;
        if (last !== null && last >= wal) {
          archivedAfter = (Date.now() - committed) / 1000;
          break;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(archivedAfter).toBeDefined();
      expect(archivedAfter!).toBeLessThan(ARCHIVE_TIMEOUT + 10);
    } finally {
      await c.end();
    }
    // once per postmaster: a second init does not reload again
    const again = expectOk(await f.script(["init"]), "hlpg-backup init");
    expect(again.stderr).not.toMatch(/woke the checkpointer/);
  });
});
