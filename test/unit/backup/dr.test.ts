// Disaster-recovery renderers, pure: repositories in pgbackrest.conf (S3 and/or a
// posix path, async archive-push with its bound), restore targets and the
// runbook's arguments, the entrypoint's bootstrap, the grandfather-father-son
// rotation of the dumps (the script's own bash, sourced), the adoption options
// and the password command's SQL.
import { spawnSync } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { accessModel, renderAccessSql, renderAdoptSql } from "../../../components/apps/access";
import { adoptOptions, renderPasswordSyncSql } from "../../../components/apps/adopt";
import { renderPgBackRestConf, repoList, runbook, renderSidecarScript, SidecarScriptInput } from "../../../components/backup";
import { parseConfig } from "../../../components/config";
import { parseRestoreTarget, restoreTargetArgs } from "../../../components/lib/restore-target";
import { bootstrapId, renderPostgresEntrypoint } from "../../../components/server/entrypoint";
import { parseIni } from "../../helpers/ini";

const base = {
  stanza: "prod", compression: "zst" as const, retentionFull: 4, processMax: 2,
  pgPath: "/var/lib/postgresql/data/pgdata", socketPath: "/var/run/postgresql", pgPort: 5432, lockPath: "/tmp/pgbackrest",
};
const S3 = { bucket: "pg-backups", region: "eu-central-1" };
const SECRETS = { cipherPass: "cipher-pass-0123456789", s3Key: "AKIAEXAMPLE", s3KeySecret: "secret/key+abc" };

describe("pgbackrest.conf repositories", () => {
  it("keeps the bucket as repo1 and adds the posix path as repo2, each encrypted with its own retention", () => {
    const ini = parseIni(renderPgBackRestConf({ ...base, s3: S3, posix: { path: "/var/lib/pgbackrest-posix" } }, SECRETS));
    const g = ini.global;
    expect(g["repo1-type"]).toBe("s3");
    expect(g["repo2-type"]).toBe("posix");
    expect(g["repo2-path"]).toBe("/var/lib/pgbackrest-posix/pgbackrest/prod");
    expect(g["repo2-cipher-type"]).toBe("aes-256-cbc");
    expect(g["repo2-retention-full"]).toBe("4");
    expect(g["repo2-cipher-pass"]).toBe(SECRETS.cipherPass);
    expect(g["repo2-bundle"]).toBeUndefined();
    expect(Object.keys(g).filter((k) => k.startsWith("repo2-s3"))).toEqual([]);
    expect(repoList({ s3: S3, posix: { path: "/x" } })).toEqual([{ index: 1, type: "s3" }, { index: 2, type: "posix" }]);
  });

  it("makes the posix path repo1 when there is no bucket, with no S3 key anywhere", () => {
    const text = renderPgBackRestConf({ ...base, posix: { path: "/mnt/nas/pg" } }, { cipherPass: SECRETS.cipherPass });
    const g = parseIni(text).global;
    expect(g["repo1-type"]).toBe("posix");
    expect(g["repo1-path"]).toBe("/mnt/nas/pg/pgbackrest/prod");
    expect(text).not.toMatch(/s3/);
    expect(() => renderPgBackRestConf({ ...base }, SECRETS)).toThrow(/at least one repository/);
    expect(() => renderPgBackRestConf({ ...base, s3: S3 }, { cipherPass: "cipher-pass-0123456789" })).toThrow(/repo1 is an S3 repository/);
    expect(() => renderPgBackRestConf({ ...base, posix: { path: "relative/path" } })).toThrow(/posix repository path/);
  });

  it("archives asynchronously with a spool and a queue bound, for archive-push only", () => {
    const ini = parseIni(renderPgBackRestConf({ ...base, s3: S3, archiveQueue: { spoolPath: "/var/lib/postgresql/data/pgbackrest-spool", maxMb: 4096 } }));
    expect(ini["global:archive-push"]).toEqual({
      "log-level-console": "warn", "archive-async": "y", "spool-path": "/var/lib/postgresql/data/pgbackrest-spool", "archive-push-queue-max": "4096MiB",
    });
    expect(ini.global["archive-async"]).toBeUndefined(); // archive-get (restores, the drill) stays synchronous
    expect(parseIni(renderPgBackRestConf({ ...base, s3: S3 }))["global:archive-push"]["archive-async"]).toBe("n");
    expect(() => renderPgBackRestConf({ ...base, s3: S3, archiveQueue: { spoolPath: "/s", maxMb: 1 } })).toThrow(/archive queue max/);
  });
});

