// The backup section's keys at their edges (notifications, region names, the
// S3-compatible endpoint and its credentials, the posix repository, the
// passphrase's length), the aws:* settings' shapes, and the jobs-table markers
// `npm run docs` rewrites between.
import { parseConfig, RawConfig } from "../../../components/config";
import { parseAwsSettings } from "../../../components/config/aws";
import { JOBS_TABLE_BEGIN, JOBS_TABLE_END, withJobsTable } from "../../../components/config/backup-jobs";
import { PASS, problems } from "../../helpers/config";

const P = "homelab-postgres:";
const b = { enabled: true, bucket: "my-backups", encryptionPassphrase: PASS };
/** Each problem of a dev stack with this backup section, as [key path without prefix, message]. */
const found = (backup: Record<string, unknown>): [string, string][] =>
  problems("dev", { backup } as RawConfig).map((p) => [p.path.replace(P, ""), p.message]);

describe("backup.notify", () => {
  it("accepts http(s) URLs for the section and per job, and the known events", () => {
    expect(found({ ...b, notify: { url: "https://hc-ping.com/abc", jobUrls: { full: "https://ntfy.sh/backups" }, events: ["start", "failure"] } })).toEqual([]);
  });

  it("refuses a URL that is no http(s) URL, at its own key, and an unknown event at its index", () => {
    expect(found({ ...b, notify: { url: "ftp://example.com/x", jobUrls: { full: "https://ok.example.com", diff: "not a url" }, events: ["start", "finish"] } })).toEqual([
      ["backup.notify.url", expect.stringMatching(/must be an http\(s\) URL/)],
      ["backup.notify.jobUrls.diff", expect.stringMatching(/must be an http\(s\) URL/)],
      ["backup.notify.events[1]", 'unknown event "finish": start, success or failure'],
    ]);
  });
});

describe("backup.region", () => {
  it("accepts a long name of AWS's shape (two letters, words, a digit)", () => {
    const region = `us-${"a".repeat(20)}-${"b".repeat(20)}-1`; // longer than a generic region name may be
    expect(found({ ...b, region })).toEqual([]);
  });

  it.each([
    "Xus-east-1", "us-east-1X", `u-${"a".repeat(40)}-1`, `us-${"a".repeat(40)}-x`, `us-${"a".repeat(40)}-1-`,
  ])("refuses %s at backup.region", (region) => {
    expect(found({ ...b, region })).toEqual([["backup.region", `${JSON.stringify(region)} is not a region name`]]);
  });
});

describe("backup.endpoint and its credentials", () => {
  const creds = { accessKeyId: "k", secretAccessKey: "s" };
  it.each(["xhttps://minio.example.net", "https://minio.example.net/bucket", "https://minio.example.net:9000/x"])("refuses %s", (endpoint) => {
    expect(found({ ...b, endpoint, endpointCredentials: creds })).toEqual([["backup.endpoint", expect.stringMatching(/must be an https:\/\/ URL/)]]);
  });

  it("accepts a DNS name with port and a trailing slash", () => {
    expect(found({ ...b, endpoint: "https://minio.example.net:9000/", endpointCredentials: creds })).toEqual([]);
  });

  it.each([
    [{ accessKeyId: "k" }], [{ secretAccessKey: "s" }], [{ accessKeyId: "", secretAccessKey: "s" }], [{}],
  ])("refuses credentials without both keys (%j), once, at backup.endpointCredentials", (endpointCredentials) => {
    expect(found({ ...b, endpoint: "https://minio.example.net", endpointCredentials })).toEqual([
      ["backup.endpointCredentials", "needs accessKeyId and secretAccessKey (secret)"],
    ]);
  });

  it("takes null for an absent posix section and absent credentials", () => {
    expect(found({ ...b, posix: null, endpointCredentials: null })).toEqual([]);
    expect(parseConfig("dev", { backup: { ...b, posix: null } }).backup.posix).toBeUndefined();
  });
});

describe("backup.posix.path and backup.encryptionPassphrase", () => {
  it("refuses Docker's own directory itself and below it, not a path that merely contains it", () => {
    const at = (path: string) => found({ ...b, posix: { path } });
    expect(at("/var/lib/docker")).toEqual([["backup.posix.path", expect.stringMatching(/inside Docker's own directory/)]]);
    expect(at("/var/lib/docker/backups")).toEqual([["backup.posix.path", expect.stringMatching(/inside Docker's own directory/)]]);
    expect(at("/mnt/var/lib/docker/backups")).toEqual([]);
    expect(at("/var/lib/dockerish")).toEqual([]);
  });

  it("takes a passphrase of exactly 20 characters, not 19", () => {
    expect(found({ ...b, encryptionPassphrase: "abcdefghijklmnopqrst" })).toEqual([]);
    expect(found({ ...b, encryptionPassphrase: "abcdefghijklmnopqrs" })).toEqual([["backup.encryptionPassphrase", "must be at least 20 characters"]]);
  });
});

describe("aws:* settings", () => {
  it("skips a string key that is null or empty, and a list key that is null", () => {
    expect(parseAwsSettings({ profile: null, region: "", token: "", sharedConfigFiles: null })).toEqual({ settings: {}, problems: [] });
  });

  it.each([[["/c", ""]], [[""]], [[7]], [["/c", 7]], [[]], ["/c"]])("refuses %j as a list of file paths, naming the key", (list) => {
    expect(parseAwsSettings({ sharedCredentialsFiles: list }).problems).toEqual([
      { path: "aws:sharedCredentialsFiles", message: "expected a non-empty list of file paths" },
    ]);
  });
});

describe("the jobs table between its markers", () => {
  it("fills the markers at the very start of a file", () => {
    const out = withJobsTable(`${JOBS_TABLE_BEGIN}\nold\n${JOBS_TABLE_END}\n`);
    expect(out.startsWith(`${JOBS_TABLE_BEGIN}\n| `)).toBe(true);
    expect(out).not.toContain("old");
    expect(out.endsWith(`\n${JOBS_TABLE_END}\n`)).toBe(true);
  });

  it.each([
    ["no markers", "# docs"],
    ["the begin marker missing", `text\n${JOBS_TABLE_END}\n`],
    ["the end marker missing", `${JOBS_TABLE_BEGIN}\n`],
    ["the markers out of order", `${JOBS_TABLE_END}\n${JOBS_TABLE_BEGIN}\n`],
  ])("refuses a file with %s", (_what, markdown) => {
    expect(() => withJobsTable(markdown)).toThrow(/markers are missing or out of order/);
  });
});
