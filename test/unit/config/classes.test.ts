// The classes of config mistakes (issue 14) that used to pass: each class with
// several variants that must fail, and the look-alikes that must still pass.
import { ADMIN_ROLE, ConfigError, PROGRAM_ROLES, RawConfig, SUPERUSER, loadStackConfig, parseConfig } from "../../../components/config";
import { PGBOUNCER_AUTH_ROLE, ADMIN_CONSOLE_USER } from "../../../components/pooler/render";
import { bucketNameProblem } from "../../../components/lib/names";
import { dockerHostProblem } from "../../../components/lib/net";

const P = "homelab-postgres";
const PASS = "a-long-enough-backup-passphrase";

function problems(stack: string, raw: RawConfig, secretKeys?: string[]): { path: string; message: string }[] {
  try {
    parseConfig(stack, raw, {}, { secretKeys });
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

function problemAt(stack: string, raw: RawConfig, path: string, secretKeys?: string[]): string | undefined {
  return problems(stack, raw, secretKeys).find((p) => p.path === `${P}:${path}`)?.message;
}

describe("role names derived from app and user names", () => {
  // PostgreSQL refuses CREATE ROLE in pg_ (src/backend/commands/user.c: "Role names
  // starting with \"pg_\" are reserved"); every predefined role of 15-17 lives there.
  it.each([
    ["pg", "monitor", "pg_monitor"],
    ["pg", "read_all_data", "pg_read_all_data"],
    ["pg", "write_all_data", "pg_write_all_data"],
    ["pg", "read_all_stats", "pg_read_all_stats"],
    ["pg", "signal_backend", "pg_signal_backend"],
    ["pg", "checkpoint", "pg_checkpoint"], // 15+
    ["pg", "maintain", "pg_maintain"], // 17
    ["pg", "database_owner", "pg_database_owner"],
    ["pg", "anything", "pg_anything"],
  ])("refuses app %j with read-only user %j (role %s)", (name, user, role) => {
    expect(problemAt("dev", { apps: [{ name, readonlyUsers: [user] }] }, "apps[0].readonlyUsers[0]")).toMatch(new RegExp(`^gives the role ${role}, which .*reserved pg_ namespace`));
  });

  it("refuses an app whose owner role would be pg_owner", () => {
    expect(problemAt("dev", { apps: [{ name: "pg" }] }, "apps[0].name")).toMatch(/owner role pg_owner.*reserved pg_ namespace/);
  });

  it.each([
    ["current", "user"], ["session", "user"], ["system", "user"], ["current", "role"],
  ])("refuses app %j with user %j: the role would read as a role specifier", (name, user) => {
    expect(problemAt("dev", { apps: [{ name, readonlyUsers: [user] }] }, "apps[0].readonlyUsers[0]")).toMatch(
      new RegExp(`gives the role ${name}_${user}, which is a built-in or reserved role name`),
    );
  });

  it("refuses the program's own roles, however derived", () => {
    expect(PROGRAM_ROLES).toContain(PGBOUNCER_AUTH_ROLE);
    // pgbouncer + auth -> pgbouncer_auth: the app name is reserved, and so would the role be
    expect(problemAt("dev", { apps: [{ name: "pgbouncer", readonlyUsers: ["auth"] }] }, "apps[0].name")).toMatch(/reserved/);
    for (const name of [SUPERUSER, ADMIN_CONSOLE_USER, "pgbouncer-auth", "pg-monitor", "public", "pg_", "pg-"]) {
      expect(problemAt("dev", { apps: [{ name }] }, "apps[0].name")).toMatch(/reserved/);
    }
  });

  it("accepts look-alikes outside the reserved names", () => {
    for (const raw of [
      { apps: [{ name: "pgx", readonlyUsers: ["monitor"] }] },
      { apps: [{ name: "postgresql", readonlyUsers: ["ro"] }] },
      { apps: [{ name: "current", readonlyUsers: ["users"] }] },
      { apps: [{ name: "page", readonlyUsers: ["reader"] }] },
    ]) {
      expect(problems("dev", raw)).toEqual([]);
    }
  });
});

describe("an app entry missing a field still reports its other problems", () => {
  it("reports every problem of a nameless entry at once, each at its key path", () => {
    const raw: RawConfig = {
      postgres: { maxConnections: 40 },
      apps: [{ extensions: ["vectr"], readonlyUsers: ["ro", "ro", "Bad"], connectionLimit: 5, rotation: "", typo: 1 }],
    };
    const paths = problems("dev", raw).map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        `${P}:apps[0].name`,
        `${P}:apps[0].extensions[0]`,
        `${P}:apps[0].readonlyUsers[1]`,
        `${P}:apps[0].readonlyUsers[2]`,
        `${P}:apps[0].connectionLimit`,
        `${P}:apps[0].rotation`,
        `${P}:apps[0].typo`,
      ]),
    );
  });

  it("checks connection limits of a nameless entry against the server and the pool", () => {
    expect(problemAt("dev", { postgres: { maxConnections: 40 }, apps: [{ connectionLimit: 50 }] }, "apps[0].connectionLimit")).toMatch(/between 1 and 40/);
    expect(problemAt("dev", { apps: [{ connectionLimit: 3 }] }, "apps[0].connectionLimit")).toMatch(/below pgbouncer.defaultPoolSize 10/);
  });

  it("a name of the wrong type hides nothing either", () => {
    const paths = problems("dev", { apps: [{ name: 7, readonlyUsers: ["x", "x"], extensions: ["nope"] }] }).map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining([`${P}:apps[0].name`, `${P}:apps[0].readonlyUsers[1]`, `${P}:apps[0].extensions[0]`]));
  });
});

