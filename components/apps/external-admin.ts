// postgres.external: the provider logs in as an admin that is not a superuser
// (CREATEROLE and CREATEDB, as on RDS). Such an admin may act on an app's database,
// schemas and tables only through the privileges of its owner role, so it becomes a
// member of every owner, with INHERIT and SET, before the database is created:
//
// - `GRANT ... ON DATABASE`, `REVOKE ... FROM PUBLIC`, CREATE EXTENSION (trusted:
//   needs CREATE on the database) and CREATE SCHEMA ... AUTHORIZATION all need the
//   owner's privileges. The provider's Grant on a database grants no role to itself
//   (resource_postgresql_grant.go getRolesToGrant returns none for "database"), and
//   once PUBLIC lost CONNECT the admin could not even connect to the app's database.
// - The provider does grant roles temporarily (helpers.go withRolesGranted,
//   grantRoleMembership, for a Database's owner, a Schema, a Grant's object owners and
//   DefaultPrivileges), and skips that when the admin is a member already
//   (isMemberOfRole: a pg_auth_members row, on 16+ with set_option).
//
// Why a psql command and not postgresql.GrantRole: on 16+ the CREATE ROLE that the
// admin runs already gives it a membership row with ADMIN OPTION (granted by the
// bootstrap superuser, INHERIT and SET false); GrantRole's read takes the first
// pg_auth_members row for the pair without ORDER BY (resource_postgresql_grant_role.go
// getGrantRoleQuery), which is that one, so state would read with_admin_option = true
// against false in the program, a ForceNew diff: create-before-delete would run the new
// GRANT, then the old REVOKE, and leave no membership at all.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { assertIdent, quoteIdent, quoteLiteral } from "../lib/quote";

/** How psql and the provider reach the existing server from where `pulumi up` runs. */
export interface ExternalLogin {
  host: string;
  port: number;
  /** The maintenance database the admin logs in to. */
  database: string;
  user: string;
  /** Secret. */
  password: pulumi.Input<string>;
  sslmode: "require" | "disable";
}

/** The first major whose GRANT takes `WITH INHERIT ..., SET ...` (and whose CREATE ROLE grants its creator ADMIN OPTION only). */
export const GRANT_OPTIONS_MAJOR = 16;

/**
 * Statements, run as the admin in the maintenance database, that make it a member of
 * `owner` whose privileges it inherits. First a check that the login is what external
 * mode needs (CREATEROLE and CREATEDB, or superuser; INHERIT on 15, where the grant has
 * no INHERIT option of its own), so a wrong admin fails here with a clear message.
 */
export function ownerMembershipStatements(owner: string, majorVersion: number): string[] {
  const role = quoteIdent(assertIdent(owner, "role name"));
  return [
    `DO $check$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) current_user
                 AND (r.rolsuper OR (r.rolcreaterole AND r.rolcreatedb))) THEN
    RAISE EXCEPTION 'role % needs CREATEROLE and CREATEDB to manage the apps (postgres.external.adminUser)', current_user;
  END IF;
  IF ${majorVersion < GRANT_OPTIONS_MAJOR ? "true" : "false"} AND NOT (SELECT r.rolinherit FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) current_user) THEN
    RAISE EXCEPTION 'role % is NOINHERIT: it could not use the app owners'' privileges (ALTER ROLE % INHERIT)', current_user, current_user;
  END IF;
END $check$`,
    majorVersion >= GRANT_OPTIONS_MAJOR ? `GRANT ${role} TO CURRENT_USER WITH INHERIT TRUE, SET TRUE` : `GRANT ${role} TO CURRENT_USER`,
  ];
}

/** Statements that take the membership back (the role may be gone already). */
export function ownerMembershipRemoveStatements(owner: string): string[] {
  const name = assertIdent(owner, "role name");
  return [
    `DO $revoke$ BEGIN
  IF pg_catalog.pg_has_role(current_user, (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) ${quoteLiteral(name)}), 'MEMBER') THEN
    EXECUTE pg_catalog.format('REVOKE %I FROM CURRENT_USER', ${quoteLiteral(name)});
  END IF;
END $revoke$`,
  ];
}

/** A psql script of `statements` (one transaction, stops at the first error). */
export function renderMembershipScript(statements: string[]): string {
  return ["-- Rendered by homelab-postgres (postgres.external): the admin's membership in an app owner.", "\\set ON_ERROR_STOP on", "SET client_min_messages = warning;", "BEGIN;", ...statements.map((s) => `${s};`), "COMMIT;"].join("\n") + "\n";
}

/** Delimiter of the here-document the command wraps a script in (create and delete must carry different scripts; stdin is shared). */
const HEREDOC = "HLPG_SQL";

function psql(script: string): string {
  if (script.split("\n").includes(HEREDOC)) throw new Error(`script contains a line "${HEREDOC}"`);
  return `psql -X -q -v ON_ERROR_STOP=1 -f - <<'${HEREDOC}'\n${script}${HEREDOC}\n`;
}

/** The shell commands (`/bin/sh -c`) the membership Command runs on create and on delete. */
export function ownerMembershipShell(owner: string, majorVersion: number): { create: string; delete: string } {
  return {
    create: psql(renderMembershipScript(ownerMembershipStatements(owner, majorVersion))),
    delete: psql(renderMembershipScript(ownerMembershipRemoveStatements(owner))),
  };
}

/** The environment psql reads the admin's login from (secret: it holds the password). */
export function externalPsqlEnvironment(login: ExternalLogin, app: string): Record<string, pulumi.Input<string>> {
  return {
    PGHOST: login.host,
    PGPORT: String(login.port),
    PGUSER: login.user,
    PGPASSWORD: pulumi.secret(login.password),
    PGDATABASE: login.database,
    PGSSLMODE: login.sslmode,
    PGCONNECT_TIMEOUT: "30",
    PGAPPNAME: app,
  };
}

export interface OwnerMembershipArgs {
  login: ExternalLogin;
  owner: string;
  majorVersion: number;
  /** The owner role: it must exist first, and the membership goes before it. */
  dependsOn: pulumi.Input<pulumi.Resource>[];
}

/** The command that makes the admin a member of one owner (create) and takes it back (delete). */
export function ownerMembershipCommand(name: string, args: OwnerMembershipArgs, opts: pulumi.CustomResourceOptions): command.local.Command {
  return new command.local.Command(
    name,
    {
      ...ownerMembershipShell(args.owner, args.majorVersion),
      environment: externalPsqlEnvironment(args.login, "homelab-postgres-membership"),
    },
    { ...opts, dependsOn: args.dependsOn, additionalSecretOutputs: ["environment"], deleteBeforeReplace: true },
  );
}
