// pg_hba.conf as text. scram-sha-256 everywhere, never trust; the only peer
// line lets the OS user postgres (inside the container or a sidecar sharing its
// socket and uid) use the socket, which the image's entrypoint and pgBackRest need.
import * as net from "net";

/** Tailscale's address ranges: IPv4 CGNAT block and its IPv6 ULA prefix. */
export const TAILNET_V4 = "100.64.0.0/10";
export const TAILNET_V6 = "fd7a:115c:a1e0::/48";

export interface HbaInput {
  /** When on, every non-loopback TCP line is hostssl: no password crosses a network in clear. */
  tls: boolean;
  /**
   * Streaming replication (standby): the one role allowed to open replication connections,
   * and the one peer address (IPv4, the other server's tailnet address) it may come from.
   * The `all` database keyword never matches a replication connection, so without this line
   * every replication connection is rejected. Needs `tls`: the line is always hostssl.
   */
  replication?: { user: string; address: string };
}

export interface HbaRule {
  type: "local" | "host" | "hostssl";
  database: string;
  user: string;
  address?: string;
  method: "scram-sha-256" | "peer";
  why: string;
}

export function hbaRules(input: HbaInput): HbaRule[] {
  const remote = input.tls ? "hostssl" : "host";
  return [...replicationRules(input), ...commonRules(remote)];
}

function replicationRules(input: HbaInput): HbaRule[] {
  const r = input.replication;
  if (!r) return [];
  if (!input.tls) throw new Error("replication over the network needs TLS (postgres.tls.enabled): the line is hostssl");
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(r.user)) throw new Error(`invalid replication role ${JSON.stringify(r.user)}`);
  if (!net.isIPv4(r.address)) throw new Error(`replication peer must be one IPv4 address, got ${JSON.stringify(r.address)}`);
  return [{ type: "hostssl", database: "replication", user: r.user, address: `${r.address}/32`, method: "scram-sha-256", why: "the streaming peer (standby, or the old primary rejoined as one), from its address only" }];
}

function commonRules(remote: "host" | "hostssl"): HbaRule[] {
  return [
    { type: "local", database: "all", user: "postgres", method: "peer", why: "entrypoint, healthcheck, backup sidecar (same uid)" },
    { type: "local", database: "all", user: "all", method: "scram-sha-256", why: "socket users authenticate" },
    { type: "host", database: "all", user: "all", address: "127.0.0.1/32", method: "scram-sha-256", why: "loopback inside the container" },
    { type: "host", database: "all", user: "all", address: "::1/128", method: "scram-sha-256", why: "loopback inside the container" },
    { type: remote, database: "all", user: "all", address: "samenet", method: "scram-sha-256", why: "the stack's docker network: pgBouncer, pgAdmin, apps, the port proxy" },
    { type: remote, database: "all", user: "all", address: TAILNET_V4, method: "scram-sha-256", why: "tailnet clients (published port keeps their address)" },
    { type: remote, database: "all", user: "all", address: TAILNET_V6, method: "scram-sha-256", why: "tailnet clients over IPv6" },
  ];
}

export function renderPgHba(input: HbaInput): string {
  const out = ["# Rendered by homelab-postgres. First match wins; no match means reject.", "# TYPE    DATABASE  USER      ADDRESS                 METHOD"];
  for (const r of hbaRules(input)) {
    out.push(`# ${r.why}`);
    out.push([r.type.padEnd(9), r.database.padEnd(9), r.user.padEnd(9), (r.address ?? "").padEnd(23), r.method].join(" ").replace(/\s+$/, ""));
  }
  return out.join("\n") + "\n";
}
