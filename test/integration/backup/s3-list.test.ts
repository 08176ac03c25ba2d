// The sidecar's S3 listing for real: the rendered script's s3_list against the
// HTTPS S3 endpoint (SigV4 checked) over several pages (continuation tokens),
// with keys that XML must escape or encode (&, <, quotes, non-ASCII); and its
// page parser (xmllint) on captured ListObjectsV2 XML: entities, CDATA, a
// namespace prefix or none, a truncated page without a token.
import * as path from "path";
import {
  BackupApp, DEFAULT_BACKUP_SCHEDULE, ageKeyFromPassphrase, healthLimits, renderSidecarRuntime, renderSidecarScript, renderSidecarSecretsEnv, runbook,
} from "../../../components/backup";
import { RunResult, run, tempDir, writeFile } from "../harness";
import { expectOk, requireBackupBinaries } from "./fixture";
import { S3Endpoint, startS3 } from "./s3-endpoint";
import * as fs from "fs";

const APPS: BackupApp[] = [{ name: "blog", database: "blog", owner: "blog_owner" }];
// Keys a listing must bring back byte for byte; each is also the last key of some page.
const ODD_KEYS = [
  "odd/a&b.dump.age",
  "odd/x<y>z.dump.age",
  `odd/"double" 'single'.dump.age`,
  "odd/été & ünïcode.dump.age",
  "odd/plus+equals=semi;colon.dump.age",
  "odd/amp&amp;literal.dump.age",
];
const DUMPS = ["20260101T024500Z", "20260102T024500Z", "20260103T024500Z", "20260104T024500Z", "20260105T024500Z"].map((s) => `logical/blog/${s}.dump.age`);

