// The stack's images, built from our Dockerfiles with the build args the program passes
// (components/config/images.ts) on the Debian bases, then started: each has the packages
// and versions the table says, runs as the uid the program assumes, and the Postgres
// image initialises a cluster (checksums on, en_US.UTF-8) through its own entrypoint.
import Docker from "dockerode";
import { DEFAULT_BASE_IMAGES, EXPORTER_PACKAGES, PGBOUNCER_PACKAGE, POSTGRES_PACKAGES, exporterBuildArgs, pgbouncerBuildArgs, postgresBuildArgs } from "../../components/config";
import { EXPORTERS_CONTEXT, exportersImageRef } from "../../components/monitoring/image";
import { PGBOUNCER_CONTEXT, pgbouncerImageRef } from "../../components/pooler/image";
import { POSTGRES_CONTEXT, postgresImageRef } from "../../components/server/image";
import { renderImageCheck } from "../../components/server/image-check";
import { buildImage, demux } from "./docker-resources";
import { describeEngine, ensureBases } from "./env";
import * as path from "path";

jest.setTimeout(30 * 60_000);
const ROOT = path.resolve(__dirname, "../..");

/** Runs a command in a throwaway container of `image`: its exit code and output. */
async function runCode(docker: Docker, image: string, cmd: string[], opts: { user?: string; env?: string[] } = {}): Promise<{ code: number; out: string }> {
  const c = await docker.createContainer({ Image: image, Entrypoint: [], Cmd: cmd, User: opts.user, Env: opts.env, HostConfig: { NetworkMode: "none" } });
  try {
    await c.start();
    const { StatusCode } = await c.wait();
    return { code: StatusCode, out: demux((await c.logs({ stdout: true, stderr: true })) as unknown as Buffer) };
  } finally {
    await c.remove({ force: true });
  }
}

/** runCode that requires exit code 0 and returns the output. */
async function run(docker: Docker, image: string, cmd: string[], opts: { user?: string; env?: string[] } = {}): Promise<string> {
  const { code, out } = await runCode(docker, image, cmd, opts);
  if (code !== 0) throw new Error(`${cmd.join(" ")} exited ${code}: ${out}`);
  return out;
}

