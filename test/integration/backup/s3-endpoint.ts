// A real S3-compatible endpoint on loopback for the backup tests: s3rver (from
// node_modules) behind an HTTPS server with a throwaway certificate made by
// openssl. s3rver 3.7 does not check SigV4 signatures, so this front verifies
// them itself (access key, scope, signed headers, signature): a client that
// signs wrongly, or uses a wrong secret, is refused as AWS would refuse it.
// The payload hash is taken from x-amz-content-sha256 as signed; the body is not
// re-hashed (that would mean buffering every upload in the test process).
// Paged object listings (ListObjectsV2 with max-keys or a continuation token) are
// answered by this front from s3rver's store: s3rver 3.7 makes its continuation
// tokens with DES, which Node 20's OpenSSL 3 refuses (a 500), and lists in
// directory order where S3 lists in key order.
import { createHmac, createHash, timingSafeEqual } from "crypto";
import * as fs from "fs";
import * as https from "https";
import { IncomingMessage, ServerResponse } from "http";
import { AddressInfo } from "net";
import { createRequire } from "module";
import * as path from "path";
import { requireBinary, runOk, tempDir } from "../harness";

interface S3rverStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  listObjects(bucket: string, options: { prefix?: string; maxKeys?: number }): Promise<{ objects: { key: string; size: number }[] }>;
  putObject(object: { bucket: string; key: string; content: Buffer; metadata: Record<string, string> }): Promise<unknown>;
}
interface S3rverInstance {
  store: S3rverStore;
  configureBuckets(): Promise<void>;
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
}
type S3rverCtor = new (opts: Record<string, unknown>) => S3rverInstance;

// s3rver ships no type declarations; load it untyped and describe the part we use.
const S3rver = createRequire(__filename)("s3rver") as S3rverCtor;

export interface S3Endpoint {
  /** https://localhost:<port>: pgBackRest 2.45 matches DNS names only, not IP SANs. */
  endpoint: string;
  port: number;
  bucket: string;
  region: string;
  accessKey: string;
  secretKey: string;
  /** PEM of the throwaway certificate, readable by the service user. */
  caFile: string;
  /** Every request: method, url, status, when it finished (Date.now()), for failure messages and assertions. */
  requests: { method: string; url: string; status: number; at: number }[];
  /** Keys stored under a prefix (read from s3rver's store, not through the API). */
  listKeys(prefix: string): Promise<string[]>;
  /** Raw bytes of a stored object, as a client of the bucket would get them. */
  readObject(key: string): Buffer;
  /** Stores an object directly (not through the API): keys a client could not easily sign, as fixtures. */
  putObject(key: string, body: Buffer): Promise<void>;
  /**
   * While on, every request is refused as AWS refuses a key IAM has not propagated
   * yet (403 InvalidAccessKeyId), however well it is signed.
   */
  refuseKey(on: boolean): void;
  /**
   * While on, the endpoint is unreachable: every TCP connection is reset as it is
   * accepted (a network outage, the store down), and the open ones are cut.
   */
  unreachable(on: boolean): void;
  close(): Promise<void>;
}

