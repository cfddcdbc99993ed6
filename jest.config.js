/** Unit and sandbox tests. End-to-end runs against a real n8n live in jest.e2e.config.js. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/test/e2e/'],
  transform: {
    // Transpile only: types are checked by `npm run lint` (tsc --noEmit), which keeps tests fast.
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }],
  },
};
