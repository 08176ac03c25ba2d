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
