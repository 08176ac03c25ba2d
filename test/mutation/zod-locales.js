// zod's message catalogues for the mutation set: none. `zod` loads all of its 48
// locales at start (v4/classic/external.cjs and v4/core/index.cjs export them as
// `locales`), and a mutant run is a fresh module registry that loads them again; the
// program uses none but the default English one, which zod loads on its own
// (`../locales/en.cjs`). A use of `z.locales` would fail the initial run, loudly.
module.exports = {};
