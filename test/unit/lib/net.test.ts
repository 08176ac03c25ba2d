// components/lib/net.ts: the address checks the config validation and the policy
// pack share. Node's BlockList does the arithmetic; these pin the edges we rely on.
import {
  bindAddressProblem,
  dockerHostProblem,
  ipInCidr,
  ipVersion,
  isHostname,
  isPort,
  isUnspecified,
  isUrlHost,
  LOOPBACK_V4_CIDR,
  TAILNET_V4_CIDR,
} from "../../../components/lib/net";

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

describe("ipVersion and ipInCidr, what they strip", () => {
  it("ignores white space around an address", () => {
    expect(ipVersion(" 100.64.0.1 ")).toBe(4);
    expect(ipInCidr(" 100.64.0.1\n", TAILNET_V4_CIDR)).toBe(true);
  });

  it("strips brackets only as a pair", () => {
    expect(ipVersion("[::1")).toBe(0);
    expect(ipVersion("::1]")).toBe(0);
    expect(ipVersion("[::1]")).toBe(6);
  });

  it("strips a zone id of any length and characters (net.isIP alone refuses wlan_0)", () => {
    expect(ipVersion("fe80::1%wlan_0")).toBe(6);
    expect(ipInCidr("fe80::1%wlan_0", "fe80::/10")).toBe(true);
  });

  it("does not count a mapped address with a broken zone id (BlockList would ignore the zone)", () => {
    expect(ipInCidr("::ffff:100.64.0.1%a\nb", TAILNET_V4_CIDR)).toBe(false);
  });

  it("is false, not an exception, when neither side is an address", () => {
    expect(ipInCidr("garbage", "rubbish")).toBe(false);
    expect(ipInCidr("", "")).toBe(false);
  });
});

