// Rule 10, a stack rule: no role of the stack can become a superuser or a dangerous
// predefined role, directly (postgresql.Role `roles`, postgresql.GrantRole
// `grantRole`) or through other roles of the stack. Rule 4 checks a role's own
// attributes; membership is the other way to the same power.
import {
  addMembership,
  asString,
  asStringArray,
  DEFAULT_FORBIDDEN_ROLES,
  DEFAULT_SUPERUSER_ROLES,
  MembershipGraph,
  membershipPath,
  ofType,
  POLICY_NAMES,
  read,
  stackRule,
  stringListOption,
  TYPES,
} from "../lib";

export interface RoleMembershipConfig {
  forbiddenRoles: string[];
  superuserRoles: string[];
}

export const roleMembershipSafePolicy = stackRule<RoleMembershipConfig>({
  name: POLICY_NAMES.roleMembershipSafe,
  description:
    "No PostgreSQL role of the stack is a member, directly or through other roles of the stack (Role.roles, GrantRole), of a superuser or of a predefined role that reaches the server's files, programs or every app's data (forbiddenRoles).",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    "Remove the role from Role.roles or delete the GrantRole; grant the specific privileges the role needs (GRANT ... ON ...) instead of a predefined role.",
  options: {
    forbiddenRoles: stringListOption("Roles no role of the stack may reach by membership (default: pg_execute_server_program, pg_read_server_files, pg_write_server_files, pg_read_all_data, pg_write_all_data, pg_signal_backend, pg_checkpoint, pg_create_subscription)."),
    superuserRoles: stringListOption("Superusers defined outside the stack (the bootstrap superuser); roles of the stack with superuser: true are added."),
  },
  defaults: { forbiddenRoles: [...DEFAULT_FORBIDDEN_ROLES], superuserRoles: [...DEFAULT_SUPERUSER_ROLES] },
  check: (args, { config }, reportViolation) => {
    const roles = ofType(args.resources, [TYPES.role]);
    const grants = ofType(args.resources, [TYPES.grantRole]);
    if (roles.length === 0 && grants.length === 0) args.notApplicable("the stack has no postgresql.Role or GrantRole");
    const graph: MembershipGraph = new Map();
    const superusers = new Set(config.superuserRoles);
    const roleName = (r: (typeof roles)[number]) => asString(read(r.props, "name")) ?? r.name;
    for (const r of roles) {
      const name = roleName(r);
      if (read(r.props, "superuser") === true) superusers.add(name);
      for (const granted of asStringArray(read(r.props, "roles"))) addMembership(graph, name, granted);
    }
    for (const g of grants) {
      const member = asString(read(g.props, "role"));
      const granted = asString(read(g.props, "grantRole"));
      if (member !== undefined && granted !== undefined) addMembership(graph, member, granted);
    }
    const forbidden = new Set(config.forbiddenRoles);
    const what = (role: string) => (superusers.has(role) ? `the superuser ${role}` : `the predefined role ${role}`);
    // every member the stack declares: its Roles and the members its GrantRoles name
    const members = new Map<string, string | undefined>();
    for (const r of roles) members.set(roleName(r), r.urn);
    for (const g of grants) {
      const member = asString(read(g.props, "role"));
      if (member !== undefined && !members.has(member)) members.set(member, g.urn);
    }
    for (const [member, urn] of members) {
      if (superusers.has(member)) continue; // rule 4 refuses a superuser Role itself
      const chain = membershipPath(graph, member, (role) => superusers.has(role) || forbidden.has(role));
      if (chain) reportViolation(`role ${member} can become ${what(chain[chain.length - 1])} through membership (${chain.join(" → ")})`, urn);
    }
  },
});
