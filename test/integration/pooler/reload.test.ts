// pgBouncer never restarts for app or pool changes. The rendered wrapper runs
// Debian's pgBouncer 1.18 in front of PostgreSQL 15 on the ini the real carrier
// script (renderCarrierScript, real sh) copied into the runtime directory; each
// change is delivered the way `pulumi up` does it (the carrier replaced, copy and
// rename), and the wrapper reloads pgBouncer: a new database becomes reachable, a
// removed one is refused, a new pool size shows, with the same pgbouncer process
// and an open client connection throughout. Also the carrier script on its own.
// The scripts run under /bin/sh; HLPG_TEST_SH="busybox sh" runs them under the
// image's busybox ash.
import * as fs from "fs";
import * as path from "path";
import { Client } from "pg";
import { parseConfig } from "../../../components/config";
import { accessModel } from "../../../components/apps/access";
import { authPsqlCommand, PGBOUNCER_AUTH_ROLE, renderAuthCreateScript, renderAuthFile, renderPgBouncerIni } from "../../../components/pooler";
import { renderPgBouncerWrapper, WRAPPER_LOG_PREFIX } from "../../../components/pooler/wrapper";
import { carrierHealthcheck, renderCarrierScript } from "../../../components/runtime";
import { chownTree, freePort, PgInstance, run, ServerProcess, tempDir, waitFor, writeFile } from "../harness";
import { adminRows, canLogin, PGBOUNCER, PoolerConfig, processExists, runCommand, shArgs, startPostgresForPooler, WrappedPooler } from "./fixture";

// three apps exist in Postgres from the start; the pooler routes to what its ini lists
const cfg = parseConfig("dev", {
  apps: [{ name: "shop" }, { name: "blog-engine" }, { name: "late-app" }],
  pgbouncer: { poolMode: "transaction", defaultPoolSize: 10, maxClientConn: 500 },
});
const model = accessModel(cfg.apps);
const owners = model.map((a) => ({ role: a.roles[0].name, database: a.database.name }));
const passwords: Record<string, string> = Object.fromEntries(owners.map((o) => [o.role, `pw-${o.role}-${Math.random().toString(36).slice(2)}`]));
const AUTH_PASSWORD = `auth-${Math.random().toString(36).slice(2)}`;

const before: PoolerConfig = { databases: ["shop", "blog_engine"], mode: "transaction", defaultPoolSize: 10, maxClientConn: 500 };
const added: PoolerConfig = { ...before, databases: ["shop", "blog_engine", "late_app"], defaultPoolSize: 12 };
const removed: PoolerConfig = { ...added, databases: ["shop", "late_app"] };

