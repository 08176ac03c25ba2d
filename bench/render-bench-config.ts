// Renders everything bench/pooler.sh runs, with the program's own render
// functions: postgresql.conf (two variants: max_connections for the client sweep
// and 100 for the connection storm), pg_hba.conf, pgbouncer.ini, the auth file,
// the access SQL for one app and the auth lookup script. Prints shell variable
// assignments (passwords) on stdout for the script to eval.
//
// Env: OUT (directory), PG_PORT, PGB_PORT, SOCKET_DIR, MAX_CONNECTIONS, STORM_MAX_CONNECTIONS,
//      POOL_SIZE, MAX_CLIENT_CONN, POOL_MODE, MEMORY_MB.
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { parseConfig } from "../components/config";
import { accessModel, renderAccessSql } from "../components/apps/access";
import { renderPgHba } from "../components/server/pg-hba";
import {
  PGBOUNCER_AUTH_ROLE,
  renderAuthCreateScript,
  renderAuthFile,
  renderAuthRoleSql,
  renderPgBouncerIni,
} from "../components/pooler/render";
import { renderPostgresqlConf } from "../components/server/postgresql-conf";

function env(name: string, fallback?: string): string {
  const v = process.env[name] ?? fallback;
  if (v === undefined || v === "") throw new Error(`${name} is required`);
  return v;
}

const out = env("OUT");
const pgPort = Number(env("PG_PORT"));
const pgbPort = Number(env("PGB_PORT"));
const socketDir = env("SOCKET_DIR");
const maxConnections = Number(env("MAX_CONNECTIONS", "600"));
const stormMaxConnections = Number(env("STORM_MAX_CONNECTIONS", "100"));
const memoryMb = Number(env("MEMORY_MB", "1024"));

// the same validation a stack gets: the pool must fit the storm's max_connections too
const cfg = parseConfig("bench", {
  postgres: { maxConnections: stormMaxConnections, memoryMb },
  apps: [{ name: "bench", connectionLimit: stormMaxConnections }],
  pgbouncer: {
    poolMode: env("POOL_MODE", "transaction"),
    defaultPoolSize: Number(env("POOL_SIZE", "10")),
    maxClientConn: Number(env("MAX_CLIENT_CONN", "2000")),
  },
});

const secret = () => randomBytes(24).toString("base64url");
const superPassword = secret();
const authPassword = secret();
const model = accessModel(cfg.apps);
const passwords = Object.fromEntries(model.flatMap((a) => a.roles).map((r) => [r.name, secret()]));
// direct runs need as many connections per role as the sweep has clients
for (const a of model) for (const r of a.roles) r.connectionLimit = maxConnections;
const sql = renderAccessSql(model, passwords);

fs.mkdirSync(out, { recursive: true });
const write = (name: string, text: string, mode = 0o600) => fs.writeFileSync(path.join(out, name), text, { mode });

const conf = (max: number) =>
  renderPostgresqlConf({
    majorVersion: 15,
    listenAddresses: "127.0.0.1",
    port: pgPort,
    maxConnections: max,
    memoryMb,
    hbaFile: path.join(out, "pg_hba.conf"),
    unixSocketDirectory: socketDir,
    settings: {},
  });
write("postgresql.conf", conf(maxConnections));
write("postgresql-storm.conf", conf(stormMaxConnections));
write("pg_hba.conf", renderPgHba({ tls: false }));
write("superuser.pw", superPassword + "\n");
write(
  "pgbouncer.ini",
  renderPgBouncerIni({
    databases: cfg.apps.map((a) => a.database),
    server: { host: "127.0.0.1", port: pgPort },
    listen: { addr: "127.0.0.1", port: pgbPort, unixSocketDir: socketDir },
    pool: { mode: cfg.pgbouncer.poolMode, defaultPoolSize: cfg.pgbouncer.defaultPoolSize, maxClientConn: cfg.pgbouncer.maxClientConn },
    authFile: path.join(out, "userlist.txt"),
  }),
  0o644,
);
write("userlist.txt", renderAuthFile(PGBOUNCER_AUTH_ROLE, authPassword));
write("cluster.sql", [renderAuthRoleSql(PGBOUNCER_AUTH_ROLE, authPassword), ...sql.cluster].map((s) => `${s};`).join("\n") + "\n");
for (const [db, stmts] of Object.entries(sql.perDatabase)) write(`db-${db}.sql`, stmts.map((s) => `${s};`).join("\n") + "\n");
// the per-database scripts the PgBouncer component runs, one after the other
write("auth-setup.sql", cfg.apps.map((a) => renderAuthCreateScript(a.database)).join(""));

const app = cfg.apps[0];
process.stdout.write(
  [
    `SUPER_PASSWORD='${superPassword}'`,
    `APP_DB='${app.database}'`,
    `APP_USER='${app.owner}'`,
    `APP_PASSWORD='${passwords[app.owner]}'`,
    `POOL_SIZE='${cfg.pgbouncer.defaultPoolSize}'`,
    `POOL_MODE='${cfg.pgbouncer.poolMode}'`,
    `MAX_CLIENT_CONN='${cfg.pgbouncer.maxClientConn}'`,
  ].join("\n") + "\n",
);
