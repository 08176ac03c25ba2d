// The consumer helper and examples/app-stack, under mocks, against the platform's
// real output shape (taken from a dev run, not written by hand).
import { pickApp } from "../../consumer";
import { isSecretValue, ofType, reveal, runProgram, T } from "../helpers/program";

describe("appDatabase / examples/app-stack", () => {
  it("passes DATABASE_URL to the container as a secret, pooled and direct", async () => {
    const platform = await runProgram("dev", { overrides: { apps: [{ name: "langfuse", extensions: ["vector"] }] } });
    const app = await runProgram("dev", {
      entry: { file: "examples/app-stack/index.ts", project: "langfuse-app" },
      stackReference: { outputs: platform.outputs, secretOutputNames: platform.secretOutputs },
    });
    const c = ofType(app, T.container)[0];
    expect(isSecretValue(c.inputs.envs)).toBe(true);
    expect(c.additionalSecretOutputs).toContain("envs");
    const envs = reveal(c.inputs.envs) as string[];
    const langfuse = (platform.outputs.databases as Record<string, { url: string; pooledUrl?: string }>).langfuse;
    expect(envs).toContain(`DIRECT_URL=${langfuse.url}`);
    expect(envs).toContain(`DATABASE_URL=${langfuse.pooledUrl ?? langfuse.url}`);
    expect(reveal(c.inputs.networksAdvanced)).toEqual([expect.objectContaining({ name: platform.outputs.network })]);
  });

  it("names the apps that exist when asked for one that does not", () => {
    expect(() => pickApp({ a: { database: "a", user: "a_owner", password: "x", url: "u", readonlyUsers: {}, readwriteUsers: {} } }, "b", "org/homelab-postgres/prod")).toThrow(
      /app "b" is not in the 'databases' output of org\/homelab-postgres\/prod \(apps: a\)/,
    );
  });
});
