// The consumer helper and examples/app-stack, under mocks, against the platform's
// real output shape (taken from a dev run, not written by hand).
import { pickApp, sslRootCertOf, withCaFile } from "../../consumer";
import { isSecretValue, ofType, reveal, runProgram, stackConfig, T } from "../helpers/program";

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

  it("writes the stack CA where a verify-full URL expects it", async () => {
    const dev = stackConfig("dev").values["homelab-postgres:postgres"] as Record<string, unknown>;
    const platform = await runProgram("dev", { overrides: { apps: [{ name: "langfuse" }], postgres: { ...dev, tls: { enabled: true, mode: "stack-ca" } } } });
    const app = await runProgram("dev", {
      entry: { file: "examples/app-stack/index.ts", project: "langfuse-app" },
      stackReference: { outputs: platform.outputs, secretOutputNames: platform.secretOutputs },
    });
    const c = ofType(app, T.container)[0];
    const url = (platform.outputs.databases as Record<string, { url: string }>).langfuse.url;
    expect(url).toMatch(/sslmode=verify-full/);
    expect(reveal(c.inputs.uploads)).toEqual([{ file: "/etc/homelab-postgres/ca.crt", content: platform.outputs.caCertificate }]);
  });

  it("reads and moves the CA file of a URL", () => {
    const url = "postgresql://a:b@100.64.0.1:5432/a?sslmode=verify-full&sslrootcert=/etc/homelab-postgres/ca.crt";
    expect(sslRootCertOf(url)).toBe("/etc/homelab-postgres/ca.crt");
    expect(sslRootCertOf("postgresql://a:b@h:1/a?sslmode=require")).toBeUndefined();
    expect(withCaFile(url, "/app/ca.pem")).toBe("postgresql://a:b@100.64.0.1:5432/a?sslmode=verify-full&sslrootcert=/app/ca.pem");
  });

  it("names the apps that exist when asked for one that does not", () => {
    expect(() => pickApp({ a: { database: "a", user: "a_owner", password: "x", url: "u", readonlyUsers: {}, readwriteUsers: {} } }, "b", "org/homelab-postgres/prod")).toThrow(
      /app "b" is not in the 'databases' output of org\/homelab-postgres\/prod \(apps: a\)/,
    );
  });
});
