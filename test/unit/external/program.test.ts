// The real program (index.ts) under mocks with postgres.external: no Postgres
// container, volume or image; the provider logs in to the existing server as the
// configured admin with superuser=false; the admin joins every owner before its
// database; pgBouncer (on the Docker host) points at the server with an auth file;
// outputs keep their shape and point at the server; every password stays secret.
import { isSecretValue, ofType, ProgramResult, reveal, runProgram, T } from "../../helpers/program";

const HOST = "db.internal.example.com";
const ADMIN_PW = "the-existing-admins-password-0123456789";
const external = (extra: Record<string, unknown> = {}) => ({
  majorVersion: 16,
  maxConnections: 200,
  external: { host: HOST, port: 5433, adminUser: "platform_admin", adminPassword: ADMIN_PW, ...extra },
});
const apps = [{ name: "langfuse", extensions: ["uuid-ossp"], readonlyUsers: ["analytics"] }, { name: "n8n-main", extensions: ["pg_trgm"] }];

function byName(r: ProgramResult, name: string) {
  const x = r.resources.find((res) => res.name === name);
  if (!x) throw new Error(`no ${name}: ${r.resources.map((res) => res.name).join(", ")}`);
  return x;
}

describe("program with postgres.external", () => {
  let r: ProgramResult;
  let noPooler: ProgramResult;

  beforeAll(async () => {
    r = await runProgram("dev", { overrides: { postgres: external(), apps, tailscale: { ip: "100.88.1.2" } }, secretKeys: ["postgres"] });
    noPooler = await runProgram("dev", { overrides: { postgres: external({ sslmode: "disable" }), apps, pgbouncer: { enabled: false } }, secretKeys: ["postgres"] });
  });

  it("runs no Postgres container, volume, image build or settings command", () => {
    const containers = ofType(r, T.container).map((c) => reveal(c.inputs.name));
    expect(containers.filter((n) => String(n).includes("postgres") && !String(n).includes("pgbouncer"))).toEqual([]);
    expect(containers).toContain("dev-pgbouncer");
    expect(r.resources.filter((x) => x.type === "docker:index/volume:Volume").map((v) => reveal(v.inputs.name))).toEqual(["dev-pgbouncer-runtime"]);
    // the one image is pgBouncer's, built from docker/pgbouncer on images.trixie; nothing is pulled
    const images = r.resources.filter((x) => /image:Image$|remoteImage/i.test(x.type));
    expect(images.map((x) => [x.type, (x.inputs.build as { context?: string } | undefined)?.context])).toEqual([["docker:index/remoteImage:RemoteImage", "docker/pgbouncer"]]);
    expect((images[0].inputs.build as { buildArgs: Record<string, string> }).buildArgs.BASE_IMAGE).toBe("debian:trixie-slim");
    expect(reveal(ofType(r, T.container).find((c) => reveal(c.inputs.name) === "dev-pgbouncer")?.inputs.image)).toBe(reveal(images[0].inputs.name));
    expect(r.resources.map((x) => x.name).filter((n) => /settings|password-sync|admin-password/.test(n))).toEqual([]);
    // no pgBouncer: no Docker resource at all (a user of RDS may have no Docker host)
    expect(noPooler.resources.filter((x) => x.type.startsWith("docker:"))).toEqual([]);
  });

  it("connects the postgresql provider to the external host as the admin, superuser=false, password secret", () => {
    const p = byName(r, "homelab-external-postgresql");
    expect(reveal(p.inputs)).toMatchObject({ host: HOST, port: "5433", username: "platform_admin", database: "postgres", sslmode: "require", superuser: "false", expectedVersion: "16" });
    expect(isSecretValue(p.inputs.password)).toBe(true);
    expect(reveal(p.inputs.password)).toBe(ADMIN_PW);
    // every database, role and grant goes through it; no cluster grants on the operator's databases
    const roles = r.resources.filter((x) => x.type === "postgresql:index/role:Role");
    expect(roles.length).toBeGreaterThan(0);
    for (const x of roles) expect(x.provider).toContain("homelab-external-postgresql");
    expect(r.resources.map((x) => x.name).filter((n) => n.includes("-cluster-") || n === "homelab-admin")).toEqual([]);
  });

  it("makes the admin a member of each owner after the owner role and before the database (psql, secret environment)", () => {
    for (const app of ["langfuse", "n8n-main"]) {
      const m = byName(r, `homelab-external-app-${app}-admin-membership`);
      expect(m.dependencies).toContain(byName(r, `homelab-external-app-${app}-owner`).urn);
      expect(byName(r, `homelab-external-app-${app}-database`).dependencies).toContain(m.urn);
      expect(String(reveal(m.inputs.create))).toMatch(/GRANT "(langfuse|n8n_main)_owner" TO CURRENT_USER WITH INHERIT TRUE, SET TRUE/);
      expect(String(reveal(m.inputs.delete))).toContain("REVOKE %I FROM CURRENT_USER");
      expect(isSecretValue(m.inputs.environment)).toBe(true);
      expect(reveal(m.inputs.environment)).toMatchObject({ PGHOST: HOST, PGPORT: "5433", PGUSER: "platform_admin", PGSSLMODE: "require" });
    }
  });

  it("points pgBouncer at the server with TLS and an auth file of the apps' users, no auth role or lookup", () => {
    const names = r.resources.map((x) => x.name);
    expect(names.filter((n) => /auth-role|-auth-(langfuse|n8n_main)$/.test(n))).toEqual([]);
    const carrier = ofType(r, T.container).find((c) => reveal(c.inputs.name) === "dev-pgbouncer-config");
    if (!carrier) throw new Error("no carrier");
    const ups = reveal(carrier.inputs.uploads) as { file: string; content: string }[];
    const ini = ups.find((u) => u.file.endsWith("pgbouncer.ini"))?.content ?? "";
    const auth = ups.find((u) => u.file.endsWith("auth-users.txt"))?.content ?? "";
    expect(ini).toContain(`langfuse = host=${HOST} port=5433 dbname=langfuse`);
    expect(ini).toContain("server_tls_sslmode = require");
    expect(ini).not.toMatch(/auth_query|auth_user/);
    expect(ini).toMatch(/^; auth file sha256 [0-9a-f]{64}$/m);
    expect(auth.split("\n").filter(Boolean).map((l) => l.split(" ")[0])).toEqual([
      // both logins of each role (rotation.ts): the one a rotation retired keeps working until the next
      '"langfuse_analytics"', '"langfuse_analytics_b"', '"langfuse_owner"', '"langfuse_owner_b"', '"n8n_main_owner"', '"n8n_main_owner_b"',
    ]);
    expect(isSecretValue(carrier.inputs.uploads)).toBe(true);
    const pooler = ofType(r, T.container).find((c) => reveal(c.inputs.name) === "dev-pgbouncer");
    expect(reveal(pooler?.inputs.ports)).toEqual([expect.objectContaining({ ip: "100.88.1.2", external: 6432 })]);
  });

  it("keeps the output contract: URLs to the external host (sslmode) and to pgBouncer, all secret", () => {
    expect(r.outputs.host).toBe(HOST);
    expect(r.outputs.port).toBe(5433);
    expect(r.outputs.poolerPort).toBe(6432);
    expect(r.outputs.network).toBe("dev-pg");
    expect(r.outputs.adminUser).toBe("platform_admin");
    for (const k of ["databases", "adminPassword"]) expect(r.secretOutputs).toContain(k);
    const dbs = r.outputs.databases as Record<string, { url: string; pooledUrl: string; readonlyUsers: Record<string, { url: string }> }>;
    expect(dbs.langfuse.url).toMatch(new RegExp(`^postgresql://langfuse_owner:[^@]+@${HOST.replace(/\./g, "\\.")}:5433/langfuse\\?sslmode=require$`));
    expect(dbs.langfuse.pooledUrl).toMatch(/@100\.88\.1\.2:6432\/langfuse/);
    expect(dbs.langfuse.readonlyUsers.analytics.url).toMatch(/^postgresql:\/\/langfuse_analytics:/);
    expect(noPooler.outputs.network).toBe("");
    expect(noPooler.outputs.poolerPort).toBeUndefined();
    expect((noPooler.outputs.databases as Record<string, { url: string; pooledUrl?: string }>).langfuse).toMatchObject({ url: expect.not.stringContaining("sslmode"), pooledUrl: undefined });
  });
});
