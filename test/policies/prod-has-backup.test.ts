import { POLICY_NAMES, ROLE_LABEL, TYPES } from "../../policies/rules";
import { runStackRule, stackPolicy, StackResourceInit } from "./helpers";
import { goodContainer } from "./fixtures";

const rule = stackPolicy(POLICY_NAMES.prodHasBackup);

const container = (role: string): StackResourceInit => ({ type: TYPES.container, name: role, props: goodContainer(role) });
const bucket: StackResourceInit = { type: TYPES.bucket[0], name: "backup-bucket", props: { bucket: "homelab-prod-backups" } };
const full = [container("postgres"), container("pgbouncer"), container("backup"), bucket];

describe("rule 7: a prod stack has a backup sidecar and a bucket", () => {
  it("is mandatory and a stack rule", () => {
    expect(rule.enforcementLevel).toBe("mandatory");
    expect(typeof rule.validateStack).toBe("function");
  });

  it("accepts prod with the sidecar and the bucket", async () => {
    const o = await runStackRule(rule, full, { stack: "prod" });
    expect(o.violations).toEqual([]);
    expect(o.notApplicable).toBeUndefined();
  });

  it("refuses prod without a container labelled backup", async () => {
    const o = await runStackRule(rule, [container("postgres"), bucket], { stack: "prod" });
    expect(o.violations).toEqual([`stack prod has no backup sidecar (no container labelled ${ROLE_LABEL}=backup)`]);
  });

  it("does not take a container named backup without the label for the sidecar", async () => {
    const unlabelled: StackResourceInit = { type: TYPES.container, name: "backup", props: { ...goodContainer(), labels: [] } };
    const o = await runStackRule(rule, [container("postgres"), unlabelled, bucket], { stack: "prod" });
    expect(o.violations).toEqual([expect.stringMatching(/has no backup sidecar/)]);
  });

  it("does not take a labelled resource that is not a container", async () => {
    const image: StackResourceInit = { type: TYPES.remoteImage, name: "backup", props: { labels: [{ label: ROLE_LABEL, value: "backup" }] } };
    const o = await runStackRule(rule, [container("postgres"), image, bucket], { stack: "prod" });
    expect(o.violations).toEqual([expect.stringMatching(/has no backup sidecar/)]);
  });

  it("refuses prod without a bucket", async () => {
    const o = await runStackRule(rule, [container("postgres"), container("backup")], { stack: "prod" });
    expect(o.violations).toEqual(["stack prod has no backup bucket (no aws.s3.Bucket resource)"]);
  });

  it("accepts the deprecated BucketV2 type as the bucket", async () => {
    const v2: StackResourceInit = { ...bucket, type: TYPES.bucket[1] };
    expect((await runStackRule(rule, [container("backup"), v2], { stack: "prod" })).violations).toEqual([]);
  });

  it("reports both when prod has neither", async () => {
    const o = await runStackRule(rule, [container("postgres")], { stack: "prod" });
    expect(o.violations).toHaveLength(2);
  });

  it("is not applicable to dev", async () => {
    const o = await runStackRule(rule, [container("postgres")], { stack: "dev" });
    expect(o.notApplicable).toBe('stack "dev" matches none of prod, prod-*');
    expect(o.violations).toEqual([]);
  });

  it("reads the stack from the resources' URNs, not from a name that merely contains prod", async () => {
    const o = await runStackRule(rule, [container("postgres")], { stack: "preprod" });
    expect(o.notApplicable).toBeDefined();
  });

  it("takes the stacks and the bucket requirement from config", async () => {
    const staging = await runStackRule(rule, [container("postgres")], { stack: "staging", config: { stacks: ["prod", "staging"] } });
    expect(staging.violations).toHaveLength(2);
    const externalBucket = await runStackRule(rule, [container("backup")], { stack: "prod", config: { requireBucket: false } });
    expect(externalBucket.violations).toEqual([]);
  });

  it("reads the stack from PULUMI_STACK when the stack has no resource at all", async () => {
    const saved = process.env.PULUMI_STACK;
    process.env.PULUMI_STACK = "prod";
    try {
      const o = await runStackRule(rule, [], { stack: "ignored" });
      expect(o.violations).toHaveLength(2);
    } finally {
      if (saved === undefined) delete process.env.PULUMI_STACK;
      else process.env.PULUMI_STACK = saved;
    }
  });
});
