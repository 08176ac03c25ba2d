// The settings command (PostgresSettings) that applies the live settings, under the
// shared Pulumi mocks. A file of its own: it loads @pulumi/pulumi and @pulumi/docker,
// which the pure renderers' tests do not need (and `npm run mutation` runs this file
// only for the mutants it covers: test/mutation/jest.config.js).
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { installMocks } from "../../helpers/mocks";
import { RegisteredResource, isSecretValue, reveal } from "../../helpers/record";
import { PostgresSettings } from "../../../components/server/settings";

describe("PostgresSettings", () => {
  let registered: RegisteredResource[] = [];
  /** Outputs each component registered, by URN (the mock monitor keeps them but does not expose them). */
  const outputs = new Map<string, Record<string, unknown>>();
  let settings: PostgresSettings;
  const PASSWORD = "super-secret-pw-0123456789abcdefghij";

  beforeAll(async () => {
    registered = await installMocks(pulumi);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const rpc = require("@pulumi/pulumi/runtime/rpc") as { deserializeProperties(s: unknown): Record<string, unknown> };
    const monitor = pulumi.runtime.getMonitor() as unknown as {
      registerResourceOutputs(req: { getUrn(): string; getOutputs(): unknown }, cb: (err: unknown, res: unknown) => void): void;
    };
    const original = monitor.registerResourceOutputs.bind(monitor);
    monitor.registerResourceOutputs = (req, cb) => {
      outputs.set(req.getUrn(), rpc.deserializeProperties(req.getOutputs()));
      original(req, cb);
    };
    const container = new docker.Container("pg", { image: "postgres:17" });
    settings = new PostgresSettings("pg-settings", {
      settings: { shared_preload_libraries: "pg_stat_statements,vector", work_mem: "8MB,x" },
      majorVersion: 17,
      host: "127.0.0.1",
      port: 15432,
      password: PASSWORD,
      sslmode: "require",
      container,
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
  });

  const byName = (name: string): RegisteredResource => {
    const r = registered.find((x) => x.name === name);
    if (!r) throw new Error(`${name} not registered; have ${registered.map((x) => x.name).join(", ")}`);
    return r;
  };

  it("sets a list parameter element by element and any other parameter as one value, from the server major's catalog", () => {
    expect(settings.sql).toContain(`ALTER SYSTEM SET "shared_preload_libraries" = 'pg_stat_statements', 'vector';`);
    expect(settings.sql).toContain(`ALTER SYSTEM SET "work_mem" = '8MB,x';`);
    expect(reveal(byName("pg-settings-command").inputs.stdin)).toBe(settings.sql);
  });

  it("refuses a major it has no catalog for", () => {
    expect(() => new PostgresSettings("pg-settings-99", { ...settingsArgs(), majorVersion: 99 })).toThrow(/no settings catalog for PostgreSQL 99/);
  });

  it("connects psql to the server as postgres, with the password secret in state", () => {
    const cmd = byName("pg-settings-command");
    const env = cmd.inputs.environment as Record<string, unknown>;
    expect(reveal(env)).toMatchObject({ PGHOST: "127.0.0.1", PGPORT: "15432", PGUSER: "postgres", PGPASSWORD: PASSWORD, PGDATABASE: "postgres", PGSSLMODE: "require" });
    expect(isSecretValue(env.PGPASSWORD) || isSecretValue(cmd.inputs.environment)).toBe(true);
    expect(cmd.additionalSecretOutputs).toContain("environment");
  });

  it("runs again for a new container, once that container exists, as the component's child", () => {
    const cmd = byName("pg-settings-command");
    const container = byName("pg");
    expect(reveal(cmd.inputs.triggers)).toEqual(["pg-id"]);
    expect(cmd.dependencies).toContain(container.urn);
    expect(cmd.parent).toBe(byName("pg-settings").urn);
    expect(outputs.get(byName("pg-settings").urn)).toEqual({ applied: "pg-settings-command-id" });
  });

  function settingsArgs() {
    return { settings: {}, majorVersion: 17, host: "127.0.0.1", port: 15432, password: PASSWORD, sslmode: "require" as const, container: new docker.Container("pg-other", { image: "postgres:17" }) };
  }
});
