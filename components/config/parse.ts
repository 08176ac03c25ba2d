// parseConfig: raw values of the `homelab-postgres:*` keys (and of the `aws:*`
// keys the backup's explicit provider honours) → the typed config, or one
// ConfigError with every problem. Pure: no Pulumi, no I/O. The schema checks
// everything; this file only adds what derives from valid values (database and
// role names, the bucket's region; the retired image keys dropped).
import { sqlName } from "../lib/names";
import { AwsProviderSettings, backupRegion, parseAwsSettings } from "./aws";
import { isProdStack, ownerRoleOf, userRoleOf } from "./constants";
import { ConfigError, ConfigProblem, issuesToProblems } from "./problems";
import { ConfValue, ParsedConfig, stackSchema } from "./schema";
import { externalExplicitProblems } from "./schema-external";
import { defaultSlotName } from "./schema-standby";
import { plaintextSecretProblems } from "./secrets";

type Parsed = ParsedConfig;

export type { ConfValue };
export type TlsConfig = Parsed["postgres"]["tls"];
export type PoolMode = Parsed["pgbouncer"]["poolMode"];
export type Compression = Parsed["backup"]["compression"];
export type BackupSchedule = Parsed["backup"]["schedule"];
export type BackupRetention = Parsed["backup"]["retention"];
export type PgBouncerConfig = Omit<Parsed["pgbouncer"], "image">;
/** `images`: the Debian base per suite (components/config/images.ts says which image uses which). */
export type ImagesConfig = Parsed["images"];
export type PgAdminConfig = Parsed["pgadmin"];
export type CiConfig = Parsed["ci"];
/** The `standby` section, its slot name resolved (`hlpg_standby_<stack>` unless set). */
export type StandbyConfig = Omit<Parsed["standby"], "slotName"> & { slotName: string };
export type PostgresLogging = Parsed["postgres"]["logging"];
export type AuditConfig = Parsed["postgres"]["audit"];
export type NotifyConfig = Parsed["backup"]["notify"];
/** `postgres.external`: the existing server the program manages instead of running one. */
export interface ExternalConfig extends Omit<NonNullable<Parsed["postgres"]["external"]>, "host" | "adminUser" | "adminPassword"> {
  host: string;
  adminUser: string;
  /** Secret. */
  adminPassword: string;
}

export interface MonitoringConfig extends Omit<Parsed["monitoring"], "enabled"> {
  /** `monitoring.enabled`, else true in a prod stack. */
  enabled: boolean;
}

export interface PostgresConfig extends Omit<Parsed["postgres"], "majorVersion" | "settings" | "external" | "image"> {
  /** An existing server to manage instead of running one (the schema requires its host, admin and password). */
  external?: ExternalConfig;
  /** PostgreSQL major: the packages the image is built from and the conf files rendered for. */
  majorVersion: number;
  /** Operator postgresql.conf settings, validated. */
  settings: Record<string, ConfValue>;
}

export interface AppConfig extends Omit<Parsed["apps"][number], "name" | "readonlyUsers" | "readwriteUsers" | "pool"> {
  /** Name as written in config (may contain '-'). */
  name: string;
  /** Database name: `name` with '-' folded to '_'. */
  database: string;
  /** Owner login role: `<database>_owner`. */
  owner: string;
  /** Read-only login roles, expanded to `<database>_<user>`. */
  readonlyUsers: { user: string; role: string }[];
  /** Read-write (DML, no DDL) login roles, expanded to `<database>_<user>`. */
  readwriteUsers: { user: string; role: string }[];
  /** This app's pgBouncer pool: `apps[].pool`, each key defaulting to the pgbouncer section's. */
  pool: { mode: PoolMode; size: number };
}

export interface BackupConfig extends Omit<Parsed["backup"], "endpointCredentials" | "region"> {
  /** The bucket's region: `backup.region`, else `aws:region`, else us-east-1. */
  region: string;
  /** Keys for an S3-compatible `endpoint` (no IAM is managed there); secretAccessKey is secret. */
  endpointCredentials?: { accessKeyId: string; secretAccessKey: string };
}

