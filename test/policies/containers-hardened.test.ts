import { POLICY_NAMES, TYPES } from "../../policies/rules";
import { resourcePolicy, runResourceRule, UNKNOWN_NUMBER, UNKNOWN_STRING } from "./helpers";
import { goodContainer, Props, withField, without } from "./fixtures";

const rule = resourcePolicy(POLICY_NAMES.containersHardened);
const check = (props: Props, config?: Record<string, unknown>) => runResourceRule(rule, TYPES.container, props, { config });

describe("rule 3: containers are hardened", () => {
  it("is mandatory", () => {
    expect(rule.enforcementLevel).toBe("mandatory");
  });

  it("accepts the compliant container", async () => {
    expect((await check(goodContainer())).violations).toEqual([]);
  });

  describe("no-new-privileges", () => {
    it.each([["no-new-privileges"], ["no-new-privileges:true"], ["no-new-privileges=true"], [" No-New-Privileges:TRUE "]])(
      "accepts %s",
      async (opt) => {
        expect((await check(withField(goodContainer(), "securityOpts", ["apparmor=docker-default", opt]))).violations).toEqual([]);
      },
    );

    it.each([
      ["missing", undefined],
      ["empty", []],
      ["set to false", ["no-new-privileges:false"]],
      ["only other options", ["seccomp=unconfined"]],
    ])("refuses securityOpts %s", async (_label, opts) => {
      const o = await check(withField(goodContainer(), "securityOpts", opts));
      expect(o.violations).toEqual(['securityOpts lacks "no-new-privileges:true"']);
    });
  });

  describe("memory limit", () => {
    it.each([["missing", undefined], ["zero", 0], ["negative", -1]])("refuses memory %s", async (_label, memory) => {
      const o = await check(withField(goodContainer(), "memory", memory));
      expect(o.violations).toEqual(["memory limit is not set (memory, in MB, must be > 0)"]);
    });
  });

  describe("restart policy", () => {
    it.each(["unless-stopped", "always", "on-failure"])("accepts %s", async (restart) => {
      expect((await check(withField(goodContainer(), "restart", restart))).violations).toEqual([]);
    });

    it("refuses a missing policy (docker default: no)", async () => {
      const o = await check(without(goodContainer(), "restart"));
      expect(o.violations).toEqual(["restart policy is not set (docker default: no); use one of unless-stopped, always, on-failure"]);
    });

    it.each(["no", ""])("refuses %j", async (restart) => {
      const o = await check(withField(goodContainer(), "restart", restart));
      expect(o.violations).toEqual([expect.stringMatching(/^restart policy is (not set|"no")/)]);
    });

    it("takes the allowed policies from config", async () => {
      const o = await check(withField(goodContainer(), "restart", "always"), { allowedRestartPolicies: ["unless-stopped"] });
      expect(o.violations).toEqual(['restart policy is "always"; use one of unless-stopped']);
    });
  });

  describe("healthcheck", () => {
    it("refuses a container without one", async () => {
      expect((await check(without(goodContainer(), "healthcheck"))).violations).toEqual(["healthcheck has no tests"]);
    });

    it("refuses empty tests", async () => {
      expect((await check(withField(goodContainer(), "healthcheck", { tests: [] }))).violations).toEqual(["healthcheck has no tests"]);
    });

    it('refuses tests ["NONE"], which disables the image\'s healthcheck', async () => {
      const o = await check(withField(goodContainer(), "healthcheck", { tests: ["NONE"] }));
      expect(o.violations).toEqual(['healthcheck is disabled (tests ["NONE"])']);
    });
  });

  describe("one-shot jobs (attach, mustRun false)", () => {
    const job = (extra: Props = {}): Props => ({ ...without(without(goodContainer(), "healthcheck"), "ports"), restart: "no", attach: true, mustRun: false, ...extra });

    it("accepts a job that runs once: no restart policy, no healthcheck", async () => {
      expect((await check(job())).violations).toEqual([]);
      expect((await check(without(job(), "restart"))).violations).toEqual([]);
    });

    it("refuses a job that would restart", async () => {
      expect((await check(job({ restart: "unless-stopped" }))).violations).toEqual(['a one-shot job (attach, mustRun false) must not restart; restart is "unless-stopped"']);
    });

    it("keeps every other rule for a job", async () => {
      const o = await check(job({ securityOpts: [], memory: 0 }));
      expect(o.violations).toEqual(['securityOpts lacks "no-new-privileges:true"', "memory limit is not set (memory, in MB, must be > 0)"]);
    });

    it.each([
      ["attach without mustRun false", { attach: true }],
      ["mustRun false without attach", { mustRun: false }],
    ])("is not a job with %s: restart and healthcheck are required", async (_label, fields) => {
      const o = await check({ ...without(without(goodContainer(), "healthcheck"), "restart"), ...fields });
      expect(o.violations).toEqual([expect.stringMatching(/^restart policy is not set/), "healthcheck has no tests"]);
    });
  });

  describe("log rotation", () => {
    it.each([
      ["local", undefined],
      ["journald", undefined],
      ["json-file", { "max-size": "10m", "max-file": "3" }],
    ])("accepts %s %j", async (logDriver, logOpts) => {
      const props = { ...goodContainer(), logDriver, logOpts };
      expect((await check(props)).violations).toEqual([]);
    });

    it("refuses a container that leaves the driver to the daemon", async () => {
      const o = await check(without(goodContainer(), "logDriver"));
      expect(o.violations).toEqual([expect.stringMatching(/^logDriver is not set \(the daemon default json-file never rotates\)/)]);
    });

    it.each([
      ["no options", undefined],
      ["max-file only", { "max-file": "3" }],
      ["unlimited max-size", { "max-size": "-1" }],
    ])("refuses json-file with %s", async (_label, logOpts) => {
      const o = await check({ ...goodContainer(), logDriver: "json-file", logOpts });
      expect(o.violations).toEqual(['logDriver "json-file" without logOpts "max-size" never rotates']);
    });

    it("refuses a driver not known to rotate, unless config lists it", async () => {
      const props = { ...goodContainer(), logDriver: "fluentd" };
      expect((await check(props)).violations).toEqual([expect.stringMatching(/^logDriver "fluentd" is not one known to rotate/)]);
      expect((await check(props, { rotatingLogDrivers: ["fluentd"] })).violations).toEqual([]);
    });
  });

  it("refuses a privileged container", async () => {
    expect((await check(withField(goodContainer(), "privileged", true))).violations).toEqual(["container is privileged"]);
  });

  it("reports every problem of a bare container at once", async () => {
    const o = await check({ image: "postgres:17" });
    expect(o.violations).toHaveLength(5);
  });

  it("leaves a value still unknown during preview to `pulumi up`", async () => {
    const unknown = {
      ...goodContainer(),
      securityOpts: UNKNOWN_STRING,
      memory: UNKNOWN_NUMBER,
      restart: UNKNOWN_STRING,
      healthcheck: { tests: UNKNOWN_STRING },
      logDriver: UNKNOWN_STRING,
    };
    expect((await check(unknown)).violations).toEqual([]);
    // unknown options: the driver alone cannot tell whether json-file rotates
    expect((await check({ ...goodContainer(), logDriver: "json-file", logOpts: UNKNOWN_STRING })).violations).toEqual([]);
  });

  it("skips exempt resources", async () => {
    const o = await runResourceRule(rule, TYPES.container, { image: "x:1" }, { name: "one-off", config: { exemptResources: ["one-off"] } });
    expect(o.violations).toEqual([]);
  });
});
