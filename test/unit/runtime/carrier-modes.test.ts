// RuntimeFiles: the carrier script run by a real /bin/sh on temp directories
// (copies, modes, atomic replacement, a failed copy stops it), and the component
// under mocks (staged uploads readable by the carrier's user only and secret,
// read-only consumers' volume, no network).
import * as pulumi from "@pulumi/pulumi";
import { spawn, spawnSync } from "child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { installMocks, value } from "../../helpers/mocks";
import { RegisteredResource as Registered, isSecretValue, reveal } from "../../helpers/record";
import { CARRIER_PATHS, RuntimeFiles, carrierFiles, carrierHealthcheck, renderCarrierScript } from "../../../components/runtime";

describe("the carrier script", () => {
  let dir: string;
  let paths: { staging: string; runtime: string };
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "hlpg-carrier-"));
    paths = { staging: path.join(dir, "staging"), runtime: path.join(dir, "runtime") };
    mkdirSync(paths.staging);
    mkdirSync(paths.runtime);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the script until it idles (the copies are done), then stops it (and its sleep) with TERM. */
  /**
   * Runs the carrier script; once `ready` says the copies are in place (or after 10 s)
   * sends TERM as `docker stop` would. A script that exits by itself returns at once.
   */
  async function runCarrier(script: string, ready: () => boolean = () => false): Promise<{ code: number | null; stderr: string }> {
    // its own process group, so that TERM reaches the idle `sleep` too, as `docker stop` would
    const child = spawn("/bin/sh", ["-c", script], { stdio: ["ignore", "ignore", "pipe"], detached: true });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    let code: number | null | undefined;
    const exited = new Promise<number | null>((resolve) => child.on("exit", (c) => resolve((code = c))));
    const deadline = Date.now() + 10_000;
    // polling, not a fixed pause: on a loaded machine the copies can take longer than any guess
    while (code === undefined && !ready() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (code !== undefined) return { code, stderr };
    await new Promise((r) => setTimeout(r, 100)); // past the last rename, into the idle loop
    process.kill(-child.pid!, "SIGTERM");
    return { code: await exited, stderr };
  }

  it("copies every file with its own mode, replacing the previous copy by rename", async () => {
    writeFileSync(path.join(paths.staging, "a.conf"), "new a\n", { mode: 0o400 });
    writeFileSync(path.join(paths.staging, "secret.conf"), "new secret\n", { mode: 0o400 });
    writeFileSync(path.join(paths.runtime, "a.conf"), "old a\n", { mode: 0o444 });
    const oldInode = statSync(path.join(paths.runtime, "a.conf")).ino;
    const files = carrierFiles({ "secret.conf": { mode: "0600" }, "a.conf": {} });
    const copied = () => {
      try {
        return readFileSync(path.join(paths.runtime, "a.conf"), "utf8") === "new a\n" && statSync(path.join(paths.runtime, "secret.conf")).isFile();
      } catch {
        return false;
      }
    };
    const r = await runCarrier(renderCarrierScript(files, paths), copied);
    expect(r.code).toBe(0); // TERM is a clean exit
    expect(r.stderr.replace(/^Terminated\n/m, "")).toBe(""); // (the shell reports its killed sleep)
    expect(readFileSync(path.join(paths.runtime, "a.conf"), "utf8")).toBe("new a\n");
    expect(statSync(path.join(paths.runtime, "a.conf")).mode & 0o777).toBe(0o444);
    expect(statSync(path.join(paths.runtime, "secret.conf")).mode & 0o777).toBe(0o600);
    // a new inode: readers holding the old file keep reading the old one whole
    expect(statSync(path.join(paths.runtime, "a.conf")).ino).not.toBe(oldInode);
    expect(spawnSync("ls", ["-A", paths.runtime], { encoding: "utf8" }).stdout.split("\n").filter(Boolean).sort()).toEqual(["a.conf", "secret.conf"]);
  });

  it("stops at the first copy that fails, without idling as if healthy", async () => {
    writeFileSync(path.join(paths.staging, "b.conf"), "b\n");
    const r = await runCarrier(renderCarrierScript(carrierFiles({ "a.conf": {}, "b.conf": {} }), paths)); // a.conf is missing
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBeNull();
    expect(() => statSync(path.join(paths.runtime, "b.conf"))).toThrow();
  });

  it("refuses names and modes it cannot render safely", () => {
    expect(() => carrierFiles({ "../x": {} })).toThrow(/invalid runtime file name/);
    expect(() => carrierFiles({ "a b": {} })).toThrow(/invalid runtime file name/);
    expect(() => carrierFiles({ a: { mode: "600; rm -rf /" } })).toThrow(/invalid mode/);
    expect(() => carrierFiles({ a: { mode: "0o600" } })).toThrow(/invalid mode/);
    expect(carrierFiles({ b: {}, a: { mode: "0400" } })).toEqual([{ name: "a", mode: "0400" }, { name: "b", mode: "0444" }]);
  });

  it("is healthy only when every copy equals its staged file", () => {
    expect(carrierHealthcheck(["a", "b"])).toEqual(["CMD", "sh", "-c", `cmp -s ${CARRIER_PATHS.staging}/a ${CARRIER_PATHS.runtime}/a && cmp -s ${CARRIER_PATHS.staging}/b ${CARRIER_PATHS.runtime}/b`]);
  });
});