describe("restore targets", () => {
  it.each([
    ["latest", ["--type=default"]],
    ["2026-11-30 14:30:00+00", ["--type=time", "--target=2026-11-30 14:30:00+00", "--target-action=promote"]],
    ["2026-11-30T14:30:00.123456+01:00", ["--type=time", "--target=2026-11-30T14:30:00.123456+01:00", "--target-action=promote"]],
    ["20261130-021500F", ["--set=20261130-021500F", "--type=immediate", "--target-action=promote"]],
    ["20261130-021500F_20261201-021500D", ["--set=20261130-021500F_20261201-021500D", "--type=immediate", "--target-action=promote"]],
    ["xid:123456", ["--type=xid", "--target=123456", "--target-action=promote"]],
    ["lsn:0/3000060", ["--type=lsn", "--target=0/3000060", "--target-action=promote"]],
  ])("%s → pgBackRest %j", (text, args) => {
    expect(restoreTargetArgs(parseRestoreTarget(text)!)).toEqual(args);
  });

  it.each(["", "yesterday", "2026-11-30 14:30:00", "20261130-021500D", "xid:0", "xid:-1", "lsn:3000060", "latest; rm -rf /"])("refuses %j", (text) => {
    expect(parseRestoreTarget(text)).toBeUndefined();
  });

  it("gives the runbook's restore-cluster arguments for every form, with a repository and a path", () => {
    const t = (s: string) => parseRestoreTarget(s)!;
    expect(runbook.restoreClusterTo(t("20261130-021500F"), { repo: 2 })).toEqual(["restore-cluster", "--label", "20261130-021500F", "--repo", "2"]);
    expect(runbook.restoreClusterTo(t("xid:42"), { pgPath: "/tmp/x" })).toEqual(["restore-cluster", "--xid", "42", "--pg1-path", "/tmp/x"]);
    expect(runbook.restoreClusterTo(t("lsn:0/3000060"))).toEqual(["restore-cluster", "--lsn", "0/3000060"]);
    expect(runbook.restoreClusterTo(t("latest"))).toEqual(["restore-cluster", "--latest"]);
    expect(runbook.restoreClusterTo(t("2026-11-30 14:30:00+00"))).toEqual(["restore-cluster", "--time", "2026-11-30 14:30:00+00"]);
  });
});

describe("the entrypoint's bootstrap", () => {
  const bootstrap = { pgbackrestConf: "/etc/pgbackrest/runtime/pgbackrest.conf", stanza: "prod", target: parseRestoreTarget("2026-11-30 14:30:00+00")!, privatePort: 5433 };
  const text = renderPostgresEntrypoint({ configFile: "/etc/postgresql/postgresql.conf", next: "docker-entrypoint.sh", bootstrap });

  it("parses, restores with the target's options and runs before the password sync", () => {
    expect(spawnSync("bash", ["-n"], { input: text }).status).toBe(0);
    expect(text).toContain("readonly BOOTSTRAP_RESTORE=('--type=time' '--target=2026-11-30 14:30:00+00' '--target-action=promote')");
    expect(text).toContain(`readonly BOOTSTRAP_ID='${bootstrapId(bootstrap)}'`);
    expect(text).toMatch(/--config='\/etc\/pgbackrest\/runtime\/pgbackrest.conf' --stanza=prod --pg1-path="\$staging"/);
    expect(text).toContain("-c listen_addresses= -c port=5433");
    expect(text).toContain('-c unix_socket_directories="$sock" -c hot_standby=off &');
    expect(text.indexOf("  bootstrap_from_backup\n  sync_superuser_password")).toBeGreaterThan(0);
  });

  it("is absent without postgres.bootstrap", () => {
    const plain = renderPostgresEntrypoint({ configFile: "/etc/postgresql/postgresql.conf", next: "docker-entrypoint.sh" });
    expect(plain).not.toMatch(/bootstrap|pgbackrest/);
  });

  it("names the stanza and target in the marker, so another target on the same volume is refused", () => {
    expect(bootstrapId(bootstrap)).toBe("backup stanza=prod target=2026-11-30 14:30:00+00");
    expect(bootstrapId({ stanza: "prod", target: parseRestoreTarget("latest")! })).not.toBe(bootstrapId(bootstrap));
    expect(() => renderPostgresEntrypoint({ configFile: "/c", next: "n", bootstrap: { ...bootstrap, stanza: "Prod;x" } })).toThrow(/stanza/);
  });
});