describe("pgBouncer reloads what the carrier delivers, without a restart", () => {
  let pg: PgInstance;
  let pooler: WrappedPooler;
  let pid: number;
  let held: Client;

  const login = (database: string) => {
    const owner = owners.find((o) => o.database === database);
    if (!owner) throw new Error(`no app database ${database}`);
    return canLogin(new Client({ host: "127.0.0.1", port: pooler.port, user: owner.role, password: passwords[owner.role], database }));
  };
  const databases = async () => (await adminRows(pooler, "SHOW DATABASES")).filter((d) => d.name !== "pgbouncer");
  const config = async (key: string) => (await adminRows(pooler, "SHOW CONFIG")).find((r) => r.key === key)?.value;
  /** The held client still talks to Postgres through the pooler. */
  const heldWorks = async () => (await held.query("select current_user as u, 1 as one")).rows[0];

  beforeAll(async () => {
    pg = await startPostgresForPooler(model, passwords, AUTH_PASSWORD);
    // every lookup is in place before an ini routes to it (the carrier depends on the Commands)
    for (const o of owners) {
      const r = await runCommand(pg, authPsqlCommand(renderAuthCreateScript(o.database)));
      if (r.code !== 0) throw new Error(r.stderr);
    }
    pooler = await WrappedPooler.start(pg, AUTH_PASSWORD, before);
    pid = pooler.pgbouncerPid();
    held = new Client({ host: "127.0.0.1", port: pooler.port, user: "shop_owner", password: passwords.shop_owner, database: "shop" });
    await held.connect();
  });

  afterAll(async () => {
    await held?.end().catch(() => undefined);
    await pooler?.stop();
    await pg?.destroy();
  });

  it("starts pgbouncer through the wrapper on the carrier's copy of the ini", async () => {
    expect(await login("shop")).toBe("shop_owner@shop");
    expect(await login("blog_engine")).toBe("blog_engine_owner@blog_engine");
    expect(await login("late_app")).toMatch(/^refused:/);
    expect(await heldWorks()).toEqual({ u: "shop_owner", one: 1 });
    expect(await config("default_pool_size")).toBe("10");
  });

  it("adds a database and applies a new default_pool_size on reload, in the same process, the open connection kept", async () => {
    await pooler.deliver(added);
    await waitFor("late_app in SHOW DATABASES", async () => (await databases()).some((d) => d.name === "late_app"), 15_000, pooler.wrapper);
    expect(await login("late_app")).toBe("late_app_owner@late_app");
    expect(await config("default_pool_size")).toBe("12");
    for (const d of await databases()) expect({ name: d.name, pool: d.pool_size, max: d.max_connections }).toEqual({ name: d.name, pool: "12", max: "12" });
    expect(pooler.pgbouncerPid()).toBe(pid);
    expect(await heldWorks()).toEqual({ u: "shop_owner", one: 1 });
    expect(pooler.wrapper?.output).toContain(`${WRAPPER_LOG_PREFIX} ${pooler.iniFile} changed, reloading pgbouncer`);
  });

  it("drops a removed database on reload: refused from then on, same process, the open connection kept", async () => {
    expect(await login("blog_engine")).toBe("blog_engine_owner@blog_engine");
    await pooler.deliver(removed);
    await waitFor("blog_engine gone from SHOW DATABASES", async () => !(await databases()).some((d) => d.name === "blog_engine"), 15_000, pooler.wrapper);
    expect(await login("blog_engine")).toMatch(/^refused:/);
    expect(await login("shop")).toBe("shop_owner@shop");
    expect(await login("late_app")).toBe("late_app_owner@late_app");
    expect(pooler.wrapper?.output).toMatch(/dropping database 'blog_engine' as it does not exist anymore/);
    expect(pooler.pgbouncerPid()).toBe(pid);
    expect(await heldWorks()).toEqual({ u: "shop_owner", one: 1 });
  });

  it("does not reload when the carrier is replaced with the same ini", async () => {
    const reloads = () => (pooler.wrapper?.output.match(/reloading pgbouncer/g) ?? []).length;
    const n = reloads();
    await pooler.deliver(removed);
    await new Promise((r) => setTimeout(r, 4_500));
    expect(reloads()).toBe(n);
  });

  it("passes docker stop's TERM to pgbouncer and exits with pgbouncer's status", async () => {
    const wrapper = pooler.wrapper;
    if (!wrapper) throw new Error("no wrapper");
    await held.end();
    const started = Date.now();
    await wrapper.stop("SIGTERM", 15_000);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(wrapper.output).toMatch(/got SIGTERM, fast exit/);
    // pgBouncer 1.18 exits 1 after SIGTERM; the wrapper hands that on (not 128+n: it was not killed)
    expect(await wrapper.exited).toBe(1);
    expect(processExists(pid)).toBe(false);
  });
});

