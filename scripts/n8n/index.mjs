// A small library for running this package in a real n8n: provisioning (provision.mjs), one n8n
// instance with its CLI and editor (instance.mjs), this package's examples and sandbox
// (easemob.mjs), and n8n in queue mode with Redis and PostgreSQL (queue.mjs). Used by
// scripts/demo.mjs, scripts/start.mjs, scripts/bench.mjs and test/e2e/.
export * from './provision.mjs';
export * from './instance.mjs';
export * from './easemob.mjs';
export * from './queue.mjs';
