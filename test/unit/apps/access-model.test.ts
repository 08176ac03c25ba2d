// The access model's SQL renderer without a server: the statements' order and
// their powers (the integration layer proves what they do on PostgreSQL). Fast,
// so the mutation run (npm run mutation) can use it for every access.ts mutant.
import { parseConfig } from "../../../components/config";
import {
  accessModel, clusterGrants, renderAccessSql, renderAdoptSql, renderConnectionUrl, renderRotationLoginsSql, tlsParams,
} from "../../../components/apps/access";

const apps = parseConfig("dev", {
  apps: [{ name: "shop", extensions: ["uuid-ossp"], connectionLimit: 7 }, { name: "n8n-main", readonlyUsers: ["analyst"] }],
  pgbouncer: { defaultPoolSize: 7 }, // a connection limit is at least the pool
}).apps;
const model = accessModel(apps);
const passwords = { shop_owner: "pw'1", n8n_main_owner: "pw2", n8n_main_analyst: "pw3" };

describe("renderAccessSql", () => {
  // rendered in beforeEach, which runs inside each test: rendered at collection time
  // instead, `npm run mutation` would see the renderer run outside any test and
  // credit it only to the one test that also calls it (docs/mutation.md)
  let sql: ReturnType<typeof renderAccessSql>;
  beforeEach(() => {
    sql = renderAccessSql(model, passwords);
  });

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

// One app with each kind of extra user and an extra schema: what each role may do, per object type.
const crm = accessModel(
  parseConfig("dev", { apps: [{ name: "crm", readonlyUsers: ["reader"], readwriteUsers: ["writer"], schemas: ["sales"] }] }).apps,
);
const crmPasswords = { crm_owner: "o", crm_reader: "r", crm_writer: "w", crm_owner_b: "ob", crm_reader_b: "rb", crm_writer_b: "wb" };

describe("renderAccessSql: least privilege per role and object type", () => {
  // rendered inside each test, as above
  let sql: ReturnType<typeof renderAccessSql>;
  beforeEach(() => {
    sql = renderAccessSql(crm, crmPasswords);
  });

  it("gives each extra user CONNECT on its own database and nothing else cluster-wide", () => {
    expect(sql.cluster.filter((s) => /^(GRANT|REVOKE)/.test(s))).toEqual([
      'REVOKE ALL ON DATABASE "postgres" FROM PUBLIC',
      'REVOKE ALL ON DATABASE "template1" FROM PUBLIC',
      'REVOKE ALL ON DATABASE "crm" FROM PUBLIC',
      'GRANT CONNECT ON DATABASE "crm" TO "crm_reader"',
      'GRANT CONNECT ON DATABASE "crm" TO "crm_writer"',
    ]);
  });

  it("read-only: USAGE on each schema, SELECT on tables, nothing on sequences, now and for future objects", () => {
    const reader = sql.perDatabase.crm.filter((s) => s.endsWith('TO "crm_reader"'));
    expect(reader).toEqual([
      'GRANT USAGE ON SCHEMA "public" TO "crm_reader"',
      'GRANT SELECT ON ALL TABLES IN SCHEMA "public" TO "crm_reader"',
      'GRANT USAGE ON SCHEMA "sales" TO "crm_reader"',
      'GRANT SELECT ON ALL TABLES IN SCHEMA "sales" TO "crm_reader"',
      'ALTER DEFAULT PRIVILEGES FOR ROLE "crm_owner" IN SCHEMA "public" GRANT SELECT ON TABLES TO "crm_reader"',
      'ALTER DEFAULT PRIVILEGES FOR ROLE "crm_owner" IN SCHEMA "sales" GRANT SELECT ON TABLES TO "crm_reader"',
    ]);
  });

  it("read-write: DML on tables (no TRUNCATE, REFERENCES, TRIGGER), USAGE and SELECT on sequences, no DDL", () => {
    const writer = sql.perDatabase.crm.filter((s) => s.endsWith('TO "crm_writer"'));
    expect(writer).toEqual([
      'GRANT USAGE ON SCHEMA "public" TO "crm_writer"',
      'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "public" TO "crm_writer"',
      'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "public" TO "crm_writer"',
      'GRANT USAGE ON SCHEMA "sales" TO "crm_writer"',
      'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "sales" TO "crm_writer"',
      'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "sales" TO "crm_writer"',
      'ALTER DEFAULT PRIVILEGES FOR ROLE "crm_owner" IN SCHEMA "public" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "crm_writer"',
      'ALTER DEFAULT PRIVILEGES FOR ROLE "crm_owner" IN SCHEMA "public" GRANT USAGE, SELECT ON SEQUENCES TO "crm_writer"',
      'ALTER DEFAULT PRIVILEGES FOR ROLE "crm_owner" IN SCHEMA "sales" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "crm_writer"',
      'ALTER DEFAULT PRIVILEGES FOR ROLE "crm_owner" IN SCHEMA "sales" GRANT USAGE, SELECT ON SEQUENCES TO "crm_writer"',
    ]);
  });

  it("creates the extra schema owned by the owner, and grants the owner nothing it does not own", () => {
    expect(sql.perDatabase.crm.slice(0, 2)).toEqual(['CREATE SCHEMA IF NOT EXISTS "sales" AUTHORIZATION "crm_owner"', 'REVOKE ALL ON SCHEMA "public" FROM PUBLIC']);
    expect([...sql.cluster, ...sql.perDatabase.crm].filter((s) => /^(GRANT|REVOKE)/.test(s) && s.includes('TO "crm_owner"'))).toEqual([]);
  });
});

describe("renderRotationLoginsSql", () => {
  it("creates each role's b login with the same attributes, a member of the role that switches to it", () => {
    const out = renderRotationLoginsSql([crm[0]], crmPasswords);
    expect(out.slice(0, 3)).toEqual([
      `CREATE ROLE "crm_owner_b" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT CONNECTION LIMIT 20 PASSWORD 'ob'`,
      'GRANT "crm_owner" TO "crm_owner_b"',
      'ALTER ROLE "crm_owner_b" SET ROLE TO "crm_owner"',
    ]);
    expect(out.filter((s) => s.startsWith("CREATE ROLE")).map((s) => s.split(" ")[2])).toEqual(['"crm_owner_b"', '"crm_reader_b"', '"crm_writer_b"']);
    expect(out).toHaveLength(9);
  });

  it("refuses a b login without a password", () => {
    expect(() => renderRotationLoginsSql(crm, { ...crmPasswords, crm_reader_b: undefined as unknown as string })).toThrow("no password for role crm_reader_b");
  });
});

describe("renderAdoptSql", () => {
  // rendered inside each test, as above
  let adopt: ReturnType<typeof renderAdoptSql>;
  let fresh: ReturnType<typeof renderAccessSql>;
  beforeEach(() => {
    adopt = renderAdoptSql(crm, crmPasswords);
    fresh = renderAccessSql(crm, crmPasswords);
  });

  it("creates no role or database: it checks each exists, then sets the stack's attributes, password and owner", () => {
    expect(adopt.cluster.filter((s) => s.startsWith("CREATE"))).toEqual([]);
    const missing = (table: string, what: string, name: string) =>
      `DO $adopt$ BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.${table} = '${name}') THEN RAISE EXCEPTION '${what} % is missing: nothing to adopt', '${name}'; END IF; END $adopt$`;
    const i = adopt.cluster.indexOf(missing("pg_roles WHERE rolname", "role", "crm_writer"));
    expect(adopt.cluster[i + 1]).toBe(`ALTER ROLE "crm_writer" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT CONNECTION LIMIT 20 PASSWORD 'w'`);
    const d = adopt.cluster.indexOf(missing("pg_database WHERE datname", "database", "crm"));
    expect(d).toBeGreaterThan(i);
    expect(adopt.cluster.slice(d + 1)).toEqual(['ALTER DATABASE "crm" OWNER TO "crm_owner"', 'REVOKE ALL ON DATABASE "crm" FROM PUBLIC', 'GRANT CONNECT ON DATABASE "crm" TO "crm_reader"', 'GRANT CONNECT ON DATABASE "crm" TO "crm_writer"']);
    // two statements per role and database, the grants as they are
    expect(adopt.cluster).toHaveLength(fresh.cluster.length + 4);
    expect(adopt.cluster.slice(0, 2)).toEqual(fresh.cluster.slice(0, 2));
  });

  it("keeps the statements inside each database as a fresh cluster runs them", () => {
    expect(adopt.perDatabase).toEqual(fresh.perDatabase);
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

  it("verify-full names the CA file, URI-encoded, and refuses without it", () => {
    const url = { user: "u", password: "p", host: "h", port: 5432, database: "d" };
    expect(renderConnectionUrl({ ...url, sslmode: "verify-full", sslrootcert: "/etc/ca dir/ca.crt" })).toBe("postgresql://u:p@h:5432/d?sslmode=verify-full&sslrootcert=/etc/ca%20dir/ca.crt");
    expect(() => renderConnectionUrl({ ...url, sslmode: "verify-full" })).toThrow(/needs the CA file/);
  });

  it("tlsParams: verified against the CA file, encrypted only, or none", () => {
    expect(tlsParams({ requireTls: true, verifyTls: { caFile: "/ca.crt" } })).toEqual({ sslmode: "verify-full", sslrootcert: "/ca.crt" });
    expect(tlsParams({ requireTls: true })).toEqual({ sslmode: "require" });
    expect(tlsParams({ requireTls: false })).toEqual({});
  });

  it("percent-encodes the characters encodeURIComponent leaves alone", () => {
    expect(renderConnectionUrl({ user: "u", password: "!'()*", host: "h", port: 1, database: "d" })).toBe("postgresql://u:%21%27%28%29%2A@h:1/d");
  });
});
