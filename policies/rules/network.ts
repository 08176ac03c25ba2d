// Rule 1: ports are published on the tailnet or loopback only.
import { stringListOption, DEFAULT_ALLOWED_BIND_CIDRS, isAllowedBindIp, items, POLICY_NAMES, read, resourceRule, TYPES, UNKNOWN } from "../lib";

export interface PortBindingConfig {
  allowedCidrs: string[];
}

export const portBindingPolicy = resourceRule<PortBindingConfig>({
  name: POLICY_NAMES.portBinding,
  description:
    "Docker ports are published only on the tailnet (100.64.0.0/10) or loopback, never on 0.0.0.0, :: or a missing address.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    "Set ports[].ip to the host's Tailscale IP (config homelab-postgres:tailscale) or 127.0.0.1; do not use publishAllPorts or host networking.",
  types: [TYPES.container],
  options: {
    allowedCidrs: stringListOption("CIDRs a port may bind to (add fd7a:115c:a1e0::/48 for Tailscale IPv6)."),
  },
  defaults: { allowedCidrs: DEFAULT_ALLOWED_BIND_CIDRS },
  check: (props, { config }, report) => {
    // ports unknown during preview: no port to judge (items() yields none), but
    // publishAllPorts and host networking below are still checked
    for (const port of items(read(props, "ports"))) {
      if (port === UNKNOWN) continue;
      const internal = read(port, "internal");
      const external = read(port, "external");
      const label = `port ${typeof external === "number" ? external : "(random)"}->${typeof internal === "number" ? internal : "?"}`;
      const ip = read(port, "ip");
      if (ip === UNKNOWN) continue;
      if (typeof ip !== "string" || ip.trim() === "") {
        report(`${label} has no ip, so docker publishes it on 0.0.0.0 (every interface)`);
      } else if (!isAllowedBindIp(ip, config.allowedCidrs)) {
        report(`${label} is published on ${ip}; allowed: ${config.allowedCidrs.join(", ")}`);
      }
    }
    if (read(props, "publishAllPorts") === true) {
      report("publishAllPorts publishes every exposed port on 0.0.0.0");
    }
    if (read(props, "networkMode") === "host") {
      report('networkMode "host" exposes every listening port on every interface');
    }
  },
});
