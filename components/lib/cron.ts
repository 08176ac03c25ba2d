// Cron expressions, on croner (one implementation for config validation, health
// limits and the tests). The dialect is the 5-field subset that the backup
// sidecar's bash matcher (components/backup/hlpg-backup/schedule.sh, cron_match)
// reads the same way: numbers, `*`, `a-b` ranges, `/n` steps and `,` lists; day of
// week 0-7 (7 = Sunday); OR when both day fields are restricted (croner's
// legacyMode; a day field is unrestricted only when it is exactly `*`).
// No seconds, no names (MON, JAN), no L / # / ? and no nicknames (@daily): croner
// reads them, the container's matcher would not. Times are UTC, like the sidecar.
// Imports nothing of ours.
import { Cron } from "croner";

interface CronField {
  label: string;
  lo: number;
  hi: number;
}

/** The five fields in order, with the ranges croner enforces. */
const FIELDS: readonly CronField[] = [
  { label: "minute", lo: 0, hi: 59 },
  { label: "hour", lo: 0, hi: 23 },
  { label: "day of month", lo: 1, hi: 31 },
  { label: "month", lo: 1, hi: 12 },
  { label: "day of week", lo: 0, hi: 7 },
];

/** One comma-separated part in the shared dialect: `*` or `n` or `a-b`, optionally `/step`. */
const PART = /^(?:\*|\d+(?:-\d+)?)(?:\/\d+)?$/;

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

// utcOffset 0 rather than timezone "UTC": the same instants, but croner then skips
// the Intl time-zone conversion it does on every step (about 40 times faster).
function compile(expr: string): Cron {
  return new Cron(expr, { paused: true, utcOffset: 0, legacyMode: true });
}

/** croner's message for one field, in this module's words. */
function fieldProblem(field: CronField, text: string, message: string): string {
  const where = `${field.label} field ${JSON.stringify(text)}`;
  if (/Invalid value|illegal (lower|upper) range/.test(message)) return `${where} is outside ${field.lo}-${field.hi}`;
  if (/larger than/.test(message)) return `${where} has a reversed range`;
  if (/step/i.test(message)) return `${where} has an invalid step (at least 1, at most ${field.hi - field.lo + 1})`;
  return `${where}: ${message.replace(/^CronPattern:\s*/, "")}`;
}

/**
 * Why a cron expression is unusable for the backup schedule, or undefined when
 * it is fine: 5 fields in the shared dialect, values in range, and it fires at
 * least once.
 */
export function cronProblem(expr: string): string | undefined {
  const text = expr.trim();
  if (text.startsWith("@")) {
    return `nicknames such as ${JSON.stringify(text)} are not supported: write the 5 fields (minute hour day-of-month month day-of-week)`;
  }
  const fields = text === "" ? [] : text.split(/\s+/);
  if (fields.length !== 5) {
    const seconds = fields.length === 6 ? " (a seconds field is not supported)" : "";
    return `expected 5 cron fields (minute hour day-of-month month day-of-week), got ${fields.length} in ${JSON.stringify(expr)}${seconds}`;
  }
  for (let i = 0; i < 5; i++) {
    const field = FIELDS[i];
    const bad = fields[i].split(",").find((part) => !PART.test(part));
    if (bad !== undefined) {
      return `${field.label} field ${JSON.stringify(fields[i])} does not parse: use numbers, *, a-b ranges, /n steps and lists (no names, L, #, ?)`;
    }
    // Each field alone (the others `*`), so croner's complaint can name the field.
    try {
      compile(FIELDS.map((_, j) => (j === i ? fields[i] : "*")).join(" "));
    } catch (e) {
      return fieldProblem(field, fields[i], (e as Error).message);
    }
  }
  let cron: Cron;
  try {
    cron = compile(fields.join(" "));
  } catch (e) {
    return `${JSON.stringify(expr)}: ${(e as Error).message.replace(/^CronPattern:\s*/, "")}`;
  }
  if (cron.nextRun(new Date(Date.UTC(2000, 0, 1))) === null) return `${JSON.stringify(expr)} never fires`;
  return undefined;
}

// Compiled expressions: the minute-by-minute tests and the gap search ask about the same few.
const compiled = new Map<string, Cron>();

function parse(expr: string): Cron {
  let cron = compiled.get(expr);
  if (cron === undefined) {
    const problem = cronProblem(expr);
    if (problem !== undefined) throw new Error(`invalid cron expression: ${problem}`);
    cron = compile(expr.trim().split(/\s+/).join(" "));
    compiled.set(expr, cron);
  }
  return cron;
}

/** Whether a 5-field cron expression fires in the minute of `at` (UTC, the container's time zone). */
export function cronMatches(expr: string, at: Date): boolean {
  const minute = Math.floor(at.getTime() / MINUTE_MS) * MINUTE_MS;
  // croner returns the first firing strictly after its argument
  return parse(expr).nextRun(new Date(minute - 1000))?.getTime() === minute;
}

/** The next `n` firings strictly after `from` (UTC). */
export function nextRuns(expr: string, n: number, from: Date = new Date()): Date[] {
  return parse(expr).nextRuns(n, from);
}

/**
 * Longest time in minutes between two consecutive firings of any of `exprs`,
 * over four years from the start of `from`'s UTC day (covers leap years and
 * every weekday/date pairing that matters for health thresholds). Throws if
 * nothing fires in that window.
 */
export function maxCronGapMinutes(exprs: string[], from: Date = new Date(Date.UTC(2024, 0, 1))): number {
  const startDay = Math.floor(from.getTime() / DAY_MS);
  const days = 4 * 366;
  const endDay = startDay + days;
  const firings = new Set<number>(); // minutes since the epoch
  for (const expr of exprs) {
    const cron = parse(expr);
    const first = cron.nextRun(new Date(startDay * DAY_MS - 1000));
    if (first === null || first.getTime() >= endDay * DAY_MS) continue;
    // The minutes of day are the same on every day that fires (hours and minutes do
    // not depend on the date): read them off the first such day, then ask croner
    // only for the next day that fires, instead of stepping through every firing.
    const firstDay = Math.floor(first.getTime() / DAY_MS);
    const minutesOfDay: number[] = [];
    for (let t: Date | null = first; t !== null && Math.floor(t.getTime() / DAY_MS) === firstDay; t = cron.nextRun(t)) {
      minutesOfDay.push((t.getTime() - firstDay * DAY_MS) / MINUTE_MS);
    }
    for (let day = firstDay; day < endDay;) {
      for (const m of minutesOfDay) firings.add(day * 1440 + m);
      const next = cron.nextRun(new Date((day + 1) * DAY_MS - 1000));
      if (next === null) break;
      day = Math.floor(next.getTime() / DAY_MS);
    }
  }
  if (firings.size === 0) throw new Error(`schedule ${JSON.stringify(exprs)} never fires`);
  // Once in four years (29 February): the window itself is the gap.
  if (firings.size === 1) return days * 1440;
  const sorted = [...firings].sort((x, y) => x - y);
  let gap = 0;
  for (let i = 1; i < sorted.length; i++) gap = Math.max(gap, sorted[i] - sorted[i - 1]);
  return gap;
}
