// What gives a container a way out to its host, besides `privileged`: host paths
// (the Docker socket above all: whoever reaches it runs any container), added
// capabilities, the host's namespaces, devices, and the kernel's confinement turned
// off. Input names from @pulumi/docker's ContainerArgs (container.d.ts) and
// ContainerVolume / ContainerMount / ContainerDevice / ContainerCapabilities
// (types/input.d.ts). The provider has no UTS namespace input (no utsMode).
import * as path from "path";

/**
 * Host paths a container must not see, nor any directory above them nor any path
 * below them: the container runtimes' sockets and state, the kernel's interfaces,
 * the host's configuration and boot files. `/` is above everything.
 */
export const DEFAULT_FORBIDDEN_HOST_PATHS: readonly string[] = [
  "/var/run/docker.sock", "/run/docker.sock", "/run/containerd", "/var/run/containerd", "/run/podman", "/var/run/crio",
  "/var/lib/docker", "/var/lib/containerd", "/proc", "/sys", "/dev", "/etc", "/boot", "/root", "/lib/modules", "/usr/lib/modules",
];

/** A host path as the daemon resolves it: `//`, `/./`, `..` and a trailing `/` folded. */
export function normaliseHostPath(p: string): string {
  const n = path.posix.normalize(p.trim());
  return n.length > 1 ? n.replace(/\/+$/, "") : n;
}

const within = (p: string, dir: string) => p === dir || p.startsWith(dir === "/" ? "/" : `${dir}/`);

/** Why mounting host path `p` opens the host, or undefined. */
export function hostPathProblem(p: string, forbidden: readonly string[] = DEFAULT_FORBIDDEN_HOST_PATHS, allowed: readonly string[] = []): string | undefined {
  // a Windows host's Docker engine pipe is its socket
  if (/^[\\/]{2}\.[\\/]pipe[\\/]/i.test(p.trim())) return `mounts the named pipe ${p.trim()} (the Docker engine's pipe gives full control of the host)`;
  if (!p.trim().startsWith("/")) return undefined; // a volume name, not a path
  const n = normaliseHostPath(p);
  if (allowed.map(normaliseHostPath).includes(n)) return undefined;
  if (n === "/") return "mounts the host's root file system";
  if (/\.sock$/.test(n) || /(^|\/)docker\.sock(\/|$)/.test(n)) return `mounts the socket ${n} (a container runtime socket gives root on the host)`;
  for (const f of forbidden.map(normaliseHostPath)) {
    if (within(f, n)) return `mounts ${n}, which holds ${f}`;
    if (within(n, f)) return `mounts ${n}, inside ${f}`;
  }
  // /run and /var/run hold every daemon's socket
  if (within(n, "/run") || within(n, "/var/run")) return `mounts ${n}, where the host's daemons keep their sockets`;
  return undefined;
}

/** Namespace inputs whose value `host` shares the host's namespace. */
export const HOST_NAMESPACE_INPUTS = ["pidMode", "ipcMode", "usernsMode", "cgroupnsMode", "networkMode"] as const;

/** `seccomp=unconfined`, `apparmor:unconfined`, `label=disable`, `systempaths=unconfined`: confinement off. */
export function unconfinedSecurityOpt(opt: string): boolean {
  const o = opt.trim().toLowerCase().replace(/\s+/g, "");
  return /^(seccomp|apparmor|systempaths)[=:]unconfined$/.test(o) || /^label[=:]disable$/.test(o);
}

/** `CAP_SYS_ADMIN`, `sys_admin` → `SYS_ADMIN`. */
export function normaliseCapability(cap: string): string {
  return cap.trim().toUpperCase().replace(/^CAP_/, "");
}
