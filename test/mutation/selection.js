// What runner.js tells the rest of the mutation set about the tests a mutant run
// asks for.
module.exports = {
  // the environment variable listing a bundle's files to load, in order (bundle.ts
  // reads it inside the test's sandbox, where this module is a fresh copy)
  MEMBERS: "HLPG_MUTATION_BUNDLE_MEMBERS",
  // the run's test name predicate (name-filter.js), which environment.js applies in
  // jest's place: runner.js and the environment share this module instance
  matches: undefined,
};
