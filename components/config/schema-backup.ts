// The `backup` section of the stack config: its keys (schedule from the jobs table,
// notifications, repositories, dumps) and the rules across them. Part of schema.ts,
// apart only to keep each file readable.
import { z } from "zod";
import { cronProblem } from "../lib/cron";
import { ABS_PATH, AGE_RECIPIENT, REGION, bucketNameProblem } from "../lib/names";
import { ipVersion, isHostname } from "../lib/net";
import { confValueProblem } from "../lib/quote";
import { NOTIFY_EVENTS, NOTIFY_URL } from "./constants";
import { type Field, bool, int, oneOf, section, str, stringList } from "./fields";
import { Report, isObj, isStr, rule } from "./rules";
import { BACKUP_JOBS, type BackupJobName } from "./backup-jobs";

// one key per row of the jobs table: a new job is a new schedule key with its default and doc
const schedule = section(
  Object.fromEntries(BACKUP_JOBS.map((j) => [j.name, str({ type: "cron", default: j.defaultSchedule, doc: j.description })])) as Record<
    BackupJobName,
    Field<string>
  >,
);

// per-job ping URLs: one optional key per row of the jobs table
const notifyJobUrls = section(
  Object.fromEntries(BACKUP_JOBS.map((j) => [j.name, str({ type: "URL", secret: true, doc: `ping URL of the \`${j.name}\` job (instead of \`url\`/${j.name})` })])) as Record<
    BackupJobName,
    Field<string | undefined>
  >,
);

const notify = section({
  url: str({
    type: "URL", secret: true, shown: "–",
    doc: "where jobs report: a healthchecks.io ping-key URL (`…/<ping-key>`; the job name is appended) or an ntfy topic URL. Off when unset",
  }),
  jobUrls: notifyJobUrls,
  style: oneOf(["healthchecks", "ntfy"] as const, {
    default: "healthchecks",
    doc: "`healthchecks`: GET-style pings `<url>/start`, `<url>`, `<url>/fail` with the message as body; `ntfy`: one POST per event with Title, Priority and Tags headers",
  }),
  events: stringList({ type: "list", default: [...NOTIFY_EVENTS], doc: "which events are sent: `start`, `success`, `failure`" }),
}).check(
  rule((v, report) => {
    const urlOk = (u: unknown, path: PropertyKey[]) => {
      if (isStr(u) && !NOTIFY_URL.test(u)) report(path, "must be an http(s) URL without spaces or quotes");
    };
    urlOk(v.url, ["url"]);
    if (isObj(v.jobUrls)) for (const [job, u] of Object.entries(v.jobUrls)) urlOk(u, ["jobUrls", job]);
    if (Array.isArray(v.events)) {
      v.events.forEach((e, i) => {
        if (isStr(e) && !(NOTIFY_EVENTS as readonly string[]).includes(e)) report(["events", i], `unknown event ${JSON.stringify(e)}: start, success or failure`);
      });
    }
  }),
);

