// CiAccess under mocks: the key's settings, and that the auth key is a secret.
import * as pulumi from "@pulumi/pulumi";
import { MOCK, installMocks, value } from "../../helpers/mocks";
import type { RegisteredResource } from "../../helpers/record";

let registered: RegisteredResource[] = [];

beforeAll(async () => {
  registered = await installMocks(pulumi);
});

// imported after setMocks so the component sees the mocked runtime
async function load() {
  return import("../../../components/ci/ci-access");
}


describe("CiAccess", () => {
  it("issues an ephemeral, preauthorized, tagged key that expires, and exposes it as a secret", async () => {
    const { CiAccess, DEFAULT_CI_KEY_EXPIRY_SECONDS } = await load();
    const ci = new CiAccess("ci", { tags: ["tag:ci"] });
    expect(await value(ci.authKey)).toBe(MOCK.tailnetKey);
    expect(await pulumi.isSecret(ci.authKey)).toBe(true);
    expect(await value(ci.expiresAt)).toBe(MOCK.tailnetKeyExpiresAt);

    const key = registered.find((r) => r.type === "tailscale:index/tailnetKey:TailnetKey" && r.name === "ci-key");
    expect(key?.inputs).toEqual({
      ephemeral: true,
      preauthorized: true,
      reusable: true,
      tags: ["tag:ci"],
      expiry: DEFAULT_CI_KEY_EXPIRY_SECONDS,
      recreateIfInvalid: "always",
      description: "homelab-postgres-ci",
    });
    // the component itself carries no inputs into state
    expect(registered.find((r) => r.type === "homelab:postgres:CiAccess")?.inputs ?? {}).toEqual({});
  });

  it("takes expiry, reusability and description from its args", async () => {
    const { CiAccess } = await load();
    const ci = new CiAccess("ci2", { tags: ["tag:ci", "tag:gh-actions"], expirySeconds: 86400, reusable: false, description: "gh-actions" });
    await value(ci.expiresAt); // resolves once the key has been registered
    const key = registered.find((r) => r.name === "ci2-key");
    expect(key?.inputs).toMatchObject({ tags: ["tag:ci", "tag:gh-actions"], expiry: 86400, reusable: false, description: "gh-actions" });
  });

  it("refuses a key without tags, with a malformed tag or with an out-of-range expiry, naming every problem", async () => {
    const { CiAccess } = await load();
    expect(() => new CiAccess("bad", { tags: [] })).toThrow(/tags must not be empty/);
    expect(() => new CiAccess("bad2", { tags: ["ci"], expirySeconds: 100 * 24 * 3600, description: "no spaces allowed" })).toThrow(
      /tag "ci" is not of the form tag:<name>; expirySeconds must be an integer between 300 and 7776000; description/,
    );
  });
});
