// The `standby` section of the stack config: a streaming hot standby on a second
// Docker host of the tailnet (components/replica), and the rules that tie it to the
// rest of the config. Part of schema.ts, apart only to keep each file readable.
import { DEVICE_NAME, SLOT_NAME } from "../lib/names";
import { dockerHostProblem, isTailnetIPv4 } from "../lib/net";
import { bool, int, oneOf, section, str } from "./fields";
import { Report, isObj, isStr } from "./rules";

/** What an unset `dockerHost` means: the local socket, as the docker provider's default. */
const LOCAL_DOCKER = "unix:///var/run/docker.sock";

export const standby = section({
  enabled: bool({ default: false, doc: "a streaming hot standby on a second Docker host (outputs `standby`, `readonlyUsers.<user>.standbyUrl`); needs `postgres.tls.enabled` and a tailnet bind on both sides (docs/replication.md)" }),
  dockerHost: str({
    type: "`unix://`, `ssh://`, `tcp://`", shown: "–",
    doc: "the standby's Docker daemon: required when enabled, and another one than `dockerHost` (the point is surviving the primary's host)",
  }),
  tailscale: section({
    ip: str({ type: "IPv4", doc: "the standby's tailnet address (100.64.0.0/10): its port is published there only. Not with `device`" }),
    device: str({ type: "string", doc: "the standby host's device name, looked up with `tailscale.getDevice`" }),
  }),
  port: int({ min: 1024, max: 65535, default: 5432, doc: "published port of the standby on its tailnet address" }),
  bootstrap: oneOf(["basebackup", "backup"] as const, {
    default: "basebackup",
    doc: "how an empty standby volume starts: `basebackup` (pg_basebackup from the primary through the slot) or `backup` (pgBackRest restore `--type=standby` from the repository, needs `backup.enabled`; less load on the primary). A volume that is not empty is never overwritten",
  }),
  slotName: str({ type: "`^[a-z0-9_]{1,63}$`", shown: "`hlpg_standby_` + the stack name", doc: "the physical replication slot on the primary the standby streams through" }),
  promoted: bool({
    default: false,
    doc: "set after `hlpg-failover promote` (docs/replication.md): `host`, `port` and every `url`/`pooledUrl` point at the standby, which now takes the writes",
  }),
});

/** The default slot name: per stack, so two stacks streaming from one primary never share one. */
export function defaultSlotName(stack: string): string {
  const name = `hlpg_standby_${stack.toLowerCase().replace(/[^a-z0-9_]/g, "_")}`.slice(0, 63);
  if (!SLOT_NAME.test(name)) throw new Error(`internal: slot name ${name}`);
  return name;
}

/** Rules across `standby` and the rest of the config (stackSchema calls it once). */
export function standbyRules(v: Record<string, unknown>, report: Report): void {
  const s = isObj(v.standby) ? v.standby : {};
  const ts = isObj(s.tailscale) ? s.tailscale : {};
  if (isStr(ts.ip) && !isTailnetIPv4(ts.ip)) report(["standby", "tailscale", "ip"], `${JSON.stringify(ts.ip)} is not a tailnet address (100.64.0.0/10): the standby publishes its port on its host's tailnet address only`);
  if (ts.ip !== undefined && ts.device !== undefined) report(["standby", "tailscale"], "set either ip or device, not both");
  if (isStr(ts.device) && !DEVICE_NAME.test(ts.device)) report(["standby", "tailscale", "device"], `${JSON.stringify(ts.device)} is not a device name`);
  if (isStr(s.slotName) && !SLOT_NAME.test(s.slotName)) report(["standby", "slotName"], `${JSON.stringify(s.slotName)} must match ${SLOT_NAME} (a replication slot name)`);
  const dockerHostBad = isStr(s.dockerHost) ? dockerHostProblem(s.dockerHost) : undefined;
  if (dockerHostBad) report(["standby", "dockerHost"], dockerHostBad);
  if (s.promoted === true && s.enabled !== true) report(["standby", "promoted"], "there is no standby to promote: standby.enabled is false");
  if (s.enabled !== true) return;

  if (s.dockerHost === undefined) report(["standby", "dockerHost"], "required when the standby is enabled: the Docker host that runs it");
  else if (isStr(s.dockerHost) && !dockerHostBad && s.dockerHost === (isStr(v.dockerHost) ? v.dockerHost : LOCAL_DOCKER)) {
    report(["standby", "dockerHost"], "is the primary's Docker host: a standby there dies with the primary; name the second host");
  }
  if (ts.ip === undefined && ts.device === undefined) report(["standby", "tailscale"], "the standby must bind its tailnet address: set standby.tailscale.ip or standby.tailscale.device");
  const pts = isObj(v.tailscale) ? v.tailscale : {};
  // the standby streams from the primary's published port, over the tailnet
  if (pts.ip === undefined && pts.device === undefined) report(["tailscale"], "a standby streams from the primary over the tailnet: set tailscale.ip or tailscale.device");
  else if (isStr(pts.ip) && !isTailnetIPv4(pts.ip)) report(["tailscale", "ip"], `${pts.ip} is not a tailnet address: the standby on another host could not reach it`);
  if (isStr(pts.ip) && pts.ip === ts.ip) report(["standby", "tailscale", "ip"], "is the primary's address: the standby runs on another host");
  if (isStr(pts.device) && pts.device === ts.device) report(["standby", "tailscale", "device"], "is the primary's device: the standby runs on another host");
  const pg = isObj(v.postgres) ? v.postgres : {};
  const tls = isObj(pg.tls) ? pg.tls : {};
  if (tls.enabled !== true) report(["postgres", "tls", "enabled"], "must be true with a standby: replication (the replicator's password, then every row) crosses the tailnet with TLS only");
  // the stack CA's certificate names the primary only; the standby serves the provided pair
  else if (tls.mode === "stack-ca") report(["postgres", "tls", "mode"], "stack-ca does not issue the standby's certificate yet: use `provided` (a certificate for both hosts' addresses) with a standby");
  const backup = isObj(v.backup) ? v.backup : {};
  if (s.bootstrap === "backup" && backup.enabled !== true) report(["standby", "bootstrap"], "`backup` restores from the backup repository: needs backup.enabled (or use `basebackup`)");
  if (isObj(pg.bootstrap)) report(["standby", "enabled"], "postgres.bootstrap makes a new primary from the repository: add the standby once the restored primary runs and postgres.bootstrap is removed");
}
