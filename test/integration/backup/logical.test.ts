// Per-app logical dumps for real: the rendered sidecar script dumps each app
// database with pg_dump -Fc, encrypts it with age to the key derived from the
// backup passphrase, uploads it with curl (SigV4, checked by the endpoint) under
// logical/<app>/, and the runbook's restore-app brings one app back into a new
// database that equals the source, leaving the other apps alone.
import * as fs from "fs";
import * as path from "path";
import { BackupApp, LOGICAL_PREFIX, ageKeyFromPassphrase, runbook } from "../../../components/backup";
import { GLOBALS_DIR } from "../../../components/backup/layout";
import { runOk, tempDir, writeFile } from "../harness";
import { BackupFixture, expectOk, startBackupFixture, tableFingerprints } from "./fixture";

const APPS: BackupApp[] = [
  { name: "shop-app", database: "shop_app", owner: "shop_app_owner" },
  { name: "blog", database: "blog", owner: "blog_owner" },
];
const MARKER = "PLAINTEXT-MARKER-7f3a";

describe("per-app logical dumps, age-encrypted, in S3", () => {
  let f: BackupFixture;

  beforeAll(async () => {
    f = await startBackupFixture({ apps: APPS });
    for (const a of APPS) {
      await f.pg.sql(`create role ${a.owner} login password 'x-${a.owner}-pw'`);
      await f.pg.sql(`create database ${a.database} owner ${a.owner} template template0 encoding 'UTF8'`);
    }
    await f.pg.sql("create role shop_app_analytics login password 'ro-pw'");
    // extensions as the program creates them: by the superuser, one of them untrusted
    await f.pg.sql("create extension pg_trgm; create extension pg_stat_statements", "shop_app");
    // Objects are created by the owner, as the app would create them.
    await f.pg.sql(`
      set role shop_app_owner;
      create table customers (id int primary key, email text unique not null, profile jsonb not null default '{}');
      create table orders (id bigserial primary key, customer_id int not null references customers(id), total numeric(12,2) not null, note text, placed_at timestamptz not null);
      create index orders_customer on orders (customer_id);
      create view big_orders as select * from orders where total > 900;
      insert into customers select g, 'c' || g || '@example.test', jsonb_build_object('tier', g % 3) from generate_series(1, 300) g;
      insert into orders (customer_id, total, note, placed_at)
        select 1 + g % 300, (g * 37 % 100000) / 100.0, case when g = 42 then '${MARKER}' end, timestamptz '2026-01-01 00:00+00' + g * interval '1 minute'
        from generate_series(1, 4000) g;
      grant select on orders to shop_app_analytics;
    `, "shop_app");
    await f.pg.sql("set role blog_owner; create table posts (id int primary key, title text); insert into posts select g, 'post ' || g from generate_series(1, 50) g", "blog");
  });
  afterAll(async () => {
    await f?.destroy();
  });

  it("dumps every app under its own prefix, encrypted", async () => {
    const r = expectOk(await f.script(["logical"]), "hlpg-backup logical");
    expect(r.stderr).toMatch(/job_logical: ok/);
    for (const a of APPS) {
      const listed = expectOk(await f.script(runbook.listDumps(a.name)), "list-dumps").stdout.trim().split("\n");
      expect(listed).toHaveLength(1);
      expect(listed[0]).toMatch(new RegExp(`^${LOGICAL_PREFIX}${a.name}/\\d{8}T\\d{6}Z\\.dump\\.age$`));
      expect(await f.s3.listKeys(`${LOGICAL_PREFIX}${a.name}/`)).toEqual(listed);
      const raw = f.s3.readObject(listed[0]);
      expect(raw.subarray(0, 21).toString()).toBe("age-encryption.org/v1");
      expect(raw.toString("latin1")).not.toContain(MARKER);
      expect(raw.toString("latin1")).not.toContain("PGDMP"); // pg_dump's custom-format magic
    }
    // the dumps, and the roles' globals (pg_dumpall --globals-only) with every run, went up
    // signed (the endpoint refuses bad SigV4 with 403)
    const puts = f.s3.requests.filter((q) => q.method === "PUT" && q.url.includes(LOGICAL_PREFIX) && q.status === 200).map((q) => q.url);
    expect(puts.filter((u) => !u.includes(`/${GLOBALS_DIR}/`))).toHaveLength(APPS.length);
    expect(puts.filter((u) => new RegExp(`/${LOGICAL_PREFIX}${GLOBALS_DIR}/\\d{8}T\\d{6}Z\\.sql\\.age$`).test(u))).toHaveLength(1);
    // staging files are gone: plaintext never stays on disk, ciphertext not either
    expect(fs.readdirSync(path.join(f.workDir, "scratch"))).toEqual([]);
  });

  it("restores one app into a new database equal to the source, other apps untouched", async () => {
    const blogBefore = await tableFingerprints(f.pg, "blog");
    const r = expectOk(await f.script(runbook.restoreApp("shop-app", "shop_app_restored")), "hlpg-backup restore-app");
    expect(r.stderr).toMatch(/restore-app: done/);
    const source = await tableFingerprints(f.pg, "shop_app");
    const copy = await tableFingerprints(f.pg, "shop_app_restored");
    expect(Object.keys(source).sort()).toEqual(["customers", "orders"]);
    expect(source.orders.rows).toBe(4000);
    expect(copy).toEqual(source);
    expect(await tableFingerprints(f.pg, "blog")).toEqual(blogBefore);

    const c = await f.pg.connect({ database: "shop_app_restored" });
    try {
      const owners = await c.query("select tableowner from pg_tables where schemaname = 'public' union select pg_get_userbyid(datdba) from pg_database where datname = current_database()");
      expect(owners.rows.map((x) => x.tableowner)).toEqual(["shop_app_owner"]);
      const ext = await c.query("select extname from pg_extension where extname <> 'plpgsql' order by 1");
      expect(ext.rows.map((x) => x.extname)).toEqual(["pg_stat_statements", "pg_trgm"]);
      const view = await c.query("select count(*)::int as n from big_orders");
      expect(view.rows[0].n).toBeGreaterThan(0);
      const grant = await c.query("select has_table_privilege('shop_app_analytics', 'orders', 'select') as ro");
      expect(grant.rows[0].ro).toBe(true);
      // the sequence continues after the restored rows
      const next = await c.query("insert into orders (customer_id, total, placed_at) values (1, 1, now()) returning id");
      expect(Number(next.rows[0].id)).toBe(4001);
    } finally {
      await c.end();
    }
  });

  it("works with only HLPG_SECRETS_FILE in the environment: list-dumps and restore-app read the S3 key and age identity from the file", async () => {
    const listed = expectOk(await f.scriptFromFiles(runbook.listDumps("blog")), "list-dumps (secrets file)").stdout.trim().split("\n");
    expect(listed).toEqual(await f.s3.listKeys(`${LOGICAL_PREFIX}blog/`));
    const r = expectOk(await f.scriptFromFiles(runbook.restoreApp("blog", "blog_from_files")), "restore-app (secrets file)");
    expect(r.stderr).toMatch(/restore-app: done/);
    expect(await tableFingerprints(f.pg, "blog_from_files")).toEqual(await tableFingerprints(f.pg, "blog"));
  });

  it("never overwrites an existing database", async () => {
    const before = await tableFingerprints(f.pg, "blog");
    const r = await f.script(runbook.restoreApp("blog", "blog"));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/already exists/);
    expect(await tableFingerprints(f.pg, "blog")).toEqual(before);
  });

  it("fails loudly with the key of a different passphrase, and creates nothing", async () => {
    const wrong = ageKeyFromPassphrase("some-other-passphrase-entirely");
    const r = await f.script(runbook.restoreApp("blog", "blog_wrong_key"), { HLPG_AGE_IDENTITY: wrong.identity });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no identity matched any of the recipients/);
    const c = await f.pg.connect();
    try {
      expect((await c.query("select count(*)::int as n from pg_database where datname = 'blog_wrong_key'")).rows[0].n).toBe(0);
    } finally {
      await c.end();
    }
  });

  it("derives the same age key the age tool derives from the identity", async () => {
    const dir = tempDir("agekey");
    const file = path.join(dir, "identity.txt");
    writeFile(file, f.age.identity + "\n");
    const r = await runOk("/usr/bin/age-keygen", ["-y", file]);
    expect(r.stdout.trim()).toBe(f.age.recipient);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("refuses an unknown app and a key outside the app's prefix", async () => {
    const unknown = await f.script(runbook.restoreApp("nope", "nope_restored"));
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/unknown app 'nope'/);
    const other = await f.script(runbook.restoreApp("blog", "blog_other", `${LOGICAL_PREFIX}shop-app/20260101T000000Z.dump.age`));
    expect(other.code).not.toBe(0);
    expect(other.stderr).toMatch(/is not a dump of app 'blog'/);
  });
});
