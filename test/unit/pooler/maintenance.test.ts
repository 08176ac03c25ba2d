// pgBouncer's PAUSE and RESUME around a replacement of the Postgres container, as the
// program wires them (the order the engine will run them in, what they log in as); the
// impact layer proves when PAUSE runs, the engine layer that pooled clients see no error.
import { POOLER_ADMIN_USER, renderPauseScript } from "../../../components/pooler/maintenance";
import { isSecretValue, reveal, runProgram, type ProgramResult } from "../../helpers/program";

let dev: ProgramResult;
const byName = (n: string) => {
  const r = dev.resources.find((x) => x.name === n);
  if (!r) throw new Error(`no ${n}`);
  return r;
};

beforeAll(async () => {
  dev = await runProgram("dev");
});

describe("pgBouncer maintenance around a Postgres replacement", () => {
  it("pauses before the Postgres container and resumes after it, its settings and pgBouncer's lookups", () => {
    const pause = byName("homelab-pgbouncer-pause");
    const resume = byName("homelab-pgbouncer-resume");
    const container = byName("homelab-postgres-container");
    expect(container.dependencies).toContain(pause.urn);
    expect(resume.dependencies).toEqual(expect.arrayContaining([
      container.urn, byName("homelab-postgres-settings-command").urn, byName("homelab-pgbouncer-auth-langfuse").urn, byName("homelab-pgbouncer-auth-n8n_main").urn,
    ]));
    // resume re-runs for every new container: its id is its trigger
    expect(reveal(resume.inputs.triggers)).toEqual(["homelab-postgres-container-id"]);
  });

  it("logs in to pgBouncer's admin console, published on the bind address, with a secret password of its own", () => {
    for (const name of ["homelab-pgbouncer-pause", "homelab-pgbouncer-resume"]) {
      const cmd = byName(name);
      const env = reveal(cmd.inputs.environment) as Record<string, string>;
      expect(env).toMatchObject({ PGHOST: "127.0.0.1", PGPORT: "6432", PGUSER: POOLER_ADMIN_USER, PGDATABASE: "pgbouncer" });
      // the SDK marks the whole map secret when a value in it is
      expect(isSecretValue((cmd.inputs.environment as Record<string, unknown>).PGPASSWORD) || isSecretValue(cmd.inputs.environment)).toBe(true);
      expect(cmd.additionalSecretOutputs).toContain("environment");
    }
    const password = (reveal(byName("homelab-pgbouncer-pause").inputs.environment) as Record<string, string>).PGPASSWORD;
    // the mocks name a RandomPassword's result after the resource: its own, of 40 characters
    expect(password).toMatch(/^pw-homelab-pgbouncer-admin-password-/);
    expect(reveal(byName("homelab-pgbouncer-admin-password").inputs)).toMatchObject({ length: 40, special: false });
    // the same user and password are in pgBouncer's auth file, and only it is an admin
    const uploads = reveal(byName("homelab-pgbouncer-container").inputs.uploads) as { file: string; content: string }[];
    expect(uploads.find((u) => u.file.endsWith("/userlist.txt"))?.content).toContain(`"${POOLER_ADMIN_USER}" "${password}"`);
    const carrier = reveal(byName("homelab-pgbouncer-runtime-container").inputs.uploads) as { content: string }[];
    expect(carrier.map((u) => u.content).join("\n")).toMatch(new RegExp(`^admin_users = ${POOLER_ADMIN_USER}$`, "m"));
  });

  it("gives up a PAUSE that open transactions hold too long, and never fails the deploy on it", () => {
    const script = renderPauseScript(5);
    expect(script).toMatch(/-gt 5 \]/);
    expect(script).toContain("RESUME");
    expect(script.trimEnd().endsWith("exit 0")).toBe(true);
    expect(() => renderPauseScript(0)).toThrow(/1-3600/);
  });
});
