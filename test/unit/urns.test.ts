// Resource names are users' state: a URN (parent types, type, name) is how Pulumi
// knows a resource it created before. A changed URN means delete-and-create, for a
// data volume or a database too, unless the resource carries `aliases` naming the
// old URN. This snapshot makes every rename or re-parenting deliberate: when it
// fails, either undo the rename or add `aliases: [{ name: "<old>", parent: ... }]`
// to the resource, then accept the new list with `npx jest --selectProjects unit -u urns`.
import { PROD_SECRETS, runProgram } from "../helpers/program";

const TLS = { enabled: true, certificate: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", privateKey: "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n" };
/** prod with TLS and a standby on a second host: the standby's resources on top of prod's. */
const WITH_STANDBY = {
  overrides: {
    ...PROD_SECRETS.overrides,
    tailscale: { ip: "100.64.7.7" },
    postgres: { majorVersion: 17, memoryMb: 8192, maxConnections: 200, tls: TLS },
    standby: { enabled: true, dockerHost: "ssh://ops@standby-box", tailscale: { ip: "100.64.8.8" } },
  },
  secretKeys: ["backup", "postgres"],
};

/** URNs without the `urn:pulumi:<stack>::<project>::` prefix, sorted. */
async function urns(stack: string, opts = stack === "prod" ? PROD_SECRETS : {}): Promise<string[]> {
  const r = await runProgram(stack, opts);
  return r.resources.map((x) => x.urn.replace(/^urn:pulumi:[^:]+::[^:]+::/, "")).sort();
}

describe("resource URNs", () => {
  it.each(["dev", "prod"])("of the %s stack are the committed ones", async (stack) => {
    expect(await urns(stack)).toMatchSnapshot();
  });

  it("of the prod stack with a standby are prod's plus the standby's", async () => {
    const prod = await urns("prod");
    const standby = await urns("prod", WITH_STANDBY);
    // a standby adds resources and changes no existing URN
    expect(prod.filter((u) => !standby.includes(u))).toEqual([]);
    expect(standby.filter((u) => !prod.includes(u))).toMatchSnapshot();
  });
});
