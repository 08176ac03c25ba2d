// Rule 9: no container gets a way out to its host. `privileged` is rule 3's; this
// covers the other routes: the Docker socket or a host directory mounted (through
// volumes, mounts or a docker.Volume that binds a host directory), capabilities
// added, the host's PID/IPC/user/cgroup/network namespaces, devices, and seccomp,
// AppArmor or SELinux confinement turned off.
import {
  asString,
  asStringArray,
  DEFAULT_FORBIDDEN_HOST_PATHS,
  HOST_NAMESPACE_INPUTS,
  hostPathProblem,
  items,
  normaliseCapability,
  POLICY_NAMES,
  read,
  readPath,
  resourceRule,
  stringListOption,
  TYPES,
  UNKNOWN,
  unconfinedSecurityOpt,
} from "../lib";

export interface ContainersNoHostAccessConfig {
  allowedCapabilities: string[];
  allowedHostPaths: string[];
  forbiddenHostPaths: string[];
}

export const containersNoHostAccessPolicy = resourceRule<ContainersNoHostAccessConfig>({
  name: POLICY_NAMES.containersNoHostAccess,
  description:
    "No container reaches its host: no Docker socket or host system directory mounted (volumes, mounts, or a docker.Volume binding a host path), no capability added, no host PID/IPC/user/cgroup/network namespace, no device, no seccomp/AppArmor/SELinux confinement turned off.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    "Use named volumes instead of host paths, drop capabilities (capabilities.drops [\"ALL\"]) instead of adding them, leave pidMode/ipcMode/usernsMode/cgroupnsMode/networkMode unset, remove devices and the *=unconfined securityOpts.",
  types: [TYPES.container, TYPES.volume],
  options: {
    allowedCapabilities: stringListOption("Capabilities a container may add (e.g. NET_BIND_SERVICE); none by default."),
    allowedHostPaths: stringListOption("Exact host paths a container may mount despite the rules (say why in the config file)."),
    forbiddenHostPaths: stringListOption("Host paths that may not be mounted, nor a directory above them nor a path below them. /, /run, /var/run and any *.sock are always refused."),
  },
  defaults: { allowedCapabilities: [], allowedHostPaths: [], forbiddenHostPaths: [...DEFAULT_FORBIDDEN_HOST_PATHS] },
  check: (props, { args, config }, report) => {
    const hostPath = (p: unknown, where: string) => {
      const s = asString(p);
      const problem = s === undefined ? undefined : hostPathProblem(s, config.forbiddenHostPaths, config.allowedHostPaths);
      if (problem) report(`${where} ${problem}`);
    };
    if (args.type === TYPES.volume) {
      // the local driver binds a host directory with driverOpts {type: none, o: bind, device: <path>}
      hostPath(readPath(props, "driverOpts", "device"), "volume's driverOpts.device");
      return;
    }
    items(read(props, "volumes")).forEach((v, i) => hostPath(read(v, "hostPath"), `volumes[${i}].hostPath`));
    items(read(props, "mounts")).forEach((m, i) => {
      const type = read(m, "type");
      // a bind's source is a host path; a volume's is a volume name (checked as a docker.Volume)
      if (type === UNKNOWN || (typeof type === "string" && ["bind", "npipe"].includes(type.toLowerCase()))) hostPath(read(m, "source"), `mounts[${i}].source`);
    });
    const adds = asStringArray(readPath(props, "capabilities", "adds"));
    const allowed = config.allowedCapabilities.map(normaliseCapability);
    for (const cap of adds) {
      if (!allowed.includes(normaliseCapability(cap))) report(`capabilities.adds ${normaliseCapability(cap)}: a container gets no capability beyond Docker's defaults (allowedCapabilities: ${allowed.join(", ") || "none"})`);
    }
    for (const input of HOST_NAMESPACE_INPUTS) {
      const mode = read(props, input);
      if (typeof mode === "string" && mode.trim().toLowerCase() === "host") report(`${input} "host" shares the host's namespace`);
    }
    const devices = items(read(props, "devices"));
    devices.forEach((d, i) => report(`devices[${i}] gives the container the host device ${asString(read(d, "hostPath")) ?? "(unknown)"}`));
    if (asStringArray(read(props, "deviceCgroupRules")).length > 0) report("deviceCgroupRules open host devices to the container");
    for (const opt of asStringArray(read(props, "securityOpts"))) {
      if (unconfinedSecurityOpt(opt)) report(`securityOpts "${opt}" turns the kernel's confinement off`);
    }
  },
});
