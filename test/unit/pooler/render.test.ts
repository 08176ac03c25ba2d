// Properties of the rendered pgbouncer.ini, auth file, auth SQL and pgAdmin files.
// Each test reads the text back (ini/JSON/pgpass parsers below) and checks what it
// means, so removing a feature from the renderer fails a test here.
import { DIRECT_HEADROOM, parseConfig, SUPERUSER_RESERVED } from "../../../components/config";
import {
  AUTH_FUNCTION,
  AUTH_QUERY,
  AUTH_SCHEMA,
  AUTH_HEREDOC,
  AUTH_MARKER,
  AUTH_SETUP_PSQL_ARGS,
  authPsqlCommand,
  authRemoveStatements,
  authSetupStatements,
  PGBOUNCER_AUTH_ROLE,
  PgBouncerIniInput,
  renderAuthCreateScript,
  renderAuthFile,
  renderAuthRemoveScript,
  renderPgBouncerIni,
  renderUsersAuthFile,
} from "../../../components/pooler/render";
import { renderPgBouncerWrapper } from "../../../components/pooler/wrapper";
import {
  PASSFILE_IN_STORAGE,
  pgadminHealthcheck,
  pgadminStorageDirName,
  renderPgAdminEntrypoint,
  renderPgpass,
  renderServersJson,
} from "../../../components/pgadmin/render";
import { parseIni } from "../../helpers/ini";



/** `host=x port=5432 dbname=y` → object. */
function parseConnstr(s: string): Record<string, string> {
  return Object.fromEntries(s.split(/\s+/).filter(Boolean).map((kv) => kv.split("=") as [string, string]));
}

const base: PgBouncerIniInput = {
  databases: ["langfuse", "my_app", "grafana"],
  server: { host: "postgres", port: 5432 },
  listen: { addr: "0.0.0.0", port: 6432, unixSocketDir: "/tmp" },
  pool: { mode: "transaction", defaultPoolSize: 10, maxClientConn: 1000 },
  authFile: "/etc/pgbouncer/userlist.txt",
};

