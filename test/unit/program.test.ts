// The real program (index.ts) under mocks, with the dev and prod stack YAML.
import { pickTailnetIPv4 } from "../../components/server/tailnet";
import { mockResource } from "../helpers/mocks";
import { isSecretValue, ofType, PROD_SECRETS, ProgramResult, RegisteredResource, reveal, runProgram, stackConfig, T } from "../helpers/program";


type Port = { internal: number; external: number; ip: string };

function ports(r: ProgramResult): Port[] {
  return ofType(r, T.container).flatMap((c) => (reveal(c.inputs.ports) as Port[] | undefined) ?? []);
}

function upload(c: RegisteredResource, file: string): string {
  const ups = reveal(c.inputs.uploads) as { file: string; content: string }[];
  const u = ups.find((x) => x.file === file);
  if (!u) throw new Error(`no upload ${file}`);
  return u.content;
}

/** The SQL the settings command runs (its stdin). */
function settingsSql(r: ProgramResult): string {
  const c = r.resources.find((x) => x.type === "command:local:Command" && x.name === "homelab-postgres-settings-command");
  if (!c) throw new Error("no settings command");
  return String(reveal(c.inputs.stdin));
}

/** The docker.Image that builds the Postgres image (docker/postgres). */
function postgresBuild(r: ProgramResult): RegisteredResource {
  const found = r.resources.filter((x) => x.type === "docker:index/remoteImage:RemoteImage" && (x.inputs.build as { context?: string } | undefined)?.context === "docker/postgres");
  if (found.length !== 1) throw new Error(`expected one build of docker/postgres, got ${found.length}`);
  return found[0];
}

function postgresContainer(r: ProgramResult): RegisteredResource {
  const c = ofType(r, T.container).find((x) => x.name === "homelab-postgres-container");
  if (!c) throw new Error("no postgres container");
  return c;
}