describe("bindAddressProblem", () => {
  it("names the unspecified address it refuses", () => {
    expect(bindAddressProblem("0.0.0.0")).toBe("must not be 0.0.0.0: that publishes on every interface");
    expect(bindAddressProblem("[::]")).toBe("must not be [::]: that publishes on every interface");
    expect(bindAddressProblem("")).toBe("must not be empty: that publishes on every interface");
  });

  it("takes tailnet and loopback IPv4 only", () => {
    expect(bindAddressProblem("100.64.0.1")).toBeUndefined();
    expect(bindAddressProblem("127.0.0.1")).toBeUndefined();
    expect(bindAddressProblem("10.0.0.1")).toMatch(/neither a tailnet address/);
    expect(bindAddressProblem("fd7a:115c:a1e0::1")).toMatch(/use the device's IPv4 tailnet address/);
    expect(bindAddressProblem("tailnet")).toBe('"tailnet" is not a valid IP address');
  });
});

describe("isPort", () => {
  it("is 1..65535, integers only", () => {
    expect([0, 1, 65535, 65536, 1.5, NaN, "22"].map((n) => isPort(n))).toEqual([false, true, true, false, false, false, false]);
  });
});

describe("isHostname", () => {
  it("takes RFC 1123 names: one-letter and 63-letter labels, inner '-', any depth", () => {
    for (const host of ["a", "db", "postgres", "pg-1", "a.b", "x.y.z", "backup.example.com", "s3.eu-west-1.amazonaws.com", `${"a".repeat(63)}.lan`, `lan.${"a".repeat(63)}`]) {
      expect({ host, ok: isHostname(host) }).toEqual({ host, ok: true });
    }
  });

  it("refuses a leading or trailing '-' or '.', other characters, and over-long labels", () => {
    for (const host of ["", "-db", "db-", ".db", "db.", "db..lan", "db.-lan", "db.lan-", "db_1", "db lan", `${"a".repeat(64)}.lan`, `lan.${"a".repeat(64)}`]) {
      expect({ host, ok: isHostname(host) }).toEqual({ host, ok: false });
    }
  });

  it("takes 253 characters at most", () => {
    const label = "a".repeat(63);
    const name253 = `${label}.${label}.${label}.${"a".repeat(61)}`;
    expect(name253).toHaveLength(253);
    expect(isHostname(name253)).toBe(true);
    expect(isHostname(`${name253}a`)).toBe(false);
  });
});

describe("isUrlHost", () => {
  it("takes IPv4, bracketed IPv6 and names whose last label is not all digits", () => {
    for (const host of ["10.0.0.1", "[::1]", "docker-host", "nas01", "rack1.2b", "host.lan"]) {
      expect({ host, ok: isUrlHost(host) }).toEqual({ host, ok: true });
    }
  });

  it("refuses unbalanced brackets, bare IPv6 and would-be IPv4 that is not one", () => {
    for (const host of ["[::1", "::1]", "::1", "[10.0.0.1]", "10.0.0.256", "1.2.3", "300.1.1.1", "2375"]) {
      expect({ host, ok: isUrlHost(host) }).toEqual({ host, ok: false });
    }
  });
});

describe("dockerHostProblem", () => {
  it("accepts the addresses the docker provider connects to", () => {
    for (const url of [
      "unix:///var/run/docker.sock",
      "npipe:////./pipe/docker_engine",
      "tcp://100.64.0.1:2376",
      "tcp://docker-host:2375/",
      "tcp://[fd7a:115c:a1e0::1]:2376",
      "ssh://deploy@docker-host",
      "ssh://deploy@docker-host:22",
      "ssh://docker-host:22",
      "ssh://deploy@docker-host/",
      "ssh://deploy@docker-host/var/run/docker.sock",
      `ssh://${"u".repeat(32)}@docker-host`,
    ]) {
      expect({ url, problem: dockerHostProblem(url) }).toEqual({ url, problem: undefined });
    }
  });

  it("names what is wrong, first problem first", () => {
    const cases: [string, RegExp][] = [
      ["docker+tcp://docker-host:2375", /^expected a unix:\/\/, ssh:\/\/, tcp:\/\/ or npipe:\/\/ URL$/],
      ["TCP://docker-host:2375", /^expected a unix:\/\//],
      ["unix:///var/run/docker.sock?x=1", /query/],
      ["unix:///var/run/docker.sock:2375", /^unix:\/\/ needs an absolute socket path/],
      ["npipe://localhost//./pipe/docker_engine", /^npipe:\/\/ needs a pipe path/],
      ["npipe:////./pipe/docker_engine/x", /^npipe:\/\/ needs a pipe path/],
      ["tcp://docker-host:2375/path", /^tcp:\/\/ takes host\[:port\] only, no path$/],
      ["tcp://me@docker-host:2375", /^tcp:\/\/ takes no user name or password$/],
      ["tcp://:2375", /^tcp:\/\/ needs a host name or address$/],
      ["tcp://ho[st:2375", /^tcp:\/\/ needs a host name or address$/],
      ["tcp://docker]:2375", /^tcp:\/\/ needs a host name or address$/],
      ["tcp://docker-host:+2375", /^port "\+2375" is not a number/],
      ["tcp://docker-host:0x10", /^port "0x10" is not a number/],
      ["tcp://docker-host:2375.0", /^port "2375.0" is not a number/],
      ["tcp://docker-host:1e3", /^port "1e3" is not a number/],
      ["tcp://docker-host:65536", /^port "65536" is not a number between 1 and 65535$/],
      ["ssh:///var/run/docker.sock", /^ssh:\/\/ needs a host name or address$/],
      ["ssh:///var/../docker.sock", /^the path after the host must be an absolute socket path/],
      ["ssh://me:secret@docker-host", /must not carry a password/],
      ["ssh://-oProxyCommand=x@docker-host", /^"-oProxyCommand=x" is not a user name$/],
      ["ssh://deploy+ci@docker-host", /^"deploy\+ci" is not a user name$/],
      [`ssh://${"u".repeat(33)}@docker-host`, /is not a user name$/],
      ["ssh://deploy@docker-host/C:/docker.sock", /^the path after the host must be/],
      ["ssh://deploy@docker-host:2x", /^port "2x" is not a number/],
      ["ftp://docker-host", /^unknown scheme "ftp"/],
    ];
    for (const [url, problem] of cases) {
      expect({ url, problem: dockerHostProblem(url) }).toEqual({ url, problem: expect.stringMatching(problem) });
    }
  });
});
