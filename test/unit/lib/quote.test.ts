// Quoting for shell scripts and pgbackrest.conf values.
import { confValueProblem, shellQuote } from "../../../components/lib/quote";

describe("shellQuote", () => {
  it.each(["a\nb", "a\rb", "a\0b"])("refuses %j (a newline or NUL would end the word)", (v) => {
    expect(() => shellQuote(v)).toThrow(/refusing to shell-quote/);
  });
});

describe("confValueProblem", () => {
  it("refuses an empty value", () => {
    expect(confValueProblem("")).toBe("is empty");
  });

  it("accepts up to 1024 characters and refuses more", () => {
    expect(confValueProblem("a".repeat(1024))).toBeUndefined();
    expect(confValueProblem("a".repeat(1025))).toBe("is longer than 1024 characters");
  });
});