describe("RuntimeFiles under mocks", () => {
  let registered: Registered[] = [];
  let files: RuntimeFiles;
  const one = (type: string) => {
    const found = registered.filter((r) => r.type === type && r.name.startsWith("rt-"));
    if (found.length !== 1) throw new Error(`expected one ${type}, got ${found.length}`);
    return found[0];
  };

  beforeAll(async () => {
    registered = await installMocks(pulumi);
    files = new RuntimeFiles("rt", {
      stack: "prod", purpose: "pgbackrest", image: "homelab-postgres/postgres:x", user: "999:999",
      files: { "pgbackrest.conf": { content: pulumi.secret("repo1-cipher-pass=abc"), mode: "0600" }, "plain.conf": { content: "x=1" } },
    });
    await value(files.container.id);
    await new Promise((r) => setTimeout(r, 50));
  });

  it("names the volume and the carrier after stack and purpose, with no network and no capabilities", () => {
    const v = one("docker:index/volume:Volume");
    expect(v.inputs.name).toBe("prod-pgbackrest-runtime");
    const c = one("docker:index/container:Container");
    expect(c.inputs.name).toBe("prod-pgbackrest-config");
    expect(c.inputs.user).toBe("999:999");
    expect(c.inputs.networkMode).toBe("none");
    expect(c.inputs.capabilities).toEqual({ drops: ["ALL"] });
    expect(c.inputs.volumes).toEqual([{ volumeName: "prod-pgbackrest-runtime", containerPath: CARRIER_PATHS.runtime }]);
    expect(c.deleteBeforeReplace).toBe(true);
    expect(files.fileNames).toEqual(["pgbackrest.conf", "plain.conf"]);
  });

  it("stages every file 0400 for the carrier's uid, keeps the uploads secret, and copies with the file's mode", () => {
    const c = one("docker:index/container:Container");
    expect(c.additionalSecretOutputs).toContain("uploads");
    expect(isSecretValue(c.inputs.uploads)).toBe(true);
    const uploads = reveal(c.inputs.uploads) as { file: string; content: string; permissions: string; owner: string; group: string }[];
    expect(uploads).toEqual([
      { file: `${CARRIER_PATHS.staging}/pgbackrest.conf`, content: "repo1-cipher-pass=abc", permissions: "0400", owner: "999", group: "999" },
      { file: `${CARRIER_PATHS.staging}/plain.conf`, content: "x=1", permissions: "0400", owner: "999", group: "999" },
    ]);
    const script = (c.inputs.entrypoints as string[])[2];
    expect(script).toContain(`chmod 0600 ${CARRIER_PATHS.runtime}/.pgbackrest.conf.tmp`);
    expect(script).toContain(`chmod 0444 ${CARRIER_PATHS.runtime}/.plain.conf.tmp`);
  });

  it("refuses a user that is not uid:gid", () => {
    expect(() => new RuntimeFiles("bad", { stack: "s", purpose: "p", image: "i", user: "postgres", files: {} })).toThrow(/uid:gid/);
  });
});
