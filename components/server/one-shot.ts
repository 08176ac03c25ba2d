// A one-shot job: a container that runs once and exits (the Postgres entrypoint's
// bootstrap alone: a restore from the repository, a standby's clone; or the image check,
// image-check.ts), and a local command that fails `pulumi up` with the end of its log
// when it exits non-zero.
//
// Why not in the server's own container, as before: kreuzwerker's `wait` loop ends only
// when the container is healthy or when `wait_timeout` passes; an exiting or restarting
// container is waited for to the end (resource_docker_container_funcs.go,
// resourceDockerContainerCreate). A refused bootstrap (a volume that is not empty, a
// repository that cannot be read) kept the container restarting until the create
// timeout, with no word of why. `attach` instead waits for the container to stop
// (ContainerWait with WaitConditionNotRunning), whatever its exit code, and stores
// `exit_code` and, with `logs`, `container_logs` (outputs that
// resourceDockerContainerRead keeps). The create's own timeout bounds a restore that
// takes long: `customTimeouts.create` (the resource's default is 20 minutes,
// resource_docker_container.go dockerContainerCreateDefaultTimeout).
//
// The job's container stays, exited, after a success: its state is how a later `up`
// knows the work is done (an unchanged job is not run again). A replaced job runs
// again and finds the data directory done (the marker): it exits 0 at once.
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";

/** Lines of the job's log the failure shows. */
export const JOB_LOG_TAIL_LINES = 40;

/** Environment variables of the check command (renderJobCheck). */
export const JOB_CHECK_ENV = {
  exitCode: "HLPG_JOB_EXIT_CODE",
  container: "HLPG_JOB_CONTAINER",
  what: "HLPG_JOB_WHAT",
  urn: "HLPG_JOB_URN",
} as const;

/**
 * The check command's script (`/bin/sh -c`, the job's log on stdin): exits 0 when the
 * job did, else prints what failed, the end of the log and how to run the job again.
 */
export function renderJobCheck(): string {
  const e = JOB_CHECK_ENV;
  return `set -eu
if [ "\${${e.exitCode}}" = 0 ]; then exit 0; fi
{
  echo "\${${e.what}}: the one-shot container \${${e.container}} exited \${${e.exitCode}}. The end of its log:"
  tail -n ${JOB_LOG_TAIL_LINES}
  echo "When the cause is fixed, run the job again: pulumi up --replace '\${${e.urn}}'"
} >&2
exit 1
`;
}

export interface OneShotArgs {
  /** The container's args, as the long-running container would have them; the job's changes are applied on top. */
  container: docker.ContainerArgs;
  /** Container name. */
  containerName: string;
  /** The command's one argument: the entrypoint's JOB_ARG (entrypoint.ts), or the script of a `/bin/sh -c` entrypoint. */
  jobArg: string;
  /** What the job does, for the failure message (`postgres.bootstrap`). */
  what: string;
  /** How long the job may take before `pulumi up` gives up, in seconds. */
  timeoutSeconds: number;
}

/** The job's container args: the service's, run once, attached, no restart, no healthcheck. */
export function oneShotContainerArgs(a: OneShotArgs): docker.ContainerArgs {
  const dropped = new Set(["ports", "healthcheck", "wait", "waitTimeout"]);
  const rest = Object.fromEntries(Object.entries(a.container).filter(([k]) => !dropped.has(k))) as docker.ContainerArgs;
  return {
    ...rest,
    name: a.containerName,
    command: [a.jobArg],
    // nothing listens: no published port, and no alias on the network
    networksAdvanced: pulumi.output(a.container.networksAdvanced ?? []).apply((ns) => (ns ?? []).map((n) => ({ name: n.name }))),
    restart: "no",
    mustRun: false,
    attach: true,
    logs: true,
    wait: false,
  };
}

/**
 * The job and its check. Whatever must wait for the job's success depends on `check`.
 */
export class OneShot {
  readonly container: docker.Container;
  readonly check: command.local.Command;

  constructor(name: string, a: OneShotArgs, opts: pulumi.CustomResourceOptions) {
    this.container = new docker.Container(`${name}-job`, oneShotContainerArgs(a), {
      ...opts,
      additionalSecretOutputs: ["uploads"],
      customTimeouts: { create: `${Math.ceil(a.timeoutSeconds / 60)}m` },
    });
    this.check = new command.local.Command(
      `${name}-job-check`,
      {
        create: renderJobCheck(),
        environment: {
          [JOB_CHECK_ENV.exitCode]: this.container.exitCode.apply((c) => String(c ?? "unknown")),
          [JOB_CHECK_ENV.container]: this.container.name,
          [JOB_CHECK_ENV.what]: a.what,
          [JOB_CHECK_ENV.urn]: this.container.urn,
        },
        stdin: this.container.containerLogs.apply((l) => l ?? ""),
      },
      { ...opts, dependsOn: [this.container] },
    );
  }
}
