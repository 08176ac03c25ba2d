// Per-app pooling and rotation without downtime, on a real pgBouncer 1.18 in front of
// PostgreSQL 15 (one pair of servers for both: setup is most of the time).
//
// Pooling, on the ini the program renders from `apps[].pool`: a session-mode app keeps
// its server connection (and so its prepared statement and SET) across transactions
// while another client works; a transaction-mode app hands the server connection to
// whoever needs it; and an app's pool size caps the server connections pgBouncer opens
// into its database, counted in pg_stat_activity, whichever of the app's logins is used.
//
// Rotation: the roles and both logins as the program creates them; each rotation
// applies the SQL the program runs for the new state (the password command's script,
// which sets every login's password from state, the provider's in-place ALTER ROLE
// among them) while clients connect and query continuously, directly and through
// pgBouncer, with the credentials the outputs handed out; then they switch to the new
// outputs. Not one authentication failure; after the next rotation the oldest
// credentials are refused, on both paths. Passwords follow the engine's rules for
// random.RandomPassword: a new one when its keepers change, unless they are ignored.
import { Client } from "pg";
import { activeLogin, accessModel, loginsOf, renderRotationLoginsSql } from "../../../components/apps";
import { renderPasswordSyncSql } from "../../../components/apps/adopt";
import { parseConfig } from "../../../components/config";
import { authPsqlCommand, renderAuthCreateScript } from "../../../components/pooler";
import { PgInstance, pgBin, run } from "../harness";
import { commandEnv, PoolerConfig, runCommand, startPostgresForPooler, WrappedPooler } from "./fixture";

const cfg = parseConfig("dev", {
  pgbouncer: { poolMode: "transaction", defaultPoolSize: 10, maxClientConn: 200 },
  apps: [{ name: "sess", pool: { mode: "session", size: 2 } }, { name: "txn", pool: { size: 3 } }, { name: "shop", readonlyUsers: ["viewer"] }],
});
const model = accessModel(cfg.apps);
const logins = model.flatMap((a) => a.roles.flatMap((r) => r.logins.map((l) => l.name)));
const passwords: Record<string, string> = Object.fromEntries(logins.map((n) => [n, `pw-${n}-${Math.random().toString(36).slice(2)}`]));
const AUTH_PASSWORD = `auth-${Math.random().toString(36).slice(2)}`;
const config: PoolerConfig = {
  databases: cfg.apps.map((a) => a.database),
  mode: cfg.pgbouncer.poolMode,
  defaultPoolSize: cfg.pgbouncer.defaultPoolSize,
  maxClientConn: cfg.pgbouncer.maxClientConn,
  pools: Object.fromEntries(cfg.apps.map((a) => [a.database, a.pool])),
};

let pg: PgInstance;
let pooler: WrappedPooler;
const open: Client[] = [];

beforeAll(async () => {
  pg = await startPostgresForPooler(model, passwords, AUTH_PASSWORD);
  for (const s of renderRotationLoginsSql(model, passwords)) await pg.sql(s);
  for (const db of config.databases) {
    const r = await runCommand(pg, authPsqlCommand(renderAuthCreateScript(db)));
    if (r.code !== 0) throw new Error(r.stderr);
  }
  pooler = await WrappedPooler.start(pg, AUTH_PASSWORD, config);
});

afterAll(async () => {
  for (const c of open) await c.end().catch(() => undefined);
  await pooler?.stop();
  await pg?.destroy();
});

/** A client through pgBouncer, closed after all tests. */
const client = async (database: string, user = `${database}_owner`): Promise<Client> => {
  const c = new Client({ host: "127.0.0.1", port: pooler.port, user, password: passwords[user], database });
  await c.connect();
  open.push(c);
  return c;
};
const pid = async (c: Client) => (await c.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0].pid;

