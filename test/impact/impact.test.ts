// The change-impact layer: the prod program under mocks with its committed config
// and with one change at a time; for each, what happens to every container and to
// the running PostgreSQL (effects.ts says how that is derived from the providers'
// rules). The README's "What restarts what" table is this table: the last test
// fails when the two differ and prints the rows to paste.
import * as fs from "fs";
import * as path from "path";
import { PROD_SECRETS, ProgramResult, RunOptions, runProgram, stackConfig } from "../helpers/program";
import { MOCK_TLS } from "../helpers/mocks";
import { ContainerEffect, SettingsEffect, containerEffects, pauseKey, settingsEffect } from "./effects";

type Raw = Record<string, unknown>;
const committed = stackConfig("prod").values as Record<string, Raw | Raw[]>;
const key = (k: string) => committed[`homelab-postgres:${k}`] as Raw;
const apps = committed["homelab-postgres:apps"] as Raw[];
const postgres = key("postgres");
const pgbouncer = key("pgbouncer");
const images = key("images");
const backup = { ...key("backup"), ...(PROD_SECRETS.overrides?.backup as Raw) };

interface Row {
  change: string;
  overrides: Raw;
  /** Config of both runs when the row is about a state other than the committed one (e.g. TLS on). */
  base?: Raw;
  /** The changed run issues a new server certificate for the same inputs: what a renewal is (test/helpers/mocks.ts MOCK_TLS). */
  renew?: boolean;
  /** Expected effect per column. */
  expect: { postgres: ContainerEffect; pgbouncer: ContainerEffect; pgadmin: ContainerEffect; backup: ContainerEffect; carriers: string; server: SettingsEffect };
}

const none = { postgres: "unchanged", pgbouncer: "unchanged", pgadmin: "unchanged", backup: "unchanged", carriers: "unchanged", server: "unchanged" } as const;

const ROWS: Row[] = [
  { change: "reloadable setting (`postgres.settings.statement_timeout`)", overrides: { postgres: { ...postgres, settings: { ...(postgres.settings as Raw), statement_timeout: "90s" } } }, expect: { ...none, server: "reload" } },
  { change: "restart-only setting (`postgres.settings.max_locks_per_transaction`)", overrides: { postgres: { ...postgres, settings: { ...(postgres.settings as Raw), max_locks_per_transaction: 128 } } }, expect: { ...none, server: "restart" } },
  { change: "`postgres.memoryMb`", overrides: { postgres: { ...postgres, memoryMb: 16384 } }, expect: { ...none, postgres: "updated in place", server: "restart" } },
  { change: "add an app", overrides: { apps: [...apps, { name: "outline", extensions: ["pg_trgm"] }] }, expect: { ...none, carriers: "replaced: prod-backup-config, prod-pgbouncer-config" } },
  { change: "remove an app", overrides: { apps: apps.slice(0, -1) }, expect: { ...none, carriers: "replaced: prod-backup-config, prod-pgbouncer-config" } },
  {
    change: "read-write users, schemas, a database limit for an app",
    overrides: { apps: apps.map((a, i) => (i === 0 ? { ...a, readwriteUsers: ["worker"], schemas: ["audit"], databaseConnectionLimit: Number(a.connectionLimit ?? 20) } : a)) },
    expect: { ...none },
  },
  { change: "rotate an app (`rotation`)", overrides: { apps: apps.map((a, i) => (i === 0 ? { ...a, rotation: "2026-12" } : a)) }, expect: { ...none } },
  { change: "`pgbouncer.defaultPoolSize`", overrides: { pgbouncer: { ...pgbouncer, defaultPoolSize: 15 } }, expect: { ...none, carriers: "replaced: prod-pgbouncer-config" } },
  { change: "pgAdmin off", overrides: { pgadmin: { enabled: false } }, expect: { ...none, pgadmin: "deleted" } },
  { change: "backup retention", overrides: { backup: { ...backup, retention: { ...(backup.retention as Raw), full: 6 } } }, expect: { ...none, carriers: "replaced: prod-pgbackrest-config" } },
  { change: "backup schedule", overrides: { backup: { ...backup, schedule: { ...(backup.schedule as Raw), diff: "15 3 * * 1-6" } } }, expect: { ...none, carriers: "replaced: prod-backup-config" } },
  {
    change: "Debian base of Postgres and pgBouncer (`images.trixie`)",
    overrides: { images: { ...images, trixie: `debian:trixie-slim@sha256:${"1".repeat(64)}` } },
    // both images are rebuilt; the carriers run them too (the backup ones Postgres', pgBouncer's its own)
    expect: { ...none, postgres: "replaced", pgbouncer: "replaced", backup: "replaced", carriers: "replaced: prod-backup-config, prod-pgbackrest-config, prod-pgbouncer-config" },
  },
  {
    change: "an image of one's own (`postgres.customImage`)",
    overrides: { postgres: { ...postgres, customImage: "registry.local:5000/team/postgres:17.6-hlpg" } },
    expect: { ...none, postgres: "replaced", backup: "replaced", carriers: "replaced: prod-backup-config, prod-pgbackrest-config" },
  },
];

