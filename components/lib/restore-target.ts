// Restore targets, one grammar for the bootstrap key (postgres.bootstrap.target),
// the runbook helpers and the entrypoint: what a written target means and the
// pgBackRest restore options that reach it. Pure; imports nothing of ours.

/** A parsed restore target. */
export type RestoreTarget =
  | { kind: "latest" }
  | { kind: "time"; value: string }
  | { kind: "label"; value: string }
  | { kind: "xid"; value: string }
  | { kind: "lsn"; value: string };

/** `YYYY-MM-DD HH:MM:SS[.ffffff]` with an explicit zone (`+00`, `+01:00`, `Z`): a time without one would be read in the server's zone. */
export const TARGET_TIME = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}(:?\d{2})?)$/;
/** A pgBackRest backup label: a full (`20261130-021500F`), or a diff/incr of one (`…F_20261201-021500D`). */
export const BACKUP_LABEL = /^\d{8}-\d{6}F(_\d{8}-\d{6}[DI])?$/;
const XID = /^xid:([1-9]\d{0,18})$/;
const LSN = /^lsn:([0-9A-Fa-f]{1,8}\/[0-9A-Fa-f]{1,8})$/;

/** The forms, for messages and docs. */
export const RESTORE_TARGET_FORMS = "`latest`, a time with zone (`2026-11-30 14:30:00+00`), a backup label (`20261130-021500F`), `xid:<id>` or `lsn:<X/Y>`";

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/**
 * Why the date and clock of a time target or a backup label are not a real instant
 * (`2026-02-30`, `24:00:00`, a zone past ±15:59 as PostgreSQL's own input refuses), or
 * undefined. The regexes check the shape only.
 */
export function instantProblem(t: string): string | undefined {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})[ T-](\d{2}):?(\d{2}):?(\d{2})(?:\.\d+)?(?:Z|([+-])(\d{2}):?(\d{2})?)?/.exec(t);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  if (mo < 1 || mo > 12) return `month ${m[2]} does not exist`;
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (d < 1 || d > days) return `${MONTHS[mo - 1]} ${y} has ${days} days, not ${d}`;
  if (h > 23 || mi > 59 || s > 59) return `${m[4]}:${m[5]}:${m[6]} is not a time of day (00:00:00 to 23:59:59)`;
  if (m[8] !== undefined && (Number(m[8]) > 15 || Number(m[9] ?? 0) > 59)) return `the zone ${m[7]}${m[8]}${m[9] ? `:${m[9]}` : ""} is not an offset PostgreSQL knows (±15:59 at most)`;
  return undefined;
}

/** A time target or a backup label: the forms that carry a date and a clock. */
const hasInstant = (t: string): boolean => TARGET_TIME.test(t) || BACKUP_LABEL.test(t);

/** Why a written target is not one, naming the forms; undefined when it parses. */
export function restoreTargetProblem(text: string): string | undefined {
  const t = text.trim();
  if (hasInstant(t)) {
    const p = instantProblem(t);
    return p === undefined ? undefined : `${JSON.stringify(text)} is not a real instant: ${p}`;
  }
  return parseRestoreTarget(t) === undefined ? `${JSON.stringify(text)} is not a restore target: expected ${RESTORE_TARGET_FORMS}` : undefined;
}

/** Parses a written target; undefined when it is none of the forms, or a date or time that does not exist. */
export function parseRestoreTarget(text: string): RestoreTarget | undefined {
  const t = text.trim();
  if (t === "latest") return { kind: "latest" };
  if (hasInstant(t) && instantProblem(t) !== undefined) return undefined;
  if (TARGET_TIME.test(t)) return { kind: "time", value: t };
  if (BACKUP_LABEL.test(t)) return { kind: "label", value: t };
  const x = XID.exec(t);
  if (x) return { kind: "xid", value: x[1] };
  const l = LSN.exec(t);
  if (l) return { kind: "lsn", value: l[1].toUpperCase() };
  return undefined;
}

/**
 * pgBackRest restore options for a target. Every form but `latest` stops at the target
 * and promotes (recovery_target_action=promote): the cluster then writes a new timeline,
 * and the WAL it archives never overwrites the history it came from. `latest` replays
 * everything archived and promotes at its end. A label restores that backup and stops
 * as soon as it is consistent (`--type=immediate`).
 */
export function restoreTargetArgs(t: RestoreTarget): string[] {
  switch (t.kind) {
    case "latest": return ["--type=default"];
    case "time": return ["--type=time", `--target=${t.value}`, "--target-action=promote"];
    case "label": return [`--set=${t.value}`, "--type=immediate", "--target-action=promote"];
    case "xid": return ["--type=xid", `--target=${t.value}`, "--target-action=promote"];
    case "lsn": return ["--type=lsn", `--target=${t.value}`, "--target-action=promote"];
  }
}

/** Canonical text of a target (what the bootstrap marker records). */
export function restoreTargetText(t: RestoreTarget): string {
  return t.kind === "latest" ? "latest" : t.kind === "xid" || t.kind === "lsn" ? `${t.kind}:${t.value}` : t.value;
}
