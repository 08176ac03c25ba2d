// Resource names are users' state: a URN (parent types, type, name) is how Pulumi
// knows a resource it created before. A changed URN means delete-and-create, for a
// data volume or a database too, unless the resource carries `aliases` naming the
// old URN. This snapshot makes every rename or re-parenting deliberate: when it
// fails, either undo the rename or add `aliases: [{ name: "<old>", parent: ... }]`
// to the resource, then accept the new list with `npx jest --selectProjects unit -u urns`.
import { PROD_SECRETS, runProgram } from "../helpers/program";

/** URNs without the `urn:pulumi:<stack>::<project>::` prefix, sorted. */
async function urns(stack: string): Promise<string[]> {
  const r = await runProgram(stack, stack === "prod" ? PROD_SECRETS : {});
  return r.resources.map((x) => x.urn.replace(/^urn:pulumi:[^:]+::[^:]+::/, "")).sort();
}

describe("resource URNs", () => {
  it.each(["dev", "prod"])("of the %s stack are the committed ones", async (stack) => {
    expect(await urns(stack)).toMatchSnapshot();
  });
});