describe("dev stack", () => {
  let dev: ProgramResult;
  beforeAll(async () => {
    dev = await runProgram("dev");
  });

  it("publishes every port on 127.0.0.1 only", () => {
    const p = ports(dev);
    expect(p.length).toBeGreaterThan(0);
    for (const x of p) expect(x.ip).toBe("127.0.0.1");
    expect(dev.outputs.host).toBe("127.0.0.1");
    expect(dev.invokes.filter((i) => i.token.startsWith("tailscale:"))).toEqual([]);
  });

  it("exports host, port and network", () => {
    expect(dev.outputs).toMatchObject({ host: "127.0.0.1", port: 5432, network: "dev-pg" });
    const net = ofType(dev, T.network)[0];
    expect(reveal(net.inputs.name)).toBe("dev-pg");
    expect(reveal(postgresContainer(dev).inputs.networksAdvanced)).toEqual([expect.objectContaining({ name: "dev-pg" })]);
  });

  it("keeps the superuser password out of env, in a 0600 secret upload", () => {
    const c = postgresContainer(dev);
    const envs = reveal(c.inputs.envs) as string[];
    expect(envs.filter((e) => /^POSTGRES_PASSWORD=/.test(e))).toEqual([]);
    const fileEnv = envs.find((e) => e.startsWith("POSTGRES_PASSWORD_FILE="));
    const file = fileEnv?.split("=")[1] ?? "";
    expect(isSecretValue(c.inputs.uploads)).toBe(true);
    expect(c.additionalSecretOutputs).toEqual(expect.arrayContaining(["uploads"]));
    const ups = reveal(c.inputs.uploads) as { file: string; content: string; permissions: string; owner: string }[];
    const pw = ups.find((u) => u.file === file);
    expect(pw).toMatchObject({ permissions: "0600", owner: "999" });
    expect(pw?.content.length).toBeGreaterThanOrEqual(32);
    const rp = ofType(dev, T.password).find((x) => x.name === "homelab-postgres-superuser-password");
    expect(rp?.inputs.length).toBeGreaterThanOrEqual(32);
  });

  it("renders the config it was given: static keys into the uploaded postgresql.conf, live ones into the settings command", () => {
    const conf = upload(postgresContainer(dev), "/etc/postgresql/postgresql.conf");
    const live = settingsSql(dev);
    // Pulumi.dev.yaml: memoryMb 1024, maxConnections 100, statement_timeout 60s
    expect(live).toMatch(/^ALTER SYSTEM SET "shared_buffers" = '256MB';$/m);
    expect(live).toMatch(/^ALTER SYSTEM SET "max_connections" = '100';$/m);
    expect(live).toMatch(/^ALTER SYSTEM SET "statement_timeout" = '60s';$/m);
    expect(conf).toMatch(/^ssl = 'off'$/m);
    // nothing that changes with memory, connections or operator settings is in the container's file
    for (const k of ["shared_buffers", "max_connections", "statement_timeout", "work_mem"]) expect(conf).not.toMatch(new RegExp(`^${k} =`, "m"));
    const hba = upload(postgresContainer(dev), "/etc/postgresql/pg_hba.conf");
    expect(hba).toMatch(/^host\s+all\s+all\s+100\.64\.0\.0\/10\s+scram-sha-256$/m);
    expect(hba).not.toMatch(/trust/);
  });

  it("starts through the wrapper that syncs the superuser password on a retained volume", () => {
    const c = postgresContainer(dev);
    const entry = (c.inputs.entrypoints as string[])[0];
    const ups = reveal(c.inputs.uploads) as { file: string; content: string; permissions: string }[];
    const wrapper = ups.find((u) => u.file === entry);
    expect(wrapper?.permissions).toBe("0755");
    expect(wrapper?.content).toMatch(/postgres --single/);
    // then the built image's own entrypoint (docker/postgres/hlpg-image-entrypoint.sh), not the official image's
    expect(wrapper?.content).toMatch(/^exec hlpg-image-entrypoint\.sh "\$@"$/m);
    expect(wrapper?.content).not.toMatch(/docker-entrypoint/);
    expect(c.inputs.command).toEqual(["postgres", "-c", "config_file=/etc/postgresql/postgresql.conf"]);
  });

  it("hardens the container", () => {
    const c = postgresContainer(dev);
    expect(c.inputs).toMatchObject({
      restart: "unless-stopped",
      securityOpts: ["no-new-privileges:true"],
      memory: 1024,
      wait: true,
      logDriver: "json-file",
      stopTimeout: 60,
    });
    expect(reveal(c.inputs.healthcheck)).toMatchObject({ tests: expect.arrayContaining(["pg_isready"]) });
    expect(reveal(c.inputs.logOpts)).toHaveProperty("max-size");
  });

  it("keeps the data volume a named resource of its own, retained on delete", () => {
    const vol = ofType(dev, T.volume).find((v) => reveal(v.inputs.name) === "dev-pgdata");
    expect(vol).toBeDefined();
    expect(vol?.retainOnDelete || vol?.protect).toBe(true);
    // nothing about the volume depends on the image (its build or its component) or the container
    const image = postgresBuild(dev);
    const container = postgresContainer(dev);
    expect(vol?.dependencies).not.toContain(image.urn);
    expect(vol?.dependencies).not.toContain(image.parent);
    expect(vol?.dependencies).not.toContain(container.urn);
    expect(vol?.parent).not.toBe(container.urn);
    expect(container.dependencies).toContain(vol?.urn);
    expect(reveal(container.inputs.volumes)).toEqual(
      expect.arrayContaining([{ volumeName: "dev-pgdata", containerPath: "/var/lib/postgresql/data" }]),
    );
  });

  it("a new image (another Debian base, or an image of one's own) leaves the volume's identity and inputs untouched", async () => {
    const pg = stackConfig("dev").values["homelab-postgres:postgres"] as Record<string, unknown>;
    const rebased = await runProgram("dev", { overrides: { images: { trixie: `debian:trixie-slim@sha256:${"a".repeat(64)}` } } });
    const custom = await runProgram("dev", { overrides: { postgres: { ...pg, customImage: "registry.local:5000/team/postgres:17.6" } } });
    const volume = (r: ProgramResult) => ofType(r, T.volume).find((v) => v.name === "homelab-postgres-data");
    for (const upgraded of [rebased, custom]) {
      expect(volume(upgraded)?.urn).toBe(volume(dev)?.urn);
      expect(volume(upgraded)?.inputs).toEqual(volume(dev)?.inputs);
      // while the image the container runs did change
      expect(reveal(postgresContainer(upgraded).inputs.image)).not.toEqual(reveal(postgresContainer(dev).inputs.image));
    }
    expect(reveal(postgresBuild(rebased).inputs.name)).not.toEqual(reveal(postgresBuild(dev).inputs.name));
  });

  it("issues no CI tailnet key unless asked, and a secret, tagged, ephemeral one when asked", async () => {
    expect(dev.outputs.ciTailnetAuthKey).toBeUndefined();
    expect(dev.resources.filter((r) => r.type === "tailscale:index/tailnetKey:TailnetKey")).toEqual([]);
    const withCi = await runProgram("dev", { overrides: { ci: { tailnetKey: true, tags: ["tag:ci-homelab"] } } });
    const keys = withCi.resources.filter((r) => r.type === "tailscale:index/tailnetKey:TailnetKey");
    expect(keys).toHaveLength(1);
    expect(keys[0].inputs).toMatchObject({ ephemeral: true, preauthorized: true, tags: ["tag:ci-homelab"] });
    expect(withCi.secretOutputs).toContain("ciTailnetAuthKey");
  });

  it("gives every child a parent component with a homelab:postgres type", () => {
    const components = dev.resources.filter((r) => !r.custom && !r.type.startsWith("pulumi:"));
    for (const c of components) expect(c.type).toMatch(/^homelab:postgres:[A-Z][A-Za-z]+$/);
    const urns = new Set(components.map((c) => c.urn));
    for (const r of dev.resources.filter((x) => x.custom)) expect(urns.has(r.parent)).toBe(true);
  });
});

