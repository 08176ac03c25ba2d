// pg_hba.conf as operators open it: it says it is rendered (edits are overwritten)
// and how it is read, above the rules.
import { renderPgHba } from "../../../components/server/pg-hba";

describe("renderPgHba", () => {
  it("starts with the banner and the column header, then one comment per rule", () => {
    const lines = renderPgHba({ tls: true }).split("\n");
    expect(lines[0]).toBe("# Rendered by homelab-postgres. First match wins; no match means reject.");
    expect(lines[1]).toMatch(/^# TYPE\s+DATABASE\s+USER\s+ADDRESS\s+METHOD$/);
    expect(lines[2]).toMatch(/^# /);
    expect(lines[3]).toMatch(/^local\s+all\s+postgres\s+peer$/);
  });
});

describe("replication line", () => {
  /** The non-comment lines, each split into its columns. */
  const rules = (text: string) => text.split("\n").filter((l) => l !== "" && !l.startsWith("#")).map((l) => l.split(/\s+/));

  it("lets the one replication role in from the one peer address, over TLS, before any other line", () => {
    const lines = rules(renderPgHba({ tls: true, replication: { user: "replicator", address: "100.100.1.2" } }));
    expect(lines[0]).toEqual(["hostssl", "replication", "replicator", "100.100.1.2/32", "scram-sha-256"]);
    expect(lines.filter((l) => l[1] === "replication")).toHaveLength(1);
    // without it no line names the replication pseudo-database: every replication connection is rejected
    expect(rules(renderPgHba({ tls: true })).filter((l) => l[1] === "replication")).toEqual([]);
  });

  it("refuses replication without TLS, a role name it would have to quote, or a peer that is not one IPv4 address", () => {
    const ok = { user: "replicator", address: "100.100.1.2" };
    expect(() => renderPgHba({ tls: false, replication: ok })).toThrow(/TLS/);
    for (const user of ["_repl", "r", `r${"x".repeat(62)}`]) expect(renderPgHba({ tls: true, replication: { ...ok, user } })).toContain(` ${user} `);
    for (const user of ["Replicator", "9repl", "repl user", "repl-x", "repl,all", "", `r${"x".repeat(63)}`]) {
      expect(() => renderPgHba({ tls: true, replication: { ...ok, user } })).toThrow(/replication role/);
    }
    for (const address of ["100.64.0.0/10", "fd7a:115c:a1e0::1", "peer.example.ts.net", "all", "100.100.1.2 "]) {
      expect(() => renderPgHba({ tls: true, replication: { ...ok, address } })).toThrow(/IPv4/);
    }
  });
});
