// `docker exec` through dockerode: what an operator runs on the Docker host
// (`docker exec dev-backup hlpg-backup full`), with its exit code and output.
import Docker from "dockerode";
import { PassThrough } from "stream";

export interface ExecResult { code: number; stdout: string; stderr: string }

export async function dockerExec(docker: Docker, container: string, cmd: string[], opts: { user?: string; env?: string[] } = {}): Promise<ExecResult> {
  const exec = await docker.getContainer(container).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, User: opts.user, Env: opts.env });
  const stream = await exec.start({ hijack: true, stdin: false });
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = "";
  let stderr = "";
  out.on("data", (b: Buffer) => (stdout += b.toString()));
  err.on("data", (b: Buffer) => (stderr += b.toString()));
  docker.modem.demuxStream(stream, out, err);
  await new Promise<void>((resolve, reject) => {
    stream.on("end", () => resolve());
    stream.on("error", reject);
  });
  const info = await exec.inspect();
  return { code: info.ExitCode ?? -1, stdout, stderr };
}

/** dockerExec that throws with the output unless the command exits 0. */
export async function dockerExecOk(docker: Docker, container: string, cmd: string[], opts: { user?: string; env?: string[] } = {}): Promise<ExecResult> {
  const r = await dockerExec(docker, container, cmd, opts);
  if (r.code !== 0) throw new Error(`docker exec ${container} ${cmd.join(" ")}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}
