// Adopting a restored cluster. After a bootstrap from backup the roles and
// databases came back with the data, so the postgresql provider's Create would
// fail on them: it runs a plain `CREATE ROLE` / `CREATE DATABASE`
// (cyrilgdn/terraform-provider-postgresql postgresql/resource_postgresql_role.go
// resourcePostgreSQLRoleCreate, resource_postgresql_database.go createDatabase).
// So with postgres.bootstrap set, roles and databases carry Pulumi's `import`
// option with their name, which is the provider's ID for both: a resource that
// is not in state is read and adopted; one that is (the state survived) has the
// same ID and is treated as usual (pulumi/pulumi developer-docs/architecture/import.md).
//
// Passwords: the provider reads a role's password back only when its state has one,
// and for a SCRAM hash it returns the state's value without comparing
// (resource_postgresql_role.go readRolePassword), so neither an import nor a refresh
// notices that a restored pg_authid holds an older password than the stack's state.
// The import therefore ignores `password` (the import would otherwise fail on the
// difference), and a psql command sets every role's password from state: when the
// cluster is new (the container is) and whenever a password changes.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { quoteIdent, quoteLiteral, shellQuote } from "../lib/quote";
import { assertIdent } from "../lib/names";

/** Resource options that adopt an existing role or database of a restored cluster (the provider's ID is its name). */
export function adoptOptions(kind: "role" | "database", name: string, adopt: boolean): Pick<pulumi.CustomResourceOptions, "import" | "ignoreChanges"> {
  if (!adopt) return {};
  assertIdent(name, `${kind} name`);
  // a role's password cannot be read back (SCRAM): ignored by the import, set by the password command
  return kind === "role" ? { import: name, ignoreChanges: ["password"] } : { import: name };
}

/**
 * psql script that sets each role's password (and nothing else). Idempotent; the
 * statement carrying a password is never logged, not even when it fails.
 */
export function renderPasswordSyncSql(roles: { name: string; password: string }[]): string {
  const out = [
    "-- Rendered by homelab-postgres: every role's password as the stack's state has it.",
    "\\set ON_ERROR_STOP on",
    "SET client_min_messages = warning;",
    "SET log_statement = 'none';",
    "SET log_min_error_statement = panic;",
    "SET log_min_duration_statement = -1;",
  ];
  for (const r of roles) {
    out.push(`ALTER ROLE ${quoteIdent(assertIdent(r.name, "role name"))} PASSWORD ${quoteLiteral(r.password)};`);
  }
  return out.join("\n") + "\n";
}

/**
 * POSIX sh script (run with `sh -s`, the script on stdin, so no password reaches an
 * argv): for each role, first try to log in with the password from state; only a role
 * whose password does not verify gets ALTER ROLE … PASSWORD (renderPasswordSyncSql).
 * Setting a password again, even the same one, makes a new SCRAM salt and verifier,
 * and pgBouncer's pooled server logins (which reuse the SCRAM keys of the client's
 * login) then fail until server_login_retry: a new Postgres container on the same
 * volume must not do that to every app (found by test/engine/minor-upgrade.test.ts).
 * A login refused after authentication (no CONNECT on `postgres`, the connection
 * limit, NOLOGIN) proves the password as well; any other failure sets it.
 */
export function renderPasswordSyncScript(roles: { name: string; password: string }[]): string {
  const out = [
    "set -eu",
    "# Rendered by homelab-postgres: every role's password as the stack's state has it, set only where it does not already log in.",
    "verifies() {",
    "  out=$(PGUSER=\"$1\" PGPASSWORD=\"$2\" PGDATABASE=postgres psql -X -q -At -c 'select 1' 2>&1) && return 0",
    "  case \"$out\" in",
    "    *'permission denied for database'*|*'too many connections'*|*'not permitted to log in'*) return 0 ;;",
    "  esac",
    "  return 1",
    "}",
  ];
  for (const r of roles) {
    assertIdent(r.name, "role name");
    if (/[\r\n\0]/.test(r.password)) throw new Error(`password of ${r.name} must be one line`);
    out.push(
      `if verifies ${shellQuote(r.name)} ${shellQuote(r.password)}; then`,
      `  echo "homelab-postgres: ${r.name}: password already set"`,
      "else",
      "  psql -X -q -v ON_ERROR_STOP=1 -f - <<'HLPG_SQL'",
      ...renderPasswordSyncSql([r]).trimEnd().split("\n"),
      "HLPG_SQL",
      `  echo "homelab-postgres: ${r.name}: password set from state"`,
      "fi",
    );
  }
  return out.join("\n") + "\n";
}

/** How psql reaches Postgres from where `pulumi up` runs (the settings command's way). */
export interface AdminConnection {
  host: pulumi.Input<string>;
  port: number;
  /** Superuser password (secret). */
  password: pulumi.Input<string>;
  sslmode: "disable" | "require";
}

/** psql's environment for a command the program runs as the superuser (password secret). */
export function superuserPsqlEnvironment(admin: AdminConnection, appName: string): Record<string, pulumi.Input<string>> {
  return {
    PGHOST: admin.host,
    PGPORT: String(admin.port),
    PGUSER: "postgres",
    PGPASSWORD: pulumi.secret(admin.password),
    PGDATABASE: "postgres",
    PGSSLMODE: admin.sslmode,
    PGCONNECT_TIMEOUT: "30",
    PGAPPNAME: appName,
  };
}

export interface PasswordSyncArgs {
  /** Roles and their passwords from state (secret). */
  roles: { name: string; password: pulumi.Input<string> }[];
  admin: AdminConnection;
  /** A new value runs it again: the Postgres container's id (a new cluster) and the bootstrap's identity. */
  triggers: pulumi.Input<string>[];
  /** What must exist first: the roles. */
  dependsOn: pulumi.Input<pulumi.Resource>[];
}

/** The command that re-applies the roles' passwords from state (see the file comment). */
export function passwordSyncCommand(name: string, args: PasswordSyncArgs, opts: pulumi.CustomResourceOptions): command.local.Command {
  const script = pulumi.secret(
    pulumi.all(args.roles.map((r) => pulumi.output(r.password))).apply((pws) => renderPasswordSyncScript(args.roles.map((r, i) => ({ name: r.name, password: pws[i] })))),
  );
  return new command.local.Command(
    name,
    {
      create: "sh -s",
      // a changed stdin (a rotated password) is an update that runs `create` again
      // (pulumi-command provider/pkg/provider/provider.go: only `triggers` replaces)
      stdin: script,
      environment: superuserPsqlEnvironment(args.admin, "homelab-postgres-passwords"),
      triggers: args.triggers,
    },
    { ...opts, dependsOn: args.dependsOn, additionalSecretOutputs: ["environment", "stdin"] },
  );
}
