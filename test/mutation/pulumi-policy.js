// `@pulumi/policy` as the rules and the policy tests see it under `npm run mutation`
// only (moduleNameMapper in jest.config.js). The package's index loads policy.js, which
// loads its gRPC server and @pulumi/pulumi: about 1.5 s of CPU per test file, paid again
// for every mutant. The rules use only the unknown-value proxy at run time (types are
// erased), so that module is given as is: the same classes, the same behaviour.
// PolicyPack (pack.test.ts) still comes from the real module, loaded when asked for.
const proxy = require("@pulumi/policy/proxy");

module.exports = {
  UnknownValueError: proxy.UnknownValueError,
  unknownCheckingProxy: proxy.unknownCheckingProxy,
  get PolicyPack() {
    return require("@pulumi/policy/policy").PolicyPack;
  },
};