describe("bucket names S3 refuses", () => {
  // AWS S3 user guide, "General purpose bucket naming rules"
  it.each([
    ["ab", /3-63/],
    ["a".repeat(64), /3-63/],
    ["My-Bucket", /lower-case/],
    ["my_bucket", /lower-case/],
    ["-bucket", /begin and end/],
    ["bucket.", /begin and end/],
    ["my..bucket", /adjacent dots/],
    ["192.168.5.4", /IP address/],
    ["10.0.0.1", /IP address/],
    ["xn--bucket", /xn--/],
    ["sthree-bucket", /sthree-/],
    ["sthree-configurator-x", /sthree-/],
    ["amzn-s3-demo-bucket", /amzn-s3-demo-/],
    ["backups-s3alias", /-s3alias/],
    ["backups--ol-s3", /--ol-s3/],
    ["backups.mrap", /\.mrap/],
    ["backups--x-s3", /--x-s3/],
    ["backups--table-s3", /--table-s3/],
  ])("refuses %j", (bucket, message) => {
    expect(bucketNameProblem(bucket)).toMatch(message);
    expect(problemAt("dev", { backup: { enabled: true, bucket } }, "backup.bucket")).toMatch(message);
  });

  it.each(["abc", "my-backups", "pg.backups.example", "a".repeat(63), "1bucket2", "192.168.5.4x", "xn-bucket", "s3alias-first"])("accepts %j", (bucket) => {
    expect(bucketNameProblem(bucket)).toBeUndefined();
    expect(problems("dev", { backup: { enabled: true, bucket } })).toEqual([]);
  });
});

describe("connection limits below the pool", () => {
  it("refuses an app limit below pgbouncer.defaultPoolSize, set or defaulted", () => {
    expect(problemAt("dev", { apps: [{ name: "a", connectionLimit: 9 }] }, "apps[0].connectionLimit")).toMatch(/below pgbouncer.defaultPoolSize 10/);
    // the default limit (20) is below a pool of 25
    expect(problemAt("dev", { pgbouncer: { defaultPoolSize: 25 }, apps: [{ name: "a" }] }, "apps[0].connectionLimit")).toMatch(/20 is below pgbouncer.defaultPoolSize 25/);
  });

  it("accepts a limit equal to the pool, and any limit when pgBouncer is off", () => {
    expect(problems("dev", { apps: [{ name: "a", connectionLimit: 10 }] })).toEqual([]);
    expect(problems("dev", { pgbouncer: { enabled: false, defaultPoolSize: 50 }, apps: [{ name: "a", connectionLimit: 2 }] })).toEqual([]);
  });
});

