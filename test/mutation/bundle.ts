// Many test files run as one jest test file, for mutant runs (docs/mutation.md).
//
// Jest pays about 0.2 s of CPU per test file (a fresh module registry and test
// framework), and Stryker runs every file that covers a mutant for every mutant: a
// config mutant that survives cost 15 file loads. Here each test file is required
// inside a describe block named after it, so its tests, hooks and describe blocks keep
// their own scope and run exactly as in their own file, and their full names start
// with the file's path. A file that mocks modules (jest.mock) must stay a file of its
// own: a mock applies to the whole registry.
import * as fs from "fs";
import * as path from "path";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { MEMBERS } = require("./selection") as { MEMBERS: string };

const root = path.resolve(__dirname, "../..");

/** Each `*.test.ts` directly under `dir` (relative to the repository), minus `skip`. */
export function bundle(dir: string, skip: readonly RegExp[] = []): void {
  const files = fs
    .readdirSync(path.join(root, dir))
    .filter((f) => f.endsWith(".test.ts") && !skip.some((re) => re.test(f)))
    .sort();
  if (files.length === 0) throw new Error(`bundle: no test file under ${dir}`);
  bundleFiles(files.map((f) => `${dir}/${f}`));
}

/**
 * The files of a bundle that a mutant run needs: in a mutant run with a test name
 * pattern, runner.js lists the files holding a matching test, and the others are not
 * even loaded (declaring a test costs jest a stack trace, loading a file its imports);
 * jest's own name filter would skip all their tests anyway. Otherwise every file, by
 * path.
 */
function needed(files: readonly string[]): readonly string[] {
  const listed = process.env.__STRYKER_ACTIVE_MUTANT__ === undefined ? undefined : process.env[MEMBERS];
  if (listed === undefined) return files;
  // in runner.js's order: the files that killed the last mutants first
  const members = JSON.parse(listed) as string[];
  return files.filter((f) => members.includes(f)).sort((a, b) => members.indexOf(a) - members.indexOf(b));
}

/** The named test files (paths relative to the repository), each in its own describe block. */
export function bundleFiles(files: readonly string[]): void {
  for (const f of files) {
    if (!fs.existsSync(path.join(root, f))) throw new Error(`bundle: ${f} does not exist`);
  }
  for (const f of needed(files)) {
    describe(f, () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require(path.join(root, f));
    });
  }
}
