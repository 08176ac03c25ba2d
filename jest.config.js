// Four layers, selectable with --selectProjects; `npm test` runs all of them.
const tsJest = ["ts-jest", { tsconfig: "tsconfig.json", diagnostics: { warnOnly: false } }];
const base = { testEnvironment: "node", transform: { "^.+\\.ts$": tsJest }, moduleFileExtensions: ["ts", "js", "json"] };

module.exports = {
  projects: [
    { ...base, displayName: "unit", testMatch: ["<rootDir>/test/unit/**/*.test.ts"] },
    { ...base, displayName: "impact", testMatch: ["<rootDir>/test/impact/**/*.test.ts"] },
    { ...base, displayName: "policies", testMatch: ["<rootDir>/test/policies/**/*.test.ts"] },
    { ...base, displayName: "integration", testMatch: ["<rootDir>/test/integration/**/*.test.ts"], setupFilesAfterEnv: ["<rootDir>/test/integration/setup.ts"] },
  ],
};
