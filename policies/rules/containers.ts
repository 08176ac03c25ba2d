// Rule 3: containers are hardened.
import {
  stringListOption,
  asString,
  asStringArray,
  DEFAULT_ROTATING_LOG_DRIVERS,
  hasNoNewPrivileges,
  logRotationProblem,
  POLICY_NAMES,
  read,
  readPath,
  resourceRule,
  TYPES,
  UNKNOWN,
} from "../lib";

export interface ContainersHardenedConfig {
  allowedRestartPolicies: string[];
  rotatingLogDrivers: string[];
}

export const containersHardenedPolicy = resourceRule<ContainersHardenedConfig>({
  name: POLICY_NAMES.containersHardened,
  description:
    "Containers run with no-new-privileges, a memory limit, a restart policy, a healthcheck and rotated logs, and are not privileged. A one-shot job (attach, mustRun false) runs once: no restart, no healthcheck needed.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps:
    'Set securityOpts ["no-new-privileges:true"], memory (MB), restart "unless-stopped", healthcheck.tests, logDriver "local" (or "json-file" with logOpts max-size).',
  types: [TYPES.container],
  options: {
    allowedRestartPolicies: stringListOption("Restart policies that bring a container back after a crash or reboot."),
    rotatingLogDrivers: stringListOption('Log drivers accepted without options ("json-file" always needs logOpts max-size).'),
  },
  defaults: {
    allowedRestartPolicies: ["unless-stopped", "always", "on-failure"],
    rotatingLogDrivers: DEFAULT_ROTATING_LOG_DRIVERS,
  },
  check: (props, { config }, report) => {
    const securityOpts = read(props, "securityOpts");
    if (securityOpts !== UNKNOWN && !hasNoNewPrivileges(asStringArray(securityOpts))) {
      report('securityOpts lacks "no-new-privileges:true"');
    }
    const memory = read(props, "memory");
    if (memory !== UNKNOWN && !(typeof memory === "number" && memory > 0)) {
      report("memory limit is not set (memory, in MB, must be > 0)");
    }
    // A one-shot job (attach, mustRun false: `pulumi up` waits for it to exit and keeps the
    // exited container) runs once to completion: no restart policy, no healthcheck.
    const oneShot = read(props, "attach") === true && read(props, "mustRun") === false;
    const restart = read(props, "restart");
    if (oneShot) {
      if (restart !== UNKNOWN && restart !== undefined && restart !== "no" && restart !== "") report(`a one-shot job (attach, mustRun false) must not restart; restart is ${JSON.stringify(restart)}`);
    } else if (restart !== UNKNOWN && !(typeof restart === "string" && config.allowedRestartPolicies.includes(restart))) {
      report(
        `restart policy is ${typeof restart === "string" && restart !== "" ? `"${restart}"` : "not set (docker default: no)"}; use one of ${config.allowedRestartPolicies.join(", ")}`,
      );
    }
    const tests = readPath(props, "healthcheck", "tests");
    if (tests !== UNKNOWN && !(oneShot && tests === undefined)) {
      const t = asStringArray(tests);
      if (t.length === 0) report("healthcheck has no tests");
      else if (t[0].toUpperCase() === "NONE") report('healthcheck is disabled (tests ["NONE"])');
    }
    const driver = read(props, "logDriver");
    const logOpts = read(props, "logOpts");
    if (driver !== UNKNOWN && logOpts !== UNKNOWN) {
      const opts: Record<string, unknown> = {};
      if (logOpts !== null && typeof logOpts === "object") {
        for (const k of Object.keys(logOpts)) opts[k] = read(logOpts, k);
      }
      const problem = logRotationProblem(asString(driver), opts, config.rotatingLogDrivers);
      if (problem) report(problem);
    }
    if (read(props, "privileged") === true) report("container is privileged");
  },
});
