// Records what the engine would receive for each resource registration under
// pulumi.runtime.setMocks: inputs (secrets still wrapped) and the options
// (parent, dependencies, retainOnDelete, secret outputs...) that mocks' own
// newResource callback never sees.
import type * as pulumiModule from "@pulumi/pulumi";

const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export interface RegisteredResource {
  type: string;
  name: string;
  urn: string;
  /** Inputs as the engine received them; secrets stay wrapped (see isSecretValue). */
  inputs: Record<string, unknown>;
  custom: boolean;
  parent: string;
  dependencies: string[];
  provider: string;
  retainOnDelete: boolean;
  protect: boolean;
  deleteBeforeReplace: boolean;
  additionalSecretOutputs: string[];
  /** The `import` option: the provider ID to adopt ("" when none). */
  importId: string;
  ignoreChanges: string[];
  /** The `customTimeouts` option ("" where unset). */
  customTimeouts: { create: string; update: string; delete: string };
}

/** A value the engine would treat as secret. */
export function isSecretValue(v: unknown): boolean {
  return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** Deep copy with secret wrappers removed. */
export function reveal(v: unknown): unknown {
  if (isSecretValue(v)) return reveal((v as { value: unknown }).value);
  if (Array.isArray(v)) return v.map(reveal);
  if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, reveal(x)]));
  return v;
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getObject(): unknown;
  getCustom(): boolean;
  getParent(): string;
  getDependenciesList(): string[];
  getProvider(): string;
  getRetainondelete(): boolean | undefined;
  getProtect(): boolean | undefined;
  getDeletebeforereplace(): boolean;
  getAdditionalsecretoutputsList(): string[];
  getImportid(): string;
  getIgnorechangesList(): string[];
  getCustomtimeouts(): { getCreate(): string; getUpdate(): string; getDelete(): string } | undefined;
}

/**
 * Wraps the mock monitor `setMocks` installed on `pulumi` (call right after
 * setMocks) and returns the list it fills as resources register; `beforeRegister`
 * sees each registration (options included) before the mocks do.
 */
export function recordRegistrations(pulumi: typeof pulumiModule, beforeRegister?: (r: Omit<RegisteredResource, "urn">) => void): RegisteredResource[] {
  const registered: RegisteredResource[] = [];
  // the same SDK copy as `pulumi`: under isolateModules each run has its own
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const rpc = require("@pulumi/pulumi/runtime/rpc") as { deserializeProperties(s: unknown): Record<string, unknown> };
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(req: RegisterRequest, cb: (err: unknown, res: unknown) => void): Promise<void>;
  };
  const original = monitor.registerResource.bind(monitor);
  const describe = (req: RegisterRequest): Omit<RegisteredResource, "urn"> => ({
    type: req.getType(),
    name: req.getName(),
    inputs: rpc.deserializeProperties(req.getObject()),
    custom: req.getCustom(),
    parent: req.getParent(),
    dependencies: req.getDependenciesList(),
    provider: req.getProvider(),
    retainOnDelete: req.getRetainondelete() ?? false,
    protect: req.getProtect() ?? false,
    deleteBeforeReplace: req.getDeletebeforereplace(),
    additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
    importId: req.getImportid(),
    ignoreChanges: req.getIgnorechangesList(),
    customTimeouts: {
      create: req.getCustomtimeouts()?.getCreate() ?? "",
      update: req.getCustomtimeouts()?.getUpdate() ?? "",
      delete: req.getCustomtimeouts()?.getDelete() ?? "",
    },
  });
  monitor.registerResource = async (req, cb) => {
    // the options (ignoreChanges, retainOnDelete...) before the mock's newResource, which never sees them
    beforeRegister?.(describe(req));
    return original(req, (err, res) => {
      if (!err && res) registered.push({ ...describe(req), urn: (res as { getUrn(): string }).getUrn() });
      cb(err, res);
    });
  };
  return registered;
}