describe("pgbouncer.ini", () => {
  it("routes exactly the app databases, each to the configured server, and nothing else", () => {
    const ini = parseIni(renderPgBouncerIni({ ...base, server: { host: "10.1.2.3", port: 15432 } }));
    expect(Object.keys(ini.databases).sort()).toEqual(["grafana", "langfuse", "my_app"]);
    for (const [name, value] of Object.entries(ini.databases)) {
      const c = parseConnstr(value);
      expect(c).toMatchObject({ host: "10.1.2.3", port: "15432", dbname: name });
    }
    expect(Object.keys(ini.databases)).not.toContain("*");
  });

  it("uses the configured pool mode and sizes", () => {
    for (const mode of ["session", "transaction", "statement"] as const) {
      const ini = parseIni(renderPgBouncerIni({ ...base, pool: { mode, defaultPoolSize: 7, maxClientConn: 321 } }));
      expect(ini.pgbouncer.pool_mode).toBe(mode);
      expect(ini.pgbouncer.default_pool_size).toBe("7");
      expect(ini.pgbouncer.max_client_conn).toBe("321");
    }
  });

  it("caps every database so that the pools of any valid config fit max_connections", () => {
    // configs that parseConfig accepts, at the edge of the budget
    const cases = [
      { maxConnections: 100, apps: 3, pool: 25 },
      { maxConnections: 100, apps: 8, pool: 10 },
      { maxConnections: 40, apps: 1, pool: 26 },
      { maxConnections: 500, apps: 20, pool: 24 },
    ];
    for (const c of cases) {
      const cfg = parseConfig("dev", {
        postgres: { maxConnections: c.maxConnections },
        apps: Array.from({ length: c.apps }, (_, i) => ({ name: `app${i}`, connectionLimit: c.pool })),
        pgbouncer: { defaultPoolSize: c.pool },
      });
      const ini = parseIni(
        renderPgBouncerIni({
          ...base,
          databases: cfg.apps.map((a) => a.database),
          pool: { mode: cfg.pgbouncer.poolMode, defaultPoolSize: cfg.pgbouncer.defaultPoolSize, maxClientConn: cfg.pgbouncer.maxClientConn },
        }),
      );
      const perDb = Object.values(ini.databases).map((v) => Number(parseConnstr(v).max_db_connections));
      expect(perDb).toHaveLength(c.apps);
      // max_db_connections counts every user's pool and the auth lookup of that database
      expect(perDb.every((n) => Number.isInteger(n) && n > 0 && n <= cfg.pgbouncer.defaultPoolSize)).toBe(true);
      const serverConnections = perDb.reduce((a, b) => a + b, 0);
      expect(serverConnections).toBeLessThanOrEqual(c.maxConnections - SUPERUSER_RESERVED - DIRECT_HEADROOM);
      // a reserve pool would add connections beyond the budget
      expect(Number(ini.pgbouncer.reserve_pool_size ?? "0")).toBe(0);
    }
  });

  it("gives each app database its own pool mode and size, capping the database at that size whatever its users", () => {
    const cfg = parseConfig("dev", {
      pgbouncer: { poolMode: "transaction", defaultPoolSize: 8 },
      apps: [{ name: "langfuse", pool: { mode: "session", size: 4 } }, { name: "my-app" }, { name: "grafana", pool: { size: 15 }, connectionLimit: 15 }],
    });
    const ini = parseIni(renderPgBouncerIni({ ...base, pool: { ...base.pool, defaultPoolSize: 8 }, pools: Object.fromEntries(cfg.apps.map((a) => [a.database, a.pool])) }));
    const db = (name: string) => parseConnstr(ini.databases[name]);
    expect(db("langfuse")).toMatchObject({ pool_mode: "session", pool_size: "4", max_db_connections: "4" });
    expect(db("my_app")).toMatchObject({ pool_mode: "transaction", pool_size: "8", max_db_connections: "8" });
    expect(db("grafana")).toMatchObject({ pool_mode: "transaction", pool_size: "15", max_db_connections: "15" });
    // without per-database pools every database gets the section's
    const plain = parseIni(renderPgBouncerIni(base));
    for (const v of Object.values(plain.databases)) expect(parseConnstr(v)).toMatchObject({ pool_mode: "transaction", pool_size: "10", max_db_connections: "10" });
  });

  it("refuses a pool for a database it does not route, a bad mode or size", () => {
    expect(() => renderPgBouncerIni({ ...base, pools: { other: { mode: "session", size: 2 } } })).toThrow(/not a routed database/);
    expect(() => renderPgBouncerIni({ ...base, pools: { grafana: { mode: "sessionx" as "session", size: 2 } } })).toThrow(/invalid pool mode/);
    expect(() => renderPgBouncerIni({ ...base, pools: { grafana: { mode: "session", size: 0 } } })).toThrow(/pool size of grafana/);
  });

  it("authenticates with SCRAM through the auth role's lookup function, from a file with only that role", () => {
    const ini = parseIni(renderPgBouncerIni(base)).pgbouncer;
    expect(ini.auth_type).toBe("scram-sha-256");
    expect(ini.auth_user).toBe(PGBOUNCER_AUTH_ROLE);
    expect(ini.auth_file).toBe("/etc/pgbouncer/userlist.txt");
    expect(ini.auth_query).toBe(AUTH_QUERY);
    expect(ini.auth_query).toContain(`${AUTH_SCHEMA}.${AUTH_FUNCTION}($1)`);
    // no userlist of app roles anywhere: no [users] section and no password in any value
    const text = renderPgBouncerIni(base);
    expect(text).not.toMatch(/password\s*=/i);
    expect(parseIni(text).users).toBeUndefined();
  });

  it("gives the admin and stats consoles to nobody over TCP", () => {
    const ini = parseIni(renderPgBouncerIni(base)).pgbouncer;
    for (const key of ["admin_users", "stats_users"]) {
      expect(key in ini).toBe(true);
      expect(ini[key]).toBe("");
    }
    expect(ini.unix_socket_dir).toBe("/tmp");
  });

  it("tolerates the startup parameter JDBC sends, and closes CVE-2026-107349 where the version needs it", () => {
    const ignored = (version?: { major: number; minor: number; patch: number }) =>
      parseIni(renderPgBouncerIni({ ...base, version })).pgbouncer.ignore_startup_parameters.split(",").map((s) => s.trim());
    for (const v of [undefined, { major: 1, minor: 18, patch: 0 }, { major: 1, minor: 24, patch: 1 }, { major: 1, minor: 26, patch: 0 }]) {
      expect(ignored(v)).toContain("extra_float_digits");
      // 1.20.0-1.26.0 hang on `-c=` unless `options` is in the list; unknown versions get the mitigation
      expect(ignored(v)).toContain("options");
    }
    expect(ignored({ major: 1, minor: 26, patch: 1 })).toEqual(["extra_float_digits"]);
  });

  it("requires TLS toward Postgres only when TLS is on, and verifies with a CA when asked", () => {
    const off = parseIni(renderPgBouncerIni(base)).pgbouncer;
    expect(["require", "verify-ca", "verify-full"]).not.toContain(off.server_tls_sslmode);
    const on = parseIni(renderPgBouncerIni({ ...base, server: { ...base.server, tls: { sslmode: "require" } } })).pgbouncer;
    expect(on.server_tls_sslmode).toBe("require");
    const full = parseIni(
      renderPgBouncerIni({ ...base, server: { ...base.server, tls: { sslmode: "verify-full", caFile: "/etc/pgbouncer/ca.crt" } } }),
    ).pgbouncer;
    expect(full).toMatchObject({ server_tls_sslmode: "verify-full", server_tls_ca_file: "/etc/pgbouncer/ca.crt" });
    expect(() => renderPgBouncerIni({ ...base, server: { ...base.server, tls: { sslmode: "verify-ca" } } })).toThrow(/CA/);
  });

  it("offers TLS to clients only with a certificate", () => {
    expect(parseIni(renderPgBouncerIni(base)).pgbouncer.client_tls_sslmode).toBeUndefined();
    const on = parseIni(renderPgBouncerIni({ ...base, clientTls: { certFile: "/c/server.crt", keyFile: "/c/server.key" } })).pgbouncer;
    expect(on).toMatchObject({ client_tls_sslmode: "require", client_tls_cert_file: "/c/server.crt", client_tls_key_file: "/c/server.key" });
  });

  it("emits max_prepared_statements only for pgBouncer versions that know it", () => {
    const key = "max_prepared_statements";
    expect(parseIni(renderPgBouncerIni({ ...base, version: { major: 1, minor: 18, patch: 0 } })).pgbouncer[key]).toBeUndefined();
    expect(parseIni(renderPgBouncerIni(base)).pgbouncer[key]).toBeUndefined();
    expect(Number(parseIni(renderPgBouncerIni({ ...base, version: { major: 1, minor: 21, patch: 0 } })).pgbouncer[key])).toBeGreaterThan(0);
    expect(Number(parseIni(renderPgBouncerIni({ ...base, version: { major: 1, minor: 24, patch: 1 } })).pgbouncer[key])).toBeGreaterThan(0);
  });

  it("writes the auth file's digest as a comment, so a changed auth file changes the ini, and takes only a hex SHA-256", () => {
    const digest = "0123456789abcdef".repeat(4);
    const other = "fedcba9876543210".repeat(4);
    const text = renderPgBouncerIni({ ...base, authFileDigest: digest });
    const comments = text.split("\n").filter((l) => l.startsWith(";"));
    expect(comments.some((l) => l.includes(digest))).toBe(true);
    expect(renderPgBouncerIni({ ...base, authFileDigest: other })).not.toBe(text);
    // the digest changes nothing but the comment
    expect(parseIni(text)).toEqual(parseIni(renderPgBouncerIni(base)));
    for (const bad of [digest.toUpperCase(), digest.slice(1), `${digest}0`, `x${digest}`, `${digest}x`, `${digest}\n[databases]`, "a"]) {
      expect(() => renderPgBouncerIni({ ...base, authFileDigest: bad })).toThrow(/authFileDigest/);
    }
  });

  it("without the lookup (postgres.external) has no auth_user nor auth_query, and then lets the auth role read stats", () => {
    for (const authLookup of [undefined, true]) {
      const on = parseIni(renderPgBouncerIni({ ...base, authLookup })).pgbouncer;
      expect(on).toMatchObject({ auth_user: PGBOUNCER_AUTH_ROLE, auth_query: AUTH_QUERY });
    }
    const off = parseIni(renderPgBouncerIni({ ...base, authLookup: false, statsUsers: [PGBOUNCER_AUTH_ROLE] })).pgbouncer;
    expect(off.auth_user).toBeUndefined();
    expect(off.auth_query).toBeUndefined();
    expect(off.auth_file).toBe(base.authFile);
    expect(off.stats_users).toBe(PGBOUNCER_AUTH_ROLE);
  });

  it("gives the stats console to the listed users only, never to the auth role that runs the lookup", () => {
    const ini = parseIni(renderPgBouncerIni({ ...base, statsUsers: ["hlpg_monitor", "stats_reader"] })).pgbouncer;
    expect(ini.stats_users.split(",")).toEqual(["hlpg_monitor", "stats_reader"]);
    expect(ini.admin_users).toBe("");
    expect(() => renderPgBouncerIni({ ...base, statsUsers: ["hlpg_monitor", PGBOUNCER_AUTH_ROLE] })).toThrow(/auth role/);
    expect(() => renderPgBouncerIni({ ...base, authRole: "pool_auth", statsUsers: ["pool_auth"] })).toThrow(/auth role/);
    expect(() => renderPgBouncerIni({ ...base, statsUsers: ["Bad-Name"] })).toThrow(/stats user/);
  });

  it("renders the same text whatever the order of the app databases", () => {
    const text = renderPgBouncerIni(base);
    expect(renderPgBouncerIni({ ...base, databases: [...base.databases].reverse() })).toBe(text);
    expect(renderPgBouncerIni({ ...base, databases: ["my_app", "grafana", "langfuse", "grafana"] })).toBe(text);
  });

  it("refuses a bad pool mode even with no database routed", () => {
    expect(() => renderPgBouncerIni({ ...base, databases: [], pool: { ...base.pool, mode: "bogus" as "session" } })).toThrow(/pool mode/);
    expect(parseIni(renderPgBouncerIni({ ...base, databases: [] })).pgbouncer.pool_mode).toBe("transaction");
  });

  it("takes pools of one connection and refuses blank, padded or empty ini values", () => {
    const ini = parseIni(renderPgBouncerIni({ ...base, pool: { ...base.pool, defaultPoolSize: 1, maxClientConn: 1 } })).pgbouncer;
    expect(ini).toMatchObject({ default_pool_size: "1", max_client_conn: "1" });
    expect(() => renderPgBouncerIni({ ...base, pool: { ...base.pool, maxClientConn: 0 } })).toThrow(/maxClientConn/);
    for (const authFile of ["", " /etc/pgbouncer/userlist.txt", "/etc/pgbouncer/userlist.txt ", "\t/x"]) {
      expect(() => renderPgBouncerIni({ ...base, authFile })).toThrow(/auth_file/);
    }
    expect(() => renderPgBouncerIni({ ...base, listen: { ...base.listen, addr: "" } })).toThrow(/listen_addr/);
  });

  it("restricts TLS toward Postgres to TLS 1.2 and 1.3, and says nothing of it when TLS is off", () => {
    expect(parseIni(renderPgBouncerIni(base)).pgbouncer.server_tls_protocols).toBeUndefined();
    const on = parseIni(renderPgBouncerIni({ ...base, server: { ...base.server, tls: { sslmode: "require" } } })).pgbouncer;
    expect(on.server_tls_protocols).toBe("tlsv1.2,tlsv1.3");
  });

  it("refuses names and values that would need quoting tricks", () => {
    expect(() => renderPgBouncerIni({ ...base, databases: ['x" host=evil'] })).toThrow(/database name/);
    expect(() => renderPgBouncerIni({ ...base, databases: ["a b"] })).toThrow();
    expect(() => renderPgBouncerIni({ ...base, server: { host: "postgres dbname=other", port: 5432 } })).toThrow(/host/);
    expect(() => renderPgBouncerIni({ ...base, authFile: "/etc/x\nadmin_users = app" })).toThrow();
    expect(() => renderPgBouncerIni({ ...base, pool: { ...base.pool, defaultPoolSize: 0 } })).toThrow();
    expect(() => renderPgBouncerIni({ ...base, pool: { ...base.pool, mode: "bogus" as "session" } })).toThrow(/pool mode/);
  });
});

