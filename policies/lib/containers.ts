// What makes a docker container hardened, and which part of the platform it is.
import { ROLE_LABEL } from "../../components/lib/labels";
import { asString, items, read } from "./props";

// The program labels its containers with these; the pack finds the backup sidecar by the role.
export { ROLE_LABEL };
export type { ContainerRole } from "../../components/lib/labels";

/** `no-new-privileges`, `no-new-privileges:true` or `=true` (docker accepts each). */
export function hasNoNewPrivileges(securityOpts: string[]): boolean {
  return securityOpts.some((o) => /^no-new-privileges([:=]true)?$/.test(o.trim().toLowerCase()));
}

/** Drivers accepted without options: `local` rotates by default (5 x 20 MB), journald by its own limits. */
export const DEFAULT_ROTATING_LOG_DRIVERS = ["local", "journald"];

/** Why a container's logs may grow without bound, or undefined when they cannot. */
export function logRotationProblem(
  driver: string | undefined,
  logOpts: Record<string, unknown> | undefined,
  rotatingDrivers: string[] = DEFAULT_ROTATING_LOG_DRIVERS,
): string | undefined {
  if (driver === undefined || driver === "") {
    return 'logDriver is not set (the daemon default json-file never rotates); use "local", or "json-file" with logOpts max-size';
  }
  if (driver === "json-file") {
    const maxSize = logOpts ? logOpts["max-size"] : undefined;
    if (typeof maxSize !== "string" || maxSize.trim() === "" || maxSize.trim() === "-1") {
      return 'logDriver "json-file" without logOpts "max-size" never rotates';
    }
    return undefined;
  }
  if (!rotatingDrivers.includes(driver)) {
    return `logDriver "${driver}" is not one known to rotate (${["json-file + max-size", ...rotatingDrivers].join(", ")})`;
  }
  return undefined;
}

/** Value of the `homelab.postgres/role` label (labels as a list of {label, value}, or a map). */
export function containerRole(props: Record<string, unknown>): string | undefined {
  const labels = read(props, "labels");
  if (Array.isArray(labels)) {
    for (const l of items(labels)) {
      if (read(l, "label") === ROLE_LABEL) return asString(read(l, "value"));
    }
    return undefined;
  }
  return asString(read(labels, ROLE_LABEL));
}
