// Container defaults every platform container shares.
import { goDuration, hardenedContainerArgs, ROLE_LABEL } from "../../../components/lib/container";

describe("goDuration", () => {
  // Go's time.Duration.String() for these values, as the docker provider reads healthchecks back
  it.each([[0, "0s"], [5, "5s"], [59, "59s"], [60, "1m0s"], [90, "1m30s"], [3600, "1h0m0s"], [5400, "1h30m0s"], [86400, "24h0m0s"]])("%i s → %s", (s, go) => {
    expect(goDuration(s)).toBe(go);
  });
});

describe("hardenedContainerArgs", () => {
  it("states every healthcheck duration the way the provider reads it back (no perpetual diff)", () => {
    const hc = hardenedContainerArgs({ role: "postgres", stack: "dev", memoryMb: 512, healthcheck: ["CMD", "true"] }).healthcheck as Record<string, unknown>;
    const canonical = /^(\d+h)?(\d+m)?\d+s$/;
    for (const k of ["interval", "timeout", "startPeriod"]) {
      const v = String(hc[k]);
      expect(v).toMatch(canonical);
      // a minute or more always carries its minutes and seconds ("1m0s", never "60s")
      const m = /^(?:(\d+)h)?(?:(\d+)m)?(\d+)s$/.exec(v)!;
      expect(Number(m[3])).toBeLessThan(60);
      if (m[1]) expect(m[2]).toBeDefined();
    }
    expect(hc.startPeriod).toBe("1m0s");
  });
});

describe("goDuration refuses what Go would not print as whole seconds", () => {
  it.each([-1, -60, 1.5])("%p", (s) => {
    expect(() => goDuration(s)).toThrow(/whole seconds >= 0/);
  });
});

describe("hardenedContainerArgs: what the policy pack checks on every container", () => {
  const base = { role: "backup" as const, stack: "dev", memoryMb: 256, healthcheck: ["CMD", "true"] };

  it("forbids privilege escalation, rotates logs and carries the stack and role labels", () => {
    const a = hardenedContainerArgs(base);
    expect(a.securityOpts).toContain("no-new-privileges:true");
    expect(a.logDriver).toBe("json-file");
    const opts = a.logOpts as Record<string, string>;
    expect(opts["max-size"]).toMatch(/^\d+m$/);
    expect(Number(opts["max-file"])).toBeGreaterThan(1);
    expect(a.labels).toEqual(expect.arrayContaining([
      { label: ROLE_LABEL, value: "backup" },
      { label: "homelab.postgres/stack", value: "dev" },
    ]));
  });

  it("waits for healthy, 300 s unless told otherwise", () => {
    expect(hardenedContainerArgs(base).wait).toBe(true);
    expect(hardenedContainerArgs(base).waitTimeout).toBe(300);
    expect(hardenedContainerArgs({ ...base, waitTimeoutSeconds: 120 }).waitTimeout).toBe(120);
  });
});
