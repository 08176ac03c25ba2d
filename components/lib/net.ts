// Addresses: which ones a port may be published on, and what counts as a host.
// Node's net.BlockList does the CIDR arithmetic (IPv4, IPv6, v4-mapped v6).
// Imports nothing of ours: the policy pack uses this file too.
import * as net from "net";

/** Tailscale's IPv4 range (CGNAT 100.64.0.0/10), where devices get their address. */
export const TAILNET_V4_CIDR = "100.64.0.0/10";
/** Tailscale's IPv6 ULA prefix. */
export const TAILNET_V6_CIDR = "fd7a:115c:a1e0::/48";
/** IPv4 loopback. */
export const LOOPBACK_V4_CIDR = "127.0.0.0/8";
/** The loopback address a stack with no tailnet binds. */
export const LOOPBACK = "127.0.0.1";

/** Strips brackets and a zone id; what net.isIP and BlockList accept. */
function bare(ip: string): string {
  let s = ip.trim();
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  return s.replace(/%.*$/, "");
}

/** `4`, `6` or `0` (not an address), after brackets and zone ids are stripped. */
export function ipVersion(ip: string): 0 | 4 | 6 {
  return net.isIP(bare(ip)) as 0 | 4 | 6;
}

const V4_MAPPED = new net.BlockList();
V4_MAPPED.addSubnet("::ffff:0:0", 96, "ipv6");

/**
 * The family an address binds. An IPv4-mapped IPv6 address binds the IPv4 address
 * it carries, in any spelling (::ffff:100.64.0.1, ::ffff:6440:1, 0:0:0:0:0:ffff:6440:1).
 */
function bindFamily(addr: string): 0 | 4 | 6 {
  const family = net.isIP(addr);
  if (family === 6 && V4_MAPPED.check(addr, "ipv6")) return 4;
  return family === 4 || family === 6 ? family : 0;
}

/**
 * True when `ip` lies inside `cidr` (`a.b.c.d/n`, `x::/n`, or a bare address); false
 * for non-addresses and across families (an IPv4-mapped address counts as IPv4).
 */
export function ipInCidr(ip: string, cidr: string): boolean {
  const addr = bare(ip);
  const family = bindFamily(addr);
  const [network, lenText] = cidr.split("/");
  const netFamily = net.isIP(network);
  if (family === 0 || netFamily !== family) return false;
  const bits = family === 4 ? 32 : 128;
  const len = lenText === undefined ? bits : Number(lenText);
  if (!/^\d+$/.test(lenText ?? String(bits)) || len > bits) return false;
  const list = new net.BlockList();
  list.addSubnet(network, len, family === 4 ? "ipv4" : "ipv6");
  // BlockList itself matches a mapped IPv6 address against IPv4 rules
  return list.check(addr, net.isIPv4(addr) ? "ipv4" : "ipv6");
}

/** True for the unspecified address of either family (0.0.0.0, ::, ::ffff:0.0.0.0): every interface. */
export function isUnspecified(ip: string): boolean {
  return ipInCidr(ip, "0.0.0.0/32") || ipInCidr(ip, "::/128");
}

/** 100.64.0.0/10, IPv4 only: the address a tailnet device binds. */
export function isTailnetIPv4(ip: string): boolean {
  return net.isIPv4(ip) && ipInCidr(ip, TAILNET_V4_CIDR);
}

export function isLoopbackIPv4(ip: string): boolean {
  return net.isIPv4(ip) && ipInCidr(ip, LOOPBACK_V4_CIDR);
}

/** Why a bind address is unacceptable for this program, or undefined when it is fine. */
export function bindAddressProblem(ip: string): string | undefined {
  if (ip === "" || ip === "[::]" || isUnspecified(ip)) {
    return `must not be ${ip === "" ? "empty" : ip}: that publishes on every interface`;
  }
  if (ipVersion(ip) === 0) return `${JSON.stringify(ip)} is not a valid IP address`;
  if (ipVersion(ip) === 6) return `use the device's IPv4 tailnet address (${TAILNET_V4_CIDR}), not ${ip}`;
  if (!isTailnetIPv4(ip) && !isLoopbackIPv4(ip)) {
    return `${ip} is neither a tailnet address (${TAILNET_V4_CIDR}) nor loopback`;
  }
  return undefined;
}