describe("a prod stack's secrets given in plain text", () => {
  const prod: RawConfig = { tailscale: { ip: "100.88.1.2" }, backup: { enabled: true, bucket: "my-backups", encryptionPassphrase: PASS } };

  it("refuses a plain-text passphrase in prod, naming the key and the fix", () => {
    expect(problemAt("prod", prod, "backup.encryptionPassphrase", [])).toMatch(/plain text.*--secret --path backup.encryptionPassphrase/);
    expect(problemAt("prod-eu", prod, "backup.encryptionPassphrase", ["tailscale"])).toMatch(/plain text/);
  });

  it("refuses every key documented as secret, not only the passphrase", () => {
    const raw: RawConfig = {
      ...prod,
      postgres: { tls: { enabled: true, certificate: "-----BEGIN CERTIFICATE-----", privateKey: "-----BEGIN PRIVATE KEY-----" } },
      backup: { ...(prod.backup as object), endpoint: "https://minio.example.net", endpointCredentials: { accessKeyId: "k", secretAccessKey: "s" } },
    };
    const paths = problems("prod", raw, ["tailscale"]).map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining([`${P}:postgres.tls.privateKey`, `${P}:backup.encryptionPassphrase`, `${P}:backup.endpointCredentials.secretAccessKey`]));
    expect(problems("prod", raw, ["backup", "postgres"])).toEqual([]);
  });

  it("accepts it as a secret, and in plain text outside prod", () => {
    expect(problems("prod", prod, ["backup"])).toEqual([]);
    expect(problems("dev", { backup: prod.backup }, [])).toEqual([]);
    expect(problems("production", { backup: prod.backup }, [])).toEqual([]); // not a prod stack by the program's rule
  });

  it("loadStackConfig asks the engine which keys are secret", () => {
    const all = {
      [`${P}:tailscale`]: JSON.stringify({ ip: "100.88.1.2" }),
      [`${P}:backup`]: JSON.stringify(prod.backup),
    };
    expect(() => loadStackConfig("prod", all, () => false)).toThrow(/backup.encryptionPassphrase: is in plain text/);
    expect(() => loadStackConfig("prod", all, (k) => k === `${P}:backup`)).not.toThrow();
    // the engine's legacy `project:config:key` spelling
    const legacy = Object.fromEntries(Object.entries(all).map(([k, v]) => [k.replace(":", ":config:"), v]));
    expect(() => loadStackConfig("prod", legacy, (k) => k === `${P}:config:backup`)).not.toThrow();
  });
});

describe("docker host URLs whose host part is not a host", () => {
  it.each([
    "ssh://user@/",
    "ssh://user@",
    "ssh://",
    "ssh://@host",
    "ssh://user:secret@host",
    "ssh://user@host:22abc",
    "ssh://user@host:0",
    "ssh://user@host:99999",
    "ssh://user@host:",
    "ssh://user@host/../etc",
    "ssh://user@host?x=1",
    "ssh://us er@host",
    "ssh://user@-host",
    "ssh://user@300.1.1.1",
    "tcp://:2375",
    "tcp://",
    "tcp://host:port",
    "tcp://user@host:2375",
    "tcp://host:2375/path",
    "tcp://[::1",
    "tcp://[not-v6]:2375",
    "unix://",
    "unix://relative/docker.sock",
    "unix:///",
    "unix:///var/run/../docker.sock",
    "npipe://",
    "npipe://pipe",
    "http://host:2375",
    "SSH://host",
    "homelab:2375",
  ])("refuses %j", (url) => {
    expect(dockerHostProblem(url)).toBeDefined();
    expect(problemAt("dev", { dockerHost: url, tailscale: { ip: "100.64.1.1" } }, "dockerHost")).toBeDefined();
  });

  it.each([
    "ssh://ops@homelab",
    "ssh://homelab",
    "ssh://ops@homelab.tail1234.ts.net:2222",
    "ssh://ops@100.64.1.2",
    "ssh://ops@[fd7a:115c:a1e0::1]:22",
    "ssh://ops@homelab/run/user/1000/docker.sock",
    "tcp://10.0.0.2:2376",
    "tcp://docker.example.net",
    "tcp://[::1]:2375/",
    "unix:///var/run/docker.sock",
    "unix:///run/user/1000/docker.sock",
    "npipe:////./pipe/docker_engine",
  ])("accepts %j", (url) => {
    expect(dockerHostProblem(url)).toBeUndefined();
    expect(problems("dev", { dockerHost: url, tailscale: { ip: "100.64.1.1" } })).toEqual([]);
  });
});

