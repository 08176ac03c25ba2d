// Render-level properties of the backup text: pgbackrest.conf, archive settings,
// the age key, cron arithmetic (croner in TypeScript and the script's bash must
// agree), the sidecar script (validated, quoted, parseable by bash, the same text
// for every stack config) and its runtime file (rendered, and read back by the
// script's own loader, which refuses what the renderer would).
import { execFileSync, spawnSync } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import type { BackupSchedule } from "../../../components/config";
import {
  AGE_RECIPIENT, BACKUP_JOBS, LOGICAL_PREFIX, SECRETS_FILE_ENV, SIDECAR_SECRET_VARS, SidecarRuntimeInput, SidecarScriptInput, ageKeyFromPassphrase, archiveSettings,
  bech32Encode, healthLimits, renderPgBackRestConf, renderSidecarRuntime, renderSidecarScript, repoPath, runbook, s3Target, renderSidecarSecretsEnv,
  stanzaName,
} from "../../../components/backup";
import { cronMatches, maxCronGapMinutes } from "../../../components/lib/cron";
import { shellQuote } from "../../../components/lib/quote";
import { renderPostgresqlConf } from "../../../components/server/postgresql-conf";
import { parseIni } from "../../helpers/ini";
import { NASTY_SECRETS } from "../../helpers/nasty";


const base = {
  stanza: "prod",
  s3: { bucket: "pg-backups", region: "eu-central-1" },
  compression: "zst" as const,
  retentionFull: 4,
  processMax: 2,
  pgPath: "/var/lib/postgresql/data",
  socketPath: "/var/run/postgresql",
  pgPort: 5432,
  lockPath: "/tmp/pgbackrest",
};

const SCHEDULE: BackupSchedule = { full: "15 2 * * 0", diff: "15 2 * * 1-6", logical: "45 2 * * *", drill: "30 4 * * 6" };

function scriptInput(over: Partial<SidecarScriptInput> = {}): SidecarScriptInput {
  return {
    stanza: "prod", pgbackrestConf: "/etc/pgbackrest/runtime/pgbackrest.conf", runtimeFile: "/etc/hlpg-backup/hlpg-backup.conf",
    pgData: "/var/lib/postgresql/data", socketDir: "/var/run/postgresql", pgPort: 5432, pgBinDir: "/usr/lib/postgresql/17/bin",
    workDir: "/var/lib/hlpg-backup", drillPort: 5499, drillTimeoutSeconds: 3600, initTimeoutSeconds: 300, repoRetrySeconds: 120,
    ...over,
  };
}

const RECIPIENT = ageKeyFromPassphrase("unit-test-passphrase-0123456789").recipient;

function runtimeInput(over: Partial<SidecarRuntimeInput> = {}): SidecarRuntimeInput {
  return {
    s3: { bucket: "pg-backups", region: "eu-central-1" }, ageRecipient: RECIPIENT,
    apps: [{ name: "lang-fuse", database: "lang_fuse", owner: "lang_fuse_owner" }, { name: "wiki", database: "wiki", owner: "wiki_owner" }],
    schedule: SCHEDULE, limits: { backup: 1800, logical: 1800, drill: 10440 },
    ...over,
  };
}

