#!/usr/bin/env node
// @ts-check
'use strict';

// Runs the Easemob sandbox in the foreground so a real n8n can be pointed at it by hand.

const fs = require('node:fs');
const { parseArgs } = require('node:util');
const { startSandbox, DEFAULTS } = require('./server');

const USAGE = `Usage: node test/sandbox/cli.js [options]
  --port <n>            port to listen on (default 8080; 0 = any free port)
  --host <addr>         address to bind (default 127.0.0.1; 0.0.0.0 for n8n in a container)
  --seed <file.json>    initial users, conversations and roaming history (default seed.json)
  --no-limits           switch every rate limit off
  --per-user <n>/<ms>   one-way delete, per user (default 5/60000)
  --per-app <n>/<ms>    one-way delete, per app (default 100/1000)
  --history <n>/<ms>    each message history endpoint, per app (default 100/1000)
  --user-calls <n>/<ms> all user calls together, per app (default 100/1000)
  --no-roaming          the app has no message roaming: history calls answer 400
  --latency <ms>        delay before every API answer (default 0)
  --token-ttl <s>       token lifetime when the request has no ttl; 0 = never (default 86400)
  --agora               Agora Chat mode: also accept 007 app tokens signed with the App Certificate
  --app-id <hex32>      Agora mode's App ID (default ${DEFAULTS.appId})
  --app-certificate <hex32>  Agora mode's App Certificate (default ${DEFAULTS.appCertificate})
  --help`;

/** @param {string} message @returns {never} */
function usageError(message) {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

/** @param {string} name @param {string} text */
function count(name, text) {
  if (!/^\d+$/.test(text)) usageError(`--${name} takes a non-negative integer, not "${text}"`);
  return Number(text);
}

/** @param {string} name @param {string} text */
function hex32(name, text) {
  if (!/^[0-9a-fA-F]{32}$/.test(text)) usageError(`--${name} takes 32 hexadecimal characters, as Agora Console shows them`);
  return text;
}

/** @param {string} name @param {string} text */
function limit(name, text) {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  if (!match || Number(match[1]) === 0 || Number(match[2]) === 0) usageError(`--${name} takes <calls>/<ms>, e.g. 5/60000, not "${text}"`);
  return { limit: Number(match[1]), windowMs: Number(match[2]) };
}

function parse() {
  try {
    return parseArgs({
      options: {
        port: { type: 'string', default: '8080' },
        host: { type: 'string' },
        seed: { type: 'string' },
        'no-limits': { type: 'boolean' },
        'per-user': { type: 'string' },
        'per-app': { type: 'string' },
        history: { type: 'string' },
        'user-calls': { type: 'string' },
        'no-roaming': { type: 'boolean' },
        latency: { type: 'string' },
        'token-ttl': { type: 'string' },
        agora: { type: 'boolean' },
        'app-id': { type: 'string' },
        'app-certificate': { type: 'string' },
        help: { type: 'boolean' },
      },
    }).values;
  } catch (error) {
    return usageError(/** @type {Error} */ (error).message);
  }
}

/** @returns {import('./server').SandboxOptions} */
function optionsFromArgs() {
  const values = parse();
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  /** @type {import('./server').SandboxOptions} */
  const options = { port: count('port', values.port), host: values.host };
  if (values.seed !== undefined) {
    try {
      options.seed = JSON.parse(fs.readFileSync(values.seed, 'utf8'));
    } catch (error) {
      usageError(`--seed ${values.seed}: ${/** @type {Error} */ (error).message}`);
    }
  }
  /** @param {'per-user' | 'per-app' | 'history' | 'user-calls'} flag @param {'perUser' | 'perApp' | 'history' | 'userCalls'} key */
  const given = (flag, key) => (values[flag] === undefined ? DEFAULTS.rateLimits[key] : limit(flag, values[flag]));
  if (values['no-limits']) options.rateLimits = false;
  else {
    options.rateLimits = {
      perUser: given('per-user', 'perUser'),
      perApp: given('per-app', 'perApp'),
      history: given('history', 'history'),
      userCalls: given('user-calls', 'userCalls'),
    };
  }
  if (values['no-roaming']) options.messageRoaming = false;
  if (values.latency !== undefined) options.latencyMs = count('latency', values.latency);
  if (values['token-ttl'] !== undefined) options.tokenTtlSeconds = count('token-ttl', values['token-ttl']);
  if (!values.agora && (values['app-id'] !== undefined || values['app-certificate'] !== undefined)) {
    usageError('--app-id and --app-certificate need --agora');
  }
  if (values.agora) {
    options.agora = true;
    options.appId = hex32('app-id', values['app-id'] ?? DEFAULTS.appId);
    options.appCertificate = hex32('app-certificate', values['app-certificate'] ?? DEFAULTS.appCertificate);
  }
  return options;
}

/** @param {import('./server').RateLimits | false | undefined} limits */
function describeLimits(limits) {
  if (!limits) return 'off';
  const one = (/** @type {import('./server').RateLimit | false | undefined} */ l) => (l ? `${l.limit} per ${l.windowMs} ms` : 'off');
  return (
    `one-way delete per user ${one(limits.perUser)} and per app ${one(limits.perApp)}; ` +
    `each history endpoint ${one(limits.history)}; user calls ${one(limits.userCalls)}`
  );
}

async function main() {
  const options = optionsFromArgs();
  const sandbox = await startSandbox(options).catch((/** @type {Error} */ error) => {
    console.error(`Could not start the sandbox: ${error.message}`);
    process.exit(1);
  });
  const agora = sandbox.agora
    ? `
Or, for an Agora Chat account (Account Type "Agora Chat — App ID and App Certificate"):
  Host             ${sandbox.url}
  Org Name         ${sandbox.orgName}
  App Name         ${sandbox.appName}
  App ID           ${sandbox.appId}
  App Certificate  ${sandbox.appCertificate}
`
    : '';
  console.log(`Easemob sandbox running${sandbox.agora ? ' in Agora Chat mode' : ''}.

Paste into the n8n "Easemob API" credential (Account Type "Easemob — Client ID and Client Secret"):
  Host           ${sandbox.url}
  Org Name       ${sandbox.orgName}
  App Name       ${sandbox.appName}
  Client ID      ${sandbox.clientId}
  Client Secret  ${sandbox.clientSecret}
${agora}
Admin (no auth): GET  ${sandbox.url}/_sandbox/state
                 GET  ${sandbox.url}/_sandbox/requests
                 GET  ${sandbox.url}/_sandbox/tokens   (the Agora tokens seen)
                 POST ${sandbox.url}/_sandbox/reset | seed | configure | expire-tokens
Rate limits: ${describeLimits(options.rateLimits)}.
Message roaming: ${options.messageRoaming === false ? 'off' : 'on'}. Latency: ${options.latencyMs ?? 0} ms.
Ctrl+C stops.`);

  const stop = async (/** @type {string} */ signal) => {
    console.log(`\n${signal}: closing the sandbox.`);
    await sandbox.close();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main();