describe("prod stack", () => {
  let prod: ProgramResult;
  beforeAll(async () => {
    prod = await runProgram("prod", { ...PROD_SECRETS, tailnetAddresses: ["fd7a:115c:a1e0::99", "100.90.1.7"] });
  });

  it("looks the device up in the tailnet and binds its IPv4 address only", () => {
    const lookups = prod.invokes.filter((i) => i.token === "tailscale:index/getDevice:getDevice");
    expect(lookups).toEqual([expect.objectContaining({ args: expect.objectContaining({ name: "homelab.tail1234.ts.net" }) })]);
    const p = ports(prod);
    expect(p.length).toBeGreaterThan(0);
    for (const x of p) expect(x.ip).toBe("100.90.1.7");
    expect(prod.outputs.host).toBe("100.90.1.7");
  });

  it("exports pgAdmin's URL on the bind address and its password as a secret", () => {
    expect(prod.outputs.pgadminUrl).toBe("http://100.90.1.7:5050");
    expect(prod.secretOutputs).toContain("pgadminPassword");
    expect(prod.outputs.poolerPort).toBe(6432);
  });

  it("wires backups: bucket output, archive settings in postgresql.conf, sidecar on the same volumes and image", () => {
    expect(prod.outputs.backupBucket).toBe("example-homelab-pg-backups");
    const conf = upload(postgresContainer(prod), "/etc/postgresql/postgresql.conf");
    expect(conf).toMatch(/^archive_mode = 'on'$/m);
    expect(conf).toMatch(/^archive_command = '.*pgbackrest .*archive-push %p'$/m);
    expect(settingsSql(prod)).toMatch(/^ALTER SYSTEM SET "archive_timeout" = '60s';$/m);
    const sidecar = ofType(prod, T.container).find((c) => (reveal(c.inputs.labels) as { value: string }[]).some((l) => l.value === "backup"));
    expect(sidecar).toBeDefined();
    const vols = (reveal(sidecar?.inputs.volumes) as { volumeName: string }[]).map((v) => v.volumeName);
    expect(vols).toEqual(expect.arrayContaining(["prod-pgdata", "prod-pgsocket"]));
    // both run the image built with pgBackRest, not the pulled base image
    // (the exporters' image, built on the same base, is the monitoring tests' concern)
    const built = prod.resources.filter((r) => r.type === "docker:index/remoteImage:RemoteImage" && (r.inputs.build as { context?: string } | undefined)?.context === "docker/postgres");
    expect(built).toHaveLength(1);
    expect(reveal(postgresContainer(prod).inputs.image)).toBe(reveal(built[0].inputs.name));
    expect(reveal(sidecar?.inputs.image)).toBe(reveal(built[0].inputs.name));
    expect(ofType(prod, T.remoteImage).map((i) => reveal(i.inputs.name))).not.toContain(expect.stringMatching(/^pgvector/));
    const bucketParts = prod.resources.filter((r) => r.type.startsWith("aws:s3/")).map((r) => r.type.split(":").pop()).sort();
    expect(bucketParts).toEqual(
      ["Bucket", "BucketLifecycleConfiguration", "BucketOwnershipControls", "BucketPublicAccessBlock", "BucketServerSideEncryptionConfiguration", "BucketVersioning"].sort(),
    );
  });

  it("builds each image on the Debian base of its suite, as prod pins them: Postgres 17 and pgBouncer on trixie, the exporters on bookworm", () => {
    const images = stackConfig("prod").values["homelab-postgres:images"] as { trixie: string; bookworm: string };
    expect(images.trixie).toMatch(/^debian:trixie-slim@sha256:[0-9a-f]{64}$/);
    expect(images.bookworm).toMatch(/^debian:bookworm-slim@sha256:[0-9a-f]{64}$/);
    const builds = ofType(prod, "docker:index/remoteImage:RemoteImage").filter((r) => r.inputs.build !== undefined).map((r) => r.inputs.build as { context: string; buildArgs: Record<string, string>; platform: string });
    expect(Object.fromEntries(builds.map((b) => [b.context, b.buildArgs.BASE_IMAGE]))).toEqual({
      "docker/postgres": images.trixie, "docker/pgbouncer": images.trixie, "docker/exporters": images.bookworm,
    });
    expect(builds).toHaveLength(3);
    for (const b of builds) expect(b.platform).toBe("linux/amd64");
    // and the containers run what is built: pgBouncer, its carrier and both exporters
    const built = new Set(ofType(prod, "docker:index/remoteImage:RemoteImage").map((r) => reveal(r.inputs.name)));
    for (const c of ofType(prod, T.container).filter((x) => !String(reveal(x.inputs.name)).includes("pgadmin"))) expect(built).toContain(reveal(c.inputs.image));
  });

  it("talks to the docker host from config", () => {
    const providers = prod.resources.filter((r) => r.type === "pulumi:providers:docker");
    expect(providers.map((p) => reveal(p.inputs.host))).toEqual(["ssh://ops@homelab"]);
  });

  it("tunes for the prod memory size", () => {
    const live = settingsSql(prod);
    expect(live).toMatch(/^ALTER SYSTEM SET "shared_buffers" = '2048MB';$/m);
    expect(live).toMatch(/^ALTER SYSTEM SET "effective_cache_size" = '6144MB';$/m);
    expect(postgresContainer(prod).inputs.memory).toBe(8192);
  });

  it("picks the device's first tailnet IPv4, and fails loudly when it has none", () => {
    expect(pickTailnetIPv4("box", ["fd7a:115c:a1e0::1", "10.0.0.1", "100.100.1.1", "100.64.0.9"])).toBe("100.100.1.1");
    expect(() => pickTailnetIPv4("box", ["fd7a:115c:a1e0::99", "192.168.1.2"])).toThrow(/"box" has no IPv4 address in 100.64.0.0\/10/);
  });

  it("binds an explicit tailscale.ip without a lookup", async () => {
    const r = await runProgram("prod", { ...PROD_SECRETS, overrides: { ...PROD_SECRETS.overrides, tailscale: { ip: "100.64.7.7" } } });
    expect(r.invokes.filter((i) => i.token.startsWith("tailscale:"))).toEqual([]);
    for (const x of ports(r)) expect(x.ip).toBe("100.64.7.7");
  });

  it("renders hostssl lines and uploads the key 0600 and secret when TLS is on", async () => {
    const tls = { enabled: true, certificate: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", privateKey: "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n" };
    const r = await runProgram("prod", {
      overrides: { ...PROD_SECRETS.overrides, postgres: { majorVersion: 17, memoryMb: 8192, maxConnections: 200, tls } },
      secretKeys: ["backup", "postgres"],
    });
    const c = postgresContainer(r);
    expect(isSecretValue(c.inputs.uploads)).toBe(true);
    const hba = upload(c, "/etc/postgresql/pg_hba.conf");
    expect(hba).toMatch(/^hostssl\s+all\s+all\s+100\.64\.0\.0\/10\s+scram-sha-256$/m);
    expect(hba).not.toMatch(/^host\s+all\s+all\s+100\.64/m);
    const ups = reveal(c.inputs.uploads) as { file: string; permissions: string; content: string }[];
    const key = ups.find((u) => u.file.endsWith("server.key"));
    expect(key).toMatchObject({ permissions: "0600", content: tls.privateKey });
    expect(upload(c, "/etc/postgresql/postgresql.conf")).toMatch(/^ssl = 'on'$/m);
    const urls = Object.values(r.outputs.databases as Record<string, { url: string }>).map((d) => d.url);
    for (const u of urls) expect(u).toMatch(/\?sslmode=require$/);
  });
});

describe("pgBouncer under app and pool changes", () => {
  let dev: ProgramResult;
  beforeAll(async () => {
    dev = await runProgram("dev");
  });

  const byName = (r: ProgramResult, name: string) => {
    const x = r.resources.find((y) => y.name === name);
    if (!x) throw new Error(`no ${name}`);
    return x;
  };
  /** Resources of `after` that `before` lacks, and those whose inputs differ, by name. */
  const changes = (before: ProgramResult, after: ProgramResult) => {
    const old = new Map(before.resources.map((x) => [x.urn, x]));
    return {
      added: after.resources.filter((x) => !old.has(x.urn)).map((x) => x.name).sort(),
      changed: after.resources
        .filter((x) => old.has(x.urn) && JSON.stringify(reveal(x.inputs)) !== JSON.stringify(reveal(old.get(x.urn)?.inputs)))
        .map((x) => x.name)
        .sort(),
    };
  };

  it("a third app changes only the config carrier, and adds that app's resources and its auth Command", async () => {
    const apps = [
      { name: "langfuse", extensions: ["vector", "uuid-ossp", "pg_stat_statements"], connectionLimit: 30 },
      { name: "n8n-main", extensions: ["pg_trgm"], readonlyUsers: ["analytics"], rotation: "2026-11" },
      { name: "grafana" },
    ];
    const three = await runProgram("dev", { overrides: { apps } });
    expect(reveal(byName(three, "homelab-pgbouncer-container").inputs)).toEqual(reveal(byName(dev, "homelab-pgbouncer-container").inputs));
    const { added, changed } = changes(dev, three);
    // and the admin role, which joins the new app's owner
    expect(changed).toEqual(["homelab-admin", "homelab-pgbouncer-runtime-container"]);
    expect(added.filter((n) => !n.startsWith("homelab-app-grafana"))).toEqual(["homelab-pgbouncer-auth-grafana"]);
  });

  it("a new default pool size changes only the config carrier", async () => {
    const pool12 = await runProgram("dev", { overrides: { pgbouncer: { enabled: true, port: 6432, poolMode: "transaction", defaultPoolSize: 12 } } });
    expect(reveal(byName(pool12, "homelab-pgbouncer-container").inputs)).toEqual(reveal(byName(dev, "homelab-pgbouncer-container").inputs));
    expect(changes(dev, pool12)).toEqual({ added: [], changed: ["homelab-pgbouncer-runtime-container"] });
    const ini = (r: ProgramResult) => (reveal(byName(r, "homelab-pgbouncer-runtime-container").inputs.uploads) as { content: string }[])[0].content;
    expect(ini(pool12)).toMatch(/^default_pool_size = 12$/m);
    expect(ini(dev)).toMatch(/^default_pool_size = 10$/m);
  });

  it("each app database has its own auth Command, after its app and the auth role", () => {
    for (const [db, app] of [["langfuse", "langfuse"], ["n8n_main", "n8n-main"]]) {
      const cmd = byName(dev, `homelab-pgbouncer-auth-${db}`);
      expect(cmd.dependencies).toContain(byName(dev, "homelab-pgbouncer-auth-role").urn);
      // its own app's last grant (AppDatabase.ready), no other app's
      expect(cmd.dependencies.filter((d) => d.includes("::homelab-app-")).map((d) => d.split("::").pop())).toEqual([expect.stringMatching(new RegExp(`^homelab-app-${app}-`))]);
      // a new cluster (the Postgres container's id, as the mocks name it) re-runs it in place, never replaces it
      expect(cmd.inputs.triggers).toBeUndefined();
      expect((reveal(cmd.inputs.environment) as Record<string, string>).HLPG_CLUSTER).toBe("homelab-postgres-container-id");
    }
    expect(dev.resources.filter((r) => r.name === "homelab-pgbouncer-auth-setup")).toEqual([]);
  });
});

describe("optional parts", () => {
  it("without pgBouncer: no pooler container, no poolerPort, pooledUrl absent", async () => {
    const r = await runProgram("dev", { overrides: { pgbouncer: { enabled: false } } });
    expect(r.outputs.poolerPort).toBeUndefined();
    expect(ofType(r, T.container).map((c) => c.name)).toEqual(["homelab-postgres-image-check-job", "homelab-postgres-container"]);
    for (const db of Object.values(r.outputs.databases as Record<string, { pooledUrl?: string }>)) expect(db.pooledUrl).toBeUndefined();
    expect(r.outputs.pgadminUrl).toBeUndefined();
  });

  it("without backups or audit: no sidecar, no bucket, no archiving, and still the image built here", async () => {
    const r = await runProgram("dev");
    expect(r.outputs.backupBucket).toBeUndefined();
    expect(r.resources.filter((x) => x.type.startsWith("aws:"))).toEqual([]);
    expect(upload(postgresContainer(r), "/etc/postgresql/postgresql.conf")).toMatch(/^archive_mode = 'off'$/m);
    const built = postgresBuild(r);
    expect(reveal(postgresContainer(r).inputs.image)).toBe(reveal(built.inputs.name));
    expect((built.inputs.build as { buildArgs: Record<string, string> }).buildArgs).toMatchObject({ BASE_IMAGE: "debian:trixie-slim", PG_MAJOR: "17" });
    // nothing is pulled for Postgres (dev has pgAdmin off: nothing is pulled at all)
    expect(ofType(r, T.remoteImage).filter((x) => x.inputs.build === undefined)).toEqual([]);
  });
});

describe("postgres.customImage", () => {
  const CUSTOM = "registry.local:5000/team/postgres:16.4-hlpg";
  let r: ProgramResult;
  beforeAll(async () => {
    const pg = stackConfig("dev").values["homelab-postgres:postgres"] as Record<string, unknown>;
    r = await runProgram("dev", {
      overrides: {
        postgres: { ...pg, majorVersion: 16, customImage: CUSTOM },
        backup: { enabled: true, bucket: "homelab-pg-dev", region: "eu-central-1" },
      },
    });
  });

  it("builds no Postgres image and pulls the operator's, as it is, on the Docker host", () => {
    expect(r.resources.filter((x) => x.type === "docker:index/remoteImage:RemoteImage" && (x.inputs.build as { context?: string } | undefined)?.context === "docker/postgres")).toEqual([]);
    expect(r.resources.filter((x) => x.type === "homelab:postgres:PostgresImage")).toEqual([]);
    const pulled = ofType(r, T.remoteImage).filter((x) => x.inputs.build === undefined);
    expect(pulled.map((x) => [x.name, reveal(x.inputs.name)])).toEqual([["homelab-postgres-custom-image", CUSTOM]]);
    expect(pulled[0].inputs.keepLocally).toBe(true);
    expect(pulled[0].provider).toMatch(/::homelab-docker::/);
  });

  it("runs it for the server and the backup sidecar, and renders for its major", () => {
    const { imageId } = mockResource({ type: T.remoteImage, name: "homelab-postgres-custom-image", inputs: { name: CUSTOM } }).state;
    const sidecar = ofType(r, T.container).find((c) => (reveal(c.inputs.labels) as { value: string }[]).some((l) => l.value === "backup"));
    expect(reveal(postgresContainer(r).inputs.image)).toBe(imageId);
    expect(reveal(sidecar?.inputs.image)).toBe(imageId);
    // the provider expects the operator's major
    expect(reveal(r.resources.find((x) => x.type === "pulumi:providers:postgresql")?.inputs.expectedVersion)).toBe("16");
  });

  it("still builds pgBouncer's image: customImage is Postgres' only", () => {
    expect(ofType(r, "docker:index/remoteImage:RemoteImage").filter((x) => x.inputs.build !== undefined).map((x) => (x.inputs.build as { context: string }).context)).toEqual(["docker/pgbouncer"]);
  });
});

describe("bad config", () => {
  it("fails before any resource is registered, listing every problem", async () => {
    let err: (Error & { registered?: RegisteredResource[] }) | undefined;
    try {
      await runProgram("dev", {
        overrides: { tailscale: { ip: "0.0.0.0" }, postgres: { port: 6432 }, apps: [{ name: "template1" }, { name: "x", extensions: ["nope"] }] },
      });
    } catch (e) {
      err = e as Error & { registered?: RegisteredResource[] };
    }
    expect(err?.name).toBe("ConfigError");
    expect(err?.message).toMatch(/homelab-postgres:tailscale\.ip/);
    expect(err?.message).toMatch(/homelab-postgres:pgbouncer\.port: port 6432 is already used by homelab-postgres:postgres\.port/);
    expect(err?.message).toMatch(/homelab-postgres:apps\[0\]\.name/);
    expect(err?.message).toMatch(/homelab-postgres:apps\[1\]\.extensions\[0\]/);
    expect(err?.registered).toEqual([]);
  });

  it("prod without backups and without a passphrase is an error", async () => {
    await expect(runProgram("prod")).rejects.toThrow(/backup\.encryptionPassphrase: required in prod/);
    await expect(runProgram("prod", { overrides: { backup: { enabled: false } } })).rejects.toThrow(/backup\.enabled: a prod stack must have backups/);
  });
});
