/**
 * End-to-end tests: the packed package in a real n8n (scripts/n8n/) against the Easemob sandbox.
 * Run by `npm run test:e2e`, which builds and provisions n8n first. The tests are ES modules, like
 * the scripts they share code with, hence ts-jest's ESM mode and --experimental-vm-modules.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/e2e'],
  testMatch: ['**/*.e2e.test.ts'],
  // Queue mode needs Redis and PostgreSQL: `npm run test:e2e:queue` runs it (jest.e2e.queue.config.js).
  testPathIgnorePatterns: ['/node_modules/', '/queue\\.e2e\\.test\\.ts$'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'test/e2e/tsconfig.json', useESM: true }],
  },
  // Every n8n command starts a new n8n process (~10 s); the editor test starts n8n and a browser.
  testTimeout: 240_000,
  slowTestThreshold: 60,
  verbose: true,
};
