// What a standby config change does to the containers on both hosts (prod with TLS
// and a standby as the base). The standby cannot run ALTER SYSTEM, so it gets its
// whole configuration as an upload: a live setting that only reloads the primary
// replaces (restarts) the standby, which keeps its volume and streams on.
import { PROD_SECRETS, ProgramResult, runProgram, stackConfig } from "../helpers/program";
import { ContainerEffect, containerEffects } from "./effects";

type Raw = Record<string, unknown>;
const postgres = stackConfig("prod").values["homelab-postgres:postgres"] as Raw;
const tls = { enabled: true, certificate: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", privateKey: "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n" };
const standby = { enabled: true, dockerHost: "ssh://ops@standby-box", tailscale: { ip: "100.64.8.8" } };
const base: Raw = { ...PROD_SECRETS.overrides, tailscale: { ip: "100.64.7.7" }, postgres: { ...postgres, tls }, standby };
const run = (overrides: Raw) => runProgram("prod", { overrides: { ...base, ...overrides }, secretKeys: ["backup", "postgres"] });

/** Only the containers that change. */
const changed = (a: ProgramResult, b: ProgramResult): Record<string, ContainerEffect> =>
  Object.fromEntries(Object.entries(containerEffects(a, b)).filter(([, e]) => e !== "unchanged"));

let before: ProgramResult;
beforeAll(async () => {
  before = await run({});
});

describe("standby config changes", () => {
  it.each<[string, Raw, Record<string, ContainerEffect>]>([
    // the primary's pg_hba.conf gains the replication line (an upload: the container is replaced, its volume kept)
    ["add the standby (TLS already on)", { standby: { enabled: false } }, { "prod-postgres": "replaced", "prod-postgres-standby": "created", "prod-postgres-standby-clone": "created", "prod-pgbackrest-standby-config": "created" }],
    ["`standby.port`", { standby: { ...standby, port: 5440 } }, { "prod-postgres-standby": "replaced" }],
    ["`standby.tailscale.ip`", { standby: { ...standby, tailscale: { ip: "100.64.9.9" } } }, { "prod-postgres": "replaced", "prod-postgres-standby": "replaced" }],
    ["`standby.promoted` (outputs only)", { standby: { ...standby, promoted: true } }, {}],
    // the clone job shares the standby's uploads: a new one runs, finds the cloned volume and exits 0 (server/one-shot.ts)
    ["`standby.bootstrap: backup` (the entrypoint: only an empty volume uses it)", { standby: { ...standby, bootstrap: "backup" } }, { "prod-postgres-standby": "replaced", "prod-postgres-standby-clone": "replaced" }],
    ["a reloadable setting", { postgres: { ...postgres, tls, settings: { ...(postgres.settings as Raw), statement_timeout: "90s" } } }, { "prod-postgres-standby": "replaced", "prod-postgres-standby-clone": "replaced" }],
  ])("%s", async (_name, overrides, expected) => {
    const after = await run(overrides);
    // "add": the base is the changed run, and the run without the standby is before it
    const [a, b] = _name.startsWith("add") ? [after, before] : [before, after];
    expect(changed(a, b)).toEqual(expected);
  });
});
