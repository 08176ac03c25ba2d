// consumer.ts's read-only URL: the standby's when the platform runs one, else the primary's.
import { pickReadonlyUrl } from "../../../consumer";
import type { DatabaseEntry } from "../../../components/outputs";

const entry = (standbyUrl?: string): DatabaseEntry => ({
  database: "shop", user: "shop_owner", password: "p", url: "postgresql://owner@primary/shop",
  readonlyUsers: { viewer: { user: "shop_viewer", password: "v", url: "postgresql://viewer@primary/shop", ...(standbyUrl ? { standbyUrl } : {}) } },
  readwriteUsers: {},
});

describe("pickReadonlyUrl", () => {
  it("reads on the standby when there is one, else on the primary", () => {
    expect(pickReadonlyUrl(entry("postgresql://viewer@standby/shop"), "viewer")).toBe("postgresql://viewer@standby/shop");
    expect(pickReadonlyUrl(entry(), "viewer")).toBe("postgresql://viewer@primary/shop");
  });

  it("names the read-only users when the user is not one", () => {
    expect(() => pickReadonlyUrl(entry(), "owner")).toThrow(/"owner" is not a read-only user of shop \(read-only users: viewer\)/);
  });
});