export interface StackConfig {
  stack: string;
  isProd: boolean;
  tailscale: Parsed["tailscale"];
  dockerHost?: string;
  postgres: PostgresConfig;
  images: ImagesConfig;
  apps: AppConfig[];
  pgbouncer: PgBouncerConfig;
  pgadmin: PgAdminConfig;
  backup: BackupConfig;
  monitoring: MonitoringConfig;
  standby: StandbyConfig;
  ci: CiConfig;
  /** The stack's `aws:*` provider settings (profile, credentials files, region, keys). */
  aws: AwsProviderSettings;
}

/** Raw values of the project's config keys, without the `homelab-postgres:` prefix. */
export type RawConfig = Record<string, unknown>;

export interface ParseOptions {
  /**
   * Top-level keys (without the project prefix) Pulumi marks secret. Given, a prod
   * stack's secret keys in plain text are problems; absent (a pure caller that
   * cannot know), that check is skipped. loadStackConfig always gives it.
   */
  secretKeys?: readonly string[];
}

/** A section without its retired `image` key (the schema refused any value of it). */
function withoutRetiredImage<T extends { image?: unknown }>({ image: _retired, ...rest }: T): Omit<T, "image"> {
  return rest;
}

/**
 * Pure: raw config → typed config, or ConfigError with every problem. `aws` holds
 * the raw `aws:*` values (keys without the prefix).
 */
export function parseConfig(stack: string, raw: RawConfig, aws: RawConfig = {}, opts: ParseOptions = {}): StackConfig {
  const schema = stackSchema(stack);
  const result = schema.safeParse(raw);
  const awsParsed = parseAwsSettings(aws);
  const plaintext = isProdStack(stack) && opts.secretKeys ? plaintextSecretProblems(raw, new Set(opts.secretKeys)) : [];
  const problems: ConfigProblem[] = [
    ...(result.success ? [] : issuesToProblems(schema, result.error.issues)),
    ...plaintext,
    ...externalExplicitProblems(raw),
    ...awsParsed.problems,
  ];
  if (!result.success || problems.length > 0) throw new ConfigError(stack, problems);
  const c = result.data;
  const creds = c.backup.endpointCredentials;
  return {
    stack,
    isProd: isProdStack(stack),
    tailscale: c.tailscale,
    dockerHost: c.dockerHost,
    postgres: {
      ...withoutRetiredImage(c.postgres),
      settings: c.postgres.settings as Record<string, ConfValue>,
      external: c.postgres.external && { ...c.postgres.external, host: c.postgres.external.host as string, adminUser: c.postgres.external.adminUser as string, adminPassword: c.postgres.external.adminPassword as string },
    },
    apps: c.apps.map((a) => {
      const name = a.name as string;
      const database = sqlName(name);
      const users = (list: string[]) => list.map((user) => ({ user, role: userRoleOf(database, user) }));
      const pool = { mode: a.pool.mode ?? c.pgbouncer.poolMode, size: a.pool.size ?? c.pgbouncer.defaultPoolSize };
      return { ...a, name, database, owner: ownerRoleOf(database), readonlyUsers: users(a.readonlyUsers), readwriteUsers: users(a.readwriteUsers), pool };
    }),
    images: c.images,
    pgbouncer: withoutRetiredImage(c.pgbouncer),
    pgadmin: c.pgadmin,
    backup: {
      ...c.backup,
      region: backupRegion(c.backup.region, awsParsed.settings),
      endpointCredentials: creds?.accessKeyId && creds.secretAccessKey ? { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey } : undefined,
    },
    // an existing server has no exporter beside it (schema-external.ts): off unless asked for, which is refused
    monitoring: { ...c.monitoring, enabled: c.monitoring.enabled ?? (isProdStack(stack) && c.postgres.external === undefined) },
    standby: { ...c.standby, slotName: c.standby.slotName ?? defaultSlotName(stack) },
    ci: c.ci,
    aws: awsParsed.settings,
  };
}
