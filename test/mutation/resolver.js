// jest's module resolution for the mutation set, remembered for the life of the
// worker process. A mutant run is a fresh jest run, and jest resolves every require
// of every module it loads again from scratch, searching the file system (jest-resolve's
// caches live in a Resolver made per run): profiled in a Stryker worker, about a
// tenth of a mutant run. Stryker's sandbox does not change while it runs mutants, so
// the same request from the same folder resolves to the same file every time.
const cache = new Map();

module.exports = (request, options) => {
  const key = `${options.basedir}\0${request}\0${(options.conditions || []).join(",")}`;
  let found = cache.get(key);
  if (found === undefined) {
    found = options.defaultResolver(request, options);
    cache.set(key, found);
  }
  return found;
};
