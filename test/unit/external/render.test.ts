// The pure pieces of external mode: the pgBouncer auth file of the managed users, the
// ini without a lookup, and the admin's membership statements per major.
import { ownerMembershipRemoveStatements, ownerMembershipShell, ownerMembershipStatements } from "../../../components/apps";
import { renderPgBouncerIni, renderUsersAuthFile } from "../../../components/pooler";

const base = {
  databases: ["shop"],
  server: { host: "db.example.com", port: 5432, tls: { sslmode: "require" as const } },
  listen: { addr: "*", port: 6432, unixSocketDir: "/tmp" },
  pool: { mode: "transaction" as const, defaultPoolSize: 10, maxClientConn: 100 },
  authFile: "/etc/pgbouncer/runtime/auth-users.txt",
};

describe("external mode renderers", () => {
  it("lists every managed user once, sorted, quotes doubled; refuses a user twice", () => {
    expect(renderUsersAuthFile([{ user: "shop_writer", password: 'a"b' }, { user: "shop_owner", password: "x" }])).toBe('"shop_owner" "x"\n"shop_writer" "a""b"\n');
    expect(() => renderUsersAuthFile([{ user: "shop_owner", password: "x" }, { user: "shop_owner", password: "y" }])).toThrow(/twice/);
    expect(renderUsersAuthFile([])).toBe("");
  });

  it("renders an ini with no auth_user or auth_query, the auth file's digest, and TLS to the server", () => {
    const digest = "a".repeat(64);
    const ini = renderPgBouncerIni({ ...base, authLookup: false, authFileDigest: digest });
    expect(ini).not.toMatch(/^auth_(user|query)/m);
    expect(ini).toContain(`; auth file sha256 ${digest}\n[databases]\n`);
    expect(ini).toContain("auth_file = /etc/pgbouncer/runtime/auth-users.txt");
    expect(ini).toContain("server_tls_sslmode = require");
    expect(renderPgBouncerIni(base)).toMatch(/^auth_query = /m); // server mode keeps its lookup
    expect(() => renderPgBouncerIni({ ...base, authFileDigest: "not-hex" })).toThrow(/SHA-256/);
  });

  it("grants the owner with INHERIT and SET on 16+, plainly on 15 (after checking the admin), and revokes only a membership that exists", () => {
    expect(ownerMembershipStatements("shop_owner", 17)[1]).toBe('GRANT "shop_owner" TO CURRENT_USER WITH INHERIT TRUE, SET TRUE');
    expect(ownerMembershipStatements("shop_owner", 15)[1]).toBe('GRANT "shop_owner" TO CURRENT_USER');
    expect(ownerMembershipStatements("shop_owner", 15)[0]).toMatch(/rolcreaterole AND r\.rolcreatedb[\s\S]*IF true AND NOT/);
    expect(ownerMembershipStatements("shop_owner", 16)[0]).toMatch(/IF false AND NOT/);
    expect(ownerMembershipRemoveStatements("shop_owner")[0]).toMatch(/pg_has_role\(current_user[\s\S]*REVOKE %I FROM CURRENT_USER/);
    expect(() => ownerMembershipStatements('x"; drop', 16)).toThrow(/unsafe/);
    const { create, delete: del } = ownerMembershipShell("shop_owner", 16);
    expect(create).toMatch(/^psql -X -q -v ON_ERROR_STOP=1 -f - <<'HLPG_SQL'\n[\s\S]*\nHLPG_SQL\n$/);
    expect(del).toContain("REVOKE");
  });
});
