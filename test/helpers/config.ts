// What config tests share: every problem parseConfig reports for a raw config
// (none when it parses), and a prod config that has all a prod stack needs.
import { ConfigError, parseConfig, RawConfig } from "../../components/config";

export const PASS = "a-long-enough-backup-passphrase";

/** A prod stack's config with nothing missing: tailnet address, an app, backups. */
export const goodProd: RawConfig = {
  tailscale: { ip: "100.88.1.2" },
  apps: [{ name: "langfuse" }],
  backup: { enabled: true, bucket: "my-backups", encryptionPassphrase: PASS },
};

/** Every problem parseConfig reports for `raw` on `stack`; [] when it parses. */
export function problems(stack: string, raw: RawConfig): { path: string; message: string }[] {
  try {
    parseConfig(stack, raw);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}
