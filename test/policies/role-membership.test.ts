// Rule 10: role membership that leads to a superuser or a dangerous predefined
// role, through Role.roles or GrantRole, directly or through other roles of the stack.
import { DEFAULT_FORBIDDEN_ROLES, POLICY_NAMES, TYPES } from "../../policies/rules";
import { runStackRule, stackPolicy, StackResourceInit } from "./helpers";

const rule = stackPolicy(POLICY_NAMES.roleMembershipSafe);

const role = (name: string, props: Record<string, unknown> = {}): StackResourceInit => ({
  type: TYPES.role, name: `role-${name}`, props: { name, login: true, ...props },
});
const grant = (member: string, granted: string): StackResourceInit => ({
  type: TYPES.grantRole, name: `grant-${member}-${granted}`, props: { role: member, grantRole: granted },
});

describe("rule 10: no role of the stack becomes a superuser or a dangerous predefined role by membership", () => {
  it("is mandatory and a stack rule", () => {
    expect(rule.enforcementLevel).toBe("mandatory");
    expect(typeof rule.validateStack).toBe("function");
  });

  it("forbids the roles PostgreSQL says reach superuser, and the ones that cross between apps", () => {
    expect(DEFAULT_FORBIDDEN_ROLES).toEqual(expect.arrayContaining([
      "pg_execute_server_program", "pg_read_server_files", "pg_write_server_files", "pg_read_all_data", "pg_write_all_data", "pg_signal_backend",
    ]));
    expect(DEFAULT_FORBIDDEN_ROLES).not.toContain("pg_monitor");
  });

  it.each(["pg_execute_server_program", "pg_read_server_files", "pg_write_server_files", "pg_write_all_data", "pg_read_all_data", "pg_signal_backend", "postgres"])(
    "refuses Role.roles [%j]",
    async (granted) => {
      const o = await runStackRule(rule, [role("app_owner", { roles: [granted] })]);
      expect(o.violations).toEqual([expect.stringMatching(new RegExp(`^role app_owner can become .*${granted} through membership \\(app_owner → ${granted}\\)$`))]);
    },
  );

  it.each(["pg_execute_server_program", "postgres"])("refuses a GrantRole of %j", async (granted) => {
    const o = await runStackRule(rule, [role("app_owner"), grant("app_owner", granted)]);
    expect(o.violations).toEqual([expect.stringMatching(/^role app_owner can become/)]);
    expect(o.urns).toEqual([expect.stringMatching(/role-app_owner$/)]);
  });

  it("refuses a GrantRole whose member is not a Role of the stack", async () => {
    const o = await runStackRule(rule, [grant("someone", "pg_read_server_files")]);
    expect(o.violations).toEqual([expect.stringMatching(/^role someone can become the predefined role pg_read_server_files/)]);
  });

  it("follows membership through other roles of the stack, by Role.roles and GrantRole mixed", async () => {
    const o = await runStackRule(rule, [
      role("app_owner", { roles: ["team"] }),
      role("team", { login: false }),
      grant("team", "ops"),
      role("ops", { login: false, roles: ["pg_write_server_files"] }),
    ]);
    expect(o.violations).toEqual(expect.arrayContaining([
      "role app_owner can become the predefined role pg_write_server_files through membership (app_owner → team → ops → pg_write_server_files)",
      "role team can become the predefined role pg_write_server_files through membership (team → ops → pg_write_server_files)",
      "role ops can become the predefined role pg_write_server_files through membership (ops → pg_write_server_files)",
    ]));
    expect(o.violations).toHaveLength(3);
  });

  it("counts a role of the stack with superuser: true as a superuser to reach", async () => {
    const o = await runStackRule(rule, [role("break_glass", { superuser: true, login: false }), role("app_owner", { roles: ["break_glass"] })]);
    expect(o.violations).toEqual(["role app_owner can become the superuser break_glass through membership (app_owner → break_glass)"]);
  });

  it("ends on membership cycles and accepts harmless membership", async () => {
    const o = await runStackRule(rule, [
      role("a", { roles: ["b"] }),
      role("b", { roles: ["a", "pg_monitor"] }),
      role("c_readonly", { roles: ["c_owner"] }),
      role("c_owner"),
      grant("c_readonly", "pg_read_all_stats"),
    ]);
    expect(o.violations).toEqual([]);
  });

  it("leaves a superuser's own memberships alone: it can do everything already", async () => {
    // the stack role break_glass and the bootstrap postgres (named by a GrantRole) are superusers
    const o = await runStackRule(rule, [
      role("break_glass", { superuser: true, login: false, roles: ["pg_signal_backend"] }),
      grant("postgres", "pg_read_all_data"),
    ]);
    expect(o.violations).toEqual([]);
  });

  it("takes the forbidden and superuser roles from config", async () => {
    const stack = [role("app_owner", { roles: ["pg_monitor", "admin"] })];
    expect((await runStackRule(rule, stack, { config: { forbiddenRoles: ["pg_monitor"] } })).violations).toHaveLength(1);
    expect((await runStackRule(rule, stack, { config: { superuserRoles: ["admin"] } })).violations).toEqual([expect.stringMatching(/the superuser admin/)]);
    expect((await runStackRule(rule, [role("x", { roles: ["pg_signal_backend"] })], { config: { forbiddenRoles: [] } })).violations).toEqual([]);
  });

  it("is not applicable to a stack without roles", async () => {
    expect((await runStackRule(rule, [])).notApplicable).toBeDefined();
  });
});
