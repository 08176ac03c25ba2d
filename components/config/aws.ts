// The `aws:*` keys of the stack config: the settings users give the default aws
// provider (profile, credentials files, region, static keys). The backup bucket
// uses an explicit provider, which reads none of them by itself, so they are
// read here and handed to it (BackupBucket). Pure.
import { REGION } from "../lib/names";
import type { ConfigProblem } from "./problems";

/** The `aws:*` settings the explicit provider takes over from the stack config. */
export interface AwsProviderSettings {
  /** `aws:profile`: the named profile of the shared config and credentials files. */
  profile?: string;
  /** `aws:region`: the bucket's region when `backup.region` is unset. */
  region?: string;
  /** `aws:sharedCredentialsFiles`: where the profile's credentials are. */
  sharedCredentialsFiles?: string[];
  /** `aws:sharedConfigFiles`: where the profile's settings are. */
  sharedConfigFiles?: string[];
  /** `aws:accessKey`: a static access key id. */
  accessKey?: string;
  /** `aws:secretKey`: its secret key (a secret in config; keep it one in the provider's inputs). */
  secretKey?: string;
  /** `aws:token`: a session token for temporary credentials (secret likewise). */
  token?: string;
}

const STRING_KEYS = ["profile", "region", "accessKey", "secretKey", "token"] as const;
const LIST_KEYS = ["sharedCredentialsFiles", "sharedConfigFiles"] as const;

/** Region when `backup.region` is unset and the stack has no `aws:region`. */
export const DEFAULT_AWS_REGION = "us-east-1";

/**
 * The `aws:*` settings out of the raw `aws` config values (keys without the
 * `aws:` prefix; lists as parsed JSON), with a problem per value of the wrong
 * shape. Other `aws:*` keys are left to the default provider.
 */
export function parseAwsSettings(raw: Record<string, unknown>): { settings: AwsProviderSettings; problems: ConfigProblem[] } {
  const settings: AwsProviderSettings = {};
  const problems: ConfigProblem[] = [];
  for (const k of STRING_KEYS) {
    const v = raw[k];
    if (v === undefined || v === null || v === "") continue;
    if (typeof v !== "string") problems.push({ path: `aws:${k}`, message: "expected a string" });
    else settings[k] = v;
  }
  for (const k of LIST_KEYS) {
    const v = raw[k];
    if (v === undefined || v === null) continue;
    if (!Array.isArray(v) || v.length === 0 || !v.every((x): x is string => typeof x === "string" && x !== "")) {
      problems.push({ path: `aws:${k}`, message: "expected a non-empty list of file paths" });
    } else settings[k] = v;
  }
  if (settings.region !== undefined && !REGION.test(settings.region)) {
    problems.push({ path: "aws:region", message: `${JSON.stringify(settings.region)} is not a region name` });
  }
  return { settings, problems };
}

/** The bucket's region: `backup.region` when set, else `aws:region`, else us-east-1. */
export function backupRegion(configured: string | undefined, aws: AwsProviderSettings): string {
  return configured ?? aws.region ?? DEFAULT_AWS_REGION;
}
