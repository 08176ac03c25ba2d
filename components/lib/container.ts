// Hardening every container of the platform shares; the policy pack checks the
// same properties (no-new-privileges, memory limit, restart, healthcheck, log rotation).
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { ContainerRole, labels } from "./labels";

export { ROLE_LABEL, type ContainerRole } from "./labels";

export interface HardeningArgs {
  role: ContainerRole;
  stack: string;
  /** Hard memory limit in MiB. */
  memoryMb: number;
  /** Healthcheck command, exec form (`["CMD", ...]`). */
  healthcheck: string[];
  /** Seconds the engine waits for "healthy" before `pulumi up` fails. */
  waitTimeoutSeconds?: number;
}

/** The ContainerArgs every platform container starts from. */
export function hardenedContainerArgs(a: HardeningArgs): Pick<
  docker.ContainerArgs,
  "labels" | "memory" | "restart" | "securityOpts" | "logDriver" | "logOpts" | "healthcheck" | "wait" | "waitTimeout" | "destroyGraceSeconds" | "stopTimeout"
> {
  return {
    labels: labels(a.stack, a.role),
    memory: a.memoryMb,
    restart: "unless-stopped",
    securityOpts: ["no-new-privileges:true"],
    // json-file with rotation: `docker logs` keeps working and the disk cannot fill up
    logDriver: "json-file",
    logOpts: { "max-size": "10m", "max-file": "5" },
    healthcheck: { tests: a.healthcheck, interval: "10s", timeout: "5s", retries: 6, startPeriod: "60s" },
    wait: true,
    waitTimeout: a.waitTimeoutSeconds ?? 300,
    // Postgres needs time for its shutdown checkpoint: on a Pulumi replacement
    // (destroyGraceSeconds) and on docker stop/restart or host shutdown (stopTimeout),
    // instead of Docker's 10 s before SIGKILL and crash recovery
    destroyGraceSeconds: 60,
    stopTimeout: 60,
  };
}

/** A port binding on exactly one address: never 0.0.0.0 or ::. */
export function publishedPort(internal: number, external: number, ip: pulumi.Input<string>): docker.types.input.ContainerPort {
  return { internal, external, ip, protocol: "tcp" };
}
