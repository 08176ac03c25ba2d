// The postgres container's entrypoint wrapper on a real PostgreSQL 15 data
// directory: a retained cluster gets the password from the file before it starts.
import * as fs from "fs";
import * as path from "path";
import { renderPostgresEntrypoint } from "../../../components/server/entrypoint";
import { pgBinDir, PgInstance, run, startPostgres, tempDir, writeFile } from "../harness";

describe("entrypoint wrapper: superuser password from POSTGRES_PASSWORD_FILE", () => {
  let first: PgInstance;
  let second: PgInstance | undefined;
  let work: string;
  const oldPassword = "old-password-from-the-first-initdb-000";
  const newPassword = "new-password-'quoted'-%s-from-state-111";

  const runWrapper = (env: Record<string, string>) => {
    const script = path.join(work, "entrypoint.sh");
    writeFile(script, renderPostgresEntrypoint({ configFile: path.join(first.confDir, "postgresql.conf"), next: path.join(work, "next.sh") }), 0o755);
    return run("bash", [script, "postgres", "-c", "config_file=ignored-by-the-stub"], {
      env: { PATH: `${pgBinDir()}:${process.env.PATH ?? ""}`, ...env },
    });
  };

  beforeAll(async () => {
    first = await startPostgres({ superPassword: oldPassword });
    await first.stop();
    work = tempDir("entrypoint");
    // stands in for the image's docker-entrypoint.sh: prove the hand-over and its arguments
    writeFile(path.join(work, "next.sh"), '#!/usr/bin/env bash\necho "handed over: $*"\n', 0o755);
    writeFile(path.join(work, "password"), newPassword, 0o600);
  });

  afterAll(async () => {
    await second?.destroy();
    await first?.destroy();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it("sets the password of an existing cluster, never printing it, then hands over", async () => {
    const r = await runWrapper({ PGDATA: first.dataDir, POSTGRES_PASSWORD_FILE: path.join(work, "password") });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(r.stdout).toMatch(/superuser password set from/);
    expect(r.stdout).toMatch(/^handed over: postgres -c config_file=ignored-by-the-stub$/m);
    expect(r.stdout + r.stderr).not.toContain(newPassword);

    second = await startPostgres({ existingDataDir: first.dataDir, superPassword: newPassword, port: first.port });
    const c = await second.connect();
    await c.end();
    await expect(second.connect({ password: oldPassword })).rejects.toThrow(/password authentication failed/);
    // the statement was not written to the server log either
    const logs = fs.readdirSync(first.dataDir).includes("log") ? fs.readdirSync(path.join(first.dataDir, "log")) : [];
    for (const f of logs) expect(fs.readFileSync(path.join(first.dataDir, "log", f), "utf8")).not.toContain(newPassword);
    await second.stop();
  });

  it("leaves a fresh volume to the image's initdb", async () => {
    const empty = tempDir("empty-pgdata");
    const r = await runWrapper({ PGDATA: empty, POSTGRES_PASSWORD_FILE: path.join(work, "password") });
    fs.rmSync(empty, { recursive: true, force: true });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/password set/);
    expect(r.stdout).toMatch(/handed over: postgres/);
  });

  it("fails loudly, without starting the server, when the password file is missing", async () => {
    const r = await runWrapper({ PGDATA: first.dataDir, POSTGRES_PASSWORD_FILE: path.join(work, "nope") });
    expect(r.code).not.toBe(0);
    expect(r.stdout).not.toMatch(/handed over/);
  });
});