export const backup = section({
  enabled: bool({ default: false, doc: "must be `true` in a prod stack" }),
  bucket: str({ type: "S3 name", default: "", shown: "–", doc: "required when enabled; created by the stack. S3's naming rules: 3–63 of `a-z 0-9 . -`, a letter or digit at both ends, no `..`, not an IP address, no `xn--`/`sthree-`/`amzn-s3-demo-` prefix, no `-s3alias`/`--ol-s3`/`.mrap`/`--x-s3`/`--table-s3` suffix" }),
  region: str({
    type: "string", shown: "from `aws:region`, else `us-east-1`",
    doc: "the bucket's region; its aws provider also takes `aws:profile`, `aws:sharedCredentialsFiles`, `aws:sharedConfigFiles` and `aws:accessKey`/`secretKey`/`token` from the stack",
  }),
  endpoint: str({ type: "`https://host[:port]`", shown: "AWS", doc: "S3-compatible endpoint (MinIO, Garage), path-style" }),
  schedule,
  retention: section({
    full: int({ min: 1, max: 365, default: 4, doc: "full backups kept (and the WAL to replay them)" }),
    days: int({ min: 1, max: 3650, default: 35, doc: "logical dumps and non-current object versions" }),
  }),
  posix: z.preprocess((v) => (v === null ? undefined : v), section({
    path: str({ type: "absolute host path", doc: "a second repository (or the only one) on a host directory, e.g. a NAS mount or a second disk, owned by uid 999; mounted into Postgres and the sidecar" }),
    offDataDisk: bool({ default: false, shown: "`false` once `posix` is set", doc: "you state that `path` is not on the disk holding the Docker volumes: then it counts as the off-disk copy a prod stack must have" }),
  }).optional()),
  compression: oneOf(["zst", "lz4", "gz"] as const, { default: "zst", doc: "pgBackRest compression" }),
  archiveTimeout: int({ min: 1, max: 60, default: 60, type: "1–60 s", doc: "`archive_timeout`: the recovery point objective" }),
  archiveQueueMaxMb: int({
    min: 64, max: 1024 * 1024, default: 4096, type: "MiB",
    doc: "WAL that may queue in `pg_wal` while a repository is unreachable (async archive-push); past it pgBackRest drops the queue (PITR gap until the next backup) rather than fill the disk",
  }),
  dumps: section({
    keepDaily: int({ min: 1, max: 366, default: 7, doc: "logical dumps kept per app: the newest of each of the last N days with a dump" }),
    keepWeekly: int({ min: 0, max: 520, default: 4, doc: "and the newest of each of the last N ISO weeks" }),
    keepMonthly: int({ min: 0, max: 120, default: 3, doc: "and the newest of each of the last N months" }),
    recipient: str({
      type: "`age1…`", shown: "derived from the passphrase",
      doc: "encrypt logical dumps (and the globals) to this age public key only: the host can write them but not read them; restores need the matching identity",
    }),
  }).check(
    rule((v, report) => {
      if (isStr(v.recipient) && !AGE_RECIPIENT.test(v.recipient)) report(["recipient"], "not an age recipient (age1 followed by 58 bech32 characters; `age-keygen -y key.txt` prints it)");
    }),
  ),
  encryptionPassphrase: str({
    type: "≥ 20 chars", secret: true, shown: "generated in non-prod stacks",
    doc: "repository (aes-256-cbc) and dump (age) encryption; **required in prod**, and there only as a Pulumi secret (`--secret`). Any printable characters (spaces, quotes, `$`, `#`...), one line, no blank at either end (pgBackRest trims its conf values)",
  }),
  notify,
  endpointCredentials: z.preprocess((v) => (v === null ? undefined : v), section({
    accessKeyId: str({ type: "string", doc: "access key of the S3-compatible store; one line, no blank at either end" }),
    secretAccessKey: str({ type: "string", secret: true, doc: "its secret key; same form; in prod only as a Pulumi secret" }),
  }).optional()),
});

/**
 * The bucket's keys. A value that is given is checked whether or not backups are
 * enabled, so a missing or false `enabled` hides none of the section's problems.
 */