describe("the wrapper at the edges", () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir("wrapper");
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("waits for an ini the carrier has not written yet (after a reboot both start at once), then starts pgbouncer", async () => {
    const port = await freePort();
    const runtime = path.join(dir, "runtime");
    fs.mkdirSync(runtime);
    chownTree(runtime);
    const ini = path.join(runtime, "pgbouncer.ini");
    writeFile(path.join(dir, "w.sh"), renderPgBouncerWrapper({ pgbouncer: PGBOUNCER }), 0o755);
    writeFile(path.join(dir, "userlist.txt"), renderAuthFile(PGBOUNCER_AUTH_ROLE, AUTH_PASSWORD), 0o600);
    const wrapper = new ServerProcess(...shArgs(path.join(dir, "w.sh"), ini));
    try {
      await waitFor("the wrapper to wait", async () => wrapper.output.includes(`${WRAPPER_LOG_PREFIX} waiting for ${ini}`), 5_000, wrapper);
      writeFile(
        ini,
        renderPgBouncerIni({
          databases: [],
          server: { host: "127.0.0.1", port: 1 },
          listen: { addr: "127.0.0.1", port, unixSocketDir: dir },
          pool: { mode: "transaction", defaultPoolSize: 1, maxClientConn: 10 },
          authFile: path.join(dir, "userlist.txt"),
          version: { major: 1, minor: 18, patch: 0 },
        }),
        0o444,
      );
      await waitFor("pgbouncer", async () => (await adminRows({ dir, port }, "SHOW VERSION")).length === 1, 15_000, wrapper);
    } finally {
      await wrapper.stop("SIGTERM");
    }
  });

  it("stops at once on TERM while it waits", async () => {
    writeFile(path.join(dir, "w.sh"), renderPgBouncerWrapper({ pgbouncer: PGBOUNCER }), 0o755);
    const wrapper = new ServerProcess(...shArgs(path.join(dir, "w.sh"), path.join(dir, "never.ini")));
    await waitFor("the wrapper to wait", async () => wrapper.output.includes("waiting for"), 5_000, wrapper);
    const started = Date.now();
    await wrapper.stop("SIGTERM", 10_000);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(await wrapper.exited).toBe(143);
  });

  it("refuses to start without cksum or md5sum, rather than run without reloads", async () => {
    writeFile(path.join(dir, "w.sh"), renderPgBouncerWrapper({ pgbouncer: PGBOUNCER }), 0o755);
    // dash finds no command on an empty PATH (busybox would still find its own applets)
    const r = await run("/bin/sh", [path.join(dir, "w.sh"), path.join(dir, "pgbouncer.ini")], { env: { PATH: "/nonexistent" } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${WRAPPER_LOG_PREFIX} neither cksum nor md5sum found`);
  });
});

describe("the carrier script (real sh)", () => {
  const files = ["a.ini", "b.txt"];
  let dir: string;
  let paths: { staging: string; runtime: string };

  beforeEach(() => {
    dir = tempDir("carrier");
    paths = { staging: path.join(dir, "staging"), runtime: path.join(dir, "runtime") };
    for (const d of Object.values(paths)) {
      fs.mkdirSync(d);
      chownTree(d);
    }
    for (const f of files) writeFile(path.join(paths.staging, f), `content of ${f}\n`, 0o444);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  // ["CMD", "sh", "-c", test]
  const healthy = async () => (await run(...shArgs("-c", carrierHealthcheck(files, paths)[3]))).code === 0;

  it("copies every file, idles, is healthy only while the copies match, and stops at once on TERM", async () => {
    expect(await healthy()).toBe(false);
    const carrier = new ServerProcess(...shArgs("-c", renderCarrierScript(files, paths)));
    try {
      await waitFor("copies", healthy, 10_000, carrier);
      for (const f of files) expect(fs.readFileSync(path.join(paths.runtime, f), "utf8")).toBe(`content of ${f}\n`);
      // no temp file left behind; the copies keep the upload's read-only mode
      expect(fs.readdirSync(paths.runtime).sort()).toEqual(files);
      expect(fs.statSync(path.join(paths.runtime, "a.ini")).mode & 0o777).toBe(0o444);
      expect(carrier.running).toBe(true);
      fs.rmSync(path.join(paths.runtime, "b.txt"));
      writeFile(path.join(paths.runtime, "b.txt"), "tampered\n", 0o644);
      expect(await healthy()).toBe(false);
      const started = Date.now();
      await carrier.stop("SIGTERM");
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(await carrier.exited).toBe(0);
    } finally {
      await carrier.stop("SIGKILL");
    }
  });

  it("replaces a read-only temp file a killed carrier left behind", async () => {
    writeFile(path.join(paths.runtime, ".a.ini.tmp"), "half a file", 0o444);
    const carrier = new ServerProcess(...shArgs("-c", renderCarrierScript(files, paths)));
    try {
      await waitFor("copies", healthy, 10_000, carrier);
      expect(fs.readdirSync(paths.runtime).sort()).toEqual(files);
    } finally {
      await carrier.stop("SIGTERM");
    }
  });

  it("exits non-zero as soon as a copy fails, rather than idling unhealthy", async () => {
    fs.rmSync(path.join(paths.staging, "b.txt"));
    const carrier = new ServerProcess(...shArgs("-c", renderCarrierScript(files, paths)));
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([carrier.exited, new Promise<string>((r) => (timer = setTimeout(() => r("still running"), 5_000)))]);
    clearTimeout(timer);
    await carrier.stop("SIGKILL");
    expect(code).not.toBe(0);
    expect(code).not.toBe("still running");
    expect(carrier.output).toMatch(/b\.txt/);
  });
});