describeEngine("the stack's images from Debian packages", (socket) => {
  let docker: Docker;
  const testArgs = { APT_CHECK_VALID_UNTIL: "false" };

  beforeAll(async () => {
    docker = new Docker({ socketPath: socket });
    await ensureBases(docker);
  });

  for (const major of [15, 17]) {
    it(`builds the Postgres ${major} image with the table's versions and initialises a cluster with checksums`, async () => {
      const p = POSTGRES_PACKAGES[major];
      const base = DEFAULT_BASE_IMAGES[p.suite];
      const ref = postgresImageRef({ majorVersion: major, baseImage: base, platform: "linux/amd64" });
      await buildImage(docker, ROOT, { imageName: ref, build: { context: POSTGRES_CONTEXT.dir, dockerfile: `${POSTGRES_CONTEXT.dir}/Dockerfile`, platform: "linux/amd64", args: postgresBuildArgs(major, base) } });
      const versions = await run(docker, ref, ["dpkg-query", "-W", "-f", "${Package}=${Version}\\n", `postgresql-${major}`, `postgresql-${major}-pgaudit`, "pgbackrest", ...(p.pgvector ? [`postgresql-${major}-pgvector`] : [])]);
      expect(versions.trim().split("\n").sort()).toEqual([
        `pgbackrest=${p.pgbackrest}`, `postgresql-${major}-pgaudit=${p.pgaudit}`, ...(p.pgvector ? [`postgresql-${major}-pgvector=${p.pgvector}`] : []), `postgresql-${major}=${p.postgresql}`,
      ].sort());
      expect((await run(docker, ref, ["id", "-u", "postgres"])).trim()).toBe("999");
      // the image's entrypoint as root: initdb on an empty PGDATA with the password file, then the command as postgres
      const script = [
        "set -e", "printf 'secret-pw' > /tmp/pw", "chmod 0644 /tmp/pw",
        "export PGDATA=/var/lib/postgresql/data/pgdata POSTGRES_PASSWORD_FILE=/tmp/pw",
        "hlpg-image-entrypoint.sh postgres --version",
        "gosu postgres pg_controldata \"$PGDATA\" | grep -E 'checksum version|Database cluster state'",
        "gosu postgres postgres --single -D \"$PGDATA\" postgres <<< 'select datcollate from pg_database where datname = $$postgres$$' | grep -o 'en_US.UTF-8' | head -1",
        "stat -c '%u %a' \"$PGDATA\"",
      ].join("\n");
      const out = await run(docker, ref, ["bash", "-c", script]);
      expect(out).toContain(`PostgreSQL) ${p.postgresql.split("-")[0]}`);
      expect(out).toMatch(/Data page checksum version:\s+1/);
      expect(out).toContain("en_US.UTF-8");
      expect(out).toMatch(/^999 700$/m);
      // the program's image check (the job before the server) passes on it, with everything it can ask for
      const check = renderImageCheck({ majorVersion: major, backup: true, audit: true, vector: p.pgvector !== undefined });
      expect(await runCode(docker, ref, ["/bin/sh", "-c", check])).toEqual({ code: 0, out: expect.stringMatching(new RegExp(`^image check: ok \\(postgres \\(PostgreSQL\\) ${major}\\.`, "m")) });
      // and refuses it for another major, naming the key
      const other = await runCode(docker, ref, ["/bin/sh", "-c", renderImageCheck({ majorVersion: major === 17 ? 15 : 17, backup: false, audit: false, vector: false })]);
      expect(other.code).toBe(1);
      expect(other.out).toMatch(new RegExp(`postgres --version says: postgres \\(PostgreSQL\\) ${major}\\.\\d+.*; postgres.majorVersion is ${major === 17 ? 15 : 17}`));
    });
  }

  it("has the image check list every problem of an image that is not ours (a bare Debian base)", async () => {
    const r = await runCode(docker, DEFAULT_BASE_IMAGES.trixie, ["/bin/sh", "-c", renderImageCheck({ majorVersion: 17, backup: true, audit: true, vector: true })]);
    expect(r.code).toBe(1);
    const lines = r.out.trim().split("\n");
    for (const want of [/postgres --version says: no postgres on PATH/, /gosu is not on PATH/, /pgbackrest is not on PATH/, /\/usr\/lib\/postgresql\/17\/bin\/postgres is missing/, /pgAudit is missing/, /pgvector is missing/, /not uid and gid 999/, /en_US.UTF-8 locale is missing/]) {
      expect(lines.some((l) => want.test(l))).toBe(true);
    }
    expect(lines[lines.length - 1]).toMatch(/^image check: \d+ problem\(s\): the image does not keep the contract of docs\/images.md$/);
  });

  it("builds the pgBouncer image with the pinned release from its suite, running as 999", async () => {
    const base = DEFAULT_BASE_IMAGES[PGBOUNCER_PACKAGE.suite];
    const ref = pgbouncerImageRef(base, "linux/amd64");
    await buildImage(docker, ROOT, { imageName: ref, build: { context: PGBOUNCER_CONTEXT.dir, dockerfile: `${PGBOUNCER_CONTEXT.dir}/Dockerfile`, platform: "linux/amd64", args: pgbouncerBuildArgs(base) } }, testArgs);
    expect((await run(docker, ref, ["dpkg-query", "-W", "-f", "${Version}", "pgbouncer"])).trim()).toBe(PGBOUNCER_PACKAGE.version);
    expect((await run(docker, ref, ["pgbouncer", "--version"]))).toContain(`PgBouncer ${PGBOUNCER_PACKAGE.release.join(".")}`);
    expect((await run(docker, ref, ["id", "-u"])).trim()).toBe("999");
    // everything else stayed on the base's suite
    expect(await run(docker, ref, ["dpkg-query", "-W", "-f", "${Version}", "libc6"])).toMatch(/deb13|^2\.41/);
  });

  it("builds the exporters image with Debian 12's exporters, running as nobody", async () => {
    const base = DEFAULT_BASE_IMAGES[EXPORTER_PACKAGES.suite];
    const ref = exportersImageRef(base, "linux/amd64");
    await buildImage(docker, ROOT, { imageName: ref, build: { context: EXPORTERS_CONTEXT.dir, dockerfile: `${EXPORTERS_CONTEXT.dir}/Dockerfile`, platform: "linux/amd64", args: exporterBuildArgs(base) } });
    const versions = await run(docker, ref, ["dpkg-query", "-W", "-f", "${Package}=${Version}\\n", "prometheus-postgres-exporter", "prometheus-pgbouncer-exporter"]);
    expect(versions.trim().split("\n").sort()).toEqual([`prometheus-pgbouncer-exporter=${EXPORTER_PACKAGES.pgbouncerExporter}`, `prometheus-postgres-exporter=${EXPORTER_PACKAGES.postgresExporter}`]);
    expect((await run(docker, ref, ["id", "-u"])).trim()).toBe("65534");
  });
});
