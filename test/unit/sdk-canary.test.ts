// The test helpers lean on Pulumi SDK internals that are not public API. Each is
// named here, so an SDK upgrade that moves one fails in this file, with its name,
// instead of as a puzzling failure in a program test.
import * as pulumi from "@pulumi/pulumi";
import { installMocks, value } from "../helpers/mocks";
import { isSecretValue } from "../helpers/record";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const rpc = require("@pulumi/pulumi/runtime/rpc") as Record<string, unknown>;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const state = require("@pulumi/pulumi/runtime/state") as Record<string, unknown>;

class Canary extends pulumi.CustomResource {
  constructor(name: string, props: Record<string, pulumi.Input<unknown>>, opts?: pulumi.CustomResourceOptions) {
    super("test:index:Canary", name, props, opts);
  }
}

describe("Pulumi SDK internals the helpers use", () => {
  it("runtime/rpc: deserializeProperties and the secret signature (record.ts reveal/isSecretValue)", () => {
    expect(typeof rpc.deserializeProperties).toBe("function");
    expect(rpc.specialSigKey).toBe("4dabf18193072939515e22adb298388d");
    expect(rpc.specialSecretSig).toBe("1b47061264138c4ac30d75fd1eb44270");
  });

  it("runtime/state: withLocalStorage (program.ts: a fresh store per run)", () => {
    expect(typeof state.withLocalStorage).toBe("function");
  });

  it("the mock monitor's registerResource and every request getter the recorder reads", async () => {
    const registered = await installMocks(pulumi, { stack: "canary" });
    const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource?: unknown };
    expect(typeof monitor.registerResource).toBe("function");
    const dep = new Canary("dep", {});
    const parent = new pulumi.ComponentResource("test:index:Parent", "parent");
    const c = new Canary(
      "canary",
      { secretInput: pulumi.secret("s3cr3t"), plain: "x" },
      { parent, dependsOn: [dep], retainOnDelete: true, protect: true, deleteBeforeReplace: true, additionalSecretOutputs: ["plain"] },
    );
    await value(c.urn);
    const r = registered.find((x) => x.name === "canary");
    // getType, getName, getCustom, getParent, getDependenciesList, getRetainondelete,
    // getProtect, getDeletebeforereplace, getAdditionalsecretoutputsList, getObject, getUrn
    expect(r).toMatchObject({
      type: "test:index:Canary",
      custom: true,
      retainOnDelete: true,
      protect: true,
      deleteBeforeReplace: true,
      additionalSecretOutputs: ["plain"],
    });
    expect(r?.urn).toMatch(/::test:index:Parent\$test:index:Canary::canary$/);
    expect(r?.parent).toMatch(/::test:index:Parent::parent$/);
    expect(r?.dependencies.some((d) => d.endsWith("::dep"))).toBe(true);
    expect(isSecretValue(r?.inputs.secretInput)).toBe(true);
    expect(r?.inputs.plain).toBe("x");
  });

  it("Output.promise(), which program.ts awaits for stack outputs", async () => {
    const o = pulumi.output(42) as unknown as { promise?: () => Promise<unknown> };
    expect(typeof o.promise).toBe("function");
    await expect(o.promise!()).resolves.toBe(42);
  });
});
