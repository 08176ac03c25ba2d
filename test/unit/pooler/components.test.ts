// PgBouncer and PgAdmin constructed directly under pulumi.runtime.setMocks: what
// they register (ports, uploads, roles, options) and which values are secret.
import * as pulumi from "@pulumi/pulumi";
import { installMocks, value } from "../../helpers/mocks";
import { RegisteredResource as Registered, isSecretValue, reveal } from "../../helpers/record";
import { parseConfig } from "../../../components/config";
import { PgAdmin } from "../../../components/pgadmin/pgadmin";
import { readFileSync } from "fs";
import * as path from "path";
import { contextFiles } from "../../../components/lib/built-image";
import { PGBOUNCER_CONTEXT, pgbouncerImageRef } from "../../../components/pooler/image";
import { PgBouncer, pgbouncerNofile, PGBOUNCER_CONTAINER, RUNTIME_INI } from "../../../components/pooler/pgbouncer";
import { authPsqlCommand, PGBOUNCER_AUTH_ROLE, renderAuthCreateScript, renderAuthRemoveScript } from "../../../components/pooler/render";
import { renderPgBouncerWrapper } from "../../../components/pooler/wrapper";
import { SUPER_PW, pgbouncerArgs } from "./fixture";

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

const PINNED_TRIXIE = `debian:trixie-slim@sha256:${"d".repeat(64)}`;
const ADMIN_PW = "admin-secret-pw-0123456789abcdefghij";
let pooler: PgBouncer;
let pooler2: PgBouncer;
let admin: PgAdmin;

/** The same stack with one more app, or another pool size: only the carrier and the auth Commands may differ. */
const variants = {
  twoApps: cfg,
  threeApps: parseConfig("dev", {
    apps: [{ name: "langfuse" }, { name: "my-app", readonlyUsers: ["analytics"] }, { name: "grafana" }],
    pgbouncer: { defaultPoolSize: 12 },
  }),
  pool10: parseConfig("dev", { apps: [{ name: "langfuse" }, { name: "my-app", readonlyUsers: ["analytics"] }], pgbouncer: { defaultPoolSize: 10 } }),
  perApp: parseConfig("dev", {
    apps: [{ name: "langfuse", pool: { mode: "session", size: 4 } }, { name: "my-app", readonlyUsers: ["analytics"] }],
    pgbouncer: { defaultPoolSize: 12 },
  }),
};
const variantPoolers: Record<keyof typeof variants, PgBouncer> = {} as Record<keyof typeof variants, PgBouncer>;

