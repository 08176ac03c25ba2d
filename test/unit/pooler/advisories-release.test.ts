// The PgBouncer component checks the release its image installs (the packages table,
// components/config/images.ts) against the published advisories: with the table naming
// a release that has a reachable CVE, it warns at preview and renders the ini for that
// release. What makes advisories.test.ts's "quiet for 1.26.1" mean something.
import * as pulumi from "@pulumi/pulumi";
import type * as Images from "../../../components/config/images";
import { installMocks } from "../../helpers/mocks";
import { parseConfig } from "../../../components/config";
import { PGBOUNCER_VERSION, PgBouncer } from "../../../components/pooler/pgbouncer";
import { pgbouncerArgs } from "./fixture";

jest.mock("../../../components/config/images", () => {
  const actual = jest.requireActual<typeof Images>("../../../components/config/images");
  return { ...actual, PGBOUNCER_PACKAGE: { ...actual.PGBOUNCER_PACKAGE, version: "1.26.0-1", release: [1, 26, 0] } };
});

describe("the PgBouncer component with a vulnerable release in the packages table", () => {
  let warned: string[] = [];
  let pooler: PgBouncer;
  beforeAll(async () => {
    await installMocks(pulumi);
    const spy = jest.spyOn(pulumi.log, "warn").mockImplementation(() => Promise.resolve());
    const cfg = parseConfig("dev", { apps: [{ name: "app" }] });
    pooler = new PgBouncer("pgb-old", pgbouncerArgs(cfg));
    warned = spy.mock.calls.map((c) => String(c[0]));
    spy.mockRestore();
  });

  it("takes its release from the table", () => {
    expect(PGBOUNCER_VERSION).toEqual({ major: 1, minor: 26, patch: 0 });
  });

  it("warns about the reachable CVE, naming the release and the image it builds", () => {
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatch(/is pgBouncer 1\.26\.0, affected by CVE-2026-107350: .*fixed in 1\.26\.1/);
    expect(warned[0]).toMatch(/homelab-postgres\/pgbouncer:1\.26\.0-amd64-[0-9a-f]{12}/);
  });

  it("renders the ini for that release (options still ignored below 1.26.1)", () => {
    expect(pooler.ini).toMatch(/^ignore_startup_parameters = extra_float_digits,options$/m);
  });
});
