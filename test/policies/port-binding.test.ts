import { DEFAULT_ALLOWED_BIND_CIDRS, isAllowedBindIp } from "../../policies/lib";
import { POLICY_NAMES, TYPES } from "../../policies/rules";
import { resourcePolicy, runResourceRule, UNKNOWN_STRING } from "./helpers";
import { copy, goodContainer, Props } from "./fixtures";

const rule = resourcePolicy(POLICY_NAMES.portBinding);

function withPorts(ports: unknown[]): Props {
  return { ...goodContainer(), ports };
}

describe("rule 1: docker ports bind only the tailnet or loopback", () => {
  it("is mandatory", () => {
    expect(rule.enforcementLevel).toBe("mandatory");
  });

  it.each([
    ["tailnet IPv4", "100.101.102.103"],
    ["bottom of 100.64.0.0/10", "100.64.0.1"],
    ["top of 100.64.0.0/10", "100.127.255.254"],
    ["IPv4 loopback", "127.0.0.1"],
    ["other 127/8 address", "127.0.0.53"],
    ["IPv6 loopback", "::1"],
    ["bracketed IPv6 loopback", "[::1]"],
  ])("accepts a port on %s (%s)", async (_label, ip) => {
    const o = await runResourceRule(rule, TYPES.container, withPorts([{ internal: 5432, external: 5432, ip }]));
    expect(o.violations).toEqual([]);
  });

  it("accepts a container that publishes nothing", async () => {
    const o = await runResourceRule(rule, TYPES.container, { ...goodContainer(), ports: undefined });
    expect(o.violations).toEqual([]);
  });

  it.each([
    ["0.0.0.0", /published on 0\.0\.0\.0; allowed: 100\.64\.0\.0\/10, 127\.0\.0\.0\/8, ::1\/128/],
    ["::", /published on ::; allowed/],
    ["[::]", /published on \[::\]; allowed/],
    ["192.168.1.10", /published on 192\.168\.1\.10; allowed/],
    ["100.128.0.1", /published on 100\.128\.0\.1; allowed/],
    ["100.63.255.255", /published on 100\.63\.255\.255; allowed/],
    ["fd7a:115c:a1e0::1", /published on fd7a:115c:a1e0::1; allowed/],
    ["::ffff:0.0.0.0", /published on ::ffff:0\.0\.0\.0; allowed/],
    ["not-an-ip", /published on not-an-ip; allowed/],
  ])("refuses a port on %s", async (ip, message) => {
    const o = await runResourceRule(rule, TYPES.container, withPorts([{ internal: 5432, external: 5432, ip }]));
    expect(o.violations).toHaveLength(1);
    expect(o.violations[0]).toMatch(message);
    expect(o.violations[0]).toMatch(/^port 5432->5432 /);
  });

  it.each([
    ["a missing ip", { internal: 6432, external: 6432 }],
    ["an empty ip", { internal: 6432, external: 6432, ip: "" }],
    ["a blank ip", { internal: 6432, external: 6432, ip: "  " }],
  ])("refuses %s (docker's default is 0.0.0.0)", async (_label, port) => {
    const o = await runResourceRule(rule, TYPES.container, withPorts([port]));
    expect(o.violations).toEqual(["port 6432->6432 has no ip, so docker publishes it on 0.0.0.0 (every interface)"]);
  });

  it("reports every bad port, and names a random external port", async () => {
    const o = await runResourceRule(
      rule,
      TYPES.container,
      withPorts([{ internal: 5432, ip: "0.0.0.0" }, { internal: 5050, external: 5050, ip: "127.0.0.1" }, { internal: 6432 }]),
    );
    expect(o.violations).toEqual([
      expect.stringMatching(/^port \(random\)->5432 is published on 0\.0\.0\.0/),
      expect.stringMatching(/^port \(random\)->6432 has no ip/),
    ]);
  });

  it("refuses publishAllPorts and host networking", async () => {
    const o = await runResourceRule(rule, TYPES.container, { ...goodContainer(), publishAllPorts: true, networkMode: "host" });
    expect(o.violations).toEqual([
      "publishAllPorts publishes every exposed port on 0.0.0.0",
      'networkMode "host" exposes every listening port on every interface',
    ]);
  });

  it("accepts a bridge network", async () => {
    const o = await runResourceRule(rule, TYPES.container, { ...goodContainer(), networkMode: "bridge" });
    expect(o.violations).toEqual([]);
  });

  it("takes extra CIDRs from config (e.g. Tailscale IPv6) and then only those", async () => {
    const cfg = { allowedCidrs: ["100.64.0.0/10", "fd7a:115c:a1e0::/48"] };
    const v6 = await runResourceRule(rule, TYPES.container, withPorts([{ internal: 1, external: 1, ip: "fd7a:115c:a1e0::1" }]), { config: cfg });
    expect(v6.violations).toEqual([]);
    const lo = await runResourceRule(rule, TYPES.container, withPorts([{ internal: 1, external: 1, ip: "127.0.0.1" }]), { config: cfg });
    expect(lo.violations).toEqual([expect.stringMatching(/published on 127\.0\.0\.1; allowed: 100\.64\.0\.0\/10, fd7a:115c:a1e0::\/48$/)]);
  });

  // a permissive allowedCidrs holds the wildcard addresses too: the guard must refuse them before the ranges are consulted
  it.each(["::", "[::]", "0:0:0:0:0:0:0:0", "0.0.0.0", "::ffff:0.0.0.0"])("refuses the wildcard %s even when allowedCidrs holds it", async (ip) => {
    const cfg = { allowedCidrs: ["0.0.0.0/0", "::/0"] };
    const wildcard = await runResourceRule(rule, TYPES.container, withPorts([{ internal: 1, external: 1, ip }]), { config: cfg });
    expect(wildcard.violations).toEqual([`port 1->1 is published on ${ip}; allowed: 0.0.0.0/0, ::/0`]);
    // ...while an ordinary address in those ranges passes: the refusal is the guard's, not the ranges'
    const v6 = await runResourceRule(rule, TYPES.container, withPorts([{ internal: 1, external: 1, ip: "2001:db8::1" }]), { config: cfg });
    expect(v6.violations).toEqual([]);
  });

  it("isAllowedBindIp: missing or blank is docker's 0.0.0.0, and the defaults are the tailnet and loopback", () => {
    expect(isAllowedBindIp(undefined, ["0.0.0.0/0"])).toBe(false);
    expect(isAllowedBindIp("", ["0.0.0.0/0"])).toBe(false);
    expect(isAllowedBindIp("   ", ["0.0.0.0/0"])).toBe(false);
    expect(DEFAULT_ALLOWED_BIND_CIDRS).toEqual(["100.64.0.0/10", "127.0.0.0/8", "::1/128"]);
    expect(["100.64.0.1", "127.0.0.1", "::1", "100.128.0.1", "192.168.1.1"].map((ip) => isAllowedBindIp(ip))).toEqual([true, true, true, false, false]);
  });

  it("skips a resource named in exemptResources, and only that one", async () => {
    const bad = withPorts([{ internal: 1, external: 1, ip: "0.0.0.0" }]);
    const cfg = { exemptResources: ["legacy-exporter"] };
    expect((await runResourceRule(rule, TYPES.container, bad, { name: "legacy-exporter", config: cfg })).violations).toEqual([]);
    expect((await runResourceRule(rule, TYPES.container, bad, { name: "postgres", config: cfg })).violations).toHaveLength(1);
  });

  it("does not guess about an ip that is unknown during preview, but still checks the other ports", async () => {
    const o = await runResourceRule(
      rule,
      TYPES.container,
      withPorts([{ internal: 5432, external: 5432, ip: UNKNOWN_STRING }, { internal: 6432, external: 6432, ip: "0.0.0.0" }]),
    );
    expect(o.unknown).toBeUndefined();
    expect(o.violations).toEqual([expect.stringMatching(/^port 6432->6432 is published on 0\.0\.0\.0/)]);
  });

  it("still refuses publishAllPorts and host networking while the ports are unknown during preview", async () => {
    const o = await runResourceRule(rule, TYPES.container, { ...goodContainer(), ports: UNKNOWN_STRING, publishAllPorts: true, networkMode: "host" });
    expect(o.violations).toEqual([expect.stringMatching(/^publishAllPorts publishes every exposed port/), expect.stringMatching(/^networkMode "host" exposes/)]);
  });

  it("does not guess about a port entry that is unknown during preview", async () => {
    const o = await runResourceRule(rule, TYPES.container, withPorts([UNKNOWN_STRING, { internal: 6432, external: 6432, ip: "0.0.0.0" }]));
    expect(o.violations).toEqual([expect.stringMatching(/^port 6432->6432 is published on 0\.0\.0\.0/)]);
  });

  it("names a port without an internal number by its external one", async () => {
    const o = await runResourceRule(rule, TYPES.container, withPorts([{ external: 5432, ip: "0.0.0.0" }]));
    expect(o.violations).toEqual([expect.stringMatching(/^port 5432->\? is published on 0\.0\.0\.0/)]);
  });

  it("is not applicable to other resource types", async () => {
    const o = await runResourceRule(rule, TYPES.remoteImage, { name: "postgres:17" });
    expect(o.notApplicable).toMatch(/docker:index\/container:Container/);
    expect(o.violations).toEqual([]);
  });

  it("does not modify the fixture it is given", async () => {
    const props = withPorts([{ internal: 1, ip: "0.0.0.0" }]);
    const before = copy(props);
    await runResourceRule(rule, TYPES.container, props);
    expect(props).toEqual(before);
  });
});
