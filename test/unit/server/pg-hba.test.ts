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
