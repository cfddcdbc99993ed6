/**
 * `npm run test:e2e:queue`: the packed package in n8n's queue mode (main, two workers, Redis and
 * PostgreSQL, started by scripts/n8n/queue.mjs), which `npm run test:e2e` leaves out.
 */
const e2e = require('./jest.e2e.config.js');

module.exports = {
  ...e2e,
  testMatch: ['**/queue.e2e.test.ts'],
  testPathIgnorePatterns: [],
  // The 10 executions for one user take a minute at Easemob's 5 per minute.
  testTimeout: 600_000,
};
