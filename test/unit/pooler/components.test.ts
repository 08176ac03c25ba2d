// PgBouncer and PgAdmin constructed directly under pulumi.runtime.setMocks: what
// they register (ports, uploads, roles, options) and which values are secret.
import * as pulumi from "@pulumi/pulumi";
import { installMocks, value } from "../../helpers/mocks";
import { RegisteredResource as Registered, isSecretValue, reveal } from "../../helpers/record";
import { parseConfig } from "../../../components/config";
import { PgAdmin } from "../../../components/pgadmin/pgadmin";
import { PgBouncer } from "../../../components/pooler/pgbouncer";
import { authPsqlCommand, PGBOUNCER_AUTH_ROLE, renderAuthCreateScript, renderAuthRemoveScript } from "../../../components/pooler/render";

let registered: Registered[] = [];

function byName(name: string): Registered {
  const r = registered.find((x) => x.name === name);
  if (!r) throw new Error(`${name} not registered; have ${registered.map((x) => x.name).join(", ")}`);
  return r;
}

type Upload = { file: string; content: string; permissions?: string; owner?: string; group?: string };
type Port = { internal: number; external: number; ip: string };

const cfg = parseConfig("dev", {
  apps: [{ name: "langfuse" }, { name: "my-app", readonlyUsers: ["analytics"] }],
  pgbouncer: { defaultPoolSize: 12 },
  pgadmin: { enabled: true, email: "ops@example.com" },
});

class Ready extends pulumi.CustomResource {
  constructor(name: string) {
    super("test:index:Ready", name, {});
  }
}

const SUPER_PW = "super-secret-pw-0123456789abcdefghij";
let pooler: PgBouncer;
let pooler2: PgBouncer;
let admin: PgAdmin;

