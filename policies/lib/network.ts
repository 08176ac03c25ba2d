// Where a docker port may be published. The address arithmetic is the program's
// own (components/lib/net.ts, Node's net.BlockList), shared with config validation.
import { ipInCidr, ipVersion, isUnspecified, LOOPBACK_V4_CIDR, TAILNET_V4_CIDR } from "../../components/lib/net";

/** Tailnet CGNAT range and loopback: the only places a port may be published. */
export const DEFAULT_ALLOWED_BIND_CIDRS = [TAILNET_V4_CIDR, LOOPBACK_V4_CIDR, "::1/128"];

/**
 * Whether a docker port binding address is acceptable. Missing/empty means
 * docker's default, 0.0.0.0 (every interface); `::` is the IPv6 equivalent. An
 * IPv4-mapped IPv6 address binds the IPv4 address it carries.
 */
export function isAllowedBindIp(ip: string | undefined, allowedCidrs: readonly string[] = DEFAULT_ALLOWED_BIND_CIDRS): boolean {
  if (ip === undefined || ip.trim() === "") return false;
  // unparseable, 0.0.0.0 or ::, even when a configured range would hold them
  if (ipVersion(ip) === 0 || isUnspecified(ip)) return false;
  return allowedCidrs.some((c) => ipInCidr(ip, c));
}