/** RFC 1123 host name: labels of letters, digits and inner '-', 253 characters at most. */
export const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export function isHostname(host: string): boolean {
  return HOSTNAME.test(host);
}

/** A TCP port number. */
export function isPort(n: unknown): n is number {
  return typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= 65535;
}

/**
 * A host as a URL names it: an IPv4 address, a bracketed IPv6 address, or a DNS
 * name whose last label is not all digits (so `1.2.3` and `300.1.1.1` are not hosts).
 */
export function isUrlHost(host: string): boolean {
  if (host.startsWith("[") && host.endsWith("]")) return net.isIPv6(host.slice(1, -1));
  if (net.isIPv4(host)) return true;
  return isHostname(host) && !/^\d+$/.test(host.split(".").pop() ?? "");
}

/** `host[:port]` of a URL, or a reason it is not one. */
function hostPortProblem(hostPort: string, scheme: string): string | undefined {
  const m = /^(\[[^\]]*\]|[^:[\]]*)(?::(.*))?$/.exec(hostPort);
  if (!m || m[1] === "") return `${scheme}:// needs a host name or address`;
  if (!isUrlHost(m[1])) return `${JSON.stringify(m[1])} is not a host name or IP address`;
  if (m[2] !== undefined && !(/^\d{1,5}$/.test(m[2]) && isPort(Number(m[2])))) return `port ${JSON.stringify(m[2])} is not a number between 1 and 65535`;
  return undefined;
}

/**
 * Why `url` is not a Docker daemon address the docker provider can connect to, or
 * undefined. The provider hands `host` to the Docker client (ssh:// through
 * docker/cli's connection helper, which needs a host and refuses a password:
 * kreuzwerker/terraform-provider-docker internal/provider/config.go). Stricter than
 * the client where that costs nothing: plain paths, no query or fragment.
 */
export function dockerHostProblem(url: string): string | undefined {
  const m = /^([a-z]+):\/\/(.*)$/s.exec(url);
  if (!m) return "expected a unix://, ssh://, tcp:// or npipe:// URL";
  const [, scheme, rest] = m;
  if (/[\s?#]/.test(rest)) return "must not contain spaces, a query (?) or a fragment (#)";
  switch (scheme) {
    case "unix":
      return /^\/[A-Za-z0-9._/-]*[A-Za-z0-9._-]$/.test(rest) && !rest.split("/").includes("..")
        ? undefined
        : "unix:// needs an absolute socket path, e.g. unix:///var/run/docker.sock";
    case "npipe":
      return /^\/\/\.\/pipe\/[A-Za-z0-9._-]+$/.test(rest) ? undefined : "npipe:// needs a pipe path, e.g. npipe:////./pipe/docker_engine";
    case "tcp": {
      const authority = rest.replace(/\/$/, "");
      if (authority.includes("@")) return "tcp:// takes no user name or password";
      if (authority.includes("/")) return "tcp:// takes host[:port] only, no path";
      return hostPortProblem(authority, scheme);
    }
    case "ssh": {
      const slash = rest.indexOf("/");
      const authority = slash < 0 ? rest : rest.slice(0, slash);
      const path = slash < 0 ? "" : rest.slice(slash);
      const at = authority.lastIndexOf("@");
      if (at >= 0) {
        const user = authority.slice(0, at);
        if (user.includes(":")) return "ssh:// must not carry a password (the Docker client refuses it): use a key or ssh-agent";
        if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/.test(user)) return `${JSON.stringify(user)} is not a user name`;
      }
      if (path !== "" && path !== "/" && !(/^\/[A-Za-z0-9._/-]+$/.test(path) && !path.split("/").includes(".."))) {
        return "the path after the host must be an absolute socket path of plain characters";
      }
      return hostPortProblem(authority.slice(at + 1), scheme);
    }
    default:
      return `unknown scheme ${JSON.stringify(scheme)}: expected unix://, ssh://, tcp:// or npipe://`;
  }
}
