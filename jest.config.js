// Five layers, selectable with --selectProjects; `npm test` runs all of them.
const tsJest = ["ts-jest", { tsconfig: "tsconfig.json", diagnostics: { warnOnly: false } }];
const base = { testEnvironment: "node", transform: { "^.+\\.ts$": tsJest }, moduleFileExtensions: ["ts", "js", "json"] };

module.exports = {
  // a global option (jest ignores it inside projects): a whole program under mocks takes
  // ~1 s of CPU, which a loaded CI machine can stretch past jest's default 5 s in a hook
  testTimeout: 60_000,
  projects: [
    { ...base, displayName: "unit", testMatch: ["<rootDir>/test/unit/**/*.test.ts"] },
    { ...base, displayName: "impact", testMatch: ["<rootDir>/test/impact/**/*.test.ts"] },
    { ...base, displayName: "policies", testMatch: ["<rootDir>/test/policies/**/*.test.ts"] },
    { ...base, displayName: "integration", testMatch: ["<rootDir>/test/integration/**/*.test.ts"], setupFilesAfterEnv: ["<rootDir>/test/integration/setup.ts"] },
    { ...base, displayName: "engine", testMatch: ["<rootDir>/test/engine/**/*.test.ts"] },
  ],
};
