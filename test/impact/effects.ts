// What the engine would do with each container and with the settings command when
// the config changes, from the inputs the program registers under mocks and the
// providers' own rules:
// - docker_container: every field is ForceNew except the ones below, which the
//   provider updates in place (restart policy and resources through ContainerUpdate)
//   or only records (healthcheck, wait, timeouts) — kreuzwerker/terraform-provider-docker
//   v4.5.0 internal/provider/resource_docker_container.go (schema) and
//   resource_docker_container_funcs.go resourceDockerContainerUpdate; pulumi-docker
//   adds DeleteBeforeReplace, so "replaced" means stopped first.
// - the settings command re-runs when its SQL changes; PostgreSQL restarts when a
//   changed parameter has context `postmaster` (the committed catalogs).
import { PG_CATALOGS, specOf } from "../../components/config";
import { CONTAINER_IN_PLACE } from "../../components/lib/container";
import type { ProgramResult, RegisteredResource } from "../helpers/program";
import { reveal } from "../helpers/program";

const CONTAINER = "docker:index/container:Container";

/** Container inputs the provider changes without replacing the container (the program's own list, from the provider's schema). */
export { CONTAINER_IN_PLACE };

export type ContainerEffect = "unchanged" | "updated in place" | "replaced" | "created" | "deleted";

/** Containers by their docker name (`<stack>-postgres`), the identity a user sees. */
export function containers(r: ProgramResult): Map<string, RegisteredResource> {
  return new Map(r.resources.filter((x) => x.type === CONTAINER).map((x) => [String(reveal(x.inputs.name)), x]));
}

/** The inputs that differ between two registrations of one container. */
export function changedInputs(a: RegisteredResource, b: RegisteredResource): string[] {
  const keys = new Set([...Object.keys(a.inputs), ...Object.keys(b.inputs)]);
  return [...keys].filter((k) => JSON.stringify(reveal(a.inputs[k])) !== JSON.stringify(reveal(b.inputs[k]))).sort();
}

export function containerEffect(a: RegisteredResource | undefined, b: RegisteredResource | undefined): ContainerEffect {
  if (!a && !b) throw new Error("neither registration exists");
  if (!a) return "created";
  if (!b) return "deleted";
  const changed = changedInputs(a, b);
  if (changed.length === 0) return "unchanged";
  return changed.every((k) => CONTAINER_IN_PLACE.has(k)) ? "updated in place" : "replaced";
}

/** Effect on every container, by docker name. */
export function containerEffects(before: ProgramResult, after: ProgramResult): Record<string, ContainerEffect> {
  const a = containers(before);
  const b = containers(after);
  const names = [...new Set([...a.keys(), ...b.keys()])].sort();
  return Object.fromEntries(names.map((n) => [n, containerEffect(a.get(n), b.get(n))]));
}

export type SettingsEffect = "unchanged" | "reload" | "restart";

/** `ALTER SYSTEM SET "x" = …;` lines of the settings command, by parameter. */
function liveSettings(r: ProgramResult): Map<string, string> {
  const cmd = r.resources.find((x) => x.type === "command:local:Command" && x.name.endsWith("-settings-command"));
  if (!cmd) throw new Error("no settings command");
  const out = new Map<string, string>();
  for (const m of String(reveal(cmd.inputs.stdin)).matchAll(/^ALTER SYSTEM SET ("[^;]+?") = (.*);$/gm)) {
    out.set(m[1].replace(/"/g, ""), m[2]);
  }
  return out;
}

/** What the settings command does on the Postgres server for this change. */
export function settingsEffect(before: ProgramResult, after: ProgramResult, major: 15 | 16 | 17): SettingsEffect {
  const a = liveSettings(before);
  const b = liveSettings(after);
  const changed = [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k));
  if (changed.length === 0) return "unchanged";
  return changed.some((k) => specOf(PG_CATALOGS[major], k)?.context === "postmaster") ? "restart" : "reload";
}

/** The key of pgBouncer's PAUSE command (pooler/maintenance.ts): it runs again exactly when this changes. */
export function pauseKey(r: ProgramResult): string {
  const cmd = r.resources.find((x) => x.type === "command:local:Command" && x.name.endsWith("-pgbouncer-pause"));
  if (!cmd) throw new Error("no pgBouncer pause command");
  return JSON.stringify(reveal(cmd.inputs.triggers));
}
