// Hardening every container of the platform shares; the policy pack checks the
// same properties (no-new-privileges, memory limit, restart, healthcheck, log rotation).
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
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
    // Durations in Go's canonical form: the provider reads them back with
    // time.Duration.String() and has no diff suppression, so "60s" would read back as
    // "1m0s" and show a change on every refresh (kreuzwerker/terraform-provider-docker
    // internal/provider/resource_docker_container_funcs.go, resourceDockerContainerRead).
    healthcheck: { tests: a.healthcheck, interval: goDuration(10), timeout: goDuration(5), retries: 6, startPeriod: goDuration(60) },
    wait: true,
    waitTimeout: a.waitTimeoutSeconds ?? 300,
    // Postgres needs time for its shutdown checkpoint: on a Pulumi replacement
    // (destroyGraceSeconds) and on docker stop/restart or host shutdown (stopTimeout),
    // instead of Docker's 10 s before SIGKILL and crash recovery
    destroyGraceSeconds: 60,
    stopTimeout: 60,
  };
}

/** Whole seconds as Go's time.Duration.String() prints them: `5s`, `1m0s`, `1h30m0s`. */
export function goDuration(seconds: number): string {
  if (!Number.isInteger(seconds) || seconds < 0) throw new Error(`goDuration takes whole seconds >= 0, got ${seconds}`);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/**
 * Container inputs the docker provider changes without replacing the container: every
 * other field is ForceNew (kreuzwerker/terraform-provider-docker v4.5.0
 * internal/provider/resource_docker_container.go, the schema; resource_docker_container_funcs.go
 * resourceDockerContainerUpdate sends restart policy and resources through ContainerUpdate
 * and only records healthcheck, wait and timeouts).
 */
export const CONTAINER_IN_PLACE: ReadonlySet<string> = new Set([
  "restart", "maxRetryCount", "cpuShares", "memory", "memoryReservation", "memorySwap", "cpuSet", "cpuPeriod", "cpuQuota",
  "deviceReadBps", "deviceReadIops", "deviceWriteBps", "deviceWriteIops", "healthcheck", "wait", "waitTimeout",
  "destroyGraceSeconds", "mustRun", "start", "rm", "attach", "logs", "removeVolumes", "tmpfs", "init",
  "containerReadRefreshTimeoutMilliseconds",
]);

/**
 * A digest of the inputs whose change replaces a container (all but CONTAINER_IN_PLACE):
 * it changes exactly when the provider will replace the container, so a command keyed
 * on it (pgBouncer's PAUSE) runs before each replacement and at no other time. Secret
 * when an input is (the digest gives nothing away, but Pulumi keeps the taint).
 */
export function replacementKey(args: docker.ContainerArgs): pulumi.Output<string> {
  const replacing = Object.fromEntries(Object.entries(args).filter(([k]) => !CONTAINER_IN_PLACE.has(k)).sort(([a], [b]) => (a < b ? -1 : 1)));
  return pulumi.output(replacing).apply((v) => createHash("sha256").update(JSON.stringify(v)).digest("hex"));
}

/** A port binding on exactly one address: never 0.0.0.0 or ::. */
export function publishedPort(internal: number, external: number, ip: pulumi.Input<string>): docker.types.input.ContainerPort {
  return { internal, external, ip, protocol: "tcp" };
}
