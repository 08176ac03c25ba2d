// TEMPORARY: replaced by the croner-based module at merge.
export function cronProblem(expr: string): string | undefined {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5) return `expected 5 cron fields, got ${fields.length} in ${JSON.stringify(expr)}`;
  const ranges: [string, number, number][] = [
    ["minute", 0, 59], ["hour", 0, 23], ["day of month", 1, 31], ["month", 1, 12], ["day of week", 0, 7],
  ];
  for (let i = 0; i < 5; i++) {
    const [label, lo, hi] = ranges[i];
    for (const part of fields[i].split(",")) {
      const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
      if (!m) return `${label} field ${JSON.stringify(part)} does not parse`;
      const nums = [m[2], m[3]].filter((x) => x !== undefined).map(Number);
      if (nums.some((n) => n < lo || n > hi)) return `${label} ${JSON.stringify(part)} is outside ${lo}-${hi}`;
      if (nums.length === 2 && nums[0] > nums[1]) return `${label} range ${JSON.stringify(part)} is reversed`;
      if (m[4] !== undefined && Number(m[4]) === 0) return `${label} step must be at least 1`;
    }
  }
  return undefined;
}
