// Role membership as a graph: who can become whom. A member of a role can SET ROLE
// to it (and with INHERIT uses its privileges directly), so membership is as good
// as the role itself, transitively.

/**
 * Predefined roles a role of the stack may not reach. PostgreSQL's docs say the
 * first three "could be used to gain superuser-level access"; the others cross the
 * line between apps on a shared server (read or write every app's tables, signal
 * every app's backends, force checkpoints, open connections to other hosts via
 * subscriptions). pg_monitor stays allowed: an admin role needs it.
 */
export const DEFAULT_FORBIDDEN_ROLES: readonly string[] = [
  "pg_execute_server_program", "pg_read_server_files", "pg_write_server_files",
  "pg_read_all_data", "pg_write_all_data", "pg_signal_backend", "pg_checkpoint", "pg_create_subscription",
];

/** The bootstrap superuser(s); roles of the stack with `superuser: true` count too. */
export const DEFAULT_SUPERUSER_ROLES: readonly string[] = ["postgres"];

/** member → roles it is granted, as the stack declares them. */
export type MembershipGraph = Map<string, Set<string>>;

export function addMembership(graph: MembershipGraph, member: string, granted: string): void {
  const set = graph.get(member) ?? new Set<string>();
  set.add(granted);
  graph.set(member, set);
}

/**
 * The shortest chain from `from` to a role `isTarget` accepts, `from` first, or
 * undefined. Breadth-first over the graph, so cycles end.
 */
export function membershipPath(graph: MembershipGraph, from: string, isTarget: (role: string) => boolean): string[] | undefined {
  const previous = new Map<string, string | undefined>([[from, undefined]]);
  const queue = [from];
  while (queue.length > 0) {
    const cur = queue.shift() as string;
    for (const next of graph.get(cur) ?? []) {
      if (previous.has(next)) continue;
      previous.set(next, cur);
      if (isTarget(next)) {
        const chain = [next];
        for (let p = previous.get(next); p !== undefined; p = previous.get(p)) chain.unshift(p);
        return chain;
      }
      queue.push(next);
    }
  }
  return undefined;
}