function s3Rules(b: Record<string, unknown>, on: boolean, report: Report): void {
  if (isStr(b.bucket) && b.bucket !== "") {
    const p = bucketNameProblem(b.bucket);
    if (p) report(["backup", "bucket"], `${JSON.stringify(b.bucket)} is not a name S3 accepts: it ${p}`);
  }
  if (isStr(b.region) && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(b.region) && !REGION.test(b.region)) report(["backup", "region"], `${JSON.stringify(b.region)} is not a region name`);
  const endpoint = b.endpoint;
  if (isStr(endpoint)) {
    const m = /^https:\/\/([A-Za-z0-9.-]+)(:\d{1,5})?\/?$/.exec(endpoint);
    if (m && ipVersion(m[1]) !== 0) {
      report(["backup", "endpoint"], "use a DNS name: pgBackRest verifies the certificate by name, not by IP address");
    } else if (!m || !isHostname(m[1])) {
      report(["backup", "endpoint"], "must be an https:// URL with host and optional port (pgBackRest's S3 client speaks HTTPS only)");
    }
    if (on && b.endpointCredentials === undefined) {
      report(["backup", "endpointCredentials"], "required with an S3-compatible endpoint (no IAM is managed there): accessKeyId and secretAccessKey (secret)");
    }
  }
  if (isObj(b.endpointCredentials) && (!b.endpointCredentials.accessKeyId || !b.endpointCredentials.secretAccessKey)) {
    report(["backup", "endpointCredentials"], "needs accessKeyId and secretAccessKey (secret)");
  }
  if (isObj(b.endpointCredentials)) {
    // both land in pgbackrest.conf (repo1-s3-key, repo1-s3-key-secret)
    for (const key of ["accessKeyId", "secretAccessKey"]) {
      const value = b.endpointCredentials[key];
      const p = isStr(value) && value !== "" ? confValueProblem(value) : undefined;
      if (p) report(["backup", "endpointCredentials", key], `it ${p}`);
    }
  }
}

export function backupRules(b: Record<string, unknown>, isProd: boolean, report: Report): void {
  if (isProd && b.enabled === false) report(["backup", "enabled"], "a prod stack must have backups enabled");
  // what is required depends on `enabled`; a value that is given is checked either way
  const on = b.enabled === true;
  const posix = isObj(b.posix) ? b.posix : undefined;
  const hasBucket = isStr(b.bucket) && b.bucket !== "";
  if (on && !hasBucket && posix === undefined) report(["backup", "bucket"], "required when backups are enabled, unless backup.posix.path names a repository directory");
  if (posix !== undefined) {
    if (!isStr(posix.path)) report(["backup", "posix", "path"], "required: the host directory of the repository");
    else if (!ABS_PATH.test(posix.path) || posix.path.split("/").includes("..") || posix.path === "/") {
      report(["backup", "posix", "path"], `${JSON.stringify(posix.path)} must be an absolute path of [A-Za-z0-9._/-], not /`);
    } else if (/^\/var\/lib\/docker(\/|$)/.test(posix.path)) {
      report(["backup", "posix", "path"], "is inside Docker's own directory, on the disk of the data volume: use a NAS mount or another disk");
    }
  }
  // Prod: at least one copy that survives the data disk. S3 always does; a host path
  // only when the operator says so (the program cannot see the host's disks).
  if (on && isProd && !hasBucket && posix !== undefined && posix.offDataDisk !== true) {
    report(["backup", "posix", "offDataDisk"], "a prod stack needs a copy off the data disk: add backup.bucket, or set offDataDisk: true once backup.posix.path is a NAS mount or another disk");
  }
  if (on && !hasBucket) {
    // no bucket: the S3-only keys have nothing to apply to
    for (const k of ["endpoint", "endpointCredentials", "region"] as const) if (b[k] !== undefined) report(["backup", k], "applies to the bucket; set backup.bucket or remove it");
  }
  s3Rules(b, on, report);
  if (isObj(b.schedule)) {
    for (const [job, expr] of Object.entries(b.schedule)) {
      const p = isStr(expr) ? cronProblem(expr) : undefined;
      if (p) report(["backup", "schedule", job], p);
    }
  }
  const pass = b.encryptionPassphrase;
  if (pass === undefined && isProd && on) {
    report(["backup", "encryptionPassphrase"], "required in prod: `pulumi config set --secret --path backup.encryptionPassphrase ...`");
  } else if (isStr(pass) && [...pass].length < 20) {
    report(["backup", "encryptionPassphrase"], "must be at least 20 characters");
  } else if (isStr(pass)) {
    // any printable text: it lands in pgbackrest.conf, which keeps it literally but trims its ends
    const p = confValueProblem(pass);
    if (p) report(["backup", "encryptionPassphrase"], `it ${p}`);
  }
}
