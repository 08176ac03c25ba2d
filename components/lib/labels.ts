// Docker labels every object of the platform carries: which stack it belongs to and
// what role it plays. The policy pack finds the backup sidecar by the role label.
// Imports nothing of ours.

export const STACK_LABEL = "homelab.postgres/stack";
export const ROLE_LABEL = "homelab.postgres/role";

export type ContainerRole = "postgres" | "pgbouncer" | "pgadmin" | "backup" | "config" | "exporter";

/** `[{label, value}]` as docker.Container and docker.Volume take them. */
export function labels(stack: string, role?: ContainerRole): { label: string; value: string }[] {
  return [...(role ? [{ label: ROLE_LABEL, value: role }] : []), { label: STACK_LABEL, value: stack }];
}
