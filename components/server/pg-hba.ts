// pg_hba.conf as text. scram-sha-256 everywhere, never trust; the only peer
// line lets the OS user postgres (inside the container or a sidecar sharing its
// socket and uid) use the socket, which the image's entrypoint and pgBackRest need.

/** Tailscale's address ranges: IPv4 CGNAT block and its IPv6 ULA prefix. */
export const TAILNET_V4 = "100.64.0.0/10";
export const TAILNET_V6 = "fd7a:115c:a1e0::/48";

export interface HbaInput {
  /** When on, every non-loopback TCP line is hostssl: no password crosses a network in clear. */
  tls: boolean;
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
