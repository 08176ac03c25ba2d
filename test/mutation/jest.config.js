// The tests `npm run mutation` runs against each mutant: the unit and policy tests
// that exercise config, lib, the renderers, the access model and the policy pack
// directly. Whole-program runs (runProgram under mocks) are left out: they take
// seconds each and would run for nearly every mutant.
const path = require("path");

const root = path.resolve(__dirname, "../..");

module.exports = {
  rootDir: root,
  // jest crawls its roots before every run, and Stryker starts a run per mutant
  roots: ["<rootDir>/components", "<rootDir>/policies", "<rootDir>/test"],
  testEnvironment: "node",
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: path.join(__dirname, "tsconfig.json"), diagnostics: false }] },
  moduleFileExtensions: ["ts", "js", "json"],
  // the policy SDK without its gRPC server: see pulumi-policy.js
  moduleNameMapper: { "^@pulumi/policy$": path.join(__dirname, "pulumi-policy.js") },
  // per mutant, only the test files holding a test Stryker asked for: see runner.js
  runner: path.join(__dirname, "runner.js"),
  setupFilesAfterEnv: [path.join(__dirname, "record-test-names.js")],
  testMatch: [
    "<rootDir>/test/unit/config/**/*.test.ts",
    "<rootDir>/test/unit/lib/**/*.test.ts",
    "<rootDir>/test/unit/server/{render,pg-hba}.test.ts",
    "<rootDir>/test/unit/pooler/render.test.ts",
    "<rootDir>/test/unit/apps/access-model.test.ts",
    "<rootDir>/test/policies/**/*.test.ts",
  ],
  // whole-program runs under mocks: seconds each
  testPathIgnorePatterns: ["/node_modules/", "<rootDir>/test/policies/program-", "<rootDir>/test/unit/config/classes-program"],
};
