// How both S3 clients of the backups (pgBackRest, the sidecar's curl) address
// the bucket: AWS S3 in a region, or an S3-compatible store at an https endpoint.
import { BUCKET, REGION } from "../lib/names";
import { isHostname } from "../lib/net";
import { check, checkPort } from "./check";

export interface S3Location {
  /** Bucket name (validated against BUCKET). */
  bucket: string;
  /** Region the bucket lives in (or what an S3-compatible store expects). */
  region: string;
  /** https://host[:port] of an S3-compatible store; absent: AWS S3 in `region`. */
  endpoint?: string;
}

/** How both clients (pgBackRest, curl) address the bucket. */
export interface S3Target {
  /** Bucket name, validated. */
  bucket: string;
  /** Region for SigV4 signing. */
  region: string;
  /** Host the clients connect to (AWS regional endpoint or the custom one). */
  host: string;
  /** HTTPS port. */
  port: number;
  /** path: https://host/bucket/key (custom endpoints, dotted bucket names); host: https://bucket.host/key. */
  uriStyle: "host" | "path";
  /** URL of the bucket without a trailing slash; objects are `${bucketUrl}/${key}`. */
  bucketUrl: string;
}

export function s3Target(loc: S3Location): S3Target {
  check(BUCKET.test(loc.bucket), "bucket name", loc.bucket);
  check(REGION.test(loc.region), "region", loc.region);
  let host = `s3.${loc.region}.amazonaws.com`;
  let port = 443;
  if (loc.endpoint !== undefined) {
    const m = /^https:\/\/([^/:]+)(?::(\d{1,5}))?\/?$/.exec(loc.endpoint);
    check(m !== null, "endpoint (https://host[:port])", loc.endpoint);
    host = m![1];
    port = checkPort(m![2] === undefined ? 443 : Number(m![2]), "endpoint port");
  }
  check(isHostname(host), "endpoint host", host);
  // A custom endpoint is MinIO/Garage-style (path). On AWS a dotted bucket name breaks the
  // *.s3 wildcard certificate in host style, so it goes path style too.
  const uriStyle = loc.endpoint !== undefined || loc.bucket.includes(".") ? "path" : "host";
  const authority = port === 443 ? host : `${host}:${port}`;
  const bucketUrl = uriStyle === "path" ? `https://${authority}/${loc.bucket}` : `https://${loc.bucket}.${authority}`;
  return { bucket: loc.bucket, region: loc.region, host, port, uriStyle, bucketUrl };
}
