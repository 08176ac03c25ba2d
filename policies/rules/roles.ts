// Rules 4 and 5: database roles get no more than they need, and generated
// passwords are long enough.
import { asString, POLICY_NAMES, read, resourceRule, stringListOption, TYPES, UNKNOWN } from "../lib";

/** `adminOnly`: allowed on the roles named in `adminRoles`, forbidden on every other role. */
export const ROLE_FORBIDDEN_ATTRIBUTES = [
  { prop: "superuser", sql: "SUPERUSER", adminOnly: false },
  { prop: "createRole", sql: "CREATEROLE", adminOnly: true },
  { prop: "createDatabase", sql: "CREATEDB", adminOnly: true },
  { prop: "replication", sql: "REPLICATION", adminOnly: false },
  { prop: "bypassRowLevelSecurity", sql: "BYPASSRLS", adminOnly: false },
] as const;

/** The program's admin role for people (components/config ADMIN_ROLE; the pack imports nothing of the program). */
export const DEFAULT_ADMIN_ROLES: readonly string[] = ["db_admin"];

export interface RolesLeastPrivilegeConfig {
  adminRoles: string[];
}

export const rolesLeastPrivilegePolicy = resourceRule<RolesLeastPrivilegeConfig>({
  name: POLICY_NAMES.rolesLeastPrivilege,
  description:
    "PostgreSQL roles managed by the stack (app owners, extra users, the pgBouncer auth role) never get SUPERUSER, CREATEROLE, CREATEDB, REPLICATION or BYPASSRLS; the admin roles named in adminRoles (default db_admin) may have CREATEROLE and CREATEDB, never the others.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    "Drop the attribute from the postgresql.Role; the bootstrap superuser lives in the provider config, not in a Role resource. Only the admin role for people may create databases and roles.",
  types: [TYPES.role],
  options: {
    adminRoles: stringListOption("Role names (the Role's `name` property, exactly) that may have CREATEROLE and CREATEDB: the admin role for people. Default: db_admin."),
  },
  defaults: { adminRoles: [...DEFAULT_ADMIN_ROLES] },
  check: (props, { config }, report) => {
    // by the role's SQL name, exactly: an unknown name is no admin
    const name = asString(read(props, "name"));
    const isAdmin = name !== undefined && config.adminRoles.includes(name);
    for (const attr of ROLE_FORBIDDEN_ATTRIBUTES) {
      if (attr.adminOnly && isAdmin) continue;
      if (read(props, attr.prop) === true) report(`role has ${attr.sql} (${attr.prop}: true)${attr.adminOnly ? `; only the admin roles (${config.adminRoles.join(", ") || "none"}) may` : ""}`);
    }
  },
});

// ------------------------------------------------------------------ rule 5: password length

export interface PasswordLengthConfig {
  minLength: number;
}

export const passwordLengthPolicy = resourceRule<PasswordLengthConfig>({
  name: POLICY_NAMES.passwordLength,
  description: "random.RandomPassword resources are at least minLength (default 32) characters long.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: "Set length: 32 (or more) on the RandomPassword.",
  types: [TYPES.randomPassword],
  options: {
    minLength: { type: "integer", minimum: 1, description: "Minimum password length." },
  },
  defaults: { minLength: 32 },
  check: (props, { config }, report) => {
    const length = read(props, "length");
    if (length === UNKNOWN) return;
    if (typeof length !== "number") report(`password length is not set (minimum ${config.minLength})`);
    else if (length < config.minLength) report(`password length ${length} is below the minimum of ${config.minLength}`);
  },
});
