// What the pooler tests share: the admin console over the Unix socket, logins
// through the pooler, the auth Commands run the way command.local.Command runs
// them, the postgresql provider's role delete, statement for statement, and
// pgBouncer as its container runs it: the rendered wrapper on an ini the real
// carrier script delivered.
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Client } from "pg";
import type { PoolMode } from "../../../components/config";
import { type AppAccess, renderAccessSql } from "../../../components/apps";
import { PGBOUNCER_AUTH_ROLE, renderAuthFile, renderAuthRoleSql, renderPgBouncerIni } from "../../../components/pooler";
import type { DatabasePool } from "../../../components/pooler/render";
import { RUNTIME_INI, RUNTIME_TLS, RUNTIME_TLS_MODES, stampIni } from "../../../components/pooler/tls-files";
import { renderPgBouncerWrapper } from "../../../components/pooler/wrapper";
import { carrierHealthcheck, renderCarrierScript } from "../../../components/runtime";
import {
  applyAccessSql, chownTree, freePort, PgInstance, pgBinDir, requireBinary, run, RunResult, ServerProcess, serviceSpawnOptions, startPostgres, tempDir, waitFor, writeFile,
} from "../harness";

/** Debian's pgBouncer 1.18 (PGBOUNCER_BIN overrides). */
export const PGBOUNCER = process.env.PGBOUNCER_BIN ?? "/usr/sbin/pgbouncer";

/**
 * The shell the container scripts (wrapper, carrier, healthcheck) run under: /bin/sh
 * (dash on Debian). HLPG_TEST_SH="busybox sh" runs them under busybox ash, the
 * shell of the Alpine-based pgBouncer image.
 */
export const SH: [string, ...string[]] = (() => {
  const [cmd, ...args] = (process.env.HLPG_TEST_SH ?? "/bin/sh").split(" ").filter(Boolean);
  return [cmd, ...args];
})();

/** A container script in SH: `sh -c text` (entrypoint strings) or `sh file args...`. */
export function shArgs(...args: string[]): [string, string[]] {
  return [SH[0], [...SH.slice(1), ...args]];
}

