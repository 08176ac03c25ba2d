// components/lib/net.ts: the address checks the config validation and the policy
// pack share. Node's BlockList does the arithmetic; these pin the edges we rely on.
import { ipInCidr, ipVersion, isUnspecified, LOOPBACK_V4_CIDR, TAILNET_V4_CIDR } from "../../../components/lib/net";

describe("ipInCidr", () => {
  it.each([
    ["100.63.255.255", false],
    ["100.64.0.0", true],
    ["100.101.102.103", true],
    ["100.127.255.255", true],
    ["100.128.0.0", false],
  ])("tailnet range: %s -> %s", (ip, inside) => {
    expect(ipInCidr(ip, TAILNET_V4_CIDR)).toBe(inside);
  });

  it("treats an IPv4-mapped IPv6 address as the IPv4 address it carries, however it is spelt", () => {
    for (const ip of ["::ffff:100.64.0.1", "::FFFF:100.64.0.1", "::ffff:6440:1", "0:0:0:0:0:ffff:6440:1", "[::ffff:100.64.0.1]"]) {
      expect({ ip, inside: ipInCidr(ip, TAILNET_V4_CIDR) }).toEqual({ ip, inside: true });
    }
    expect(ipInCidr("::ffff:100.128.0.0", TAILNET_V4_CIDR)).toBe(false);
    expect(ipInCidr("::ffff:127.0.0.1", LOOPBACK_V4_CIDR)).toBe(true);
    // an IPv4 address embedded any other way is IPv6
    expect(ipInCidr("::100.64.0.1", TAILNET_V4_CIDR)).toBe(false);
    expect(ipInCidr("64:ff9b::100.64.0.1", TAILNET_V4_CIDR)).toBe(false);
  });

  it("never matches across families (BlockList alone would put 127.0.0.1 inside ::/0)", () => {
    expect(ipInCidr("127.0.0.1", "::1/128")).toBe(false);
    expect(ipInCidr("127.0.0.1", "::/0")).toBe(false);
    expect(ipInCidr("::ffff:127.0.0.1", "::/0")).toBe(false);
    expect(ipInCidr("::1", "0.0.0.0/0")).toBe(false);
  });

  it("matches IPv6 prefixes, with brackets and zone ids stripped", () => {
    expect(ipInCidr("fd7a:115c:a1e0:ab12::1", "fd7a:115c:a1e0::/48")).toBe(true);
    expect(ipInCidr("fd7a:115c:a1e1::1", "fd7a:115c:a1e0::/48")).toBe(false);
    expect(ipInCidr("[::1]", "::1/128")).toBe(true);
    expect(ipInCidr("fe80::1%eth0", "fe80::/10")).toBe(true);
  });

  it("takes a bare address as a single-address range", () => {
    expect(ipInCidr("10.0.0.1", "10.0.0.1")).toBe(true);
    expect(ipInCidr("10.0.0.2", "10.0.0.1")).toBe(false);
  });

  it("refuses prefixes that are not 0..bits", () => {
    for (const cidr of ["10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x", "::/129"]) {
      expect({ cidr, inside: ipInCidr("10.0.0.1", cidr) }).toEqual({ cidr, inside: false });
    }
    expect(ipInCidr("10.0.0.1", "10.0.0.0/0")).toBe(true);
  });

  it("is false for anything that is not an address", () => {
    for (const ip of ["", "garbage", "localhost", "256.1.1.1", "1.2.3", "1::2::3", "1:2:3:4:5:6:7:8:9", "::g", "127.0.0.01"]) {
      expect({ ip, inside: ipInCidr(ip, "0.0.0.0/0") || ipInCidr(ip, "::/0") }).toEqual({ ip, inside: false });
    }
  });
});

describe("isUnspecified", () => {
  it("is true for every spelling of 0.0.0.0 and ::", () => {
    for (const ip of ["0.0.0.0", "::", "[::]", "0:0:0:0:0:0:0:0", "::ffff:0.0.0.0", "::ffff:0:0"]) {
      expect({ ip, unspecified: isUnspecified(ip) }).toEqual({ ip, unspecified: true });
    }
  });

  it("is false for real addresses and non-addresses", () => {
    for (const ip of ["0.0.0.1", "127.0.0.1", "::1", "100.64.0.1", "", "garbage"]) {
      expect({ ip, unspecified: isUnspecified(ip) }).toEqual({ ip, unspecified: false });
    }
  });
});

describe("ipVersion", () => {
  it("names the family as written, after brackets and zone ids", () => {
    expect(ipVersion("100.64.0.1")).toBe(4);
    expect(ipVersion("::1")).toBe(6);
    expect(ipVersion("[::1]")).toBe(6);
    expect(ipVersion("fe80::1%eth0")).toBe(6);
    expect(ipVersion("::ffff:127.0.0.1")).toBe(6);
    expect(ipVersion("localhost")).toBe(0);
    expect(ipVersion("")).toBe(0);
  });
});