describe("auth file", () => {
  /** pgBouncer's auth_file syntax: two double-quoted fields, `""` inside a field is a quote. */
  function parseAuthFile(text: string): [string, string][] {
    return text
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => {
        const m = /^"((?:[^"]|"")*)"\s+"((?:[^"]|"")*)"\s*$/.exec(l);
        if (!m) throw new Error(`bad auth_file line ${l}`);
        return [m[1].replace(/""/g, '"'), m[2].replace(/""/g, '"')];
      });
  }

  it("holds exactly one credential, the auth role's, and survives quotes in the password", () => {
    const pw = 'pa"ss wo""rd\\x';
    expect(parseAuthFile(renderAuthFile(PGBOUNCER_AUTH_ROLE, pw))).toEqual([[PGBOUNCER_AUTH_ROLE, pw]]);
  });

  it("refuses a multi-line password (it would add a line) and unsafe role names", () => {
    expect(() => renderAuthFile(PGBOUNCER_AUTH_ROLE, "a\n\"app_owner\" \"x\"")).toThrow();
    expect(() => renderAuthFile('x" "y', "pw")).toThrow();
  });

  it("refuses an empty password", () => {
    expect(() => renderAuthFile(PGBOUNCER_AUTH_ROLE, "")).toThrow(/non-empty/);
    expect(() => renderAuthFile(PGBOUNCER_AUTH_ROLE, "pw", [{ user: "hlpg_monitor", password: "" }])).toThrow(/hlpg_monitor/);
  });

  it("lists every managed login once, sorted by name, whatever the order given (postgres.external)", () => {
    const users = [
      { user: "my_app_b", password: "pw-b" },
      { user: "grafana", password: "pw-g" },
      { user: "my_app_a", password: 'pw "a"' },
      { user: "langfuse", password: "pw-l" },
    ];
    const expected: [string, string][] = [["grafana", "pw-g"], ["langfuse", "pw-l"], ["my_app_a", 'pw "a"'], ["my_app_b", "pw-b"]];
    const orders = [users, [...users].reverse(), [users[2], users[0], users[3], users[1]], [users[1], users[3], users[2], users[0]]];
    for (const order of orders) expect(parseAuthFile(renderUsersAuthFile(order))).toEqual(expected);
    expect(parseAuthFile(renderUsersAuthFile([users[1]]))).toEqual([["grafana", "pw-g"]]);
    expect(parseAuthFile(renderUsersAuthFile([users[1], users[0]]))).toEqual([["grafana", "pw-g"], ["my_app_b", "pw-b"]]);
    expect(renderUsersAuthFile([])).toBe("");
  });

  it("refuses a login listed twice", () => {
    expect(() => renderUsersAuthFile([{ user: "grafana", password: "a" }, { user: "grafana", password: "b" }])).toThrow(/grafana twice/);
    expect(() =>
      renderUsersAuthFile([{ user: "langfuse", password: "a" }, { user: "grafana", password: "b" }, { user: "zeta", password: "c" }, { user: "langfuse", password: "d" }]),
    ).toThrow(/langfuse twice/);
  });
});

