// `npm run test:heavy`: the long tests of test/heavy (crash points, load), one at a time (scripts/test-heavy.mjs).
import base from './jest.config.js';

export default {
  ...base,
  roots: ['<rootDir>/test/heavy'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 3_600_000,
};