beforeAll(async () => {
  registered = await installMocks(pulumi);
  // stand in for AppDatabase.ready (the end of each app's grant chain)
  const ready = Object.fromEntries(cfg.apps.map((a) => [a.database, new Ready(`ready-${a.database}`)]));
  pooler = new PgBouncer("pgbouncer", pgbouncerArgs(cfg, { databasesReady: ready, rerunOn: ["postgres-container-id"] }));
  // a tailnet address that is only known later, TLS on, and a published port other than the internal one
  pooler2 = new PgBouncer("pgbouncer-tls", {
    stack: "prod",
    config: { ...cfg.pgbouncer, port: 7432 },
    // a pinned base, and an arm64 Docker host
    image: { baseImage: PINNED_TRIXIE, platform: "linux/arm64" },
    apps: cfg.apps,
    network: "prod-pg",
    bindAddress: pulumi.output("100.101.102.103"),
    postgres: { host: "postgres", port: 5432 },
    postgresMaxConnections: 300,
    tls: { certificate: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", privateKey: "-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n" },
    admin: { host: "100.101.102.103", port: 5432, password: pulumi.secret(SUPER_PW), sslmode: "require" },
  });
  for (const [key, c] of Object.entries(variants) as [keyof typeof variants, typeof cfg][]) {
    variantPoolers[key] = new PgBouncer(`pgb-${key}`, pgbouncerArgs(c, { stack: "inv", network: "inv-pg" }));
  }
  admin = new PgAdmin("pgadmin", {
    stack: "dev",
    config: cfg.pgadmin,
    network: "dev-pg",
    bindAddress: "127.0.0.1",
    postgres: { host: "postgres", port: 5432 },
    login: { user: "db_admin", password: pulumi.secret(ADMIN_PW) },
    tls: false,
  });
  await Promise.all([
    value(pooler.container.id), value(pooler2.container.id), value(admin.container.id), value(admin.url),
    value(pooler.authPassword!), value(admin.password), ...Object.values(pooler.authLookups).map((c) => value(c.id)),
    ...Object.values(variantPoolers).map((p) => value(p.container.id)), ...Object.values(variantPoolers).map((p) => value(p.authPassword!)),
  ]);
});

/** The carrier's upload of the ini, read back. */
function carriedIni(name: string): string {
  const ups = reveal(byName(`${name}-runtime-container`).inputs.uploads) as Upload[];
  const ini = ups.find((u) => u.file.endsWith(`/${RUNTIME_INI}`));
  if (!ini) throw new Error(`${name}: the carrier holds no ${RUNTIME_INI}`);
  return ini.content;
}

describe("PgBouncer", () => {
  it("publishes only on the given bind address, on the configured port, to a fixed internal port", async () => {
    const p1 = reveal(byName("pgbouncer-container").inputs.ports) as Port[];
    expect(p1).toEqual([expect.objectContaining({ ip: "127.0.0.1", external: 6432, internal: 6432 })]);
    const p2 = reveal(byName("pgbouncer-tls-container").inputs.ports) as Port[];
    expect(p2).toEqual([expect.objectContaining({ ip: "100.101.102.103", external: 7432, internal: PGBOUNCER_CONTAINER.port })]);
    expect(carriedIni("pgbouncer-tls")).toMatch(new RegExp(`^listen_port = ${PGBOUNCER_CONTAINER.port}$`, "m"));
    expect(await value(pooler.host)).toBe("127.0.0.1");
    expect(pooler.port).toBe(6432);
    expect(pooler2.port).toBe(7432);
    expect(pooler2.internalPort).toBe(PGBOUNCER_CONTAINER.port);
  });

  it("keeps the auth password secret: output, auth file upload and every auth Command's environment", async () => {
    expect(await pulumi.isSecret(pooler.authPassword!)).toBe(true);
    expect(await pulumi.isSecret(pooler.container.uploads)).toBe(true);
    expect(Object.keys(pooler.authLookups).sort()).toEqual(["langfuse", "my_app"]);
    for (const cmd of Object.values(pooler.authLookups)) expect(await pulumi.isSecret(cmd.environment)).toBe(true);
    expect(byName("pgbouncer-container").additionalSecretOutputs).toContain("uploads");
    expect(byName("pgbouncer-auth-role").additionalSecretOutputs).toContain("password");
    for (const db of ["langfuse", "my_app"]) expect(byName(`pgbouncer-auth-${db}`).additionalSecretOutputs).toContain("environment");
  });

  it("uploads an auth file with the auth role's credential only, 0600, owned by the container user", async () => {
    const pw = await value(pooler.authPassword!);
    const ups = reveal(byName("pgbouncer-container").inputs.uploads) as Upload[];
    const auth = ups.filter((u) => u.content.includes(pw));
    expect(auth).toHaveLength(1);
    expect(auth[0].content.trim().split("\n")).toEqual([`"${PGBOUNCER_AUTH_ROLE}" "${pw}"`]);
    expect(auth[0].permissions).toBe("0600");
    const user = String(byName("pgbouncer-container").inputs.user).split(":")[0];
    expect(auth[0].owner).toBe(user);
    // and the ini (delivered by the carrier, not uploaded here) that names it
    expect(ups.find((u) => u.file.endsWith(RUNTIME_INI))).toBeUndefined();
    expect(carriedIni("pgbouncer")).toMatch(new RegExp(`^auth_file = ${auth[0].file}$`, "m"));
    expect(carriedIni("pgbouncer")).not.toContain(pw);
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
      // a new cluster re-runs the idempotent install as an update; nothing replaces it (the old delete would run first)
      expect(cmd.inputs.triggers).toBeUndefined();
      expect((reveal(cmd.inputs.environment) as Record<string, string>).HLPG_CLUSTER).toBe("postgres-container-id");
      expect(cmd.deleteBeforeReplace).toBe(true);
    }
  });

  it("delivers the ini through the carrier, which starts after the lookups; pgBouncer starts after the carrier", () => {
    const carrier = byName("pgbouncer-runtime-container");
    for (const db of ["langfuse", "my_app"]) expect(carrier.dependencies).toContain(byName(`pgbouncer-auth-${db}`).urn);
    expect(byName("pgbouncer-container").dependencies).toContain(carrier.urn);
    // the pgBouncer image, as pgBouncer's user, on a volume it owns
    expect(carrier.inputs).toMatchObject({ image: byName("pgbouncer-container").inputs.image, user: "999:999", networkMode: "none" });
    expect(byName("pgbouncer-runtime-volume").inputs).toMatchObject({ name: "dev-pgbouncer-runtime", driverOpts: { type: "tmpfs", device: "tmpfs", o: expect.stringMatching(/\buid=999,gid=999\b/) } });
    expect([...carriedIni("pgbouncer").matchAll(/^(\w+) = host=/gm)].map((m) => m[1])).toEqual(["langfuse", "my_app"]);
    expect(carriedIni("pgbouncer")).toMatch(/^default_pool_size = 12$/m);
  });

  it("runs the static wrapper on the ini in the read-only runtime volume", () => {
    const c = byName("pgbouncer-container");
    const entry = reveal(c.inputs.entrypoints) as string[];
    const ups = reveal(c.inputs.uploads) as Upload[];
    const wrapper = ups.find((u) => u.file === entry[1]);
    expect(entry[0]).toBe("/bin/sh");
    expect(wrapper).toMatchObject({ content: renderPgBouncerWrapper(), permissions: "0755" });
    expect(c.inputs.command).toEqual([`${PGBOUNCER_CONTAINER.runtimeDir}/${RUNTIME_INI}`]);
    expect(reveal(c.inputs.volumes)).toEqual([{ volumeName: "dev-pgbouncer-runtime", containerPath: PGBOUNCER_CONTAINER.runtimeDir, readOnly: true }]);
    // file descriptors for every client and every connection Postgres accepts
    expect(reveal(c.inputs.ulimits)).toEqual([{ name: "nofile", soft: pgbouncerNofile(cfg.pgbouncer.maxClientConn, 100), hard: pgbouncerNofile(cfg.pgbouncer.maxClientConn, 100) }]);
    expect(pgbouncerNofile(20000, 500)).toBe(20756);
  });

  it("keeps the pgBouncer container's inputs identical with 2 or 3 apps and pool size 10 or 12", async () => {
    /** Container inputs with secrets revealed and the (per-name mock) auth password blanked. */
    const inputs = async (key: keyof typeof variants) => {
      const pw = await value(variantPoolers[key].authPassword!);
      const c = byName(`pgb-${key}-container`).inputs;
      const keys = ["uploads", "ulimits", "command", "entrypoints", "envs", "labels", "ports", "volumes", "image", "user", "networksAdvanced", "healthcheck", "capabilities", "memory"];
      return JSON.parse(JSON.stringify(reveal(Object.fromEntries(keys.map((k) => [k, c[k]])))).split(pw).join("<auth password>")) as unknown;
    };
    const base = await inputs("twoApps");
    expect(base).toMatchObject({ ulimits: expect.any(Array), uploads: expect.any(Array), volumes: expect.any(Array) });
    expect(await inputs("threeApps")).toEqual(base);
    expect(await inputs("pool10")).toEqual(base);
    expect(await inputs("perApp")).toEqual(base);
    // what does differ: the carried ini, and one Command per database
    expect(carriedIni("pgb-threeApps")).not.toEqual(carriedIni("pgb-twoApps"));
    expect(carriedIni("pgb-pool10")).not.toEqual(carriedIni("pgb-twoApps"));
    expect(Object.keys(variantPoolers.threeApps.authLookups).sort()).toEqual(["grafana", "langfuse", "my_app"]);
    expect(Object.keys(variantPoolers.twoApps.authLookups).sort()).toEqual(["langfuse", "my_app"]);
  });

  it("carries each app's own pool mode and size into its database line (apps[].pool), the others the section's", () => {
    const line = (db: string) => new RegExp(`^${db} = .*$`, "m").exec(carriedIni("pgb-perApp"))?.[0];
    expect(line("langfuse")).toMatch(/ pool_mode=session pool_size=4 max_db_connections=4$/);
    expect(line("my_app")).toMatch(/ pool_mode=transaction pool_size=12 max_db_connections=12$/);
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
    const ini = carriedIni("pgbouncer-tls");
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

describe("the pgBouncer image", () => {
  const CHECKOUT = path.resolve(__dirname, "../../..");
  const dockerfile = readFileSync(path.join(CHECKOUT, "docker/pgbouncer/Dockerfile"), "utf8");
  type Build = { context: string; dockerfile: string; platform: string; buildArgs: Record<string, string> };

  it("is built from docker/pgbouncer on the given base, for the given platform, locally, and is what the container and its carrier run", () => {
    const img = byName("pgbouncer-image");
    expect(img.type).toBe("docker:index/remoteImage:RemoteImage");
    // nothing of pgBouncer's is pulled (pgAdmin's image is, and is pgAdmin's)
    expect(registered.filter((r) => r.type === "docker:index/remoteImage:RemoteImage" && r.inputs.build === undefined && r.parent.includes("PgBouncer")).map((r) => r.name)).toEqual([]);
    const build = img.inputs.build as Build;
    expect(build).toMatchObject({ context: "docker/pgbouncer", dockerfile: "Dockerfile", platform: "linux/amd64" });
    expect(build.buildArgs.BASE_IMAGE).toBe("debian:trixie-slim");
    // Debian's 1.26.1 package: the release the ini is rendered for and the advisories are checked against
    expect(build.buildArgs.PGBOUNCER_VERSION).toMatch(/^1\.26\.1-/);
    // every argument is one the Dockerfile declares
    const declared = new Set([...dockerfile.matchAll(/^ARG (\w+)/gm)].map((m) => m[1]));
    for (const k of Object.keys(build.buildArgs)) expect(declared).toContain(k);
    expect(img.inputs).toMatchObject({ keepLocally: true });
    expect(img.inputs.name).toMatch(/^homelab-postgres\/pgbouncer:1\.26\.1-amd64-[0-9a-f]{12}$/);
    expect(byName("pgbouncer-container").inputs.image).toBe(img.inputs.name);
    expect(byName("pgbouncer-runtime-container").inputs.image).toBe(img.inputs.name);
  });

  it("runs as the image's postgres user, uid 999", () => {
    expect(byName("pgbouncer-container").inputs.user).toBe("999:999");
    expect(dockerfile).toMatch(/useradd [^\n]*--uid 999\b/);
    expect(dockerfile).toMatch(/^USER 999:999$/m);
  });

  it("renders the ini for the release it installs (1.26.1): options no longer ignored, prepared statements pooled", () => {
    expect(carriedIni("pgbouncer")).toMatch(/^ignore_startup_parameters = extra_float_digits$/m);
    expect(carriedIni("pgbouncer")).toMatch(/^max_prepared_statements = \d+$/m);
  });

  it("gets another tag on another base or platform; the same inputs keep theirs", () => {
    const dev = String(byName("pgbouncer-image").inputs.name);
    const tls = byName("pgbouncer-tls-image");
    expect((tls.inputs.build as Build).buildArgs.BASE_IMAGE).toBe(PINNED_TRIXIE);
    expect((tls.inputs.build as Build).platform).toBe("linux/arm64");
    expect(tls.inputs.name).toMatch(/^homelab-postgres\/pgbouncer:1\.26\.1-arm64-[0-9a-f]{12}$/);
    // the variants share the stack's base and platform: one image
    expect(byName("pgb-threeApps-image").inputs.name).toBe(dev);
    const files = contextFiles(PGBOUNCER_CONTEXT);
    expect(files.map(([n]) => n)).toEqual(expect.arrayContaining(["Dockerfile", "add-suite.sh"]));
    expect(pgbouncerImageRef("debian:trixie-slim", "linux/amd64", files)).toBe(dev);
    expect(pgbouncerImageRef(PINNED_TRIXIE, "linux/amd64", files)).not.toBe(dev);
    expect(pgbouncerImageRef("debian:trixie-slim", "linux/amd64", files.map(([n, t]) => [n, n === "add-suite.sh" ? `${t}\n# changed` : t]))).not.toBe(dev);
  });
});

describe("PgAdmin", () => {
  it("publishes only on the given bind address and reports its URL", async () => {
    const p = reveal(byName("pgadmin-container").inputs.ports) as Port[];
    expect(p).toEqual([expect.objectContaining({ ip: "127.0.0.1", external: cfg.pgadmin.port })]);
    expect(await value(admin.url)).toBe(`http://127.0.0.1:${cfg.pgadmin.port}`);
  });

  it("keeps its password and the admin role's secret, out of env and out of servers.json", async () => {
    expect(await pulumi.isSecret(admin.password)).toBe(true);
    expect(await pulumi.isSecret(admin.container.uploads)).toBe(true);
    const c = byName("pgadmin-container");
    const pw = await value(admin.password);
    const envs = reveal(c.inputs.envs) as string[];
    expect(envs).toContain("PGADMIN_DEFAULT_EMAIL=ops@example.com");
    expect(envs.join("\n")).not.toContain(pw);
    expect(envs.join("\n")).not.toContain(ADMIN_PW);
    const ups = reveal(c.inputs.uploads) as Upload[];
    const servers = ups.find((u) => u.file.endsWith("servers.json"));
    expect(servers?.content).not.toContain(ADMIN_PW);
    // each secret is in exactly one upload, readable by the pgadmin user only
    for (const secret of [pw, ADMIN_PW]) {
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
    expect(Object.values(servers.Servers)).toEqual([expect.objectContaining({ Host: "postgres", Port: 5432, Username: "db_admin" })]);
    // the pgpass answers for the admin role, the one servers.json names
    expect(ups.find((u) => u.file.endsWith("/pgpass"))?.content).toBe(`postgres:5432:*:db_admin:${ADMIN_PW}\n`);
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
