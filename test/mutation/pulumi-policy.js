// `@pulumi/policy` as the rules and the policy tests see it under `npm run mutation`
// only (moduleNameMapper in jest.config.js). The package's index loads policy.js, which
// loads its gRPC server and @pulumi/pulumi: about 1.5 s of CPU per test file in plain
// node, several in jest, paid again for every mutant. The rules use only the
// unknown-value proxy at run time (types are erased), so that module is given as is:
// the same classes, the same behaviour.
const proxy = require("@pulumi/policy/proxy");

module.exports = {
  UnknownValueError: proxy.UnknownValueError,
  unknownCheckingProxy: proxy.unknownCheckingProxy,
};
// PolicyPack comes from the real module, loaded only when asked for. Not enumerable:
// pack.test.ts mocks the package as `{ ...jest.requireActual(...), PolicyPack: jest.fn() }`,
// and a spread would call an enumerable getter and load the real module (about 8 s of
// CPU per mutant whose tests include that file) only to replace what it returns.
Object.defineProperty(module.exports, "PolicyPack", {
  enumerable: false,
  get: () => require("@pulumi/policy/policy").PolicyPack,
});
