// components/lib/cron.ts at its edges: messages that state the field's range
// and the ends of the four-year window of the gap search.
import { cronProblem, maxCronGapMinutes } from "../../../components/lib/cron";

describe("cronProblem messages", () => {
  it("states the largest step of the field at fault", () => {
    expect(cronProblem("0 0 */0 * *")).toMatch(/day of month field "\*\/0" has an invalid step \(at least 1, at most 31\)/);
    expect(cronProblem("0 */0 * * *")).toMatch(/hour field "\*\/0" has an invalid step \(at least 1, at most 24\)/);
  });

  it("mentions a seconds field only when there are six fields", () => {
    const four = cronProblem("0 0 * *");
    expect(four).toMatch(/expected 5 cron fields .*, got 4/);
    expect(four).not.toMatch(/seconds/);
  });
});

describe("maxCronGapMinutes at its edges", () => {
  it("counts a firing at midnight on every day", () => {
    expect(maxCronGapMinutes(["0 0 * * *"])).toBe(1440);
  });

  it("keeps each firing's time of day (a late Monday job and an early Tuesday one)", () => {
    expect(maxCronGapMinutes(["0 23 * * 1", "0 1 * * 2"])).toBe(7 * 1440 - 120);
  });

  it("leaves out the day the window ends on", () => {
    // window 2024-02-26 .. 2028-02-29 (exclusive): one 29 February, so the whole window is the gap
    expect(maxCronGapMinutes(["0 0 29 2 *"], new Date(Date.UTC(2024, 1, 26)))).toBe(4 * 366 * 1440);
  });

  it("refuses a schedule that does not fire inside the window, and an empty one", () => {
    // 2100 is not a leap year: no 29 February between 2097-03-01 and 2101-03-04
    expect(() => maxCronGapMinutes(["0 0 29 2 *"], new Date(Date.UTC(2097, 2, 1)))).toThrow(/never fires/);
    expect(() => maxCronGapMinutes([])).toThrow(/never fires/);
  });
});
