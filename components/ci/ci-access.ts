// CiAccess: the tailnet auth key a hosted CI runner joins the tailnet with, so
// `pulumi preview`/`up` can reach the Docker host and Postgres. The stack issues
// the key itself and exports it as a secret; the workflow reads it from state
// (which needs no tailnet), see docs/policies.md "CI workflow".
import * as pulumi from "@pulumi/pulumi";
import * as tailscale from "@pulumi/tailscale";
import { TAILNET_TAG } from "../lib/names";

/** One week: rotated on every push to main (the workflow replaces the key after `up`). */
export const DEFAULT_CI_KEY_EXPIRY_SECONDS = 7 * 24 * 60 * 60;

/** Tailscale's limit for auth key expiry. */
export const MAX_CI_KEY_EXPIRY_SECONDS = 90 * 24 * 60 * 60;


export interface CiAccessArgs {
  /**
   * ACL tags every node joined with the key gets, e.g. `["tag:ci"]`. Required and
   * non-empty: an untagged key would join runners as the key owner's user. The
   * identity behind the tailscale provider must own these tags in the tailnet
   * policy file, and the ACLs should let them reach only the homelab host's
   * Postgres/Docker ports.
   */
  tags: string[];
  /** Seconds the key stays usable; default one week, at most 90 days. */
  expirySeconds?: number;
  /**
   * Whether one key can join several runners. Default true: a PR runs one job per
   * stack and every later run reuses the key until it is rotated; a single-use key
   * would be spent by the first job. Nodes stay ephemeral either way.
   */
  reusable?: boolean;
  /** Shown in the Tailscale admin console; letters, digits and '-' only. */
  description?: string;
}

export class CiAccess extends pulumi.ComponentResource {
  /** The auth key (secret): `tailscale up --authkey`, or tailscale/github-action's `authkey`. */
  readonly authKey: pulumi.Output<string>;
  /** When the key stops working (RFC 3339). */
  readonly expiresAt: pulumi.Output<string>;
  readonly key: tailscale.TailnetKey;

  constructor(name: string, args: CiAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    // inputs deliberately not passed to super: they would be stored in state as the component's inputs
    super("homelab:postgres:CiAccess", name, {}, opts);

    const problems: string[] = [];
    if (args.tags.length === 0) problems.push("tags must not be empty");
    for (const t of args.tags) if (!TAILNET_TAG.test(t)) problems.push(`tag ${JSON.stringify(t)} is not of the form tag:<name>`);
    const expiry = args.expirySeconds ?? DEFAULT_CI_KEY_EXPIRY_SECONDS;
    if (!Number.isInteger(expiry) || expiry < 300 || expiry > MAX_CI_KEY_EXPIRY_SECONDS) {
      problems.push(`expirySeconds must be an integer between 300 and ${MAX_CI_KEY_EXPIRY_SECONDS}`);
    }
    const description = args.description ?? "homelab-postgres-ci";
    if (!/^[A-Za-z0-9-]{1,50}$/.test(description)) problems.push("description: up to 50 letters, digits or '-'");
    if (problems.length > 0) throw new Error(`CiAccess ${name}: ${problems.join("; ")}`);

    this.key = new tailscale.TailnetKey(
      `${name}-key`,
      {
        ephemeral: true, // runner nodes disappear from the tailnet shortly after the job ends
        preauthorized: true, // no admin approval: the job cannot wait for one
        reusable: args.reusable ?? true,
        tags: args.tags,
        expiry,
        // an expired or revoked key is created again by the next `pulumi up --refresh`
        recreateIfInvalid: "always",
        description,
      },
      { parent: this, additionalSecretOutputs: ["key"] },
    );

    // the provider marks `key` secret; mark it here too so mocks and every engine agree
    this.authKey = pulumi.secret(this.key.key);
    this.expiresAt = this.key.expiresAt;
    this.registerOutputs({ authKey: this.authKey, expiresAt: this.expiresAt });
  }
}
