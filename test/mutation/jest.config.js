// The tests `npm run mutation` runs against each mutant: the unit and policy tests
// that exercise config, lib, the renderers, the access model and the policy pack
// directly. Whole-program runs (runProgram under mocks) are left out: they take
// seconds each and would run for nearly every mutant.
const path = require("path");

const root = path.resolve(__dirname, "../..");

module.exports = {
  rootDir: root,
  // jest crawls its roots before every run, and Stryker starts a run per mutant. The
  // tests are all under test/; sources are found by path, not through this map
  // (no --findRelatedTests: stryker.config.json, and runner.js picks the files)
  roots: ["<rootDir>/test"],
  // jest asks for watchman before every run by spawning `watchman --version` (jest-haste-map,
  // isWatchmanInstalled.js); there is none here, and a mutant run is a jest run
  watchman: false,
  // skips a file's remaining tests after a failure in mutant runs: see environment.js
  testEnvironment: path.join(__dirname, "environment.js"),
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: path.join(__dirname, "tsconfig.json"), diagnostics: false }] },
  moduleFileExtensions: ["ts", "js", "json"],
  // each module path found once per worker, not once per mutant: see resolver.js
  resolver: path.join(__dirname, "resolver.js"),
  // the policy SDK without its gRPC server: see pulumi-policy.js
  // and zod without its 48 message catalogues: see zod-locales.js
  moduleNameMapper: { "^@pulumi/policy$": path.join(__dirname, "pulumi-policy.js"), "^\\.\\./locales/index\\.cjs$": path.join(__dirname, "zod-locales.js") },
  // per mutant, only the test files holding a test Stryker asked for: see runner.js
  runner: path.join(__dirname, "runner.js"),
  setupFilesAfterEnv: [path.join(__dirname, "record-test-names.js")],
  // the unit tests of config, lib, the renderers and the access model, and the policy
  // tests, bundled a folder to a jest test file (bundle.ts; the bundles say which files
  // they leave out: the whole-program runs under mocks, seconds each); pack.test.ts
  // mocks a module, so it stays a file of its own; server/settings.test.ts loads
  // @pulumi/pulumi and @pulumi/docker (seconds), so only the mutants it covers pay for it
  testMatch: ["<rootDir>/test/mutation/bundles/*.test.ts", "<rootDir>/test/policies/pack.test.ts", "<rootDir>/test/unit/server/settings.test.ts"],
};
