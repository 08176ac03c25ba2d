// Per-app pooling in config: `apps[].pool` defaults, the limits it implies for the
// app, the server's connection budget with pools of different sizes; and the rotation
// logins' names (`<role>_b`), which must fit PostgreSQL's 63 bytes and clash with nothing.
import { parseConfig } from "../../../components/config";
import { problems } from "../../helpers/config";

const at = (raw: Record<string, unknown>) => problems("dev", raw).map((p) => `${p.path.replace("homelab-postgres:", "")}: ${p.message}`);

describe("apps[].pool", () => {
  it("defaults each key to the pgbouncer section's, and takes the app's own", () => {
    const cfg = parseConfig("dev", {
      pgbouncer: { poolMode: "transaction", defaultPoolSize: 7 },
      apps: [{ name: "a" }, { name: "b", pool: { mode: "session" } }, { name: "c", pool: { size: 3 } }, { name: "d", pool: { mode: "statement", size: 12 }, connectionLimit: 12 }],
    });
    expect(cfg.apps.map((a) => [a.name, a.pool])).toEqual([
      ["a", { mode: "transaction", size: 7 }],
      ["b", { mode: "session", size: 7 }],
      ["c", { mode: "transaction", size: 3 }],
      ["d", { mode: "statement", size: 12 }],
    ]);
  });

  it("refuses an unknown mode, a non-integer size and unknown keys, each by its key", () => {
    expect(at({ apps: [{ name: "a", pool: { mode: "sesion", size: 2.5, sise: 3 } }] })).toEqual([
      expect.stringMatching(/^apps\[0\]\.pool\.mode: must be session, transaction or statement, got string "sesion"/),
      expect.stringMatching(/^apps\[0\]\.pool\.size: expected an integer/),
      expect.stringMatching(/^apps\[0\]\.pool\.sise: unknown key \(did you mean 'size'\?\)/),
    ]);
  });

  it("refuses a connectionLimit or databaseConnectionLimit below the app's own pool size, naming both keys at once", () => {
    const found = at({ pgbouncer: { defaultPoolSize: 5 }, apps: [{ name: "a", pool: { size: 15 }, connectionLimit: 12, databaseConnectionLimit: 14 }] });
    expect(found).toEqual([
      expect.stringMatching(/^apps\[0\]\.connectionLimit: 12 is below pool\.size 15: the pooler may open that many server connections as one login role of this app; raise connectionLimit or lower pool\.size$/),
      expect.stringMatching(/^apps\[0\]\.databaseConnectionLimit: 14 is below pool\.size 15: .* into this app's database/),
    ]);
    // a small own pool lets a small limit pass even when the default pool is larger
    expect(at({ pgbouncer: { defaultPoolSize: 25 }, apps: [{ name: "a", pool: { size: 4 }, connectionLimit: 4, databaseConnectionLimit: 4 }] })).toEqual([]);
    // the pooler off: no pool to fit
    expect(at({ pgbouncer: { enabled: false }, apps: [{ name: "a", pool: { size: 50 }, connectionLimit: 2 }] })).toEqual([]);
  });

  it("holds the sum of every app's pool + 1 auth connection to maxConnections − 3 − 10", () => {
    const apps = [{ name: "big", pool: { size: 60 }, connectionLimit: 60 }, { name: "small", pool: { size: 23 }, connectionLimit: 23 }];
    // 60 + 23 + 1 = 84 ≤ 87
    expect(at({ postgres: { maxConnections: 100 }, apps })).toEqual([]);
    // 60 + 26 + 1 = 87 ≤ 87: exactly at the edge
    expect(at({ postgres: { maxConnections: 100 }, apps: [apps[0], { ...apps[1], pool: { size: 26 }, connectionLimit: 26 }] })).toEqual([]);
    // 60 + 27 + 1 = 88: named at the largest own pool when no app takes the default
    expect(at({ postgres: { maxConnections: 100 }, apps: [apps[0], { ...apps[1], pool: { size: 27 }, connectionLimit: 27 }] })).toEqual([
      "apps[0].pool.size: 2 app pool(s) (big 60, small 27) + 1 auth connection = 88 server connections, but postgres.maxConnections 100 leaves only 87 (minus 3 superuser-reserved and 10 direct). Lower the pool sizes or raise postgres.maxConnections",
    ]);
    // an app on the default pool: named at pgbouncer.defaultPoolSize
    expect(at({ postgres: { maxConnections: 100 }, pgbouncer: { defaultPoolSize: 27 }, apps: [apps[0], { name: "dflt", connectionLimit: 27 }] })).toEqual([
      expect.stringMatching(/^pgbouncer\.defaultPoolSize: 2 app pool\(s\) \(big 60, dflt 27\) \+ 1 auth connection = 88 /),
    ]);
  });
});

describe("rotation logins in config", () => {
  it("refuses a role whose `_b` login would not fit 63 bytes", () => {
    const db = "a".repeat(48);
    // 48 + "_" + 14 = 63: the role fits, its login (65) does not
    expect(at({ apps: [{ name: db, readonlyUsers: ["u".repeat(14)] }] })).toEqual([
      `apps[0].readonlyUsers[0]: gives the role ${db}_${"u".repeat(14)}, which leaves no room for its rotation login ${db}_${"u".repeat(14)}_b (names are at most 63 bytes); choose another user name`,
    ]);
    // 61 + 2 = 63 fits
    expect(at({ apps: [{ name: db, readonlyUsers: ["u".repeat(12)] }] })).toEqual([]);
  });

  it("refuses a user whose role is another role's rotation login, in the app or across apps", () => {
    expect(at({ apps: [{ name: "shop", readonlyUsers: ["owner_b"] }] })).toEqual([
      'apps[0].readonlyUsers[0]: "shop_owner_b" clashes with the owner\'s rotation login of shop',
    ]);
    expect(at({ apps: [{ name: "shop", readonlyUsers: ["x"], readwriteUsers: ["x_b"] }] })).toEqual([
      'apps[0].readwriteUsers[0]: "shop_x_b" clashes with the rotation login of read-only user x of shop',
    ]);
    expect(at({ apps: [{ name: "shop", readonlyUsers: ["x_owner_b"] }, { name: "shop_x" }] })).toEqual([
      'apps[1].name: "shop_x_owner_b" clashes with read-only user x_owner_b of shop',
    ]);
  });

  it("counts rotations from whole numbers ≥ 1; any other value is generation 0", () => {
    const gen = (rotation: unknown) => parseConfig("dev", { apps: [{ name: "a", rotation }] }).apps[0].rotation;
    // numbers from YAML arrive as strings: what the program keys passwords on
    expect([gen(1), gen("2"), gen("initial"), gen("2026-11")]).toEqual(["1", "2", "initial", "2026-11"]);
  });
});
