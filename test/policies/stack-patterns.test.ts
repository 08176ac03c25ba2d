// Every stack the program treats as prod (isProdStack: `prod` and `prod-*`) is prod
// for the pack too: the rules with stack lists take patterns and default to both.
import { isProdStack } from "../../components/config/constants";
import { POLICY_NAMES, PROD_STACK_PATTERNS, stackMatches, TYPES } from "../../policies/rules";
import { resourcePolicy, runResourceRule, runStackRule, stackPolicy, StackResourceInit } from "./helpers";
import { goodContainer, goodRemoteImage } from "./fixtures";

const STACKS = ["prod", "prod-eu", "prod-2", "prod-", "prod-a.b", "production", "preprod", "dev", "prod2", "staging", "prod_eu", "myprod-eu"];

describe("stack patterns", () => {
  it.each(STACKS)("the pack's prod patterns agree with the program on %j", (stack) => {
    expect(stackMatches(stack, PROD_STACK_PATTERNS)).toBe(isProdStack(stack));
  });

  it("matches names exactly and * as any run of characters, nothing else", () => {
    expect(stackMatches("staging", ["staging"])).toBe(true);
    expect(stackMatches("staging-1", ["staging"])).toBe(false);
    expect(stackMatches("a.b", ["a.b"])).toBe(true);
    expect(stackMatches("axb", ["a.b"])).toBe(false); // '.' is not a wildcard
    expect(stackMatches("team-prod", ["*-prod"])).toBe(true);
    expect(stackMatches("anything", ["*"])).toBe(true);
    expect(stackMatches("prod", [])).toBe(false);
  });

  describe("docker-images-pinned requires digests in every prod stack by default", () => {
    const rule = resourcePolicy(POLICY_NAMES.imagesPinned);
    it.each(["prod", "prod-eu", "prod-2"])("in %s", async (stack) => {
      const o = await runResourceRule(rule, TYPES.remoteImage, goodRemoteImage("postgres:17"), { stack });
      expect(o.violations).toEqual([expect.stringMatching(/not pinned by digest/)]);
    });
    it.each(["dev", "production", "preprod"])("but not in %s", async (stack) => {
      expect((await runResourceRule(rule, TYPES.remoteImage, goodRemoteImage("postgres:17"), { stack })).violations).toEqual([]);
    });
    it("takes patterns from config", async () => {
      const o = await runResourceRule(rule, TYPES.remoteImage, goodRemoteImage("postgres:17"), { stack: "staging-3", config: { requireDigestInStacks: ["staging-*"] } });
      expect(o.violations).toHaveLength(1);
    });
  });

  describe("prod-stack-has-backup applies to every prod stack by default", () => {
    const rule = stackPolicy(POLICY_NAMES.prodHasBackup);
    const postgres: StackResourceInit = { type: TYPES.container, name: "postgres", props: goodContainer("postgres") };
    it.each(["prod", "prod-eu"])("refuses %s without backups", async (stack) => {
      const o = await runStackRule(rule, [postgres], { stack });
      expect(o.notApplicable).toBeUndefined();
      expect(o.violations).toEqual([expect.stringMatching(/no backup sidecar/), expect.stringMatching(/no backup bucket/)]);
    });
    it.each(["production", "dev"])("is not applicable to %s", async (stack) => {
      expect((await runStackRule(rule, [postgres], { stack })).notApplicable).toBeDefined();
    });
    it("takes patterns from config", async () => {
      expect((await runStackRule(rule, [postgres], { stack: "eu-prod", config: { stacks: ["*-prod"] } })).violations).toHaveLength(2);
    });
  });
});
