// The mutation set's test selection (test/mutation/name-filter.js) must pick exactly
// the tests jest's own name filter would: otherwise a mutant run tests a different set
// than Stryker asked for, and a kill or a survivor means something else.
import * as path from "path";

interface NameFilter {
  literals(pattern: string): string[] | undefined;
  nameMatcher(pattern: string): (name: string) => boolean;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { literals, nameMatcher } = require(path.join(__dirname, "../../mutation/name-filter.js")) as NameFilter;

// How Stryker builds the pattern for a mutant run: @stryker-mutator/jest-runner 9.6,
// jest-test-runner.js `mutantRun` (`(${escapeRegExp(id)})` joined with `|`), and
// @stryker-mutator/util string-utils.js `escapeRegExp` (an ES module jest cannot load here)
const escapeRegExp = (s: string) => s.replace(/[.*+\-?^${}()|[\]\\]/g, "\\$&");
const strykerPattern = (names: readonly string[]) => names.map((n) => `(${escapeRegExp(n)})`).join("|");
// ... and how jest applies it to a test's full name (jest-circus 29, eventHandler.js)
const jestMatches = (pattern: string, name: string) => new RegExp(pattern, "i").test(name);

// Characters that regular expressions treat specially, that change under case
// folding, or that fold differently in a regular expression than in toLowerCase:
// ß and ſ (long s), the Kelvin sign, dotted and dotless i, final sigma.
const ALPHABET = ["a", "B", "c", "A", "b", "C", " ", ".", "*", "(", ")", "|", "\\", "[", "]", "$", "^", "-", "/", "ß", "ſ", "s", "S", "\u212a", "k", "K", "İ", "ı", "i", "I", "ς", "σ", "Σ", "é", "É", "—", "長"];

function lcg(seed: number): () => number {
  let x = seed;
  return () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
}

describe("the mutation set's test name filter", () => {
  test("reads back every name from a pattern built as Stryker builds it", () => {
    const names = ["config a.b (c) | d", "back\\slash ) | ( x", "$^*+?{}[]-/", "ünïcödé — 長い", "x"];
    expect(literals(strykerPattern(names))).toEqual(names);
  });

  test.each([["foo.*bar"], ["(a)|b"], ["(a)|"], ["(a"], ["a)"], [""]])("refuses %j as Stryker's shape", (pattern) => {
    expect(literals(pattern)).toBeUndefined();
  });

  test("agrees with jest's regular expression on random names, case variants and substrings", () => {
    const rnd = lcg(42);
    const word = (n: number) => Array.from({ length: n }, () => ALPHABET[Math.floor(rnd() * ALPHABET.length)]).join("");
    let positives = 0;
    for (let round = 0; round < 300; round++) {
      const names = Array.from({ length: 12 }, () => word(1 + Math.floor(rnd() * 8)));
      // literals: some names as they are, some parts of names, some in other case, some new
      const lits = names.slice(0, 4).map((n, i) => {
        if (i === 1) return n.slice(Math.floor(n.length / 3));
        if (i === 2) return rnd() < 0.5 ? n.toUpperCase() : n.toLowerCase();
        if (i === 3) return word(2);
        return n;
      }).filter((l) => l !== "");
      if (lits.length === 0) continue;
      const pattern = strykerPattern(lits);
      const matches = nameMatcher(pattern);
      for (const n of [...names, ...names.map((x) => x.toUpperCase()), ...names.map((x) => x.toLowerCase())]) {
        const expected = jestMatches(pattern, n);
        if (expected) positives++;
        expect([pattern, n, matches(n)]).toEqual([pattern, n, expected]);
      }
    }
    // the cases include matches, not only refusals
    expect(positives).toBeGreaterThan(500);
  });

  test("keeps the regular expression for a pattern of another shape", () => {
    const matches = nameMatcher("config .* refuses");
    expect(matches("config x.y refuses 0")).toBe(true);
    expect(matches("config refuses")).toBe(false);
  });
});
