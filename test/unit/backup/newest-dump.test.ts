// `restore-app <app> latest` and the drill take the NEWEST dump and backup, not
// the oldest. The rendered script runs for real in bash; only its edges are
// stubbed: the S3 calls (functions), pgbackrest and the server binaries (a fake
// PG_BIN directory of tiny scripts). The listings come oldest first, as S3 lists
// keys (UTF-8 order of the timestamped names) and as pgbackrest lists backups.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  BackupApp, DEFAULT_BACKUP_SCHEDULE, healthLimits, renderSidecarRuntime, renderSidecarScript,
} from "../../../components/backup";

const APPS: BackupApp[] = [{ name: "blog", database: "blog", owner: "blog_owner" }];
const DUMPS = ["20260101T024500Z", "20260102T024500Z", "20260103T024500Z"].map((s) => `logical/blog/${s}.dump.age`);
const BACKUPS = ["20260101-010000F", "20260102-010000F_20260102-130000I", "20260103-010000F"];

/** Fake server binaries: each records its call; psql answers what the drill asks. */
const FAKE_BIN: Record<string, string> = {
  // the script starts it in the background, where SIGINT is ignored on entry; like the real
  // server, it installs its own handler (perl-base is Essential in Debian)
  postgres: 'echo "postgres $*" >>"$CALLS"; exec perl -e \'$SIG{INT} = sub { exit 0 }; sleep 30\'',
  pg_isready: "exit 0",
  psql: `echo "psql $*" >>"$CALLS"
case "$*" in
  *pg_is_in_recovery*) echo f ;;
  *pg_database*) echo 1 ;;
esac`,
  pg_restore: 'echo "pg_restore $*" >>"$CALLS"; [[ $1 == --list ]] && printf "; header\\n1; 2615 TABLE public posts\\n"; exit 0',
  createdb: 'echo "createdb $*" >>"$CALLS"',
  pgbackrest: `echo "pgbackrest $*" >>"$CALLS"
case "$*" in
  *info*) printf '%s' "$BACKUP_INFO" ;;
esac`,
};

describe("the newest dump and backup are the ones restored", () => {
  let dir: string;
  let script: string;
  let calls: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "hlpg-newest-"));
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    for (const [name, body] of Object.entries(FAKE_BIN)) fs.writeFileSync(path.join(bin, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
    script = path.join(dir, "hlpg-backup");
    calls = path.join(dir, "calls");
    const runtimeFile = path.join(dir, "hlpg-backup.conf");
    fs.writeFileSync(script, renderSidecarScript({
      stanza: "unit", pgbackrestConf: path.join(dir, "pgbackrest.conf"), runtimeFile, pgData: path.join(dir, "data"), socketDir: dir, pgPort: 5432,
      pgBinDir: bin, workDir: path.join(dir, "work"), drillPort: 5499, drillTimeoutSeconds: 10, initTimeoutSeconds: 10, repoRetrySeconds: 10,
    }), { mode: 0o755 });
    fs.writeFileSync(runtimeFile, renderSidecarRuntime({
      s3: { bucket: "unit-backups", region: "us-east-1" }, ageRecipient: "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p", apps: APPS,
      schedule: DEFAULT_BACKUP_SCHEDULE, limits: healthLimits(DEFAULT_BACKUP_SCHEDULE),
    }));
  });
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Sources the script (its main does not run), stubs the S3 edge, runs `command`; returns the log and the recorded calls. */
  function run(command: string): { code: number | null; log: string; gets: string[]; calls: string[] } {
    fs.writeFileSync(calls, "");
    const stubs = `
s3_list() { [[ $1 == logical/blog/ ]] || return 1; printf '%s\\n' ${DUMPS.map((d) => `'${d}'`).join(" ")} logical/blog/notes.txt; }
s3_get() { echo "s3_get $2" >>"$CALLS"; printf 'dump of %s' "$2" >"$1"; }
age_decrypt() { cp "$1" "$2"; }
`;
    const info = JSON.stringify([{ name: "unit", status: { code: 0, message: "ok" }, backup: BACKUPS.map((label) => ({ label })) }]);
    const r = spawnSync("/bin/bash", ["-c", `set -euo pipefail; source "$1"; load_runtime || { echo "$RUNTIME_ERROR" >&2; exit 9; }; ${stubs} ${command}`, "hlpg-test", script], {
      env: { PATH: `${path.join(dir, "bin")}:${process.env.PATH}`, CALLS: calls, BACKUP_INFO: info, TZ: "UTC" }, encoding: "utf8", timeout: 60_000,
    });
    const recorded = fs.readFileSync(calls, "utf8").split("\n").filter(Boolean);
    return { code: r.status, log: r.stderr, gets: recorded.filter((c) => c.startsWith("s3_get ")).map((c) => c.slice(7)), calls: recorded };
  }

  it("restore-app <app> latest fetches and restores the newest dump", () => {
    const r = run("cmd_restore_app blog latest blog_restored");
    expect(r.code).toBe(0);
    expect(r.gets).toEqual([DUMPS[2]]);
    expect(r.log).toContain(`restore-app: ${DUMPS[2]} -> new database blog_restored (owner blog_owner)`);
    expect(r.calls.filter((c) => /^(createdb|pg_restore) /.test(c))).toEqual([
      expect.stringMatching(/^createdb .*--owner=blog_owner --template=template0 blog_restored$/),
      expect.stringMatching(/^pg_restore .*--dbname=blog_restored /),
    ]);
  });

  it("restore-app with an explicit older key takes that one", () => {
    const r = run(`cmd_restore_app blog '${DUMPS[0]}' blog_old`);
    expect(r.code).toBe(0);
    expect(r.gets).toEqual([DUMPS[0]]);
  });

  it("the drill restores the newest backup and decrypts the newest dump of each app", () => {
    const r = run("job_drill");
    expect(r.code).toBe(0);
    expect(r.log).toContain(`drill: restoring backup ${BACKUPS[2]} and archived WAL`);
    expect(r.log).toContain(`drill: physical restore of ${BACKUPS[2]} ok`);
    expect(r.gets).toEqual([DUMPS[2]]);
    expect(r.log).toContain(`drill: logical dump ${DUMPS[2]} decrypts, 1 archive entries`);
    // the physical restore is pgBackRest's default set: the newest, never one picked by label
    expect(r.calls.filter((c) => c.startsWith("pgbackrest ") && c.endsWith(" restore"))).toEqual([
      expect.not.stringMatching(/--set=/),
    ]);
  });
});
