// The bootstrap's one-shot job: its check script (run by sh, as pulumi-command's local
// provider runs it) fails with the end of the job's log, and on the whole prod program
// with postgres.bootstrap the restore runs in an attached, run-once container that the
// server waits for through the check, so the server's own wait stays short.
import { spawnSync } from "child_process";
import { JOB_ARG } from "../../../components/server/entrypoint";
import { BOOTSTRAP_WAIT_SECONDS } from "../../../components/server/server";
import { JOB_CHECK_ENV, JOB_LOG_TAIL_LINES, renderJobCheck } from "../../../components/server/one-shot";
import { PROD_SECRETS, ProgramResult, T, ofType, reveal, runProgram } from "../../helpers/program";

const COMMAND = "command:local:Command";

function check(exitCode: string, log: string): { status: number | null; stdout: string; stderr: string } {
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    [JOB_CHECK_ENV.exitCode]: exitCode,
    [JOB_CHECK_ENV.container]: "prod-postgres-bootstrap",
    [JOB_CHECK_ENV.what]: "postgres.bootstrap",
    [JOB_CHECK_ENV.urn]: "urn:pulumi:prod::homelab-postgres::x$docker:index/container:Container::homelab-postgres-bootstrap-job",
  };
  const r = spawnSync("/bin/sh", ["-c", renderJobCheck()], { env, input: log, encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("the one-shot job's check", () => {
  const log = Array.from({ length: 100 }, (_, i) => `line ${i + 1}`).join("\n") + "\n";

  it("passes quietly when the job exited 0", () => {
    expect(check("0", log)).toEqual({ status: 0, stdout: "", stderr: "" });
  });

  it.each(["1", "137", "unknown"])("fails when the job exited %s, with what failed, the end of its log and how to run it again", (code) => {
    const r = check(code, log);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines[0]).toBe(`postgres.bootstrap: the one-shot container prod-postgres-bootstrap exited ${code}. The end of its log:`);
    // the last lines of the log, in order, and none before them
    expect(lines.slice(1, -1)).toEqual(Array.from({ length: JOB_LOG_TAIL_LINES }, (_, i) => `line ${100 - JOB_LOG_TAIL_LINES + i + 1}`));
    expect(lines[lines.length - 1]).toBe(
      "When the cause is fixed, run the job again: pulumi up --replace 'urn:pulumi:prod::homelab-postgres::x$docker:index/container:Container::homelab-postgres-bootstrap-job'",
    );
  });

  it("fails on an empty log too", () => {
    expect(check("1", "").status).toBe(1);
  });
});

describe("postgres.bootstrap as a one-shot job, on the whole prod program", () => {
  let boot: ProgramResult;
  let plain: ProgramResult;
  beforeAll(async () => {
    const run = (bootstrap: boolean) =>
      runProgram("prod", {
        ...PROD_SECRETS,
        overrides: { ...PROD_SECRETS.overrides, ...(bootstrap ? { postgres: { bootstrap: { from: "backup", target: "latest" } } } : {}) },
      });
    [boot, plain] = [await run(true), await run(false)];
  });
  const byName = (r: ProgramResult, type: string, name: string) => {
    const found = ofType(r, type).find((x) => x.name === name);
    if (!found) throw new Error(`no ${type} ${name}`);
    return found;
  };

  it("runs the restore once, attached, with no restart, port or healthcheck, and a create timeout of the bootstrap's", () => {
    const job = byName(boot, T.container, "homelab-postgres-bootstrap-job");
    const i = reveal(job.inputs) as Record<string, unknown>;
    expect({ attach: i.attach, logs: i.logs, mustRun: i.mustRun, restart: i.restart, wait: i.wait, command: i.command }).toEqual({
      attach: true, logs: true, mustRun: false, restart: "no", wait: false, command: [JOB_ARG],
    });
    expect([i.ports, i.healthcheck, i.waitTimeout]).toEqual([undefined, undefined, undefined]);
    expect(i.name).toBe("prod-postgres-bootstrap");
    expect(job.customTimeouts.create).toBe(`${BOOTSTRAP_WAIT_SECONDS / 60}m`);
    expect(job.additionalSecretOutputs).toContain("uploads");
  });

  it("restores with what the server runs: its image, entrypoint, volumes and uploads, and an init", () => {
    const job = reveal(byName(boot, T.container, "homelab-postgres-bootstrap-job").inputs) as Record<string, unknown>;
    const server = reveal(byName(boot, T.container, "homelab-postgres-container").inputs) as Record<string, unknown>;
    for (const k of ["image", "entrypoints", "envs", "volumes", "uploads", "init", "user"]) expect([k, job[k]]).toEqual([k, server[k]]);
    expect(job.init).toBe(true);
  });

  it("starts the server only after the check, and the server waits minutes, not hours", () => {
    const job = byName(boot, T.container, "homelab-postgres-bootstrap-job");
    const checkCmd = byName(boot, COMMAND, "homelab-postgres-bootstrap-job-check");
    const server = byName(boot, T.container, "homelab-postgres-container");
    expect(checkCmd.dependencies).toContain(job.urn);
    expect(server.dependencies).toContain(checkCmd.urn);
    expect(Number(server.inputs.waitTimeout)).toBeLessThanOrEqual(300);
  });

  it("pauses pgBouncer only after the check: a refused or failed job leaves the pooler serving", () => {
    const checkCmd = byName(boot, COMMAND, "homelab-postgres-bootstrap-job-check");
    expect(byName(boot, COMMAND, "homelab-pgbouncer-pause").dependencies).toContain(checkCmd.urn);
  });

  it("checks the image first, with what the config asks of it; the bootstrap job, the pause and the server wait for the check", () => {
    const job = reveal(byName(plain, T.container, "homelab-postgres-image-check-job").inputs) as Record<string, unknown>;
    const server = byName(plain, T.container, "homelab-postgres-container");
    expect(job.image).toBe(reveal(server.inputs.image));
    expect(job.entrypoints).toEqual(["/bin/sh", "-c"]);
    const script = (job.command as string[])[0];
    expect(script).toContain("postgres.majorVersion is 17");
    // prod has backups on, an app with vector, and audit off
    for (const want of ["pgbackrest", "pgvector is missing"]) expect(script).toContain(want);
    expect(script).not.toContain("pgAudit");
    const check = byName(plain, COMMAND, "homelab-postgres-image-check-job-check");
    expect(server.dependencies).toContain(check.urn);
    expect(byName(plain, COMMAND, "homelab-pgbouncer-pause").dependencies).toContain(check.urn);
    expect(byName(boot, T.container, "homelab-postgres-bootstrap-job").dependencies).toContain(byName(boot, COMMAND, "homelab-postgres-image-check-job-check").urn);
  });

  it("is absent without postgres.bootstrap", () => {
    expect(ofType(plain, T.container).map((c) => c.name).filter((n) => n.includes("bootstrap"))).toEqual([]);
    expect(ofType(plain, COMMAND).map((c) => c.name).filter((n) => n.includes("bootstrap"))).toEqual([]);
    expect(byName(plain, COMMAND, "homelab-pgbouncer-pause").dependencies.filter((d) => d.includes("bootstrap"))).toEqual([]);
  });
});
