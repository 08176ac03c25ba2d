// Rules 4 and 5: database roles get no more than they need, and generated
// passwords are long enough.
import { POLICY_NAMES, read, resourceRule, TYPES, UNKNOWN } from "../lib";

export const ROLE_FORBIDDEN_ATTRIBUTES = [
  { prop: "superuser", sql: "SUPERUSER" },
  { prop: "createRole", sql: "CREATEROLE" },
  // the access model never grants it (APP_ROLE_ATTRIBUTES): a role that can create
  // databases owns them outside the stack's config and the backup's app list
  { prop: "createDatabase", sql: "CREATEDB" },
  { prop: "replication", sql: "REPLICATION" },
  { prop: "bypassRowLevelSecurity", sql: "BYPASSRLS" },
] as const;

export const rolesLeastPrivilegePolicy = resourceRule({
  name: POLICY_NAMES.rolesLeastPrivilege,
  description:
    "PostgreSQL roles managed by the stack (app owners, read-only users, the pgBouncer auth role) never get SUPERUSER, CREATEROLE, CREATEDB, REPLICATION or BYPASSRLS.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    "Drop the attribute from the postgresql.Role; the bootstrap superuser lives in the provider config, not in a Role resource.",
  types: [TYPES.role],
  options: {},
  defaults: {},
  check: (props, _ctx, report) => {
    for (const attr of ROLE_FORBIDDEN_ATTRIBUTES) {
      if (read(props, attr.prop) === true) report(`role has ${attr.sql} (${attr.prop}: true)`);
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