// the stack CA on prod: what opting in does, and what a renewal then does
const stackCa = { postgres: { ...postgres, tls: { enabled: true, mode: "stack-ca" } } };
ROWS.push(
  {
    change: "TLS with the stack CA on (`postgres.tls.mode: stack-ca`)",
    overrides: stackCa,
    expect: { ...none, postgres: "replaced", pgadmin: "replaced", carriers: "created: prod-postgres-tls-config; replaced: prod-pgbouncer-config", server: "unchanged" },
  },
  {
    change: "server certificate renewed (stack CA, `renewBeforeDays`)",
    base: stackCa,
    overrides: {},
    renew: true,
    expect: { ...none, pgadmin: "replaced", carriers: "replaced: prod-pgbouncer-config, prod-postgres-tls-config", server: "reload" },
  },
);

const COLUMNS = ["postgres", "pgbouncer", "pgadmin", "backup", "carriers", "server"] as const;

function observed(base: ProgramResult, changed: ProgramResult): Row["expect"] {
  const effects = containerEffects(base, changed);
  const carriers = Object.entries(effects).filter(([n, e]) => n.endsWith("-config") && e !== "unchanged").map(([n, e]) => `${e}: ${n}`);
  // one group per effect (a new carrier is created while another is replaced)
  const kinds = [...new Set(carriers.map((c) => c.split(":")[0]))].sort();
  const grouped = carriers.length === 0 ? "unchanged" : kinds.map((k) => `${k}: ${carriers.filter((c) => c.startsWith(`${k}:`)).map((c) => c.split(": ")[1]).sort().join(", ")}`).join("; ");
  return {
    postgres: effects["prod-postgres"], pgbouncer: effects["prod-pgbouncer"], pgadmin: effects["prod-pgadmin"], backup: effects["prod-backup"],
    carriers: grouped, server: tlsReload(effects, changed) ?? settingsEffect(base, changed, 17),
  };
}

/**
 * A replaced Postgres TLS carrier re-runs tlsReloadCommand (its trigger is the carrier's
 * id; only `triggers` replaces a Command, pulumi-command provider.go Diff): pg_reload_conf.
 * Under mocks ids do not change on replacement, so it is read from the carrier's effect.
 */
function tlsReload(effects: Record<string, ContainerEffect>, changed: ProgramResult): SettingsEffect | undefined {
  const reloads = changed.resources.some((r) => r.name === "homelab-postgres-tls-reload");
  return reloads && effects["prod-postgres-tls-config"] === "replaced" && effects["prod-postgres"] === "unchanged" ? "reload" : undefined;
}

const run = (o: RunOptions) => runProgram("prod", o);
let base: ProgramResult;
const results: Record<string, Row["expect"]> = {};

beforeAll(async () => {
  base = await run(PROD_SECRETS);
});

describe("what a config change does to the running platform", () => {
  it.each(ROWS.map((r) => [r.change, r] as const))("%s", async (_c, row) => {
    const from = row.base ? await run({ ...PROD_SECRETS, overrides: { ...PROD_SECRETS.overrides, ...row.base } }) : base;
    if (row.renew) MOCK_TLS.generation++;
    const changed = await run({ ...PROD_SECRETS, overrides: { ...PROD_SECRETS.overrides, ...row.base, ...row.overrides } }).finally(() => {
      if (row.renew) MOCK_TLS.generation--;
    });
    results[row.change] = observed(from, changed);
    expect(results[row.change]).toEqual(row.expect);
    // pgBouncer is paused before every replacement of the Postgres container, and at no other time
    expect({ pauses: pauseKey(from) !== pauseKey(changed) }).toEqual({ pauses: row.expect.postgres === "replaced" });
  });

  it("the base run against itself changes nothing (the comparison can see no change)", async () => {
    const again = await run(PROD_SECRETS);
    expect(observed(base, again)).toEqual(none);
  });

  it("is the README's table", () => {
    const text = (v: string) => (v === "unchanged" ? "–" : v === "updated in place" ? "updated in place (no restart)" : v);
    const server = (v: SettingsEffect) => ({ unchanged: "–", reload: "reload (no restart)", restart: "one restart" })[v];
    const rows = ROWS.map((r) => `| ${r.change} | ${COLUMNS.map((c) => (c === "server" ? server(r.expect.server) : text(r.expect[c]))).join(" | ")} |`);
    const table = ["| change | Postgres container | pgBouncer container | pgAdmin container | backup sidecar | config carriers | PostgreSQL |", "|---|---|---|---|---|---|---|", ...rows].join("\n");
    const readme = fs.readFileSync(path.join(__dirname, "../../README.md"), "utf8");
    const start = "<!-- what-restarts-what:start (the rows are test/impact/impact.test.ts) -->";
    const between = readme.slice(readme.indexOf(start) + start.length, readme.indexOf("<!-- what-restarts-what:end -->")).trim();
    if (between !== table) throw new Error(`README's "What restarts what" table differs from the change-impact layer; paste between the markers:\n${table}`);
  });
});