describe("auth lookup SQL", () => {
  const fnDef = () => {
    const def = authSetupStatements("my_app").find((s) => /CREATE\s+(OR\s+REPLACE\s+)?FUNCTION/i.test(s));
    if (!def) throw new Error("no function definition");
    return def;
  };

  it("defines the lookup as SECURITY DEFINER with a pinned search_path", () => {
    const def = fnDef();
    expect(def).toMatch(new RegExp(`FUNCTION\\s+"?${AUTH_SCHEMA}"?\\."?${AUTH_FUNCTION}"?\\s*\\(`, "i"));
    expect(def).toMatch(/\bSECURITY\s+DEFINER\b/i);
    expect(def).toMatch(/\bSET\s+search_path\s*(=|TO)\s*pg_catalog\s*,\s*pg_temp\b/i);
    // reads the catalog that holds verifiers, schema-qualified
    expect(def).toMatch(/\bpg_catalog\.pg_authid\b/);
  });

  it("filters out roles a pooled login must never become", () => {
    const body = fnDef();
    expect(body).toMatch(/\brolcanlogin\b/);
    expect(body).toMatch(/NOT\s+\w+\.rolsuper\b/);
    expect(body).toMatch(/NOT\s+\w+\.rolreplication\b/);
    expect(body).toMatch(/NOT\s+\w+\.rolbypassrls\b/);
    expect(body).toMatch(/\brolvaliduntil\b/);
  });

  it("locks the function and schema down to the auth role", () => {
    const stmts = authSetupStatements("my_app", "pool_auth");
    const has = (re: RegExp) => expect(stmts.some((s) => re.test(s))).toBe(true);
    has(/^REVOKE\s+ALL\s+ON\s+FUNCTION\s+\S+\s+FROM\s+PUBLIC$/i);
    has(/^GRANT\s+EXECUTE\s+ON\s+FUNCTION\s+\S+\s+TO\s+"pool_auth"$/i);
    has(/^REVOKE\s+ALL\s+ON\s+SCHEMA\s+"pgbouncer"\s+FROM\s+PUBLIC$/i);
    has(/^GRANT\s+USAGE\s+ON\s+SCHEMA\s+"pgbouncer"\s+TO\s+"pool_auth"$/i);
    has(/^GRANT\s+CONNECT\s+ON\s+DATABASE\s+"my_app"\s+TO\s+"pool_auth"$/i);
    expect(stmts.join("\n")).not.toMatch(/GRANT\s+\w+(\s*,\s*\w+)*\s+ON\s+[^;]*\s+TO\s+PUBLIC/i);
  });

  it("installs the lookup into one database per script, in one transaction, stopping at the first error", () => {
    const script = renderAuthCreateScript("b_app");
    expect(script).toMatch(/^\\set ON_ERROR_STOP on$/m);
    expect([...script.matchAll(/^\\connect\s+"([a-z_]+)"$/gm)].map((m) => m[1])).toEqual(["b_app"]);
    const body = script.split(/^\\connect .*$/m)[1];
    const begin = body.search(/^BEGIN;$/m);
    expect(begin).toBeGreaterThanOrEqual(0);
    expect(body.search(/CREATE OR REPLACE FUNCTION/)).toBeGreaterThan(begin);
    expect(body.trim().endsWith("COMMIT;")).toBe(true);
  });

  it("marks what it creates, so that removal drops only that", () => {
    const stmts = authSetupStatements("my_app");
    expect(stmts.some((s) => s.includes(`COMMENT ON FUNCTION "pgbouncer"."get_auth"(text) IS '${AUTH_MARKER}'`))).toBe(true);
    expect(stmts.some((s) => /CREATE SCHEMA "pgbouncer";\s+COMMENT ON SCHEMA "pgbouncer" IS/.test(s))).toBe(true);
    const removal = authRemoveStatements("my_app").join("\n");
    // drops guarded by the mark, everything else revoked from the auth role; never CASCADE
    expect(removal).toMatch(new RegExp(`IS NOT DISTINCT FROM '${AUTH_MARKER}' THEN\\s+DROP FUNCTION`));
    expect(removal).toMatch(/REVOKE ALL ON FUNCTION "pgbouncer"."get_auth"\(text\) FROM "pgbouncer_auth"/);
    expect(removal).toMatch(/REVOKE ALL ON SCHEMA "pgbouncer" FROM "pgbouncer_auth"/);
    expect(removal).toMatch(/REVOKE ALL ON DATABASE "my_app" FROM "pgbouncer_auth"/);
    expect(removal).not.toMatch(/CASCADE/i);
  });

  it("removes from one database only if it still exists, in one transaction", () => {
    const script = renderAuthRemoveScript("my_app");
    const lines = script.split("\n");
    const gset = lines.findIndex((l) => /datname = 'my_app'\) AS hlpg_database_exists \\gset$/.test(l));
    const iff = lines.indexOf("\\if :hlpg_database_exists");
    const connect = lines.indexOf('\\connect "my_app"');
    const end = lines.indexOf("\\endif");
    expect(gset).toBeGreaterThan(0);
    expect([gset < iff, iff < connect, connect < lines.indexOf("BEGIN;"), lines.indexOf("COMMIT;") < end]).toEqual([true, true, true, true]);
  });

  it("passes each script to psql in a quoted here-document, never through the Command's stdin", () => {
    const script = renderAuthCreateScript("my_app");
    const cmd = authPsqlCommand(script);
    expect(cmd.startsWith(`psql ${AUTH_SETUP_PSQL_ARGS.join(" ")} <<'${AUTH_HEREDOC}'\n`)).toBe(true);
    expect(cmd.endsWith(`\n${AUTH_HEREDOC}\n`)).toBe(true);
    expect(cmd).toContain(script);
    expect(() => authPsqlCommand(`SELECT 1;\n${AUTH_HEREDOC}\nrm -rf /`)).toThrow(/here-document/);
  });

  it("hands psql exactly the script, ending the here-document on a line of its own", () => {
    for (const script of ["SELECT 1;", "SELECT 1;\n", "\nSELECT 1;", "\nSELECT 1;\n"]) {
      const lines = authPsqlCommand(script).split("\n");
      expect(lines.slice(-2)).toEqual([AUTH_HEREDOC, ""]);
      expect(lines.slice(1, -2).join("\n")).toBe(script.replace(/\n$/, ""));
    }
  });

  it("runs every removal statement, terminated, inside the transaction", () => {
    const script = renderAuthRemoveScript("my_app", "pool_auth");
    const body = script.slice(script.indexOf("BEGIN;\n") + "BEGIN;\n".length, script.indexOf("COMMIT;"));
    expect(body).toBe(authRemoveStatements("my_app", "pool_auth").map((st) => `${st};\n`).join(""));
    expect(body).toMatch(/^DO \$remove\$/);
    expect(body).toMatch(/END \$remove\$;\n$/);
  });
  it("refuses identifiers it would have to quote", () => {
    expect(() => authSetupStatements('x"; DROP DATABASE y; --')).toThrow();
    expect(() => authSetupStatements("ok", "Auth")).toThrow();
    expect(() => renderAuthRemoveScript("x'; DROP DATABASE y; --")).toThrow();
    expect(() => renderAuthCreateScript("a b")).toThrow();
  });
});

