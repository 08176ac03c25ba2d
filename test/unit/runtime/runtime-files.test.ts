// The config carrier's script, healthcheck and volume, as text (the integration
// tests run the script with real sh: test/integration/pooler/reload.test.ts).
import { carrierHealthcheck, renderCarrierScript, runtimeVolumeOptions } from "../../../components/runtime";

describe("RuntimeFiles carrier", () => {
  it("copies each file in its own command line, so that `set -e` stops at a failed copy", () => {
    const sh = renderCarrierScript(["pgbouncer.ini"]);
    expect(sh.split("\n")[0]).toBe("set -eu");
    expect(sh).not.toMatch(/&&/);
    expect(sh).toMatch(/^cp \/hlpg-staging\/pgbouncer\.ini \/hlpg-runtime\/\.pgbouncer\.ini\.tmp$/m);
    expect(sh).toMatch(/^mv -f \/hlpg-runtime\/\.pgbouncer\.ini\.tmp \/hlpg-runtime\/pgbouncer\.ini$/m);
    expect(() => renderCarrierScript(["../etc/passwd"])).toThrow();
    expect(carrierHealthcheck(["a", "b"])).toEqual(["CMD", "sh", "-c", "cmp -s /hlpg-staging/a /hlpg-runtime/a && cmp -s /hlpg-staging/b /hlpg-runtime/b"]);
  });

  it("gives the runtime volume to the carrier's user (a tmpfs)", () => {
    expect(runtimeVolumeOptions("70:70")).toEqual({ type: "tmpfs", device: "tmpfs", o: "size=8m,mode=0755,uid=70,gid=70" });
    expect(() => runtimeVolumeOptions("postgres")).toThrow(/numeric/);
  });
});
