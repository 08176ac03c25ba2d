// The standby in the whole program under mocks (prod YAML + TLS + standby): a second
// docker provider for the standby host, every standby resource a child of the
// component, the standby bound to its tailnet address, the replication role and the
// slot on the primary, the replicator's password secret wherever it flows, and the
// outputs (standby endpoint, standbyUrl of read-only users, promotion).
import { isSecretValue, ofType, PROD_SECRETS, ProgramResult, RegisteredResource, reveal, runProgram, T } from "../../helpers/program";

const tls = { enabled: true, certificate: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", privateKey: "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n" };
const PRIMARY_IP = "100.64.7.7";
const STANDBY_IP = "100.64.8.8";
const standby = { enabled: true, dockerHost: "ssh://ops@standby-box", tailscale: { ip: STANDBY_IP }, port: 5433 };
const run = (extra: Record<string, unknown> = {}) =>
  runProgram("prod", {
    overrides: {
      ...PROD_SECRETS.overrides,
      tailscale: { ip: PRIMARY_IP },
      postgres: { majorVersion: 17, memoryMb: 8192, maxConnections: 200, tls },
      standby,
      ...extra,
    },
    secretKeys: ["backup", "postgres"],
  });

const byName = (r: ProgramResult, name: string): RegisteredResource => {
  const x = r.resources.find((y) => y.name === name);
  if (!x) throw new Error(`no ${name}`);
  return x;
};
const upload = (c: RegisteredResource, file: string): string => {
  const u = (reveal(c.inputs.uploads) as { file: string; content: string }[]).find((x) => x.file === file);
  if (!u) throw new Error(`no upload ${file}`);
  return u.content;
};

describe("standby under mocks", () => {
  let r: ProgramResult;
  beforeAll(async () => {
    r = await run();
  });

  it("runs every docker object of the standby through a second provider for the standby host", () => {
    const provider = byName(r, "homelab-standby-docker");
    expect(provider.type).toBe("pulumi:providers:docker");
    expect(reveal(provider.inputs.host)).toBe("ssh://ops@standby-box");
    const main = byName(r, "homelab-docker");
    expect(reveal(main.inputs.host)).toBe("ssh://ops@homelab");
    const onStandby = r.resources.filter((x) => x.custom && x.type.startsWith("docker:") && x.name.startsWith("homelab-standby"));
    expect(onStandby.map((x) => x.type).sort()).toEqual(expect.arrayContaining([T.container, T.volume, "docker:index/remoteImage:RemoteImage"]));
    for (const x of onStandby) expect(x.provider.startsWith(provider.urn)).toBe(true);
    // and nothing else runs there
    expect(r.resources.filter((x) => x.provider.startsWith(provider.urn) && !x.name.startsWith("homelab-standby"))).toEqual([]);
  });

  it("parents every standby resource in the component, and publishes only on the standby's tailnet address", () => {
    const comp = byName(r, "homelab-standby");
    expect(comp.type).toBe("homelab:postgres:PostgresStandby");
    const mine = r.resources.filter((x) => x.name.startsWith("homelab-standby-"));
    const urns = new Set(r.resources.filter((x) => x.name.startsWith("homelab-standby")).map((x) => x.urn));
    for (const x of mine) expect(urns.has(x.parent)).toBe(true);
    const c = byName(r, "homelab-standby-container");
    expect(reveal(c.inputs.ports)).toEqual([{ internal: 5432, external: 5433, ip: STANDBY_IP, protocol: "tcp" }]);
    expect(byName(r, "homelab-standby-data").retainOnDelete).toBe(true);
    expect(reveal(byName(r, "homelab-standby-data").inputs.name)).toBe("prod-pgstandby");
  });

  it("creates the replication role (REPLICATION, nothing else) and the slot on the primary, before the standby", () => {
    const pg = byName(r, "homelab-postgresql");
    const role = byName(r, "homelab-standby-replicator");
    const slot = byName(r, "homelab-standby-slot");
    for (const x of [role, slot]) expect(x.provider.startsWith(pg.urn)).toBe(true);
    expect(reveal(role.inputs)).toMatchObject({ name: "hlpg_replicator", login: true, replication: true, superuser: false, createDatabase: false, createRole: false, bypassRowLevelSecurity: false, connectionLimit: 3 });
    expect(reveal(slot.inputs.name)).toBe("hlpg_standby_prod");
    const c = byName(r, "homelab-standby-container");
    expect(c.dependencies).toEqual(expect.arrayContaining([slot.urn, role.urn]));
  });

  it("keeps the replicator's password secret wherever it flows", () => {
    const role = byName(r, "homelab-standby-replicator");
    expect(isSecretValue(role.inputs.password)).toBe(true);
    expect(role.additionalSecretOutputs).toContain("password");
    const pw = byName(r, "homelab-standby-replicator-password");
    expect(pw.type).toBe(T.password);
    const c = byName(r, "homelab-standby-container");
    expect(isSecretValue(c.inputs.uploads)).toBe(true);
    expect(c.additionalSecretOutputs).toContain("uploads");
    const pgpass = upload(c, "/etc/postgresql/replication.pgpass");
    expect(pgpass).toMatch(new RegExp(`^${PRIMARY_IP.replace(/\./g, "\\.")}:5432:replication:hlpg_replicator:.{10,}$`, "m"));
    // the password is in the passfile, never in postgresql.conf (0644)
    const password = pgpass.trim().split(":").pop() as string;
    expect(upload(c, "/etc/postgresql/postgresql.conf")).not.toContain(password);
  });

  it("renders the standby's recovery settings and each side's replication line for the other", () => {
    const c = byName(r, "homelab-standby-container");
    const conf = upload(c, "/etc/postgresql/postgresql.conf");
    expect(conf).toMatch(new RegExp(`^primary_conninfo = 'host=${PRIMARY_IP} port=5432 user=hlpg_replicator passfile=/etc/postgresql/replication.pgpass sslmode=require`, "m"));
    expect(conf).toMatch(/^primary_slot_name = 'hlpg_standby_prod'$/m);
    expect(conf).toMatch(/^hot_standby = 'on'$/m);
    expect(conf).toMatch(/^restore_command = 'pgbackrest --config=\/etc\/pgbackrest\/runtime\/pgbackrest.conf --stanza=prod archive-get %f "%p"'$/m);
    expect(upload(c, "/etc/postgresql/pg_hba.conf")).toMatch(new RegExp(`^hostssl\\s+replication\\s+hlpg_replicator\\s+${PRIMARY_IP}/32\\s+scram-sha-256$`, "m"));
    const primaryHba = upload(byName(r, "homelab-postgres-container"), "/etc/postgresql/pg_hba.conf");
    expect(primaryHba).toMatch(new RegExp(`^hostssl\\s+replication\\s+hlpg_replicator\\s+${STANDBY_IP}/32\\s+scram-sha-256$`, "m"));
    expect(upload(c, "/usr/local/bin/hlpg-entrypoint.sh")).toMatch(/pg_basebackup --dbname=.*--slot=hlpg_standby_prod/);
    expect(upload(c, "/usr/local/bin/hlpg-failover")).toMatch(/pg_rewind --target-pgdata/);
    // the primary has it too: after a failover and rejoin it is the standby a switchover promotes
    expect(upload(byName(r, "homelab-postgres-container"), "/usr/local/bin/hlpg-failover")).toBe(upload(c, "/usr/local/bin/hlpg-failover"));
  });

  it("builds the primary's image on the standby host, and hands over to the image's own entrypoint", () => {
    const build = (prefix: string) => {
      const found = ofType(r, "docker:index/remoteImage:RemoteImage").filter((x) => x.name.startsWith(prefix) && (x.inputs.build as { context: string } | undefined)?.context === "docker/postgres");
      expect(found).toHaveLength(1);
      return found[0];
    };
    const primary = build("homelab-postgres-image");
    const onStandby = build("homelab-standby-image");
    // the same tag and build, so both run the same PostgreSQL, pgBackRest and uid
    expect(reveal(onStandby.inputs)).toEqual(reveal(primary.inputs));
    expect(onStandby.provider.startsWith(byName(r, "homelab-standby-docker").urn)).toBe(true);
    const c = byName(r, "homelab-standby-container");
    expect(reveal(c.inputs.image)).toBe(reveal(onStandby.inputs.name));
    expect(upload(c, "/usr/local/bin/hlpg-entrypoint.sh")).toMatch(/^exec hlpg-image-entrypoint\.sh "\$@"$/m);
    expect(ofType(r, T.remoteImage).filter((x) => x.name.startsWith("homelab-standby") && x.inputs.build === undefined)).toEqual([]);
  });

  it("pulls postgres.customImage on the standby host instead, and builds nothing there", async () => {
    const CUSTOM = "registry.local:5000/team/postgres:17.6-hlpg";
    const custom = await run({ postgres: { majorVersion: 17, memoryMb: 8192, maxConnections: 200, tls, customImage: CUSTOM } });
    const provider = byName(custom, "homelab-standby-docker");
    const pulled = ofType(custom, T.remoteImage).filter((x) => x.name.startsWith("homelab-standby"));
    expect(pulled.map((x) => reveal(x.inputs.name))).toEqual([CUSTOM]);
    expect(pulled[0].provider.startsWith(provider.urn)).toBe(true);
    expect(custom.resources.filter((x) => x.type === "docker:index/remoteImage:RemoteImage" && x.inputs.build !== undefined && x.provider.startsWith(provider.urn))).toEqual([]);
    // the primary runs the same image, pulled on its own host
    const primaryPull = byName(custom, "homelab-postgres-custom-image");
    expect(reveal(primaryPull.inputs.name)).toBe(CUSTOM);
    expect(reveal(byName(custom, "homelab-standby-container").inputs.image)).toBe(reveal(byName(custom, "homelab-postgres-container").inputs.image));
  });

  it("exports the standby endpoint and a standbyUrl for read-only users only", () => {
    expect(r.outputs.standby).toEqual({ host: STANDBY_IP, port: 5433 });
    expect(r.secretOutputs).toContain("databases");
    const dbs = r.outputs.databases as Record<string, { url: string; readonlyUsers: Record<string, { url: string; standbyUrl?: string }>; standbyUrl?: string }>;
    const analytics = dbs.langfuse.readonlyUsers.analytics;
    expect(analytics.url).toContain(`@${PRIMARY_IP}:5432/`);
    expect(analytics.standbyUrl).toMatch(new RegExp(`^postgresql://langfuse_analytics:[^@]+@${STANDBY_IP}:5433/langfuse\\?sslmode=require$`));
    expect(dbs.langfuse.standbyUrl).toBeUndefined();
    expect(r.outputs.host).toBe(PRIMARY_IP);
  });

  it("standby.promoted points host, port and every url and pooledUrl at the standby", async () => {
    const p = await run({ standby: { ...standby, promoted: true } });
    expect([p.outputs.host, p.outputs.port]).toEqual([STANDBY_IP, 5433]);
    const dbs = p.outputs.databases as Record<string, { url: string; pooledUrl: string }>;
    for (const d of Object.values(dbs)) {
      expect(d.url).toContain(`@${STANDBY_IP}:5433/`);
      expect(d.pooledUrl).toContain(`@${STANDBY_IP}:5433/`);
    }
  });

  it("adds nothing without a standby: no second provider, no replication line", async () => {
    const off = await run({ standby: { enabled: false } });
    expect(off.resources.filter((x) => x.name.startsWith("homelab-standby"))).toEqual([]);
    expect(off.outputs.standby).toBeUndefined();
    expect(upload(byName(off, "homelab-postgres-container"), "/etc/postgresql/pg_hba.conf")).not.toMatch(/replication/);
    expect(ofType(off, "postgresql:index/physicalReplicationSlot:PhysicalReplicationSlot")).toEqual([]);
  });
});