/** Runs a command as the service user with no stdin (the harness's run() writes stdin, which can EPIPE). */
export function runNoInput(cmd: string, args: string[]): Promise<RunResult> {
  const svc = serviceSpawnOptions();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...svc, cwd: os.tmpdir(), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** The admin console over the Unix socket, as the OS user pgbouncer runs as (the healthcheck's way in). */
export function adminConsole(p: { dir: string; port: number }, sql: string): Promise<RunResult> {
  return runNoInput(pgBinDir() + "/psql", ["-X", "-A", "-F", "|", "-h", p.dir, "-p", String(p.port), "-U", "pgbouncer", "-d", "pgbouncer", "-c", sql]);
}

/** An admin console SHOW as objects, by column name (the column set differs between versions). */
export async function adminRows(p: { dir: string; port: number }, sql: string): Promise<Record<string, string>[]> {
  const r = await adminConsole(p, sql);
  if (r.code !== 0) throw new Error(r.stderr);
  const lines = r.stdout.trim().split("\n").filter((l) => !/^\(\d+ rows?\)$/.test(l));
  const head = lines[0].split("|");
  return lines.slice(1).map((l) => Object.fromEntries(l.split("|").map((v, i) => [head[i], v])));
}

/** `user@database` when the client gets in, `refused: <why>` when not. */
export async function canLogin(c: Client): Promise<string> {
  try {
    await c.connect();
    const { rows } = await c.query("select current_user as u, current_database() as d");
    return `${rows[0].u}@${rows[0].d}`;
  } catch (e) {
    return `refused: ${(e as Error).message}`;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/**
 * The environment the PgBouncer component gives its auth Commands, pointed at a test
 * server; PATH finds this major's psql first, as `psql` on the operator's PATH.
 */
export function commandEnv(pg: PgInstance): NodeJS.ProcessEnv {
  return {
    PATH: `${pgBinDir()}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    PGHOST: "127.0.0.1",
    PGPORT: String(pg.port),
    PGUSER: "postgres",
    PGPASSWORD: pg.superPassword,
    PGDATABASE: "postgres",
    PGSSLMODE: "disable",
    PGCONNECT_TIMEOUT: "30",
  };
}

/** A command.local.Command's create or delete string, run the way the provider runs it: `/bin/sh -c`. */
export function runCommand(pg: PgInstance, command: string): Promise<RunResult> {
  return run("/bin/sh", ["-c", command], { env: commandEnv(pg) });
}

/**
 * What @pulumi/postgresql 3.18.1 runs to delete a Role (cyrilgdn/terraform-provider-postgresql
 * postgresql/resource_postgresql_role.go resourcePostgreSQLRoleDelete): one transaction in
 * the provider's own database, `postgres`: pgLockRole (statement_timeout off, advisory
 * locks on the role and its members), REASSIGN OWNED and DROP OWNED (withRolesGranted
 * grants nothing to a superuser), DROP ROLE. Rejects with the server's error.
 */
export async function providerDropRole(pg: PgInstance, role: string): Promise<void> {
  const c = await pg.connect({ database: "postgres" });
  const ident = `"${role.replace(/"/g, '""')}"`;
  try {
    await c.query("BEGIN");
    await c.query("SET statement_timeout = 0");
    await c.query("SELECT pg_advisory_xact_lock(oid::bigint) FROM pg_roles WHERE rolname = $1", [role]);
    await c.query("SELECT pg_advisory_xact_lock(member::bigint) FROM pg_auth_members JOIN pg_roles ON roleid = pg_roles.oid WHERE rolname = $1", [role]);
    await c.query(`REASSIGN OWNED BY ${ident} TO "postgres"`);
    await c.query(`DROP OWNED BY ${ident}`);
    await c.query(`DROP ROLE ${ident}`);
    await c.query("COMMIT");
  } catch (e) {
    await c.query("ROLLBACK").catch(() => undefined);
    throw e;
  } finally {
    await c.end();
  }
}

/** The pool settings of one rendered ini. */
export interface PoolerConfig {
  databases: string[];
  mode: PoolMode;
  defaultPoolSize: number;
  maxClientConn: number;
  /** Per-database pools (`apps[].pool`), as the component passes them. */
  pools?: Record<string, DatabasePool>;
}

/**
 * pgBouncer as in its container, on loopback: the rendered wrapper runs Debian's
 * pgbouncer on `<runtime>/pgbouncer.ini`, which the real carrier script
 * (renderCarrierScript, real sh) copies there from its staging directory.
 */
export class WrappedPooler {
  readonly dir: string;
  readonly staging: string;
  readonly runtime: string;
  readonly iniFile: string;
  readonly authFile: string;
  wrapper?: ServerProcess;
  carrier?: ServerProcess;

  /** The stats-console user (monitoring's exporter), when started with one. */
  statsUser?: { user: string; password: string };
  /** Stack-CA TLS (PEMs): verify-full toward Postgres, the certificate toward clients; the files travel with the ini (runtimeFiles). */
  tls?: PoolerTls;

  private constructor(
    readonly pg: PgInstance,
    readonly port: number,
  ) {
    this.dir = tempDir("pgbouncer");
    this.staging = path.join(this.dir, "staging");
    this.runtime = path.join(this.dir, "runtime");
    for (const d of [this.staging, this.runtime]) {
      fs.mkdirSync(d);
      chownTree(d);
    }
    this.iniFile = path.join(this.runtime, RUNTIME_INI);
    this.authFile = path.join(this.dir, "userlist.txt");
  }

  /** Delivers the first ini, then starts the wrapper and waits for the admin console. */
  static async start(pg: PgInstance, authPassword: string, config: PoolerConfig, opts: { statsUser?: { user: string; password: string }; tls?: PoolerTls } = {}): Promise<WrappedPooler> {
    const p = new WrappedPooler(pg, await freePort());
    p.statsUser = opts.statsUser;
    p.tls = opts.tls;
    writeFile(p.authFile, renderAuthFile(PGBOUNCER_AUTH_ROLE, authPassword, opts.statsUser ? [opts.statsUser] : []), 0o600);
    const wrapperFile = path.join(p.dir, "hlpg-pgbouncer.sh");
    writeFile(wrapperFile, renderPgBouncerWrapper({ pgbouncer: PGBOUNCER }), 0o755);
    await p.deliver(config);
    p.wrapper = new ServerProcess(...shArgs(wrapperFile, p.iniFile));
    await waitFor(`pgbouncer on ${p.port}`, async () => (await adminConsole(p, "SHOW VERSION")).code === 0, 15_000, p.wrapper);
    return p;
  }

  /** The ini the component would render for `config`, with this pooler's paths and ports. */
  ini(config: PoolerConfig): string {
    return renderPgBouncerIni({
      databases: config.databases,
      server: { host: "127.0.0.1", port: this.pg.port },
      listen: { addr: "127.0.0.1", port: this.port, unixSocketDir: this.dir },
      pool: { mode: config.mode, defaultPoolSize: config.defaultPoolSize, maxClientConn: config.maxClientConn },
      pools: config.pools,
      authFile: this.authFile,
      statsUsers: this.statsUser ? [this.statsUser.user] : [],
      version: { major: 1, minor: 18, patch: 0 },
      // the component's stack-ca paths, in this pooler's runtime directory
      ...(this.tls
        ? {
          server: { host: "127.0.0.1", port: this.pg.port, tls: { sslmode: "verify-full" as const, caFile: path.join(this.runtime, RUNTIME_TLS.ca) } },
          clientTls: { certFile: path.join(this.runtime, RUNTIME_TLS.cert), keyFile: path.join(this.runtime, RUNTIME_TLS.key) },
        }
        : {}),
    });
  }

  /**
   * What `pulumi up` does when the ini changed: the old carrier is stopped (it is
   * replaced delete-first), a new one starts with the new upload and copies it into
   * the runtime directory; resolves once the carrier's healthcheck passes.
   */
  async deliver(config: PoolerConfig, tls: PoolerTls | undefined = this.tls): Promise<void> {
    await this.carrier?.stop("SIGTERM");
    this.tls = tls;
    const paths = { staging: this.staging, runtime: this.runtime };
    // what the component hands the carrier (pgbouncer.ts runtimeFiles): the ini, and in
    // stack-ca mode the TLS files with their modes and the ini stamped
    const ini = this.ini(config);
    const files: Record<string, { content: string; mode: string }> = tls
      ? {
        [RUNTIME_TLS.ca]: { content: tls.caCertificate, mode: RUNTIME_TLS_MODES.ca },
        [RUNTIME_TLS.cert]: { content: tls.certificate, mode: RUNTIME_TLS_MODES.cert },
        [RUNTIME_TLS.key]: { content: tls.privateKey, mode: RUNTIME_TLS_MODES.key },
        [RUNTIME_INI]: { content: stampIni(ini, tls.certificate, tls.caCertificate), mode: "0444" },
      }
      : { [RUNTIME_INI]: { content: ini, mode: "0444" } };
    for (const [name, f] of Object.entries(files)) {
      const staged = path.join(this.staging, name);
      fs.rmSync(staged, { force: true });
      writeFile(staged, f.content, 0o444);
    }
    const list = Object.entries(files).map(([name, f]) => ({ name, mode: f.mode }));
    this.carrier = new ServerProcess(...shArgs("-c", renderCarrierScript(list, paths)));
    // ["CMD", "sh", "-c", test]
    const test = carrierHealthcheck(list.map((f) => f.name), paths)[3];
    const carrier = this.carrier;
    await waitFor("the carrier's copy", async () => (await run(...shArgs("-c", test))).code === 0, 10_000, carrier);
  }

  /** The pgbouncer process the wrapper started (its only pgbouncer child). */
  pgbouncerPid(): number {
    const parent = this.wrapper?.pid;
    const kids = fs
      .readdirSync("/proc")
      .filter((d) => /^\d+$/.test(d))
      .flatMap((d) => {
        try {
          const stat = fs.readFileSync(`/proc/${d}/stat`, "utf8");
          // pid (comm) state ppid ...: comm may contain blanks, so split after the last ')'
          const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
          const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
          return ppid === parent && comm === "pgbouncer" ? [Number(d)] : [];
        } catch {
          return [];
        }
      });
    if (kids.length !== 1) throw new Error(`expected one pgbouncer under the wrapper (${parent}), found ${kids.join(", ") || "none"}`);
    return kids[0];
  }

  async stop(): Promise<void> {
    await this.wrapper?.stop("SIGTERM");
    await this.carrier?.stop("SIGTERM");
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The stack CA's PEMs as the PgBouncer component gets them. */
export interface PoolerTls {
  caCertificate: string;
  certificate: string;
  privateKey: string;
}

/** Whether a process exists (signal 0). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * A PostgreSQL 15 with the pgBouncer auth role and the apps' access model applied
 * (what the program creates before the lookups): the common start of the pooler tests.
 */
export async function startPostgresForPooler(model: AppAccess[], passwords: Record<string, string>, authPassword: string): Promise<PgInstance> {
  requireBinary(PGBOUNCER, "pgbouncer");
  const pg = await startPostgres();
  await pg.sql(renderAuthRoleSql(PGBOUNCER_AUTH_ROLE, authPassword));
  await applyAccessSql(pg, renderAccessSql(model, passwords));
  return pg;
}