describe("per-app pool mode and size on real pgBouncer and PostgreSQL", () => {
  it("session mode: the client keeps its server connection, its prepared statement and its SET while another client works", async () => {
    const a = await client("sess");
    await a.query("PREPARE q AS SELECT 41 + 1 AS answer");
    await a.query("SET application_name = 'kept-by-session'");
    const first = await pid(a);
    const b = await client("sess");
    await b.query("BEGIN");
    expect(await pid(b)).not.toBe(first);
    expect((await a.query("EXECUTE q")).rows).toEqual([{ answer: 42 }]);
    expect((await a.query("SHOW application_name")).rows).toEqual([{ application_name: "kept-by-session" }]);
    expect(await pid(a)).toBe(first);
    await b.query("COMMIT");
  });

  it("transaction mode: between transactions the server connection goes to whoever needs it, the prepared statement with it", async () => {
    const a = await client("txn");
    await a.query("PREPARE q AS SELECT 1");
    const first = await pid(a);
    // b's transaction takes the only idle server connection: a's
    const b = await client("txn");
    await b.query("BEGIN");
    expect(await pid(b)).toBe(first);
    expect(await pid(a)).not.toBe(first);
    await expect(a.query("EXECUTE q")).rejects.toThrow(/prepared statement "q" does not exist/);
    await b.query("COMMIT");
  });

  it("caps the server connections into the app's database at its pool size, across both logins of its role", async () => {
    const [a, b] = loginsOf("txn_owner", "initial").map((l) => l.name);
    const clients = await Promise.all(Array.from({ length: 8 }, (_, i) => client("txn", i % 2 === 0 ? a : b)));
    const monitor = await pg.connect({ database: "postgres" });
    let max = 0;
    const users = new Set<string>();
    let done = false;
    const watch = (async () => {
      while (!done) {
        // every server connection pgBouncer holds into the database: both logins' pools and
        // its auth lookup (pgbouncer_auth), and the idle ones left by the test above
        const { rows } = await monitor.query<{ usename: string }>("select usename from pg_stat_activity where datname = 'txn' and backend_type = 'client backend'");
        max = Math.max(max, rows.length);
        for (const r of rows) if (r.usename !== "pgbouncer_auth") users.add(r.usename);
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    await Promise.all(clients.map((c) => c.query("select pg_sleep(0.3)")));
    done = true;
    await watch;
    await monitor.end();
    // 8 clients, 3 server connections at most (the pool of each login is 3, the database's cap 3), and the cap is reached
    expect(max).toBe(3);
    expect([...users].sort()).toEqual([a, b]);
  });
});

/** The passwords of shop's logins as the engine would keep them across rotations. */
class EngineState {
  readonly keepers = new Map<string, string>();
  readonly values = new Map<string, string>();
  constructor(initial: Record<string, string>) {
    for (const r of shop.roles) for (const l of loginsOf(r.name, "initial")) {
      this.keepers.set(l.name, l.keepers.rotation);
      this.values.set(l.name, initial[l.name]);
    }
  }

  /** `rotation` applied: a login whose keepers changed and are not ignored gets a new password. */
  rotate(rotation: string): void {
    for (const r of shop.roles) for (const l of loginsOf(r.name, rotation)) {
      if (l.frozen || this.keepers.get(l.name) === l.keepers.rotation) continue;
      this.keepers.set(l.name, l.keepers.rotation);
      this.values.set(l.name, `pw-${l.name}-${rotation}-${Math.random().toString(36).slice(2)}`);
    }
  }

  /** What the password command runs for this state (apps/adopt.ts renderPasswordSyncSql). */
  sql(): string {
    return renderPasswordSyncSql([...this.values].map(([name, password]) => ({ name, password })));
  }

  /** The owner's credentials in the `databases` output at `rotation`. */
  output(rotation: string): { user: string; password: string } {
    const user = activeLogin("shop_owner", rotation).name;
    return { user, password: this.values.get(user) as string };
  }
}

const shop = model.find((a) => a.app === "shop")!;

describe("rotating passwords without downtime on real PostgreSQL and pgBouncer", () => {
  let state: EngineState;
  const login = async (via: "direct" | "pooled", creds: { user: string; password: string }): Promise<string> => {
    const c = new Client({ host: "127.0.0.1", port: via === "direct" ? pg.port : pooler.port, ...creds, database: "shop" });
    try {
      await c.connect();
      return (await c.query<{ u: string }>("select session_user as u")).rows[0].u;
    } catch (e) {
      return `refused: ${(e as Error).message}`;
    } finally {
      await c.end().catch(() => undefined);
    }
  };
  const apply = async () => {
    const r = await run(pgBin("psql"), ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"], { env: commandEnv(pg), input: state.sql() });
    if (r.code !== 0) throw new Error(r.stderr);
  };

  beforeAll(() => {
    state = new EngineState(passwords);
  });

  it("objects a rotation login creates belong to the owner role, and the read-only grants reach the other login of the viewer", async () => {
    const owner = await client("shop", "shop_owner_b");
    await owner.query("CREATE TABLE items (id int)");
    await owner.query("INSERT INTO items VALUES (1)");
    expect((await owner.query("select current_user as c, session_user as s")).rows).toEqual([{ c: "shop_owner", s: "shop_owner_b" }]);
    const viewer = await pg.connect({ user: "shop_viewer_b", password: passwords.shop_viewer_b, database: "shop" });
    try {
      expect((await pg.connect({ database: "shop" }).then(async (su) => {
        try {
          return (await su.query("select tableowner from pg_tables where tablename = 'items'")).rows;
        } finally {
          await su.end();
        }
      }))).toEqual([{ tableowner: "shop_owner" }]);
      expect((await viewer.query("select id from items")).rows).toEqual([{ id: 1 }]);
      await expect(viewer.query("insert into items values (2)")).rejects.toThrow(/permission denied/);
      // DISCARD ALL (pgBouncer's session-mode server_reset_query) keeps the switch: it is the login's default
      await viewer.query("DISCARD ALL");
      expect((await viewer.query("select current_user as c")).rows).toEqual([{ c: "shop_viewer" }]);
      // and pgBouncer's auth_query finds the read-only user's second login (CONNECT through its role)
      const pooledViewer = await client("shop", "shop_viewer_b");
      expect((await pooledViewer.query("select current_user as c, count(*)::int as n from items")).rows).toEqual([{ c: "shop_viewer", n: 1 }]);
    } finally {
      await viewer.end();
    }
  });

  it("a client loop sees no authentication failure through two rotations; the oldest credentials are refused after the next", async () => {
    let current = state.output("initial");
    let stop = false;
    const seen = { direct: 0, pooled: 0 };
    const failures: string[] = [];
    const loop = async (via: "direct" | "pooled") => {
      while (!stop) {
        const creds = current;
        const who = await login(via, creds);
        if (who === creds.user) seen[via]++;
        else failures.push(`${via} as ${creds.user}: ${who}`);
      }
    };
    /** Until each path has logged in `n` more times. */
    const more = async (n: number) => {
      const start = { ...seen };
      const deadline = Date.now() + 60_000;
      while ((seen.direct < start.direct + n || seen.pooled < start.pooled + n) && Date.now() < deadline && failures.length === 0) await new Promise((r) => setTimeout(r, 10));
    };
    const loops = [loop("direct"), loop("pooled")];
    const gen0 = current;
    try {
      await more(3);
      for (const rotation of ["1", "2"]) {
        state.rotate(rotation);
        // `pulumi up`: the new state is applied while the app still runs with the old outputs
        await apply();
        await more(3);
        // the app redeploys with the new outputs
        current = state.output(rotation);
        await more(3);
      }
    } finally {
      stop = true;
      await Promise.all(loops);
    }
    expect(failures).toEqual([]);
    expect(seen.direct).toBeGreaterThanOrEqual(15);
    expect(seen.pooled).toBeGreaterThanOrEqual(15);

    const gen1 = { user: "shop_owner_b", password: state.values.get("shop_owner_b") as string };
    const gen2 = state.output("2");
    expect(gen2.user).toBe("shop_owner");
    expect(gen0.user).toBe("shop_owner");
    // Postgres names the user; pgBouncer (its own SCRAM exchange against the verifier auth_query returned) does not
    const refused = (via: "direct" | "pooled", user: string) =>
      via === "direct" ? new RegExp(`^refused: password authentication failed for user "${user}"`) : /^refused: SASL authentication failed/;
    for (const via of ["direct", "pooled"] as const) {
      // rotation 2 gave the role a new password: rotation 0's credentials are refused
      expect(await login(via, gen0)).toMatch(refused(via, "shop_owner"));
      // rotation 1's (the previous) still work, rotation 2's too
      expect(await login(via, gen1)).toBe("shop_owner_b");
      expect(await login(via, gen2)).toBe("shop_owner");
    }
    state.rotate("3");
    await apply();
    for (const via of ["direct", "pooled"] as const) {
      expect(await login(via, gen1)).toMatch(refused(via, "shop_owner_b"));
      expect(await login(via, gen2)).toBe("shop_owner");
      expect(await login(via, state.output("3"))).toBe("shop_owner_b");
    }
  }, 240_000);
});
