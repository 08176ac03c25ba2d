// Real servers take seconds to start; a restore takes longer.
jest.setTimeout(180_000);
