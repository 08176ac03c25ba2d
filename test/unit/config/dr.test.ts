// The disaster-recovery keys: postgres.bootstrap, backup.posix (and the prod rule that
// one copy must be off the data disk), backup.dumps, backup.archiveQueueMaxMb.
import { parseConfig, RawConfig } from "../../../components/config";
import { PASS, problems } from "../../helpers/config";

const prodBase: RawConfig = { tailscale: { ip: "100.88.1.2" }, backup: { enabled: true, bucket: "my-backups", encryptionPassphrase: PASS } };

const at = (stack: string, raw: RawConfig, path: string) => problems(stack, raw).find((p) => p.path === `homelab-postgres:${path}`)?.message;

describe("postgres.bootstrap", () => {
  it("takes latest, a time with zone, a backup label, xid: and lsn:", () => {
    for (const target of ["latest", "2026-11-30 14:30:00+00", "20261130-021500F", "xid:42", "lsn:0/3000060"]) {
      const c = parseConfig("prod", { ...prodBase, postgres: { bootstrap: { from: "backup", target } } });
      expect(c.postgres.bootstrap).toEqual({ from: "backup", target });
    }
    expect(parseConfig("prod", { ...prodBase, postgres: { bootstrap: {} } }).postgres.bootstrap).toEqual({ from: "backup", target: "latest" });
    expect(parseConfig("prod", prodBase).postgres.bootstrap).toBeUndefined();
  });

  it("refuses a target it cannot read, another source, and a bootstrap without backups", () => {
    expect(at("prod", { ...prodBase, postgres: { bootstrap: { target: "2026-11-30 14:30" } } }, "postgres.bootstrap.target")).toMatch(/is not a restore target: expected `latest`/);
    // the shape of a time, but no such day: refused at preview, not by pgBackRest hours into a restore
    expect(at("prod", { ...prodBase, postgres: { bootstrap: { target: "2026-02-30 10:00:00+00" } } }, "postgres.bootstrap.target")).toMatch(/is not a real instant: February 2026 has 28 days, not 30/);
    expect(at("prod", { ...prodBase, postgres: { bootstrap: { from: "s3" } } }, "postgres.bootstrap.from")).toMatch(/must be backup/);
    expect(at("dev", { postgres: { bootstrap: { target: "latest" } } }, "postgres.bootstrap")).toMatch(/needs backup.enabled/);
  });
});

describe("backup.posix", () => {
  const posixOnly = (posix: Record<string, unknown>): RawConfig => ({ tailscale: { ip: "100.88.1.2" }, backup: { enabled: true, posix, encryptionPassphrase: PASS } });

  it("is a repository instead of the bucket; prod accepts it only when said to be off the data disk", () => {
    const c = parseConfig("prod", posixOnly({ path: "/mnt/nas/pg", offDataDisk: true }));
    expect(c.backup.posix).toEqual({ path: "/mnt/nas/pg", offDataDisk: true });
    expect(c.backup.bucket).toBe("");
    expect(at("prod", posixOnly({ path: "/mnt/nas/pg" }), "backup.posix.offDataDisk")).toMatch(/a prod stack needs a copy off the data disk/);
    // dev may keep its only copy anywhere; with a bucket beside it prod is satisfied too
    expect(problems("dev", { backup: { enabled: true, posix: { path: "/srv/pg" } } })).toEqual([]);
    expect(problems("prod", { ...prodBase, backup: { ...(prodBase.backup as RawConfig), posix: { path: "/srv/pg" } } })).toEqual([]);
  });

  it("refuses a relative path, /, Docker's own directory, and S3 keys without a bucket", () => {
    expect(at("dev", { backup: { enabled: true, posix: { path: "backups" } } }, "backup.posix.path")).toMatch(/must be an absolute path/);
    expect(at("dev", { backup: { enabled: true, posix: { path: "/" } } }, "backup.posix.path")).toMatch(/not \//);
    expect(at("dev", { backup: { enabled: true, posix: { path: "/var/lib/docker/volumes/x" } } }, "backup.posix.path")).toMatch(/inside Docker's own directory/);
    expect(at("dev", { backup: { enabled: true, posix: {} } }, "backup.posix.path")).toMatch(/required/);
    expect(at("dev", { backup: { enabled: true, posix: { path: "/srv/pg" }, endpoint: "https://minio.lan" } }, "backup.endpoint")).toMatch(/applies to the bucket/);
    expect(at("dev", { backup: { enabled: true } }, "backup.bucket")).toMatch(/unless backup.posix.path/);
  });
});

describe("backup.dumps and archiveQueueMaxMb", () => {
  it("defaults to 7 daily, 4 weekly, 3 monthly, the derived key, and a 4 GiB queue", () => {
    const c = parseConfig("prod", prodBase);
    expect(c.backup.dumps).toEqual({ keepDaily: 7, keepWeekly: 4, keepMonthly: 3, recipient: undefined });
    expect(c.backup.archiveQueueMaxMb).toBe(4096);
  });

  it("takes an age recipient and refuses what is not one, and a zero daily count", () => {
    const recipient = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
    expect(parseConfig("prod", { ...prodBase, backup: { ...(prodBase.backup as RawConfig), dumps: { recipient } } }).backup.dumps.recipient).toBe(recipient);
    expect(at("prod", { ...prodBase, backup: { ...(prodBase.backup as RawConfig), dumps: { recipient: "ssh-ed25519 AAAA" } } }, "backup.dumps.recipient")).toMatch(/not an age recipient/);
    expect(at("prod", { ...prodBase, backup: { ...(prodBase.backup as RawConfig), dumps: { keepDaily: 0 } } }, "backup.dumps.keepDaily")).toMatch(/between 1 and 366/);
    expect(at("prod", { ...prodBase, backup: { ...(prodBase.backup as RawConfig), archiveQueueMaxMb: 10 } }, "backup.archiveQueueMaxMb")).toMatch(/between 64/);
  });
});