beforeAll(async () => {
  registered = await installMocks(pulumi);
  // stand in for AppDatabase.ready (the end of each app's grant chain)
  const ready = Object.fromEntries(cfg.apps.map((a) => [a.database, new Ready(`ready-${a.database}`)]));
  pooler = new PgBouncer("pgbouncer", {
    stack: "dev",
    config: cfg.pgbouncer,
    apps: cfg.apps,
    network: "dev-pg",
    bindAddress: "127.0.0.1",
    postgres: { host: "postgres", port: 5432 },
    admin: { host: "127.0.0.1", port: 5432, password: pulumi.secret(SUPER_PW), sslmode: "disable" },
    databasesReady: ready,
    rerunOn: ["postgres-container-id"],
  });
  // a tailnet address that is only known later, and TLS on
  pooler2 = new PgBouncer("pgbouncer-tls", {
    stack: "prod",
    config: { ...cfg.pgbouncer, port: 7432 },
    apps: cfg.apps,
    network: "prod-pg",
    bindAddress: pulumi.output("100.101.102.103"),
    postgres: { host: "postgres", port: 5432 },
    tls: { certificate: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", privateKey: "-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n" },
    admin: { host: "100.101.102.103", port: 5432, password: pulumi.secret(SUPER_PW), sslmode: "require" },
  });
  admin = new PgAdmin("pgadmin", {
    stack: "dev",
    config: cfg.pgadmin,
    network: "dev-pg",
    bindAddress: "127.0.0.1",
    postgres: { host: "postgres", port: 5432 },
    superuserPassword: pulumi.secret(SUPER_PW),
    tls: false,
  });
  await Promise.all([
    value(pooler.container.id), value(pooler2.container.id), value(admin.container.id), value(admin.url),
    value(pooler.authPassword), value(admin.password), ...Object.values(pooler.authLookups).map((c) => value(c.id)),
  ]);
});

describe("PgBouncer", () => {
  it("publishes only on the given bind address, on the configured port", async () => {
    const p1 = reveal(byName("pgbouncer-container").inputs.ports) as Port[];
    expect(p1).toEqual([expect.objectContaining({ ip: "127.0.0.1", external: 6432, internal: 6432 })]);
    const p2 = reveal(byName("pgbouncer-tls-container").inputs.ports) as Port[];
    expect(p2).toEqual([expect.objectContaining({ ip: "100.101.102.103", external: 7432 })]);
    expect(await value(pooler.host)).toBe("127.0.0.1");
    expect(pooler.port).toBe(6432);
  });

  it("keeps the auth password secret: output, auth file upload and every auth Command's environment", async () => {
    expect(await pulumi.isSecret(pooler.authPassword)).toBe(true);
    expect(await pulumi.isSecret(pooler.container.uploads)).toBe(true);
    expect(Object.keys(pooler.authLookups).sort()).toEqual(["langfuse", "my_app"]);
    for (const cmd of Object.values(pooler.authLookups)) expect(await pulumi.isSecret(cmd.environment)).toBe(true);
    expect(byName("pgbouncer-container").additionalSecretOutputs).toContain("uploads");
    expect(byName("pgbouncer-auth-role").additionalSecretOutputs).toContain("password");
    for (const db of ["langfuse", "my_app"]) expect(byName(`pgbouncer-auth-${db}`).additionalSecretOutputs).toContain("environment");
  });

  it("uploads an auth file with the auth role's credential only, 0600, owned by the container user", async () => {
    const pw = await value(pooler.authPassword);
    const ups = reveal(byName("pgbouncer-container").inputs.uploads) as Upload[];
    const auth = ups.filter((u) => u.content.includes(pw));
    expect(auth).toHaveLength(1);
    expect(auth[0].content.trim().split("\n")).toEqual([`"${PGBOUNCER_AUTH_ROLE}" "${pw}"`]);
    expect(auth[0].permissions).toBe("0600");
    const user = String(byName("pgbouncer-container").inputs.user).split(":")[0];
    expect(auth[0].owner).toBe(user);
    // and the ini that names it
    const ini = ups.find((u) => u.file.endsWith("pgbouncer.ini"));
    expect(ini?.content).toMatch(new RegExp(`^auth_file = ${auth[0].file}$`, "m"));
    expect(ini?.content).not.toContain(pw);
  });

  it("creates the auth role with LOGIN and no other power, and a long random password", () => {
    const role = byName("pgbouncer-auth-role").inputs;
    expect(role).toMatchObject({ name: PGBOUNCER_AUTH_ROLE, login: true, superuser: false, createDatabase: false, createRole: false, replication: false, bypassRowLevelSecurity: false });
    expect(Number(byName("pgbouncer-auth-password").inputs.length)).toBeGreaterThanOrEqual(32);
  });

  it("installs the lookup with one Command per app database, after that database, straight to Postgres", () => {
    for (const db of ["langfuse", "my_app"]) {
      const cmd = byName(`pgbouncer-auth-${db}`);
      // exactly the rendered scripts the integration tests run
      expect(cmd.inputs.create).toBe(authPsqlCommand(renderAuthCreateScript(db)));
      expect(cmd.inputs.delete).toBe(authPsqlCommand(renderAuthRemoveScript(db)));
      expect(cmd.inputs.stdin).toBeUndefined();
      const env = reveal(cmd.inputs.environment) as Record<string, string>;
      expect(env).toMatchObject({ PGHOST: "127.0.0.1", PGPORT: "5432", PGSSLMODE: "disable", PGPASSWORD: SUPER_PW, PGDATABASE: "postgres" });
      expect(String(cmd.inputs.create)).not.toContain(SUPER_PW);
      // created after its own database and the role, so deleted before either
      expect(cmd.dependencies).toEqual(expect.arrayContaining([byName(`ready-${db}`).urn, byName("pgbouncer-auth-role").urn]));
      const other = db === "langfuse" ? "my_app" : "langfuse";
      expect(cmd.dependencies).not.toContain(byName(`ready-${other}`).urn);
      // only a new cluster forces a fresh install; a replacement removes the old one first
      expect(cmd.inputs.triggers).toEqual(["postgres-container-id"]);
      expect(cmd.deleteBeforeReplace).toBe(true);
      // the container starts once the lookups exist
      expect(byName("pgbouncer-container").dependencies).toContain(cmd.urn);
    }
  });

  it("hardens and labels the container, and replaces it delete-first (one host port)", () => {
    const c = byName("pgbouncer-container");
    expect(c.inputs).toMatchObject({
      name: "dev-pgbouncer",
      restart: "unless-stopped",
      securityOpts: ["no-new-privileges:true"],
      memory: expect.any(Number),
      wait: true,
    });
    expect(reveal(c.inputs.labels)).toEqual(expect.arrayContaining([{ label: "homelab.postgres/role", value: "pgbouncer" }]));
    expect((c.inputs.healthcheck as { tests: string[] }).tests.length).toBeGreaterThan(1);
    expect(c.deleteBeforeReplace).toBe(true);
    expect(reveal(c.inputs.networksAdvanced)).toEqual([expect.objectContaining({ name: "dev-pg", aliases: ["pgbouncer"] })]);
  });

  it("with TLS: requires TLS toward Postgres, serves clients with the certificate, key secret and 0600", () => {
    const ups = reveal(byName("pgbouncer-tls-container").inputs.uploads) as Upload[];
    const ini = ups.find((u) => u.file.endsWith("pgbouncer.ini"))?.content ?? "";
    expect(ini).toMatch(/^server_tls_sslmode = require$/m);
    const keyFile = /^client_tls_key_file = (.+)$/m.exec(ini)?.[1];
    expect(keyFile).toBeDefined();
    const key = ups.find((u) => u.file === keyFile);
    expect(key?.content).toContain("PRIVATE KEY");
    expect(key?.permissions).toBe("0600");
    expect(isSecretValue(byName("pgbouncer-tls-container").inputs.uploads)).toBe(true);
    expect(reveal(byName("pgbouncer-tls-auth-my_app").inputs.environment)).toMatchObject({ PGSSLMODE: "require" });
  });
});

describe("PgAdmin", () => {
  it("publishes only on the given bind address and reports its URL", async () => {
    const p = reveal(byName("pgadmin-container").inputs.ports) as Port[];
    expect(p).toEqual([expect.objectContaining({ ip: "127.0.0.1", external: cfg.pgadmin.port })]);
    expect(await value(admin.url)).toBe(`http://127.0.0.1:${cfg.pgadmin.port}`);
  });

  it("keeps its password and the superuser's secret, out of env and out of servers.json", async () => {
    expect(await pulumi.isSecret(admin.password)).toBe(true);
    expect(await pulumi.isSecret(admin.container.uploads)).toBe(true);
    const c = byName("pgadmin-container");
    const pw = await value(admin.password);
    const envs = reveal(c.inputs.envs) as string[];
    expect(envs).toContain("PGADMIN_DEFAULT_EMAIL=ops@example.com");
    expect(envs.join("\n")).not.toContain(pw);
    expect(envs.join("\n")).not.toContain(SUPER_PW);
    const ups = reveal(c.inputs.uploads) as Upload[];
    const servers = ups.find((u) => u.file.endsWith("servers.json"));
    expect(servers?.content).not.toContain(SUPER_PW);
    // each secret is in exactly one upload, readable by the pgadmin user only
    for (const secret of [pw, SUPER_PW]) {
      const holders = ups.filter((u) => u.content.includes(secret));
      expect(holders).toHaveLength(1);
      expect(holders[0].permissions).toMatch(/^0?[46]00$/);
      expect(holders[0].owner).toBe("5050");
    }
    // the password file is the one the image reads
    const pwFile = envs.find((e) => e.startsWith("PGADMIN_DEFAULT_PASSWORD_FILE="))?.split("=")[1];
    expect(ups.find((u) => u.file === pwFile)?.content).toBe(pw);
    expect(Number(byName("pgadmin-password").inputs.length)).toBeGreaterThanOrEqual(32);
  });

  it("re-applies servers.json on every start, through the wrapper that installs the pgpass", () => {
    const c = byName("pgadmin-container");
    const envs = reveal(c.inputs.envs) as string[];
    expect(envs).toContain("PGADMIN_REPLACE_SERVERS_ON_STARTUP=True");
    const ups = reveal(c.inputs.uploads) as Upload[];
    const entry = reveal(c.inputs.entrypoints) as string[];
    const script = ups.find((u) => entry.includes(u.file));
    expect(script?.content).toMatch(/exec '\/entrypoint\.sh' "\$@"/);
    const serversFile = envs.find((e) => e.startsWith("PGADMIN_SERVER_JSON_FILE="))?.split("=")[1];
    const servers = JSON.parse(ups.find((u) => u.file === serversFile)?.content ?? "{}") as { Servers: Record<string, { Host: string; Port: number }> };
    expect(Object.values(servers.Servers)).toEqual([expect.objectContaining({ Host: "postgres", Port: 5432 })]);
  });

  it("keeps its data volume when removed", () => {
    const vol = byName("pgadmin-data");
    expect(vol.retainOnDelete).toBe(true);
    expect(vol.inputs.name).toBe("dev-pgadmin");
    const c = byName("pgadmin-container");
    expect(reveal(c.inputs.volumes)).toEqual([expect.objectContaining({ volumeName: "dev-pgadmin", containerPath: "/var/lib/pgadmin" })]);
    expect(reveal(c.inputs.labels)).toEqual(expect.arrayContaining([{ label: "homelab.postgres/role", value: "pgadmin" }]));
  });
});
