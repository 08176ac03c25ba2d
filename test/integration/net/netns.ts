// Network namespaces for the integration layer: a server host and client hosts
// joined by veth pairs, with real tailnet (100.64.0.0/10) and LAN addresses, so
// pg_hba's address lines meet real source addresses instead of loopback stand-ins.
// Needs root (CAP_NET_ADMIN) and iproute2 (.ci/run installs it). Traffic never
// leaves the namespaces: the veth pairs connect nothing but each other.
import { execFileSync } from "child_process";
import * as crypto from "crypto";

const IP = "/usr/sbin/ip";

function ip(args: string[]): string {
  return execFileSync(IP, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Whether this process can make network namespaces (root with iproute2); the reason when not. */
export function netnsProblem(): string | undefined {
  const probe = `hlpg-probe-${process.pid}-${crypto.randomBytes(3).toString("hex")}`;
  try {
    ip(["netns", "add", probe]);
  } catch (e) {
    return `cannot create a network namespace (${(e as Error).message.split("\n")[0]}): run as root with iproute2 installed (.ci/run installs it)`;
  }
  ip(["netns", "del", probe]);
  return undefined;
}

export interface Host {
  /** Namespace name (`ip netns exec <ns>`). */
  ns: string;
  /** The host's address on its link to the server. */
  address: string;
}

/**
 * A server namespace and client namespaces, each client on its own veth pair to
 * the server with /32 addresses and host routes (as tailscale0 has: no shared
 * subnet, so pg_hba's `samenet` matches none of the clients).
 */
export class Topology {
  readonly id = crypto.randomBytes(3).toString("hex");
  readonly server: string;
  private readonly namespaces: string[] = [];
  private links = 0;

  constructor() {
    this.server = this.addNamespace("srv");
  }

  private addNamespace(role: string): string {
    const ns = `hlpg-${this.id}-${role}`;
    ip(["netns", "add", ns]);
    this.namespaces.push(ns);
    ip(["-n", ns, "link", "set", "lo", "up"]);
    return ns;
  }

  /**
   * A client host with address `clientAddress`, linked to the server, which gets
   * `serverAddress` on its end; the client routes `routeTo` (server addresses it
   * should reach) over the link.
   */
  addClient(role: string, clientAddress: string, serverAddress: string, routeTo: string[] = []): Host {
    const ns = this.addNamespace(role);
    const n = this.links++;
    // interface names: at most 15 characters
    const srvIf = `h${this.id}s${n}`;
    const cliIf = `h${this.id}c${n}`;
    ip(["link", "add", srvIf, "netns", this.server, "type", "veth", "peer", "name", cliIf, "netns", ns]);
    ip(["-n", this.server, "addr", "add", `${serverAddress}/32`, "dev", srvIf]);
    ip(["-n", this.server, "link", "set", srvIf, "up"]);
    ip(["-n", this.server, "route", "add", `${clientAddress}/32`, "dev", srvIf]);
    ip(["-n", ns, "addr", "add", `${clientAddress}/32`, "dev", cliIf]);
    ip(["-n", ns, "link", "set", cliIf, "up"]);
    for (const dst of new Set([serverAddress, ...routeTo])) ip(["-n", ns, "route", "add", `${dst}/32`, "dev", cliIf]);
    return { ns, address: clientAddress };
  }

  /** Deletes every namespace (their veth ends go with them); never throws. */
  destroy(): void {
    for (const ns of this.namespaces.splice(0).reverse()) {
      try {
        ip(["netns", "del", ns]);
      } catch {
        // already gone
      }
    }
  }
}

/** `ip netns exec <ns> <cmd...>` as an argv. */
export function inNamespace(ns: string, cmd: string[]): [string, string[]] {
  return [IP, ["netns", "exec", ns, ...cmd]];
}