describe("passphrases of any printable character are accepted", () => {
  const nasty = [
    "correct horse battery staple 42",
    `it's "quoted" and \`backticked\` $HOME`,
    "a=b=c#not-a-comment;not;a;separator",
    "back\\slash\\es\\\\ and \\n literally",
    "$(rm -rf /) ${IFS} `id` ; | & > <",
    "ünïcödé pässphrase — 長いパスフレーズ",
    "       inner   spaces    only       x".trim(),
  ];

  it.each(nasty)("accepts %j", (encryptionPassphrase) => {
    expect(problems("dev", { backup: { enabled: true, bucket: "my-backups", encryptionPassphrase } })).toEqual([]);
  });

  it.each([
    [" leading space and long enough", /begins or ends with a space/],
    ["trailing space and long enough ", /begins or ends with a space/],
    ["tab\tinside and long enough", /control character/],
    ["line\nbreak and long enough", /control character/],
    ["nul\0byte and long enough!!", /control character/],
    ["short but spaced", /at least 20/],
  ])("refuses %j, which no pgbackrest.conf line can carry unchanged", (encryptionPassphrase, message) => {
    expect(problemAt("dev", { backup: { enabled: true, bucket: "my-backups", encryptionPassphrase } }, "backup.encryptionPassphrase")).toMatch(message);
  });

  it("checks S3-compatible keys by the same rule, since they land in the same file", () => {
    const b = { enabled: true, bucket: "my-backups", endpoint: "https://minio.example.net" };
    expect(problemAt("dev", { backup: { ...b, endpointCredentials: { accessKeyId: "k", secretAccessKey: "s3cr3t\nrepo1-cipher-type=none" } } }, "backup.endpointCredentials.secretAccessKey")).toMatch(/control character/);
    expect(problems("dev", { backup: { ...b, endpointCredentials: { accessKeyId: "k", secretAccessKey: "s3cr3t with # and $ and 'q'" } } })).toEqual([]);
  });
});

describe("a backup section without `enabled: true` still reports its other problems", () => {
  it.each([[{}], [{ enabled: false }]])("with %j", (over) => {
    const raw: RawConfig = {
      backup: { ...over, bucket: "Bad_Bucket", encryptionPassphrase: "short", schedule: { full: "every day" }, endpoint: "http://minio:9000", region: "Not A Region" },
    };
    const paths = problems("dev", raw).map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining([
      `${P}:backup.bucket`, `${P}:backup.encryptionPassphrase`, `${P}:backup.schedule.full`, `${P}:backup.endpoint`, `${P}:backup.region`,
    ]));
    // nothing is required of a disabled section
    expect(paths).not.toContain(`${P}:backup.endpointCredentials`);
    expect(problems("dev", { backup: { enabled: false } })).toEqual([]);
  });
});

describe("the admin role's name", () => {
  it("is a program role no app or user name can derive", () => {
    expect(PROGRAM_ROLES).toContain(ADMIN_ROLE);
    // app db + user admin -> db_admin, from either list
    expect(problemAt("dev", { apps: [{ name: "db", readonlyUsers: ["admin"] }] }, "apps[0].readonlyUsers[0]")).toMatch(/gives the role db_admin, which is a built-in or reserved role name/);
    expect(problemAt("dev", { apps: [{ name: "db", readwriteUsers: ["admin"] }] }, "apps[0].readwriteUsers[0]")).toMatch(/gives the role db_admin, which is a built-in or reserved role name/);
    // app "db-admin" keeps its own roles (db_admin_owner); its database is not a role
    expect(parseConfig("dev", { apps: [{ name: "db-admin" }] }).apps[0].owner).toBe("db_admin_owner");
  });
});

