// Which published pgBouncer CVEs the program warns about: version ranges from
// pgBouncer's changelog (1.25.2 in NEWS.md; 1.26.1 in the changelog and the CVE
// records), reachability judged on the ini the renderer really writes.
import * as pulumi from "@pulumi/pulumi";
import { installMocks } from "../../helpers/mocks";
import { parseConfig } from "../../../components/config";
import { advisoriesFor, parseIniSettings, pgbouncerAdvisoryWarnings } from "../../../components/pooler/advisories";
import { PGBOUNCER_VERSION, PgBouncer } from "../../../components/pooler/pgbouncer";
import { pgbouncerArgs } from "./fixture";
import { PgBouncerVersion, renderPgBouncerIni } from "../../../components/pooler/render";

const v = (s: string): PgBouncerVersion => {
  const [major, minor, patch] = s.split(".").map(Number);
  return { major, minor, patch };
};
const ids = (s: string) => advisoriesFor(v(s)).map((a) => a.id);
const ini = (version: PgBouncerVersion | undefined, statsUsers: string[] = []) =>
  renderPgBouncerIni({
    databases: ["app"],
    server: { host: "postgres", port: 5432 },
    listen: { addr: "*", port: 6432, unixSocketDir: "/tmp" },
    pool: { mode: "transaction", defaultPoolSize: 10, maxClientConn: 1000 },
    authFile: "/etc/pgbouncer/userlist.txt",
    statsUsers,
    version,
  });
const cves = (warnings: string[]) => warnings.map((w) => /affected by (\S+):/.exec(w)?.[1]);

describe("version ranges", () => {
  it("1.26.0 has the three flaws 1.26.1 fixes; 1.26.1 has none known", () => {
    expect(ids("1.26.0")).toEqual(["CVE-2026-107350", "CVE-2026-107349", "CVE-2026-107348"]);
    expect(ids("1.26.1")).toEqual([]);
    expect(ids("1.27.0")).toEqual([]);
  });

  it("each flaw starts where the changelog says (1.17.0, 1.20.0, 1.21.0)", () => {
    expect(ids("1.16.1")).not.toContain("CVE-2026-107350");
    expect(ids("1.17.0")).toContain("CVE-2026-107350");
    expect(ids("1.19.1")).not.toContain("CVE-2026-107349");
    expect(ids("1.20.0")).toContain("CVE-2026-107349");
    expect(ids("1.20.1")).not.toContain("CVE-2026-107348");
    expect(ids("1.21.0")).toContain("CVE-2026-107348");
  });

  it("the 1.25.2 fixes apply below 1.25.2 only", () => {
    expect(ids("1.25.1")).toEqual(expect.arrayContaining(["CVE-2026-6664", "CVE-2026-6665", "CVE-2026-6666", "CVE-2026-6667"]));
    expect(ids("1.25.2")).not.toContain("CVE-2026-6664");
    expect(ids("1.18.0")).toContain("CVE-2025-12819");
    expect(ids("1.25.1")).not.toContain("CVE-2025-12819");
  });
});

describe("reachability with the rendered pgbouncer.ini", () => {
  it("the release the stack builds, 1.26.1: nothing known applies, with or without a stats user", () => {
    expect(PGBOUNCER_VERSION).toEqual({ major: 1, minor: 26, patch: 1 });
    expect(pgbouncerAdvisoryWarnings("pgbouncer 1.26.1-1", PGBOUNCER_VERSION, ini(PGBOUNCER_VERSION))).toEqual([]);
    expect(pgbouncerAdvisoryWarnings("pgbouncer 1.26.1-1", PGBOUNCER_VERSION, ini(PGBOUNCER_VERSION, ["hlpg_stats"]))).toEqual([]);
  });

  it("the image the stack used to pull (edoburu 1.26.0): only the SCRAM impersonation (CVE-2026-107350) is reachable", () => {
    const image = "edoburu/pgbouncer:v1.26.0-p0";
    const version = v("1.26.0");
    const warnings = pgbouncerAdvisoryWarnings(image, version, ini(version));
    expect(cves(warnings)).toEqual(["CVE-2026-107350"]);
    expect(warnings[0]).toContain("fixed in 1.26.1");
  });

  it("CVE-2026-107349 is out of reach only because `options` is in ignore_startup_parameters", () => {
    const rendered = ini(v("1.26.0"));
    expect(parseIniSettings(rendered).get("ignore_startup_parameters")).toBe("extra_float_digits,options");
    const without = rendered.replace(/^ignore_startup_parameters = .*$/m, "ignore_startup_parameters = extra_float_digits");
    expect(cves(pgbouncerAdvisoryWarnings("x:1.26.0", v("1.26.0"), without))).toContain("CVE-2026-107349");
    // an empty list is not exploitable either
    const empty = rendered.replace(/^ignore_startup_parameters = .*$/m, "ignore_startup_parameters =");
    expect(cves(pgbouncerAdvisoryWarnings("x:1.26.0", v("1.26.0"), empty))).not.toContain("CVE-2026-107349");
  });

  it("CVE-2026-107348 needs max_packet_size above 2^31 (never rendered)", () => {
    const rendered = ini(v("1.26.0"));
    expect(parseIniSettings(rendered).has("max_packet_size")).toBe(false);
    const warn = (size: string) => cves(pgbouncerAdvisoryWarnings("x:1.26.0", v("1.26.0"), rendered + `max_packet_size = ${size}\n`));
    expect(warn("2147483647")).not.toContain("CVE-2026-107348");
    expect(warn("2147483649")).toContain("CVE-2026-107348");
  });

  it("KILL_CLIENT by console users (CVE-2026-6667) only with a stats user; 1.26.1 has nothing known", () => {
    expect(cves(pgbouncerAdvisoryWarnings("x:1.25.1", v("1.25.1"), ini(v("1.25.1"))))).not.toContain("CVE-2026-6667");
    expect(cves(pgbouncerAdvisoryWarnings("x:1.25.1", v("1.25.1"), ini(v("1.25.1"), ["hlpg_stats"])))).toContain("CVE-2026-6667");
    expect(pgbouncerAdvisoryWarnings("edoburu/pgbouncer:v1.26.1-p0", v("1.26.1"), ini(v("1.26.1"), ["hlpg_stats"]))).toEqual([]);
  });

  it("parseIniSettings reads the [pgbouncer] section only", () => {
    const s = parseIniSettings("[databases]\nauth_type = md5\n[pgbouncer]\n; comment\nauth_type = scram-sha-256\n");
    expect([...s.entries()]).toEqual([["auth_type", "scram-sha-256"]]);
  });
});

describe("the PgBouncer component", () => {
  let warned: string[] = [];
  beforeAll(async () => {
    await installMocks(pulumi);
    const spy = jest.spyOn(pulumi.log, "warn").mockImplementation(() => Promise.resolve());
    // a stats user too (monitoring on): the ini with the most a flaw could reach
    const cfg = parseConfig("dev", { apps: [{ name: "app" }] });
    new PgBouncer("pgb-default", pgbouncerArgs(cfg, { statsUser: true }));
    warned = spy.mock.calls.map((c) => String(c[0]));
    spy.mockRestore();
  });

  it("is quiet at preview about the release it builds (advisories-release.test.ts: it does warn about one with a reachable CVE)", () => {
    expect(warned).toEqual([]);
  });
});