describe("pgBouncer wrapper", () => {
  it("renders one static wrapper: nothing in it depends on the stack", () => {
    const w = renderPgBouncerWrapper();
    expect(renderPgBouncerWrapper()).toBe(w);
    expect(w.startsWith("#!/bin/sh\n")).toBe(true);
    // reloads on a changed checksum, forwards the stop signals, hands on pgbouncer's status
    expect(w).toMatch(/cksum < "\$ini"/);
    expect(w).toMatch(/md5sum < "\$ini"/);
    expect(w).toMatch(/kill -HUP "\$pid"/);
    expect(w).toMatch(/trap 'kill -TERM "\$pid" 2>\/dev\/null' TERM/);
    expect(w).toMatch(/trap 'kill -INT "\$pid" 2>\/dev\/null' INT/);
    expect(w.trimEnd().split("\n").pop()).toBe('wait "$pid"');
    expect(w).toMatch(/sleep 2 &/);
    expect(() => renderPgBouncerWrapper({ pollSeconds: 0 })).toThrow();
  });
});

describe("pgAdmin provisioning", () => {
  const server = { name: "homelab-postgres (dev)", group: "homelab", host: "postgres", port: 5432, maintenanceDb: "postgres", username: "postgres", sslmode: "prefer" as const };

  it("servers.json describes one server on the docker network, with its password only via the passfile", () => {
    const json = JSON.parse(renderServersJson([server])) as { Servers: Record<string, Record<string, unknown>> };
    const list = Object.values(json.Servers);
    expect(list).toHaveLength(1);
    const s = list[0];
    expect(s).toMatchObject({ Host: "postgres", Port: 5432, Username: "postgres", MaintenanceDB: "postgres" });
    // pgAdmin's required attributes
    for (const k of ["Name", "Group", "Port", "Username", "MaintenanceDB"]) expect(s[k]).toBeDefined();
    const params = s.ConnectionParameters as Record<string, unknown>;
    expect(params.passfile).toBe(PASSFILE_IN_STORAGE);
    // no password value anywhere in the file
    const keys: string[] = [];
    const walk = (v: unknown): void => {
      if (v && typeof v === "object") {
        for (const [k, x] of Object.entries(v)) {
          keys.push(k);
          walk(x);
        }
      }
    };
    walk(json);
    expect(keys.filter((k) => /password/i.test(k))).toEqual([]);
  });

  it("asks for TLS when the server has it", () => {
    const json = JSON.parse(renderServersJson([{ ...server, sslmode: "require" }])) as { Servers: Record<string, { ConnectionParameters: { sslmode: string } }> };
    expect(json.Servers["1"].ConnectionParameters.sslmode).toBe("require");
  });

  it("escapes pgpass fields the way libpq reads them", () => {
    /** libpq: fields split on unescaped ':', backslash escapes the next character. */
    const parse = (line: string): string[] => {
      const fields: string[] = [""];
      for (let i = 0; i < line.length; i++) {
        if (line[i] === "\\" && i + 1 < line.length) fields[fields.length - 1] += line[++i];
        else if (line[i] === ":") fields.push("");
        else fields[fields.length - 1] += line[i];
      }
      return fields;
    };
    const pw = "a:b\\c:d";
    const text = renderPgpass([{ host: "postgres", port: 5432, database: "*", user: "postgres", password: pw }]);
    expect(text.trimEnd().split("\n")).toHaveLength(1);
    expect(parse(text.trimEnd())).toEqual(["postgres", "5432", "*", "postgres", pw]);
  });

  it("servers.json keeps the server private to the login user and refuses bad ports or multi-line fields", () => {
    const json = JSON.parse(renderServersJson([server])) as { Servers: Record<string, Record<string, unknown>> };
    expect(json.Servers["1"].Shared).toBe(false);
    for (const port of [1, 65535]) {
      expect((JSON.parse(renderServersJson([{ ...server, port }])) as { Servers: Record<string, { Port: number }> }).Servers["1"].Port).toBe(port);
    }
    for (const port of [0, -1, 65536, 5432.5, Number.NaN]) expect(() => renderServersJson([{ ...server, port }])).toThrow(/invalid port/);
    expect(() => renderServersJson([{ ...server, name: "" }])).toThrow(/server name/);
    expect(() => renderServersJson([{ ...server, group: "homelab\nx" }])).toThrow(/server group/);
    expect(() => renderServersJson([{ ...server, username: "postgres\r" }])).toThrow(/username/);
  });

  it("refuses a pgpass field that would add a line", () => {
    expect(() => renderPgpass([{ host: "postgres", port: 5432, database: "*", user: "postgres", password: "pw\npostgres:5432:*:x:y" }])).toThrow(/single-line/);
  });

  it("probes pgAdmin's ping endpoint on loopback, over HTTPS without checking the certificate when TLS is on", () => {
    const url = (argv: string[]) => argv.find((a) => /^https?:/.test(a));
    const plain = pgadminHealthcheck(8080);
    expect(plain[0]).toBe("wget");
    expect(url(plain)).toBe("http://127.0.0.1:8080/misc/ping");
    expect(plain).not.toContain("--no-check-certificate");
    const tls = pgadminHealthcheck(8443, true);
    expect(tls[0]).toBe("wget");
    expect(url(tls)).toBe("https://127.0.0.1:8443/misc/ping");
    expect(tls).toContain("--no-check-certificate");
  });

  it("puts the pgpass where pgAdmin resolves the passfile: the user's storage directory", () => {
    expect(pgadminStorageDirName("ops@example.com")).toBe("ops_example.com");
    expect(pgadminStorageDirName("1ops@example.com")).toBe("pga_user_1ops_example.com");
    // pgAdmin (pgadmin/utils/paths.py) prefixes only a name that is empty or starts with a digit
    expect(pgadminStorageDirName("ops1@example.com")).toBe("ops1_example.com");
    expect(pgadminStorageDirName("")).toBe("pga_user_");
    const sh = renderPgAdminEntrypoint({ email: "ops@example.com", pgpassSource: "/p/pgpass" });
    expect(sh).toContain(`/var/lib/pgadmin/storage/ops_example.com${PASSFILE_IN_STORAGE}`);
    expect(sh.split("\n").filter((l) => l.startsWith("exec "))).toHaveLength(1);
  });
});