export async function startS3(opts: { bucket?: string; region?: string } = {}): Promise<S3Endpoint> {
  const openssl = requireBinary("/usr/bin/openssl", "openssl");
  const dir = tempDir("s3");
  const key = path.join(dir, "key.pem");
  const caFile = path.join(dir, "cert.pem");
  await runOk(openssl, [
    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
    "-addext", "subjectAltName=DNS:localhost", "-keyout", key, "-out", caFile,
  ]);
  fs.chmodSync(caFile, 0o644);
  const bucket = opts.bucket ?? "homelab-backups";
  const region = opts.region ?? "us-east-1";
  const accessKey = `AKIA${Math.random().toString(36).slice(2, 14).toUpperCase()}`;
  const secretKey = `s3cret/${Math.random().toString(36).slice(2)}+${Math.random().toString(36).slice(2)}`;
  const s3 = new S3rver({ directory: path.join(dir, "data"), silent: true, vhostBuckets: false, configureBuckets: [{ name: bucket, configs: [] }] });
  await s3.configureBuckets();
  const handler = s3.callback();
  const requests: S3Endpoint["requests"] = [];
  let refusing = false;
  const server = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(caFile) }, (req, res) => {
    res.on("finish", () => requests.push({ method: req.method ?? "", url: req.url ?? "", status: res.statusCode, at: Date.now() }));
    const problem = refusing
      ? { code: "InvalidAccessKeyId", message: "The AWS Access Key Id you provided does not exist in our records." }
      : sigV4Problem(req, { accessKey, secretKey, region });
    if (problem) {
      res.writeHead(403, { "content-type": "application/xml" });
      res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${problem.code}</Code><Message>${problem.message}</Message></Error>`);
      return;
    }
    // Verified here; s3rver would only accept its own built-in key, so it gets the request anonymously.
    delete req.headers.authorization;
    const url = new URL(req.url ?? "/", "https://localhost");
    if (req.method === "GET" && url.pathname.replace(/\/$/, "") === `/${bucket}` && isPagedListing(url.searchParams)) {
      pagedListing(s3.store, bucket, url.searchParams).then((xml) => {
        res.writeHead(200, { "content-type": "application/xml" });
        res.end(xml);
      }, (e: Error) => {
        res.writeHead(500, { "content-type": "application/xml" });
        res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>${xmlEscape(e.message)}</Message></Error>`);
      });
      return;
    }
    handler(req, res);
  });
  let down = false;
  server.on("connection", (sock) => {
    if (down) sock.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `https://localhost:${port}`,
    port, bucket, region, accessKey, secretKey, caFile, requests,
    async listKeys(prefix) {
      const r = await s3.store.listObjects(bucket, { prefix, maxKeys: 100000 });
      return r.objects.map((o) => o.key).sort();
    },
    readObject(k) {
      return fs.readFileSync(s3.store.getResourcePath(bucket, k, "object"));
    },
    async putObject(k, body) {
      await s3.store.putObject({ bucket, key: k, content: body, metadata: { "content-type": "application/octet-stream" } });
    },
    refuseKey(on) {
      refusing = on;
    },
    unreachable(on) {
      down = on;
      if (on) server.closeAllConnections();
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------- paged listings

function xmlEscape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

/** ListObjectsV2 that pages (max-keys or a continuation token), without a delimiter (pgBackRest's listings stay with s3rver). */
function isPagedListing(q: URLSearchParams): boolean {
  return q.get("list-type") === "2" && !q.has("delimiter") && (q.has("max-keys") || q.has("continuation-token"));
}

/**
 * One ListObjectsV2 page as S3 answers it: keys in UTF-8 byte order after the
 * token (here: the last key of the previous page, base64url), at most max-keys.
 */
async function pagedListing(store: S3rverStore, bucket: string, q: URLSearchParams): Promise<string> {
  const prefix = q.get("prefix") ?? "";
  const maxKeys = Math.min(1000, Number(q.get("max-keys") ?? "1000"));
  const cont = q.get("continuation-token");
  const after = Buffer.from(cont !== null ? Buffer.from(cont, "base64url").toString("utf8") : (q.get("start-after") ?? ""), "utf8");
  const all = (await store.listObjects(bucket, { prefix, maxKeys: 1_000_000 })).objects;
  const sorted = all.sort((a, b) => Buffer.compare(Buffer.from(a.key, "utf8"), Buffer.from(b.key, "utf8")));
  const rest = sorted.filter((o) => Buffer.compare(Buffer.from(o.key, "utf8"), after) > 0);
  const page = rest.slice(0, maxKeys);
  const truncated = rest.length > page.length;
  const next = truncated ? Buffer.from(page[page.length - 1].key, "utf8").toString("base64url") : undefined;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
    `<Name>${xmlEscape(bucket)}</Name><Prefix>${xmlEscape(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys>`,
    `<IsTruncated>${truncated}</IsTruncated>`,
    ...(cont !== null ? [`<ContinuationToken>${xmlEscape(cont)}</ContinuationToken>`] : []),
    ...(next !== undefined ? [`<NextContinuationToken>${xmlEscape(next)}</NextContinuationToken>`] : []),
    ...page.map((o) => `<Contents><Key>${xmlEscape(o.key)}</Key><Size>${o.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`),
    "</ListBucketResult>",
  ].join("\n");
}

// ---------------------------------------------------------------- SigV4 verification

const AWS_UNRESERVED = /[A-Za-z0-9\-._~]/;

/** AWS URI encoding: every byte but unreserved characters as %XX (upper case). */
function awsEncode(s: string): string {
  let out = "";
  for (const ch of s) {
    if (AWS_UNRESERVED.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, "utf8")) out += `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

function canonicalQuery(raw: string): string {
  if (!raw) return "";
  return raw
    .split("&")
    .filter((p) => p.length > 0)
    .map((p) => {
      const i = p.indexOf("=");
      const k = decodeURIComponent((i < 0 ? p : p.slice(0, i)).replace(/\+/g, "%20"));
      const v = i < 0 ? "" : decodeURIComponent(p.slice(i + 1).replace(/\+/g, "%20"));
      return [awsEncode(k), awsEncode(v)] as const;
    })
    .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

/** Canonical URI: each path segment URI-encoded once (S3 does not normalise or double-encode). */
function canonicalPath(rawPath: string): string {
  return rawPath
    .split("/")
    .map((seg) => awsEncode(decodeURIComponent(seg)))
    .join("/");
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac("sha256", key).update(data).digest();
}

export function sigV4Problem(
  req: IncomingMessage,
  cred: { accessKey: string; secretKey: string; region: string },
): { code: string; message: string } | undefined {
  const auth = req.headers.authorization ?? "";
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return { code: "AccessDenied", message: "missing or malformed SigV4 Authorization header" };
  const [, keyId, date, region, signedHeaders, signature] = m;
  if (keyId !== cred.accessKey) return { code: "InvalidAccessKeyId", message: "The AWS access key Id you provided does not exist in our records." };
  if (region !== cred.region) return { code: "AuthorizationHeaderMalformed", message: `region ${region} is wrong; expecting ${cred.region}` };
  const amzDate = String(req.headers["x-amz-date"] ?? "");
  const payloadHash = String(req.headers["x-amz-content-sha256"] ?? "");
  if (!amzDate.startsWith(date)) return { code: "AccessDenied", message: "x-amz-date does not match the credential scope" };
  if (!payloadHash) return { code: "InvalidRequest", message: "Missing required header for this request: x-amz-content-sha256" };
  const names = signedHeaders.split(";");
  for (const required of ["host", "x-amz-date", "x-amz-content-sha256"]) {
    if (!names.includes(required)) return { code: "AccessDenied", message: `${required} must be signed` };
  }
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const canonicalHeaders = names
    .map((n) => {
      const v = req.headers[n];
      const text = Array.isArray(v) ? v.join(",") : String(v ?? "");
      return `${n}:${text.trim().replace(/\s+/g, " ")}\n`;
    })
    .join("");
  const canonicalRequest = [
    req.method ?? "GET",
    canonicalPath(q < 0 ? url : url.slice(0, q)),
    canonicalQuery(q < 0 ? "" : url.slice(q + 1)),
    canonicalHeaders,
    signedHeaders,
    payloadHash,
  ].join("\n");
  const scope = `${date}/${region}/s3/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, createHash("sha256").update(canonicalRequest).digest("hex")].join("\n");
  const kSigning = hmac(hmac(hmac(hmac(`AWS4${cred.secretKey}`, date), region), "s3"), "aws4_request");
  const expected = hmac(kSigning, stringToSign);
  if (!timingSafeEqual(expected, Buffer.from(signature, "hex"))) {
    return { code: "SignatureDoesNotMatch", message: "The request signature we calculated does not match the signature you provided." };
  }
  return undefined;
}
