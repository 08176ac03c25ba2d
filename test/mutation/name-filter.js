// Stryker's test filter, without its regular expression (runner.js, environment.js).
//
// For each mutant Stryker's jest runner joins the full names of the covering tests
// into one pattern, `(name1)|(name2)|...` with each name regex-escaped
// (@stryker-mutator/jest-runner 9.6, jest-test-runner.js `mutantRun`;
// @stryker-mutator/util `escapeRegExp`), and jest tests each declared test's full
// name against it, case-insensitively and unanchored, once per enclosing describe
// block (jest-circus 29, utils.js `hasEnabledTest`). A config mutant is covered by
// hundreds of tests, so that is hundreds of alternatives tried at every position of
// every name, many times over: profiled in a Stryker worker, the regular expression
// was the largest single cost of a mutant run. The same selection is a substring
// search for each literal name.

/**
 * The literal names in a pattern built as Stryker builds it, or undefined when the
 * pattern has any other shape (then the caller keeps the regular expression).
 */
function literals(pattern) {
  const out = [];
  let i = 0;
  while (i < pattern.length) {
    if (pattern[i] !== "(") return undefined;
    i++;
    let lit = "";
    for (;;) {
      if (i >= pattern.length) return undefined;
      const c = pattern[i];
      if (c === "\\") {
        if (i + 1 >= pattern.length) return undefined;
        lit += pattern[i + 1];
        i += 2;
      } else if (c === ")") {
        i++;
        break;
      } else if (".*+-?^${}()|[]".includes(c)) {
        return undefined; // unescaped: not a literal name
      } else {
        lit += c;
        i++;
      }
    }
    out.push(lit);
    if (i < pattern.length) {
      if (pattern[i] !== "|" || i + 1 === pattern.length) return undefined;
      i++;
    }
  }
  return out.length > 0 ? out : undefined;
}

/**
 * A string as a case-insensitive regular expression without the `u` flag compares
 * it: each code unit by its upper case, unless that is more than one unit or takes
 * a non-ASCII unit to ASCII (ECMAScript, Canonicalize). So `a` ~ `A`, but `ß` stays.
 */
function canon(s) {
  // eslint-disable-next-line no-control-regex -- any ASCII, controls included
  if (/^[\x00-\x7f]*$/.test(s)) return s.toUpperCase();
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    const up = ch.toUpperCase();
    out += up.length !== 1 || (ch.charCodeAt(0) >= 128 && up.charCodeAt(0) < 128) ? ch : up;
  }
  return out;
}

/**
 * A predicate over full test names that agrees with `new RegExp(pattern, "i").test`:
 * for Stryker's shape, whether the name contains one of the literal names.
 */
function nameMatcher(pattern) {
  const lits = literals(pattern);
  if (lits === undefined) {
    const re = new RegExp(pattern, "i");
    return (name) => re.test(name);
  }
  const wanted = lits.map(canon);
  const exact = new Set(wanted);
  const seen = new Map();
  return (name) => {
    let yes = seen.get(name);
    if (yes === undefined) {
      const n = canon(name);
      yes = exact.has(n) || wanted.some((l) => l.length < n.length && n.includes(l));
      seen.set(name, yes);
    }
    return yes;
  };
}

module.exports = { canon, literals, nameMatcher };
