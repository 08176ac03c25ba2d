// The access model's SQL renderer without a server: the statements' order and
// their powers (the integration layer proves what they do on PostgreSQL). Fast,
// so the mutation run (npm run mutation) can use it for every access.ts mutant.
import { parseConfig } from "../../../components/config";
import { accessModel, clusterGrants, renderAccessSql, renderConnectionUrl } from "../../../components/apps/access";

const apps = parseConfig("dev", {
  apps: [{ name: "shop", extensions: ["uuid-ossp"], connectionLimit: 7 }, { name: "n8n-main", readonlyUsers: ["analyst"] }],
  pgbouncer: { defaultPoolSize: 7 }, // a connection limit is at least the pool
}).apps;
const model = accessModel(apps);
const passwords = { shop_owner: "pw'1", n8n_main_owner: "pw2", n8n_main_analyst: "pw3" };

describe("renderAccessSql", () => {
  const sql = renderAccessSql(model, passwords);

  it("revokes PUBLIC's CONNECT and TEMPORARY on the maintenance databases first", () => {
    expect(clusterGrants().map((g) => g.database)).toEqual(["postgres", "template1"]);
    expect(sql.cluster.slice(0, 2)).toEqual(['REVOKE ALL ON DATABASE "postgres" FROM PUBLIC', 'REVOKE ALL ON DATABASE "template1" FROM PUBLIC']);
  });

  it("creates login roles with none of the escalating attributes, their limit and a quoted password", () => {
    const roles = sql.cluster.filter((s) => s.startsWith("CREATE ROLE"));
    expect(roles).toEqual([
      `CREATE ROLE "shop_owner" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT CONNECTION LIMIT 7 PASSWORD 'pw''1'`,
      `CREATE ROLE "n8n_main_owner" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT CONNECTION LIMIT 20 PASSWORD 'pw2'`,
      `CREATE ROLE "n8n_main_analyst" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT CONNECTION LIMIT 20 PASSWORD 'pw3'`,
    ]);
  });

  it("creates each database from template0 in UTF8, owned by its owner, before its database grants", () => {
    const create = sql.cluster.indexOf(`CREATE DATABASE "n8n_main" OWNER "n8n_main_owner" TEMPLATE "template0" ENCODING 'UTF8' CONNECTION LIMIT -1`); // no databaseConnectionLimit: -1, no limit
    expect(create).toBeGreaterThan(0);
    expect(sql.cluster.slice(create + 1)).toEqual([
      'REVOKE ALL ON DATABASE "n8n_main" FROM PUBLIC',
      'GRANT CONNECT ON DATABASE "n8n_main" TO "n8n_main_analyst"',
    ]);
  });

  it("inside each database: extensions, PUBLIC out of schema public, read-only grants on existing and future tables", () => {
    expect(sql.perDatabase.shop).toEqual(['CREATE EXTENSION IF NOT EXISTS "uuid-ossp"', 'REVOKE ALL ON SCHEMA "public" FROM PUBLIC']);
    expect(sql.perDatabase.n8n_main).toEqual([
      'REVOKE ALL ON SCHEMA "public" FROM PUBLIC',
      'GRANT USAGE ON SCHEMA "public" TO "n8n_main_analyst"',
      'GRANT SELECT ON ALL TABLES IN SCHEMA "public" TO "n8n_main_analyst"',
      'ALTER DEFAULT PRIVILEGES FOR ROLE "n8n_main_owner" IN SCHEMA "public" GRANT SELECT ON TABLES TO "n8n_main_analyst"',
    ]);
  });

  it("refuses a role without a password, an unknown privilege and an unsafe extension name", () => {
    expect(() => renderAccessSql(model, { ...passwords, shop_owner: undefined as unknown as string })).toThrow("no password for role shop_owner");
    const bad = [{ ...model[1], grants: [{ database: "n8n_main", role: "x", objectType: "table" as const, schema: "public", privileges: ["ALL"] }] }];
    expect(() => renderAccessSql(bad, passwords)).toThrow("unknown privilege ALL");
    const ext = [{ ...model[0], extensions: [{ database: "shop", name: 'x"; drop' }] }];
    expect(() => renderAccessSql(ext, passwords)).toThrow(/unsafe extension name/);
  });
});

describe("accessModel", () => {
  it("refuses an identifier that is not safe to emit", () => {
    expect(() => accessModel([{ ...apps[0], database: "Shop" }])).toThrow(/unsafe database name "Shop"/);
    expect(() => accessModel([{ ...apps[0], owner: "a-b" }])).toThrow(/unsafe role name "a-b"/);
  });
});

describe("renderConnectionUrl", () => {
  it("brackets an IPv6 host and adds sslmode only when asked", () => {
    expect(renderConnectionUrl({ user: "u", password: "p", host: "fd7a:115c:a1e0::1", port: 5432, database: "d" })).toBe("postgresql://u:p@[fd7a:115c:a1e0::1]:5432/d");
    expect(renderConnectionUrl({ user: "u", password: "p", host: "100.64.0.1", port: 6432, database: "d", sslmode: "require" })).toBe("postgresql://u:p@100.64.0.1:6432/d?sslmode=require");
  });

  it("percent-encodes the characters encodeURIComponent leaves alone", () => {
    expect(renderConnectionUrl({ user: "u", password: "!'()*", host: "h", port: 1, database: "d" })).toBe("postgresql://u:%21%27%28%29%2A@h:1/d");
  });
});