describe("grandfather-father-son rotation of the dumps (the script's gfs_keep)", () => {
  let dir: string;
  const scriptInput: SidecarScriptInput = {
    stanza: "prod", pgbackrestConf: "/p.conf", runtimeFile: "/r.conf", pgData: "/d", socketDir: "/s", pgPort: 5432, pgBinDir: "/b",
    workDir: "/w", drillPort: 5499, drillTimeoutSeconds: 60, initTimeoutSeconds: 60, repoRetrySeconds: 60,
  };
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "hlpg-gfs-"));
    writeFileSync(path.join(dir, "s"), renderSidecarScript(scriptInput));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const keep = (keys: string[], d: number, w: number, m: number) => {
    const r = spawnSync("bash", ["-c", `source "$1"; gfs_keep ${d} ${w} ${m}`, "_", path.join(dir, "s")], { input: keys.join("\n") + "\n", encoding: "utf8", env: { PATH: process.env.PATH, TZ: "UTC" } });
    expect(r.status).toBe(0);
    return r.stdout.split("\n").filter(Boolean);
  };
  // one dump a day at 02:45 for 120 days up to 2026-11-30, two on the last day
  const days = Array.from({ length: 120 }, (_, i) => new Date(Date.UTC(2026, 10, 30) - (119 - i) * 86400_000));
  const key = (d: Date, hhmmss = "024500") => `logical/app/${d.toISOString().slice(0, 10).replace(/-/g, "")}T${hhmmss}Z.dump.age`;
  const keys = [...days.map((d) => key(d)), key(days[119], "120000")];

  it("keeps the newest of the last 7 days, of the last 4 ISO weeks and of the last 3 months", () => {
    const kept = keep(keys, 7, 4, 3);
    expect(kept).toEqual([
      "logical/app/20260930T024500Z.dump.age", // September's newest
      "logical/app/20261031T024500Z.dump.age", // October's
      "logical/app/20261115T024500Z.dump.age", // Sunday of ISO week 46
      "logical/app/20261122T024500Z.dump.age", // week 47
      "logical/app/20261124T024500Z.dump.age", "logical/app/20261125T024500Z.dump.age", "logical/app/20261126T024500Z.dump.age",
      "logical/app/20261127T024500Z.dump.age", "logical/app/20261128T024500Z.dump.age", "logical/app/20261129T024500Z.dump.age",
      "logical/app/20261130T120000Z.dump.age", // today's newest: also week 49's and November's
    ]);
  });

  it("keeps what it does not understand, and only dailies with weekly and monthly at 0", () => {
    expect(keep([...keys, "logical/app/manual-copy.dump.age"], 2, 0, 0)).toEqual([
      "logical/app/20261129T024500Z.dump.age", "logical/app/20261130T120000Z.dump.age", "logical/app/manual-copy.dump.age",
    ]);
  });
});

describe("adopting a restored cluster", () => {
  const model = accessModel(parseConfig("dev", { apps: [{ name: "notes", readonlyUsers: ["viewer"] }] }).apps);
  const pw = { notes_owner: "o-pw'quoted", notes_viewer: "v-pw" };

  it("imports roles (password ignored: SCRAM cannot be read back) and databases by name, only under bootstrap", () => {
    expect(adoptOptions("role", "notes_owner", true)).toEqual({ import: "notes_owner", ignoreChanges: ["password"] });
    expect(adoptOptions("database", "notes", true)).toEqual({ import: "notes" });
    expect(adoptOptions("role", "notes_owner", false)).toEqual({});
    expect(() => adoptOptions("role", "Robert'); drop", true)).toThrow();
  });

  it("sets every password with nothing logged, quoted", () => {
    const sql = renderPasswordSyncSql([{ name: "notes_owner", password: pw.notes_owner }]);
    expect(sql).toContain("SET log_min_error_statement = panic;");
    expect(sql).toContain(`ALTER ROLE "notes_owner" PASSWORD 'o-pw''quoted';`);
  });

  it("renders the access SQL with existence checks and ALTERs where it would CREATE, the rest unchanged", () => {
    const fresh = renderAccessSql(model, pw);
    const adopt = renderAdoptSql(model, pw);
    expect(adopt.cluster.filter((s) => /^CREATE (ROLE|DATABASE)/.test(s))).toEqual([]);
    expect(adopt.cluster).toContain(fresh.cluster.find((s) => s.startsWith('CREATE ROLE "notes_owner"'))!.replace("CREATE ROLE", "ALTER ROLE"));
    expect(adopt.cluster.some((s) => /RAISE EXCEPTION 'database % is missing/.test(s) && s.includes("'notes'"))).toBe(true);
    expect(adopt.cluster).toContain('ALTER DATABASE "notes" OWNER TO "notes_owner"');
    expect(adopt.perDatabase).toEqual(fresh.perDatabase);
  });
});