describe("read-write users, extra schemas, database connection limit", () => {
  it("expands read-write users to <database>_<user> roles", () => {
    const c = parseConfig("dev", { apps: [{ name: "n8n-main", readwriteUsers: ["worker"], readonlyUsers: ["bi"] }] });
    expect(c.apps[0].readwriteUsers).toEqual([{ user: "worker", role: "n8n_main_worker" }]);
    expect(c.apps[0].readonlyUsers).toEqual([{ user: "bi", role: "n8n_main_bi" }]);
    expect(c.apps[0].schemas).toEqual([]);
    expect(c.apps[0].databaseConnectionLimit).toBeUndefined();
  });

  it.each([
    [{ readwriteUsers: ['x"; drop'] }, "apps[0].readwriteUsers[0]", /must match/],
    [{ readwriteUsers: ["owner"] }, "apps[0].readwriteUsers[0]", /not be 'owner'/],
    [{ readwriteUsers: ["w", "w"] }, "apps[0].readwriteUsers[1]", /lists "w" twice/],
    [{ readonlyUsers: ["u"], readwriteUsers: ["u"] }, "apps[0].readwriteUsers[0]", /lists "u" in readonlyUsers too: a user is read-only or read-write/],
    [{ readwriteUsers: "w" }, "apps[0].readwriteUsers", /expected/],
    [{ schemas: ["Audit"] }, "apps[0].schemas[0]", /must match/],
    [{ schemas: ["public"] }, "apps[0].schemas[0]", /built-in or reserved schema name/],
    [{ schemas: ["information_schema"] }, "apps[0].schemas[0]", /built-in or reserved schema name/],
    [{ schemas: ["pg_temp"] }, "apps[0].schemas[0]", /built-in or reserved schema name/],
    [{ schemas: ["audit", "audit"] }, "apps[0].schemas[1]", /lists "audit" twice/],
    [{ schemas: ["a".repeat(64)] }, "apps[0].schemas[0]", /must match/],
    [{ databaseConnectionLimit: 0 }, "apps[0].databaseConnectionLimit", /./],
    [{ databaseConnectionLimit: "many" }, "apps[0].databaseConnectionLimit", /./],
    [{ connectionLimit: 30, databaseConnectionLimit: 20 }, "apps[0].databaseConnectionLimit", /20 is below connectionLimit 30/],
    [{ databaseConnectionLimit: 150 }, "apps[0].databaseConnectionLimit", /between connectionLimit and 100 \(postgres.maxConnections\), got 150/],
  ])("refuses %j, naming the key", (extra, path, message) => {
    expect(problemAt("dev", { apps: [{ name: "shop", ...extra }] }, path)).toMatch(message);
  });

  it("checks an entry's users, schemas and limits when its name is missing", () => {
    const paths = problems("dev", { apps: [{ readwriteUsers: ["w", "w"], schemas: ["public"], connectionLimit: 30, databaseConnectionLimit: 20 }] }).map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([`${P}:apps[0].name`, `${P}:apps[0].readwriteUsers[1]`, `${P}:apps[0].schemas[0]`, `${P}:apps[0].databaseConnectionLimit`]),
    );
  });

  it("refuses a read-write user whose role clashes with another app's owner", () => {
    // app "a" + read-write "b_owner" → role a_b_owner, the owner role of app "a-b"
    expect(problemAt("dev", { apps: [{ name: "a", readwriteUsers: ["b_owner"] }, { name: "a-b" }] }, "apps[1].name")).toMatch(/clashes with read-write user b_owner of a/);
  });

  it("accepts a database limit between connectionLimit and maxConnections", () => {
    const c = parseConfig("dev", { apps: [{ name: "shop", connectionLimit: 20, databaseConnectionLimit: 20 }, { name: "blog", databaseConnectionLimit: 100 }] });
    expect(c.apps.map((a) => a.databaseConnectionLimit)).toEqual([20, 100]);
  });
});
