// Passphrases of any printable character, on the real binaries: the repo1-cipher-pass
// line renderPgBackRestConf writes is what pgBackRest 2.45 encrypts with (a file it
// puts into an encrypted repository decrypts with `openssl enc -md sha1` and the exact
// passphrase: pgBackRest's cipher is OpenSSL's salted aes-256-cbc), the age key derived
// from it round-trips with age, and the secrets file bash sources gives the values
// back. The control: pgBackRest trims blanks at the ends of a conf value, the reason
// config refuses a passphrase that begins or ends with one.
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ageKeyFromPassphrase, renderPgBackRestConf, renderSidecarSecretsEnv, SIDECAR_SECRET_VARS } from "../../../components/backup";
import { NASTY_SECRETS } from "../../helpers/nasty";
import { requireBinary } from "../harness";

const PGBACKREST = requireBinary("/usr/bin/pgbackrest", "pgbackrest");
const OPENSSL = requireBinary("/usr/bin/openssl", "openssl");
const AGE = requireBinary("/usr/bin/age", "age");

const confInput = {
  stanza: "prod",
  s3: { bucket: "pg-backups", region: "eu-central-1" },
  compression: "zst" as const,
  retentionFull: 4,
  processMax: 1,
  pgPath: "/var/lib/postgresql/data",
  socketPath: "/var/run/postgresql",
  pgPort: 5432,
  lockPath: "/tmp/pgbackrest",
};

describe("a passphrase of any printable character reaches pgBackRest, age and bash unchanged", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "hlpg-passphrase-"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /**
   * A posix repository whose conf carries `cipherLine` verbatim; puts `content` into
   * it with pgBackRest and returns the encrypted file.
   */
  function putEncrypted(name: string, cipherLine: string, content: string): string {
    const repo = path.join(dir, name, "repo");
    fs.mkdirSync(repo, { recursive: true });
    const conf = path.join(dir, name, "pgbackrest.conf");
    const lines = [
      "[global]", "repo1-type=posix", `repo1-path=${repo}`, "repo1-cipher-type=aes-256-cbc", cipherLine,
      `lock-path=${path.join(dir, name)}`, "log-level-console=warn", "log-level-stderr=off", "log-level-file=off", "",
    ];
    fs.writeFileSync(conf, lines.join("\n"), { mode: 0o600 });
    const r = spawnSync(PGBACKREST, [`--config=${conf}`, "--stanza=prod", "repo-put", "archive/prod/probe.txt"], { input: content, encoding: "utf8" });
    expect(r.stderr + r.stdout).toBe("");
    expect(r.status).toBe(0);
    const file = path.join(repo, "archive", "prod", "probe.txt");
    expect(fs.readFileSync(file).subarray(0, 8).toString("latin1")).toBe("Salted__"); // encrypted, not plain
    return file;
  }

  /** openssl's decryption of `file` with exactly `pass` (from a file: no shell, no argv), or undefined. */
  function decrypt(file: string, pass: string): string | undefined {
    const passFile = path.join(dir, "pass");
    fs.writeFileSync(passFile, pass, { mode: 0o600 });
    const r = spawnSync(OPENSSL, ["enc", "-d", "-aes-256-cbc", "-md", "sha1", "-pass", `file:${passFile}`, "-in", file], { encoding: "utf8" });
    return r.status === 0 ? r.stdout : undefined;
  }

  it.each(NASTY_SECRETS.map((p, i) => [i, p] as const))("pgBackRest encrypts with the exact passphrase #%d %j from the rendered conf", (i, pass) => {
    const rendered = renderPgBackRestConf(confInput, { cipherPass: pass, s3Key: "AKIAEXAMPLE", s3KeySecret: "secret/key+=" });
    const cipherLine = rendered.split("\n").find((l) => l.startsWith("repo1-cipher-pass=")) as string;
    const file = putEncrypted(`nasty-${i}`, cipherLine, `probe ${i}\n`);
    expect(decrypt(file, pass)).toBe(`probe ${i}\n`);
    // the check can fail: a wrong key yields the probe never (AES-CBC's padding check passes
    // by chance in about 1 of 256 wrong keys, then openssl prints garbage and exits 0)
    expect(decrypt(file, `${pass}x`)).not.toBe(`probe ${i}\n`);
  });

  it("control: pgBackRest trims blanks at the ends of a conf value, so such a passphrase would not be the one escrowed", () => {
    const pass = "  ends with blanks on both sides  ";
    const file = putEncrypted("trimmed", `repo1-cipher-pass=${pass}`, "probe\n");
    expect(decrypt(file, pass)).not.toBe("probe\n");
    expect(decrypt(file, pass.trim())).toBe("probe\n");
    expect(() => renderPgBackRestConf(confInput, { cipherPass: pass, s3Key: "k", s3KeySecret: "s" })).toThrow(/begins or ends with a space/);
  });

  it("the age key derived from each passphrase encrypts and decrypts a dump with the real age", () => {
    for (const [i, pass] of NASTY_SECRETS.entries()) {
      const key = ageKeyFromPassphrase(pass);
      const plain = path.join(dir, `dump-${i}`);
      fs.writeFileSync(plain, `dump ${i}`);
      execFileSync(AGE, ["-r", key.recipient, "-o", `${plain}.age`, plain]);
      const identity = path.join(dir, `identity-${i}`);
      fs.writeFileSync(identity, `${key.identity}\n`, { mode: 0o600 });
      expect(execFileSync(AGE, ["-d", "-i", identity, `${plain}.age`], { encoding: "utf8" })).toBe(`dump ${i}`);
    }
  });

  it("bash sources the rendered secrets file back to the same values", () => {
    for (const pass of [...NASTY_SECRETS, "  blanks at the ends survive a shell file  "]) {
      const secrets = { s3Key: pass, s3KeySecret: `${pass}'"`, ageIdentity: ageKeyFromPassphrase(pass.padEnd(20, "-")).identity };
      const file = path.join(dir, "secrets.env");
      fs.writeFileSync(file, renderSidecarSecretsEnv(secrets), { mode: 0o600 });
      const names = [SIDECAR_SECRET_VARS.s3Key, SIDECAR_SECRET_VARS.s3KeySecret, SIDECAR_SECRET_VARS.ageIdentity];
      const out = execFileSync("bash", ["-c", `set -eu; source "$1"; for v in ${names.join(" ")}; do printf '%s\\0' "\${!v}"; done`, "bash", file], {
        encoding: "utf8",
      });
      expect(out.split("\0").slice(0, 3)).toEqual([secrets.s3Key, secrets.s3KeySecret, secrets.ageIdentity]);
    }
  });
});