describe("pgbackrest.conf", () => {
  it("points repo1 at the bucket over S3, encrypted, with retention and compression from config", () => {
    const ini = parseIni(renderPgBackRestConf(base));
    const g = ini.global;
    expect(g["repo1-type"]).toBe("s3");
    expect(g["repo1-s3-bucket"]).toBe("pg-backups");
    expect(g["repo1-s3-region"]).toBe("eu-central-1");
    expect(g["repo1-s3-endpoint"]).toBe("s3.eu-central-1.amazonaws.com");
    expect(g["repo1-s3-uri-style"]).toBe("host");
    expect(g["repo1-cipher-type"]).toBe("aes-256-cbc");
    expect(g["repo1-retention-full"]).toBe("4");
    expect(g["compress-type"]).toBe("zst");
    expect(g["start-fast"]).toBe("y");
    expect(g["log-level-file"]).toBe("off");
    expect(g["repo1-path"]).toBe(repoPath("prod"));
    expect(g["repo1-path"]).toContain("prod");
    expect(ini.prod).toEqual({ "pg1-path": "/var/lib/postgresql/data", "pg1-socket-path": "/var/run/postgresql", "pg1-port": "5432", "pg1-user": "postgres" });
  });

  it.each(["zst", "lz4", "gz"] as const)("renders compress-type %s and the retention it is given", (compression) => {
    const g = parseIni(renderPgBackRestConf({ ...base, compression, retentionFull: 9 })).global;
    expect(g["compress-type"]).toBe(compression);
    expect(g["repo1-retention-full"]).toBe("9");
  });

  it("uses path-style addressing and the port of a custom endpoint", () => {
    const g = parseIni(renderPgBackRestConf({ ...base, s3: { ...base.s3, endpoint: "https://minio.home.arpa:9000" }, caFile: "/etc/ssl/minio-ca.pem" })).global;
    expect(g["repo1-s3-endpoint"]).toBe("minio.home.arpa");
    expect(g["repo1-storage-port"]).toBe("9000");
    expect(g["repo1-s3-uri-style"]).toBe("path");
    expect(g["repo1-storage-ca-file"]).toBe("/etc/ssl/minio-ca.pem");
  });

  it("goes path style on AWS for a dotted bucket name (the wildcard certificate cannot cover it)", () => {
    expect(s3Target({ bucket: "backups.example.org", region: "us-east-1" })).toMatchObject({ uriStyle: "path", bucketUrl: "https://s3.us-east-1.amazonaws.com/backups.example.org" });
    expect(s3Target({ bucket: "backups", region: "us-east-1" })).toMatchObject({ uriStyle: "host", bucketUrl: "https://backups.s3.us-east-1.amazonaws.com" });
    expect(s3Target({ bucket: "backups", region: "us-east-1", endpoint: "https://s3.local/" })).toMatchObject({ uriStyle: "path", port: 443, bucketUrl: "https://s3.local/backups" });
  });

  it("holds no secret without `secrets`", () => {
    const text = renderPgBackRestConf(base);
    const keys = Object.values(parseIni(text)).flatMap((s) => Object.keys(s));
    expect(keys.filter((k) => /cipher-pass|s3-key|key-secret|token/.test(k))).toEqual([]);
  });

  const SECRETS = { cipherPass: "pass-0123456789+/=abcdefXYZ", s3Key: "AKIAEXAMPLE123", s3KeySecret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY=" };

  it("renders cipher pass and S3 key under [global] with `secrets`, the rest unchanged", () => {
    const plain = parseIni(renderPgBackRestConf(base));
    const ini = parseIni(renderPgBackRestConf(base, SECRETS));
    expect(ini.global).toEqual({
      ...plain.global,
      "repo1-cipher-pass": SECRETS.cipherPass,
      "repo1-s3-key": SECRETS.s3Key,
      "repo1-s3-key-secret": SECRETS.s3KeySecret,
    });
    expect(ini.prod).toEqual(plain.prod);
    expect(ini["global:archive-push"]).toEqual(plain["global:archive-push"]);
  });

  it.each([
    ["a newline", { cipherPass: "pass\nrepo1-cipher-type=none" }],
    ["a carriage return", { cipherPass: "pass\rrepo1-cipher-type=none" }],
    ["a tab", { s3KeySecret: "abc\tdef" }],
    ["a NUL", { s3KeySecret: "abc\0def" }],
    ["a leading space (pgBackRest would trim it)", { cipherPass: " pass word with spaces" }],
    ["a trailing space (pgBackRest would trim it)", { cipherPass: "pass word with spaces " }],
    ["an empty value", { s3Key: "" }],
  ])("rejects a secret with %s, without echoing it", (_what, over) => {
    const secrets = { ...SECRETS, ...over };
    let message = "";
    try {
      renderPgBackRestConf(base, secrets);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/invalid/);
    for (const v of Object.values(over)) if (v !== "") expect(message).not.toContain(v);
  });

  // passphrases of any printable character (config accepts them): pgBackRest takes the
  // rest of the line literally, so each must come back byte for byte and add no line
  it.each(NASTY_SECRETS)("writes the secret %j as one line that reads back unchanged", (nasty) => {
    const secrets = { cipherPass: nasty, s3Key: SECRETS.s3Key, s3KeySecret: `${nasty}/K7MD` };
    const text = renderPgBackRestConf(base, secrets);
    expect(text.split("\n")).toHaveLength(renderPgBackRestConf(base, SECRETS).split("\n").length);
    const line = text.split("\n").find((l) => l.startsWith("repo1-cipher-pass="));
    expect(line).toBe(`repo1-cipher-pass=${nasty}`);
    // what pgBackRest's ini reader does: split at the first '=', trim the ends
    const read = (key: string) => {
      const l = text.split("\n").find((x) => x.startsWith(`${key}=`)) as string;
      return l.slice(l.indexOf("=") + 1).trim();
    };
    expect(read("repo1-cipher-pass")).toBe(nasty);
    expect(read("repo1-s3-key-secret")).toBe(secrets.s3KeySecret);
    expect(parseIni(text).global["repo1-cipher-type"]).toBe("aes-256-cbc");
  });

  it.each([
    ["a bucket with a newline", { s3: { bucket: "pg\nrepo1-path=/x", region: "eu-central-1" } }],
    ["an http endpoint", { s3: { ...base.s3, endpoint: "http://minio:9000" } }],
    ["an endpoint with a path", { s3: { ...base.s3, endpoint: "https://minio:9000/x" } }],
    ["a relative pg path", { pgPath: "data" }],
    ["a path with a space", { pgPath: "/var/lib/pg data" }],
    ["a CA path that smuggles a line", { caFile: "/ca.pem\nrepo1-cipher-type=none" }],
    ["a stanza with a bracket", { stanza: "prod]\n[x" }],
    ["retention zero", { retentionFull: 0 }],
  ])("rejects %s", (_what, over) => {
    expect(() => renderPgBackRestConf({ ...base, ...over })).toThrow(/invalid/);
  });
});

describe("archive settings", () => {
  it("archive-pushes each segment to the stanza and bounds the RPO by archive_timeout", () => {
    const a = archiveSettings({ stanza: "prod", timeoutSeconds: 60 });
    expect(a.command.split(" ")).toEqual(expect.arrayContaining(["pgbackrest", "--stanza=prod", "archive-push", "%p"]));
    expect(a.timeoutSeconds).toBe(60);
    const conf = renderPostgresqlConf({
      majorVersion: 17, listenAddresses: "*", port: 5432, maxConnections: 100, memoryMb: 1024, hbaFile: "/etc/postgresql/pg_hba.conf",
      unixSocketDirectory: "/var/run/postgresql", settings: {}, archive: a,
    });
    expect(conf).toMatch(/^archive_mode = 'on'$/m);
    expect(conf).toMatch(/^archive_timeout = '60s'$/m);
    expect(conf).toContain(`archive_command = '${a.command}'`);
    expect(conf).toMatch(/^wal_level = 'replica'$/m);
  });

  it("passes a non-default config path and refuses timeouts above 60 s or unsafe paths", () => {
    expect(archiveSettings({ stanza: "dev", configFile: "/tmp/x/pgbackrest.conf", timeoutSeconds: 30 }).command).toContain("--config=/tmp/x/pgbackrest.conf");
    expect(() => archiveSettings({ stanza: "dev", timeoutSeconds: 61 })).toThrow();
    expect(() => archiveSettings({ stanza: "dev", timeoutSeconds: 0 })).toThrow();
    expect(() => archiveSettings({ stanza: "dev", configFile: "/tmp/a b", timeoutSeconds: 30 })).toThrow();
    expect(() => archiveSettings({ stanza: "dev'; rm -rf /", timeoutSeconds: 30 })).toThrow();
  });

  it("derives a stanza from any stack name", () => {
    expect(stanzaName("prod")).toBe("prod");
    expect(stanzaName("Prod.EU")).toMatch(/^[a-z0-9][a-z0-9_-]*$/);
  });
});

describe("age key from the passphrase", () => {
  // BIP-173 test vectors (independent of this code).
  const ALPHABET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
  it.each([
    ["a12uel5l"],
    ["abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw"],
    ["split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w"],
    ["?1ezyfcl"],
  ])("bech32 encodes %s", (vector) => {
    const sep = vector.lastIndexOf("1");
    const hrp = vector.slice(0, sep);
    const data = [...vector.slice(sep + 1, -6)].map((c) => ALPHABET.indexOf(c));
    expect(bech32Encode(hrp, data)).toBe(vector);
  });

  it("is deterministic per passphrase, different across passphrases, in age's formats", () => {
    const a = ageKeyFromPassphrase("correct horse battery staple 42");
    expect(ageKeyFromPassphrase("correct horse battery staple 42")).toEqual(a);
    const b = ageKeyFromPassphrase("correct horse battery staple 43");
    expect(b.identity).not.toBe(a.identity);
    expect(b.recipient).not.toBe(a.recipient);
    expect(a.identity).toMatch(/^AGE-SECRET-KEY-1[02-9ACDEFGHJKLMNPQRSTUVWXYZ]{58}$/);
    expect(a.recipient).toMatch(/^age1[02-9ac-hj-np-z]{58}$/);
    expect(a.identity.toLowerCase()).not.toContain("correct");
    expect(() => ageKeyFromPassphrase("short")).toThrow(/20 characters/);
  });
});

describe("schedule arithmetic", () => {
  const at = (iso: string) => new Date(iso);

  it("matches cron expressions in UTC with Vixie day semantics", () => {
    expect(cronMatches("15 2 * * 0", at("2024-01-07T02:15:00Z"))).toBe(true); // a Sunday
    expect(cronMatches("15 2 * * 7", at("2024-01-07T02:15:00Z"))).toBe(true); // 7 is Sunday too
    expect(cronMatches("15 2 * * 0", at("2024-01-08T02:15:00Z"))).toBe(false); // Monday
    expect(cronMatches("15 2 * * 1-6", at("2024-01-08T02:15:00Z"))).toBe(true);
    expect(cronMatches("15 2 * * 1-6", at("2024-01-08T02:16:00Z"))).toBe(false);
    // both day fields restricted: either one fires
    expect(cronMatches("0 0 13 * 5", at("2024-09-06T00:00:00Z"))).toBe(true); // Friday the 6th
    expect(cronMatches("0 0 13 * 5", at("2024-02-13T00:00:00Z"))).toBe(true); // Tuesday the 13th
    expect(cronMatches("0 0 13 * 5", at("2024-02-14T00:00:00Z"))).toBe(false);
    // one restricted: both must match
    expect(cronMatches("0 0 13 * *", at("2024-09-06T00:00:00Z"))).toBe(false);
    expect(cronMatches("*/20 * * * *", at("2024-09-06T10:40:00Z"))).toBe(true);
    expect(cronMatches("5/20 * * * *", at("2024-09-06T10:45:00Z"))).toBe(true);
    expect(cronMatches("5/20 * * * *", at("2024-09-06T10:40:00Z"))).toBe(false);
    expect(() => cronMatches("61 * * * *", at("2024-09-06T10:40:00Z"))).toThrow(/invalid cron/);
    // croner's rule, which the bash matcher follows: a day field is unrestricted only when it is exactly '*'
    expect(cronMatches("0 0 */2 * 1", at("2024-01-08T00:00:00Z"))).toBe(true); // Monday the 8th (even): day of week matches
    expect(cronMatches("0 0 */2 * 1", at("2024-01-03T00:00:00Z"))).toBe(true); // Wednesday the 3rd: day of month matches
  });

  it("finds the longest gap of a schedule", () => {
    expect(maxCronGapMinutes(["45 2 * * *"])).toBe(1440);
    expect(maxCronGapMinutes(["30 4 * * 6"])).toBe(7 * 1440);
    expect(maxCronGapMinutes(["15 2 * * 0", "15 2 * * 1-6"])).toBe(1440);
    expect(maxCronGapMinutes(["0 3 * * 1,4"])).toBe(4 * 1440);
    expect(maxCronGapMinutes(["0 0 1 * *"])).toBe(31 * 1440);
    expect(maxCronGapMinutes(["*/5 * * * *"])).toBe(5);
  });

  it("turns the schedule into health limits: gap plus grace", () => {
    expect(healthLimits(SCHEDULE, 360)).toEqual({ backup: 1440 + 360, logical: 1440 + 360, drill: 7 * 1440 + 360 });
    const weekly = healthLimits({ ...SCHEDULE, diff: "15 2 * * 3" }, 0);
    expect(weekly.backup).toBe(4 * 1440); // Sun → Wed is 3 days, Wed → Sun is 4
  });
});


describe("the sidecar script and its runtime file", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "hlpg-render-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const write = (text: string, mode = 0o755) => {
    const file = path.join(dir, `s-${Math.random().toString(36).slice(2)}`);
    writeFileSync(file, text, { mode });
    return file;
  };
  /** A script reading `runtimeFile`, written to disk. */
  const scriptFor = (runtimeFile: string, over: Partial<SidecarScriptInput> = {}) => write(renderSidecarScript(scriptInput({ runtimeFile, ...over })));
  /** Sources the script (main does not run then) and runs `code`; only PATH and TZ in the environment unless `env` adds. */
  // stdin not a socket (node's pipes are socketpairs): bash -c would read ~/.bashrc as for ssh
  const sourced = (script: string, code: string, env: Record<string, string> = {}) =>
    spawnSync("bash", ["-c", `source "$1"; ${code}`, "_", script], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH, TZ: "UTC", ...env } });
  /** The loader's view of a runtime file: its variables after load_runtime, or its error. */
  const SHOW = `if load_runtime; then printf '%s\\n' "url=$S3_BUCKET_URL" "region=$S3_REGION" "ca=$S3_CA_FILE" "recipient=$AGE_RECIPIENT" "apps=\${APPS[*]}" "schedule=\${SCHEDULE[*]}" "limits=\${HEALTH_LIMIT_MINUTES[backup]} \${HEALTH_LIMIT_MINUTES[logical]} \${HEALTH_LIMIT_MINUTES[drill]}"; else echo "ERROR $RUNTIME_ERROR"; fi`;

  it("parses with bash -n and carries only settings fixed for the stack's life, single-quoted", () => {
    const text = renderSidecarScript(scriptInput());
    const r = spawnSync("bash", ["-n", write(text)], { encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("");
    expect(text).toMatch(/^readonly STANZA='prod'$/m);
    expect(text).toMatch(/^readonly RUNTIME_FILE='\/etc\/hlpg-backup\/hlpg-backup\.conf'$/m);
    expect(text).toMatch(/^readonly PGBR_CONFIG='\/etc\/pgbackrest\/runtime\/pgbackrest\.conf'$/m);
    expect(text).toMatch(/^readonly REPO_RETRY_SECONDS='120'$/m);
    // the jobs table of the code as data: what each job runs and its group
    expect(text).toMatch(/^readonly JOBS=\('full' 'diff' 'logical' 'drill'\)$/m);
    expect(text).toMatch(/^declare -rA JOB_FUNCTION=\(\[full\]='job_full' \[diff\]='job_diff' \[logical\]='job_logical' \[drill\]='job_drill'\)$/m);
    expect(text).toMatch(/^declare -rA JOB_GROUP=\(\[full\]='backup' \[diff\]='backup' \[logical\]='logical' \[drill\]='drill'\)$/m);
    expect(text).toMatch(/^readonly HEALTH_GROUPS=\('backup' 'logical' 'drill'\)$/m);
    expect(text).toContain(`readonly LOGICAL_PREFIX='${LOGICAL_PREFIX}'`);
    // nothing that changes with the stack config: those come from the runtime file
    expect(text).not.toMatch(/^readonly (APPS|SCHEDULE|S3_BUCKET_URL|S3_REGION|AGE_RECIPIENT)=/m);
    expect(text).not.toMatch(/HEALTH_LIMIT_MINUTES=\(\[/);
    expect(text).not.toMatch(/AGE-SECRET-KEY|age1[02-9ac-hj-np-z]{58}|pg-backups|lang_fuse/);
  });

  it("renders the runtime file as tab-separated data the loader reads back exactly", () => {
    const text = renderSidecarRuntime(runtimeInput({ schedule: { ...SCHEDULE, drill: " 30  4 * *   6 " } }));
    expect(text.split("\n").filter((l) => l !== "" && !l.startsWith("#"))).toEqual([
      "s3-url\thttps://pg-backups.s3.eu-central-1.amazonaws.com",
      "s3-region\teu-central-1",
      `age-recipient\t${RECIPIENT}`,
      "keep\t7\t4\t3",
      "app\tlang-fuse\tlang_fuse\tlang_fuse_owner",
      "app\twiki\twiki\twiki_owner",
      "schedule\tfull\t15 2 * * 0",
      "schedule\tdiff\t15 2 * * 1-6",
      "schedule\tlogical\t45 2 * * *",
      "schedule\tdrill\t30 4 * * 6", // single spaces: cron_match splits on them
      "limit\tbackup\t1800",
      "limit\tlogical\t1800",
      "limit\tdrill\t10440",
    ]);
    const runtime = write(text, 0o444);
    const r = sourced(scriptFor(runtime), SHOW);
    expect(r.stderr).toBe("");
    expect(r.stdout.trim().split("\n")).toEqual([
      "url=https://pg-backups.s3.eu-central-1.amazonaws.com", "region=eu-central-1", "ca=", `recipient=${RECIPIENT}`,
      "apps=lang-fuse:lang_fuse:lang_fuse_owner wiki:wiki:wiki_owner",
      "schedule=15 2 * * 0|full 15 2 * * 1-6|diff 45 2 * * *|logical 30 4 * * 6|drill",
      "limits=1800 1800 10440",
    ]);
    const custom = renderSidecarRuntime(runtimeInput({ s3: { bucket: "b.dotted", region: "garage", endpoint: "https://minio.local:9000" }, caFile: "/etc/ssl/ca.pem", apps: [] }));
    const r2 = sourced(scriptFor(write(custom)), SHOW);
    expect(r2.stdout).toContain("url=https://minio.local:9000/b.dotted\nregion=garage\nca=/etc/ssl/ca.pem\n");
    expect(r2.stdout).toContain("apps=\n");
  });

  it("is the same script for any apps, schedule, limits, bucket and passphrase: those are only in the runtime file", () => {
    const a = renderSidecarRuntime(runtimeInput());
    const b = renderSidecarRuntime(runtimeInput({
      apps: [{ name: "other", database: "other", owner: "other_owner" }], schedule: { ...SCHEDULE, logical: "*/5 * * * *" },
      limits: { backup: 60, logical: 60, drill: 60 }, s3: { bucket: "elsewhere", region: "us-west-2" },
      ageRecipient: ageKeyFromPassphrase("another-passphrase-0123456789").recipient,
    }));
    expect(a).not.toBe(b);
    // renderSidecarScript has no input for any of them (compile-time), and its text names none
    const keys = Object.keys(scriptInput()).sort();
    expect(keys).toEqual(["drillPort", "drillTimeoutSeconds", "initTimeoutSeconds", "pgBinDir", "pgData", "pgPort", "pgbackrestConf", "repoRetrySeconds", "runtimeFile", "socketDir", "stanza", "workDir"]);
  });

  it.each([
    ["a tab inside a value", (t: string) => t.replace("app\twiki\twiki\twiki_owner", "app\twiki\twiki\twiki_owner\textra"), /malformed line/],
    ["an app name with a quote", (t: string) => t.replace("app\twiki\t", "app\twi'ki\t"), /invalid app name/],
    ["a database that is not an identifier", (t: string) => t.replace("\twiki\twiki_owner", "\twi ki\twiki_owner"), /malformed line|invalid database/],
    ["a command in a cron field", (t: string) => t.replace("45 2 * * *", "45 2 * * $(id)"), /invalid schedule of job logical/],
    ["a cron expression with four fields", (t: string) => t.replace("45 2 * * *", "45 2 * *"), /invalid schedule of job logical/],
    ["a job the script does not know", (t: string) => t.replace("schedule\tdrill\t", "schedule\tvacuum\t"), /unknown job 'vacuum'/],
    ["a missing job", (t: string) => t.replace(/^schedule\tdrill\t.*\n/m, ""), /no schedule for job drill/],
    ["a missing limit", (t: string) => t.replace(/^limit\tdrill\t.*\n/m, ""), /no limit for health group drill/],
    ["a zero limit", (t: string) => t.replace("limit\tdrill\t10440", "limit\tdrill\t0"), /invalid limit of group drill/],
    ["an http bucket URL", (t: string) => t.replace("https://pg-backups", "http://pg-backups"), /invalid s3-url/],
    ["a recipient that is not age's", (t: string) => t.replace(RECIPIENT, "age1$(id)"), /invalid age-recipient/],
    ["an app twice", (t: string) => t.replace("app\twiki\twiki\twiki_owner", "app\twiki\twiki\twiki_owner\napp\twiki\twiki\twiki_owner"), /app wiki twice/],
    ["an unknown kind", (t: string) => `${t}retention\t4\n`, /unknown or malformed line: retention 4/],
    ["no bucket", (t: string) => t.replace(/^s3-url\t.*\n/m, ""), /s3-url and s3-region, or dump-dir, are required/],
    ["no recipient", (t: string) => t.replace(/^age-recipient\t.*\n/m, ""), /age-recipient is required/],
    ["bad keep", (t: string) => t.replace(/^keep\t.*$/m, "keep\t0\t4\t3"), /invalid keep: '0 4 3'/],
    ["bad dump key", (t: string) => `${t}dump-key\tmine\n`, /invalid dump-key: 'mine'/],
  ])("refuses a runtime file with %s and keeps the values it had", (_what, edit, message) => {
    const good = write(renderSidecarRuntime(runtimeInput()), 0o444);
    const bad = write(edit(renderSidecarRuntime(runtimeInput())), 0o444);
    // load the good file, then the bad one in its place (RUNTIME_FILE is read-only in bash: swap a symlink)
    const link = path.join(dir, `rt-${Math.random().toString(36).slice(2)}`);
    const r = spawnSync("bash", ["-c", `ln -s "$2" "$3"; source "$1"; load_runtime || exit 9; ln -sfn "$4" "$3"; ${SHOW}; echo "apps now: \${APPS[*]}"`, "_", scriptFor(link), good, link, bad], {
      encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH, TZ: "UTC" },
    });
    expect(r.stdout).toMatch(new RegExp(`^ERROR runtime file ${link}: `));
    expect(r.stdout).toMatch(message);
    expect(r.stdout).toContain("apps now: lang-fuse:lang_fuse:lang_fuse_owner wiki:wiki:wiki_owner");
  });

  it("refuses in TypeScript what the loader refuses", () => {
    expect(() => renderSidecarRuntime(runtimeInput({ apps: [{ name: "x'y", database: "x_y", owner: "x_y_owner" }] }))).toThrow(/invalid app name/);
    expect(() => renderSidecarRuntime(runtimeInput({ apps: [{ name: "xy", database: "x y", owner: "xy_owner" }] }))).toThrow(/unsafe/);
    expect(() => renderSidecarRuntime(runtimeInput({ apps: [{ name: "xy", database: "xy", owner: "XY" }] }))).toThrow(/unsafe/);
    expect(() => renderSidecarRuntime(runtimeInput({ ageRecipient: "age1$(id)" }))).toThrow(/invalid age recipient/);
    expect(() => renderSidecarRuntime(runtimeInput({ schedule: { ...SCHEDULE, drill: "30 4 * *" } }))).toThrow(/invalid schedule of job drill/);
    expect(() => renderSidecarRuntime(runtimeInput({ limits: { backup: 0, logical: 1, drill: 1 } }))).toThrow(/invalid health limit/);
    const twice = [{ name: "a", database: "a", owner: "a_owner" }, { name: "a", database: "a", owner: "a_owner" }];
    expect(() => renderSidecarRuntime(runtimeInput({ apps: twice }))).toThrow(/a name twice/);
  });

  it("sources the secrets file named by HLPG_SECRETS_FILE with the runtime file, so that bash reads back every value", () => {
    const secrets = { s3Key: "AKIA'QUOTE", s3KeySecret: "wJalr/K7MD+bPx$(id)`x`=", ageIdentity: ageKeyFromPassphrase("render-test-passphrase-0123456789").identity };
    const env = renderSidecarSecretsEnv(secrets);
    for (const line of env.split("\n").filter((l) => l !== "" && !l.startsWith("#"))) expect(line).toMatch(/^export HLPG_[A-Z0-9_]+='/);
    const file = write(env, 0o600);
    const names = [SIDECAR_SECRET_VARS.s3Key, SIDECAR_SECRET_VARS.s3KeySecret, SIDECAR_SECRET_VARS.ageIdentity];
    const script = scriptFor(write(renderSidecarRuntime(runtimeInput())));
    const r = sourced(script, `load_runtime || exit 9; for v in ${names.join(" ")}; do printf '%s\\0' "\${!v}"; done`, { [SECRETS_FILE_ENV]: file });
    expect(r.stderr).toBe("");
    expect(r.stdout.split("\0").slice(0, 3)).toEqual([secrets.s3Key, secrets.s3KeySecret, secrets.ageIdentity]);
    const missing = sourced(script, `load_runtime || echo "ERROR $RUNTIME_ERROR"`, { [SECRETS_FILE_ENV]: path.join(dir, "no-such-file") });
    expect(missing.stdout).toMatch(/^ERROR cannot read the secrets file/);
    expect(() => renderSidecarSecretsEnv({ ...secrets, s3KeySecret: "a\nb" })).toThrow(/not one line/);
    expect(() => renderSidecarSecretsEnv({ ...secrets, s3Key: "" })).toThrow(/empty/);
    // the script text has no secret and no env-secret name of pgBackRest (curl uses HLPG_S3_KEY*)
    expect(renderSidecarScript(scriptInput())).not.toMatch(/PGBACKREST_REPO1_S3_KEY/);
  });

  it.each([...NASTY_SECRETS, "  spaces at both ends  "])("writes the S3 secret %j into the secrets file so that bash sources it back unchanged", (nasty) => {
    const secrets = { s3Key: nasty, s3KeySecret: `${nasty}=`, ageIdentity: ageKeyFromPassphrase(nasty.padEnd(20, "x")).identity };
    const file = write(renderSidecarSecretsEnv(secrets), 0o600);
    const names = [SIDECAR_SECRET_VARS.s3Key, SIDECAR_SECRET_VARS.s3KeySecret, SIDECAR_SECRET_VARS.ageIdentity];
    const out = execFileSync("bash", ["-c", `set -eu; source "$1"; for v in ${names.join(" ")}; do printf '%s\\0' "\${!v}"; done`, "bash", file], { encoding: "utf8" });
    expect(out.split("\0").slice(0, 3)).toEqual([secrets.s3Key, secrets.s3KeySecret, secrets.ageIdentity]);
  });

  it("derives one age key per passphrase, for any printable passphrase", () => {
    const keys = NASTY_SECRETS.map((p) => ageKeyFromPassphrase(p));
    for (const k of keys) {
      expect(k.recipient).toMatch(AGE_RECIPIENT);
      expect(k.identity).toMatch(/^AGE-SECRET-KEY-1[0-9A-Z]{58}$/);
    }
    expect(new Set(keys.map((k) => k.recipient)).size).toBe(NASTY_SECRETS.length);
    // the same passphrase gives the same key; one character more (a space at the end) another
    expect(ageKeyFromPassphrase(NASTY_SECRETS[0]).identity).toBe(keys[0].identity);
    expect(ageKeyFromPassphrase(`${NASTY_SECRETS[0]} `).identity).not.toBe(keys[0].identity);
  });

  it("shell-quotes any value into the same string bash reads back", () => {
    for (const v of ["plain", "it's", "$(touch /tmp/pwned)", "`id`", "a\\b", "\"q\"", "; rm -rf /", "*"]) {
      const out = execFileSync("bash", ["-c", `printf '%s' ${shellQuote(v)}`], { encoding: "utf8" });
      expect(out).toBe(v);
    }
    expect(() => shellQuote("a\nb")).toThrow();
  });

  it.each([
    ["a relative work dir", { workDir: "work" }],
    ["a relative runtime file", { runtimeFile: "hlpg-backup.conf" }],
    ["a zero retry bound", { repoRetrySeconds: 0 }],
    ["a stanza with a quote", { stanza: "pr'od" }],
  ])("rejects %s", (_what, over) => {
    expect(() => renderSidecarScript(scriptInput(over as Partial<SidecarScriptInput>))).toThrow(/invalid|unsafe/);
  });

  it.each([
    // lists, ranges, steps, 7 = Sunday and the day-of-month/day-of-week OR
    ["lists, ranges, steps", { full: "*/7 1-3,22 * * 1-5", diff: "0 0 1,15,29 2,3 *", logical: "5/20 * * * 0,7", drill: "30 4 13 * 5" }],
    // steps and ranges in the day fields: restricted (croner), so OR with the other day field
    ["steps in the day fields", { full: "10 */5 */2 * 1", diff: "0 3 * */2 5-7", logical: "1-59/15 0 1-7 * 0", drill: "0 0 */10 3 */3" }],
  ] as [string, BackupSchedule][])("runs exactly the jobs the TypeScript (croner) evaluation says, minute by minute: %s", (_what, schedule) => {
    const file = scriptFor(write(renderSidecarRuntime(runtimeInput({ schedule }))));
    const windows = ["2024-02-28T20:00:00Z", "2024-09-13T03:00:00Z", "2024-03-03T00:00:00Z"];
    const minutes = 24 * 60;
    for (const start of windows) {
      const from = Date.parse(start) / 1000;
      const r = spawnSync("bash", [file, "due", String(from), String(minutes)], { encoding: "utf8", env: { PATH: process.env.PATH, TZ: "UTC" } });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      const expected: string[] = [];
      for (let i = 0; i < minutes; i++) {
        const t = from + i * 60;
        for (const { name: job } of BACKUP_JOBS) {
          if (cronMatches(schedule[job], new Date(t * 1000))) expected.push(`${t} ${job}`);
        }
      }
      expect(expected.length).toBeGreaterThan(2);
      expect(r.stdout.trim().split("\n").filter(Boolean)).toEqual(expected);
    }
  });

  it("offers the runbook commands the docs show; only the dump commands need the runtime file", () => {
    expect(runbook.restoreCluster("2026-11-22 14:30:00+00")).toEqual(["restore-cluster", "--target", "2026-11-22 14:30:00+00"]);
    expect(runbook.restoreApp("langfuse", "langfuse_restored")).toEqual(["restore-app", "langfuse", "latest", "langfuse_restored"]);
    const text = renderSidecarScript(scriptInput({ runtimeFile: path.join(dir, "absent.conf") }));
    for (const cmd of [runbook.restoreCluster("x")[0], runbook.restoreApp("a", "b")[0], runbook.listDumps("a")[0], "health", "info", "scheduler"]) {
      expect(text).toMatch(new RegExp(`^\\s+(?:[a-z-]+\\|)?${cmd}(?:\\|[a-z-]+)?\\)`, "m"));
    }
    // the jobs (drill among them) are commands through the table: main runs any name in JOBS
    expect(runbook.drill()).toEqual(["drill"]);
    expect(text).toMatch(/^readonly JOBS=\(.*'drill'.*\)$/m);
    const file = write(text);
    const usage = spawnSync("bash", [file, "no-such-command"], { encoding: "utf8", env: { PATH: process.env.PATH } });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain("init | full | diff | logical | drill");
    // without a runtime file: dump commands fail and say why; health is red and says why
    const list = spawnSync("bash", [file, ...runbook.listDumps("wiki")], { encoding: "utf8", env: { PATH: process.env.PATH } });
    expect(list.status).toBe(1);
    expect(list.stderr).toMatch(/cannot read the runtime file .*absent\.conf/);
    const health = spawnSync("bash", [file, "health"], { encoding: "utf8", env: { PATH: process.env.PATH } });
    expect(health.status).toBe(1);
    expect(health.stdout).toMatch(/cannot read the runtime file/);
  });
});
