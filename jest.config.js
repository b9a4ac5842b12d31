export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  // Tests are foo.test.ts beside foo.ts (Jest's default would also take src/runtime/spec.ts for a test).
  testMatch: ['**/*.test.ts'],
  // test/heavy: the crash and load tests, run by `npm run test:heavy` (jest.heavy.config.js), not by `npm test`.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/heavy/'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } }],
  },
  coverageProvider: 'v8',
  testTimeout: 60000,
};