describe("S3 listings in the sidecar script (xmllint)", () => {
  let s3: S3Endpoint;
  let dir: string;
  let scriptFile: string;
  let secretsFile: string;

  /** Sources the script (its main does not run then), loads the runtime file and calls `fn args...` with the secrets file in the env. */
  function call(prelude: string, fn: string, args: string[], input?: string): Promise<RunResult> {
    // $0 is not the script, so its `main` does not run when sourced
    return run("/bin/bash", ["-c", `source "$1"; shift; load_runtime || { echo "$RUNTIME_ERROR" >&2; exit 9; }; ${prelude} "$@"`, "hlpg-harness", scriptFile, fn, ...args], {
      env: { HLPG_SECRETS_FILE: secretsFile, TZ: "UTC" }, input,
    });
  }
  // Pages of two keys: the query gets max-keys in its sorted place (curl signs the query as given).
  // The replacement is quoted: bash 5.2 would put the match in place of an unquoted '&'.
  const PAGED = `eval "s3_curl_unpaged() $(declare -f s3_curl | tail -n +2)"
s3_curl() { local url=\${1/"list-type=2&"/"list-type=2&max-keys=2&"}; shift; s3_curl_unpaged "$url" "$@"; }
`;

  beforeAll(async () => {
    requireBackupBinaries();
    s3 = await startS3();
    dir = tempDir("s3-list");
    scriptFile = path.join(dir, "hlpg-backup");
    secretsFile = path.join(dir, "sidecar-secrets.env");
    const age = ageKeyFromPassphrase("s3-list-test-passphrase-0123456789");
    const runtimeFile = path.join(dir, "hlpg-backup.conf");
    writeFile(scriptFile, renderSidecarScript({
      stanza: "itest", pgbackrestConf: path.join(dir, "pgbackrest.conf"), runtimeFile, pgData: path.join(dir, "data"), socketDir: dir, pgPort: 5432,
      pgBinDir: "/usr/lib/postgresql/15/bin", workDir: path.join(dir, "work"), drillPort: 5499, drillTimeoutSeconds: 60, initTimeoutSeconds: 10,
      repoRetrySeconds: 10,
    }), 0o755);
    writeFile(runtimeFile, renderSidecarRuntime({
      s3: { bucket: s3.bucket, region: s3.region, endpoint: s3.endpoint }, caFile: s3.caFile, ageRecipient: age.recipient, apps: APPS,
      schedule: DEFAULT_BACKUP_SCHEDULE, limits: healthLimits(DEFAULT_BACKUP_SCHEDULE),
    }), 0o444);
    writeFile(secretsFile, renderSidecarSecretsEnv({ s3Key: s3.accessKey, s3KeySecret: s3.secretKey, ageIdentity: age.identity }), 0o600);
    for (const key of [...ODD_KEYS, ...DUMPS, "logical/blog/notes.txt"]) await s3.putObject(key, Buffer.from(`object ${key}`));
  });
  afterAll(async () => {
    await s3?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("lists keys with &, <, quotes and non-ASCII exactly, across pages of two", async () => {
    const r = expectOk(await call(PAGED, "s3_list", ["odd/"]), "s3_list odd/ (pages of 2)");
    expect(r.stdout.split("\n").filter(Boolean).sort()).toEqual([...ODD_KEYS].sort());
    expect(r.stdout.split("\n").filter(Boolean)).toEqual(await s3.listKeys("odd/"));
    // it really paged: three requests for six keys, each after the first with a continuation token
    const lists = s3.requests.filter((q) => q.method === "GET" && q.url.includes("max-keys=2") && q.url.includes("prefix=odd%2F"));
    expect(lists.map((q) => q.status)).toEqual([200, 200, 200]);
    expect(lists.filter((q) => q.url.includes("continuation-token="))).toHaveLength(2);
  });

  it("list-dumps goes through the same listing, in key order, oldest first", async () => {
    const paged = expectOk(await call(PAGED, "main", runbook.listDumps("blog")), "list-dumps blog (pages of 2)");
    expect(paged.stdout.trim().split("\n")).toEqual(DUMPS);
    // unpaged, s3rver answers itself, in directory order rather than S3's key order
    const whole = expectOk(await run(scriptFile, runbook.listDumps("blog"), { env: { HLPG_SECRETS_FILE: secretsFile, TZ: "UTC" } }), "list-dumps blog");
    expect(whole.stdout.trim().split("\n").sort()).toEqual(DUMPS);
    expect(expectOk(await call(PAGED, "latest_dump", ["blog"]), "latest_dump").stdout).toBe(DUMPS[DUMPS.length - 1]);
  });

  it("lists nothing under a prefix without objects", async () => {
    const r = expectOk(await call(PAGED, "s3_list", ["nothing-here/"]), "s3_list (empty)");
    expect(r.stdout).toBe("");
  });

  const NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';

  it("parses a page: entities and character references decoded, CDATA and comments read, token decoded", async () => {
    const page = `<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult ${NS}><Name>b</Name><Prefix>p/</Prefix><KeyCount>7</KeyCount><MaxKeys>7</MaxKeys><IsTruncated>true</IsTruncated>
<Contents><Key>p/a&amp;b</Key><Size>1</Size></Contents>
<Contents><Key>p/&lt;tag&gt; &quot;q&quot; &apos;s&apos;</Key></Contents>
<Contents><Key>p/&#233;t&#xE9; &#x1F600;</Key></Contents>
<Contents><Key><![CDATA[p/cdata&<raw>]]></Key></Contents>
<Contents><Key>p/com<!-- a comment -->ment</Key></Contents>
<Contents><Key>p/plain key</Key></Contents>
<Contents><Key>p/amp&amp;amp;</Key></Contents>
<NextContinuationToken>1/tok+en=&amp;more</NextContinuationToken></ListBucketResult>`;
    const keys = expectOk(await call("", "list_page_keys", [], page), "list_page_keys");
    expect(keys.stdout.split("\n").slice(0, -1)).toEqual([
      "p/a&b", `p/<tag> "q" 's'`, "p/été 😀", "p/cdata&<raw>", "p/comment", "p/plain key", "p/amp&amp;",
    ]);
    expect(expectOk(await call("", "list_page_next", [], page), "list_page_next").stdout).toBe("1/tok+en=&more");
  });

  it("reads a page with a namespace prefix or none, and an empty last page", async () => {
    const prefixed = `<s3:ListBucketResult xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/"><s3:IsTruncated>false</s3:IsTruncated>
<s3:Contents><s3:Key>k&amp;1</s3:Key></s3:Contents><s3:Contents><s3:Key>k2</s3:Key></s3:Contents></s3:ListBucketResult>`;
    expect(expectOk(await call("", "list_page_keys", [], prefixed), "prefixed").stdout).toBe("k&1\nk2\n");
    expect(expectOk(await call("", "list_page_next", [], prefixed), "prefixed next").stdout).toBe("");
    const bare = "<ListBucketResult><IsTruncated>false</IsTruncated><KeyCount>0</KeyCount></ListBucketResult>";
    expect(expectOk(await call("", "list_page_keys", [], bare), "empty page").stdout).toBe("");
  });

  it("fails on what is not a listing, a truncated page without a token, and a key with a line break", async () => {
    const error = await call("", "list_page_keys", [], "<Error><Code>AccessDenied</Code></Error>");
    expect(error.code).not.toBe(0);
    expect(error.stderr).toMatch(/not a ListBucketResult/);
    const broken = await call("", "list_page_keys", [], `<ListBucketResult ${NS}><Contents><Key>unterminated`);
    expect(broken.code).not.toBe(0);
    const noToken = await call("", "list_page_next", [], `<ListBucketResult ${NS}><IsTruncated>true</IsTruncated></ListBucketResult>`);
    expect(noToken.code).not.toBe(0);
    expect(noToken.stderr).toMatch(/truncated listing without a continuation token/);
    const newline = await call("", "list_page_keys", [], `<ListBucketResult ${NS}><Contents><Key>a&#10;b</Key></Contents><Contents><Key>c</Key></Contents></ListBucketResult>`);
    expect(newline.code).not.toBe(0);
    expect(newline.stderr).toMatch(/line break/);
  });
});
