import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/**", "bin/**", "**/node_modules/**", "policies/bin/**", "examples/**/bin/**", "jest.config.js", "reports/**", ".tmp/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // plain Node scripts run by npm lifecycle hooks (CommonJS, no build step)
    files: ["scripts/**/*.js", "test/mutation/*.js", "bench/*.js"],
    languageOptions: { sourceType: "commonjs", globals: { require: "readonly", __dirname: "readonly", console: "readonly", process: "readonly", setTimeout: "readonly" } },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  // the mutation set's jest setup file
  { files: ["test/mutation/record-test-names.js"], languageOptions: { globals: { beforeEach: "readonly", afterAll: "readonly", expect: "readonly" } } },
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      eqeqeq: ["error", "always"],
    },
  },
);
