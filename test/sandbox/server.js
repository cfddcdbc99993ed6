// @ts-check
'use strict';

// A local stand-in for the slice of the Easemob REST API this package calls (app token, one-way
// conversation delete, message history deletes and user management), so tests, benchmarks and
// manual n8n runs never touch the real service, whose rate limits and token bans make it unfit for
// repeated runs. The data and what each call does to it live in state.js.
// Types live in server.d.ts; the JSDoc below imports them from there.

const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const { randomBytes, randomUUID } = require('node:crypto');

const { agoraVerifier } = require('./agora');
const data = require('./state');

/**
 * @typedef {import('./server').SandboxOptions} SandboxOptions
 * @typedef {import('./server').SandboxSettings} SandboxSettings
 * @typedef {import('./server').Sandbox} Sandbox
 * @typedef {import('./server').Seed} Seed
 * @typedef {import('./server').SandboxState} SandboxState
 * @typedef {import('./server').UserState} UserState
 * @typedef {import('./server').Fault} Fault
 * @typedef {import('./server').RateLimit} RateLimit
 * @typedef {import('./server').RateLimits} RateLimits
 * @typedef {import('./server').Counters} Counters
 * @typedef {import('./server').BudgetCounters} BudgetCounters
 * @typedef {import('./server').Endpoint} Endpoint
 * @typedef {import('./server').Budget} Budget
 * @typedef {import('./server').LoggedRequest} LoggedRequest
 * @typedef {{ perUser: RateLimit | false, perApp: RateLimit | false, history: RateLimit | false, userCalls: RateLimit | false, windows: 'fixed' | 'sliding', retryAfter: boolean }} Limits
 * @typedef {{ latencyMs: number, tokenTtlSeconds: number, rateLimits: Limits, faults: Fault[], messageRoaming: boolean }} Settings
 * @typedef {{ status: number, body?: unknown, raw?: string, headers?: Record<string, string> }} Reply
 * @typedef {{ endpoint: Endpoint | 'other', org?: string, app?: string, rawUser?: string }} Route
 * @typedef {Map<string, string[]>} Query
 */

/** @type {import('./server').Defaults} */
const DEFAULTS = Object.freeze({
  orgName: 'demo-org',
  appName: 'demo-app',
  clientId: 'YXA6SandboxClientId',
  clientSecret: 'YXA6SandboxClientSecret',
  // Agora mode's App ID and App Certificate: 32 hexadecimal characters each, as Agora Console shows them.
  appId: '5a4db0c0ffee4e1b9d5a3c7e2f6b8d10',
  appCertificate: 'c3e1f0d2b4a69788e7d6c5b4a3921807',
  tokenTtlSeconds: 86_400,
  /** @type {Readonly<Limits>} */
  rateLimits: Object.freeze({
    perUser: Object.freeze({ limit: 5, windowMs: 60_000 }),
    perApp: Object.freeze({ limit: 100, windowMs: 1_000 }),
    history: Object.freeze({ limit: 100, windowMs: 1_000 }),
    userCalls: Object.freeze({ limit: 100, windowMs: 1_000 }),
    windows: /** @type {const} */ ('fixed'),
    retryAfter: false,
  }),
});

/**
 * Each API call the sandbox answers, by method and path below /{org}/{app} (`*` is the username).
 * The history-by-ID patterns come after the time-based ones, which they would otherwise not tell apart.
 * @type {Array<{ method: string, parts: string[], endpoint: Endpoint }>}
 */
const ROUTES = /** @type {Array<[string, string, Endpoint]>} */ ([
  ['POST', 'token', 'token'],
  // Listing users is what the credential's Test button calls once it has a token.
  ['GET', 'users', 'user.list'],
  ['GET', 'users/*', 'user.get'],
  ['DELETE', 'users/*', 'user.delete'],
  ['DELETE', 'users/*/user_channel', 'conversation.delete'],
  ['POST', 'users/*/deactivate', 'user.deactivate'],
  ['POST', 'users/*/activate', 'user.activate'],
  ['GET', 'users/*/disconnect', 'user.disconnect'],
  ['POST', 'rest/message/roaming/user/*/delete/all', 'history.all'],
  ['DELETE', 'rest/message/roaming/chat/user/*/time', 'history.chat.time'],
  ['DELETE', 'rest/message/roaming/group/user/*/time', 'history.group.time'],
  ['DELETE', 'rest/message/roaming/chat/user/*', 'history.chat.ids'],
  ['DELETE', 'rest/message/roaming/group/user/*', 'history.group.ids'],
]).map(([method, pattern, endpoint]) => ({ method, parts: pattern.split('/'), endpoint }));

const ENDPOINTS = ROUTES.map((r) => r.endpoint);
/** @type {Budget[]} */
const BUDGETS = ['conversation', 'history.all', 'history.chat.time', 'history.group.time', 'history.chat.ids', 'history.group.ids', 'user'];
// A fault's `on`: an endpoint, a budget, all history calls, 'any', or 'delete' (the one-way delete's older name).
const FAULT_TARGETS = ['any', 'delete', 'history', ...new Set([...ENDPOINTS, ...BUDGETS])];
const FAULT_KINDS = ['status', 'reset', 'slow', 'malformed-json', 'result-not-ok', 'unauthorized', 'resource_limited', 'reach_limit'];
const JSON_TYPE = 'application/json;charset=UTF-8';
const INVALID_BODY = 'Request body is invalid. Please check body is correct.';
const EXPIRED = 'Unable to authenticate due to expired access token';
const NOT_FOUND = 'Service resource not found';
const MAX_MESSAGE_IDS = 50;

// Easemob names a Java class here. These names are made up in that style: no client should
// branch on this field.
/** @type {Record<string, string>} */
const EXCEPTIONS = {
  illegal_argument: 'java.lang.IllegalArgumentException',
  invalid_request_body: 'com.easemob.im.exception.InvalidRequestBodyException',
  invalid_grant: 'org.apache.usergrid.management.exceptions.ManagementException',
  unsupported_grant_type: 'org.apache.usergrid.management.exceptions.ManagementException',
  organization_application_not_found: 'org.apache.usergrid.rest.exceptions.OrganizationApplicationNotFoundException',
  service_resource_not_found: 'org.apache.usergrid.services.exceptions.ServiceResourceNotFoundException',
  unauthorized: 'org.apache.usergrid.rest.exceptions.SecurityException',
  auth_bad_access_token: 'org.apache.usergrid.management.exceptions.BadAccessTokenException',
  reach_limit: 'com.easemob.ratelimit.exception.RateLimitException',
  resource_limited: 'com.easemob.ratelimit.exception.ResourceLimitedException',
  'service open exception': 'com.easemob.message.roaming.exception.ServiceOpenException',
  'param exception': 'com.easemob.message.roaming.exception.ParamException',
};

/**
 * @param {number} status
 * @param {string} error
 * @param {string} description
 * @returns {Reply}
 */
function errorReply(status, error, description) {
  return {
    status,
    body: {
      error,
      exception: EXCEPTIONS[error] ?? 'java.lang.RuntimeException',
      timestamp: Date.now(),
      duration: 0,
      error_description: description,
    },
  };
}

/** Thrown by a handler to answer with `reply` at once. */
class Refusal extends Error {
  /** @param {Reply} reply */
  constructor(reply) {
    super('refused');
    this.reply = reply;
  }
}

/** @param {number} status @param {string} error @param {string} description */
const refuse = (status, error, description) => new Refusal(errorReply(status, error, description));

/** @param {string} text */
function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** @param {unknown} value @returns {value is Record<string, unknown>} */
function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** @param {boolean} ok @param {string} message @returns {asserts ok} */
function check(ok, message) {
  if (!ok) throw new TypeError(`sandbox: ${message}`);
}

/** @param {unknown} value */
const isCount = (value) => Number.isInteger(value) && /** @type {number} */ (value) >= 0;
/** @param {unknown} value */
const isDuration = (value) => typeof value === 'number' && Number.isFinite(value) && value >= 0;

/** @param {Limits} current @param {RateLimits | false} next @returns {Limits} */
function mergeLimits(current, next) {
  if (next === false) return { ...current, perUser: false, perApp: false, history: false, userCalls: false };
  check(isObject(next), 'rateLimits must be an object or false');
  const merged = { ...current, ...next };
  for (const key of /** @type {const} */ (['perUser', 'perApp', 'history', 'userCalls'])) {
    const limit = merged[key];
    check(
      limit === false || (isObject(limit) && Number.isInteger(limit.limit) && limit.limit > 0 && isDuration(limit.windowMs) && limit.windowMs > 0),
      `rateLimits.${key} must be false or { limit: positive integer, windowMs: positive number }`,
    );
  }
  check(merged.windows === 'fixed' || merged.windows === 'sliding', "rateLimits.windows must be 'fixed' or 'sliding'");
  check(typeof merged.retryAfter === 'boolean', 'rateLimits.retryAfter must be a boolean');
  return merged;
}

/** @param {unknown} faults @returns {Fault[]} */
function copyFaults(faults) {
  check(Array.isArray(faults), 'faults must be an array');
  for (const f of faults) {
    check(isObject(f) && FAULT_KINDS.includes(/** @type {string} */ (f.kind)), `fault kind must be one of ${FAULT_KINDS.join(', ')}`);
    check(f.on === undefined || FAULT_TARGETS.includes(/** @type {string} */ (f.on)), `fault.on must be one of ${FAULT_TARGETS.join(', ')}`);
    check(f.username === undefined || typeof f.username === 'string', 'fault.username must be a string');
    check(f.times === undefined || isCount(f.times), 'fault.times must be a non-negative integer');
    check(f.status === undefined || (Number.isInteger(f.status) && Number(f.status) >= 100 && Number(f.status) <= 599), 'fault.status must be an HTTP status');
    check(f.delayMs === undefined || isDuration(f.delayMs), 'fault.delayMs must be a non-negative number');
  }
  // Copied because `times` counts down and the caller's rules must stay untouched.
  return structuredClone(/** @type {Fault[]} */ (faults));
}

/** @param {Settings} settings @param {SandboxSettings} partial @returns {Settings} */
function mergeSettings(settings, partial) {
  /** @type {unknown} */
  const input = partial;
  check(isObject(input), 'configure() takes an object');
  const next = { ...settings };
  if (partial.latencyMs !== undefined) {
    check(isDuration(partial.latencyMs), 'latencyMs must be a non-negative number');
    next.latencyMs = partial.latencyMs;
  }
  if (partial.tokenTtlSeconds !== undefined) {
    check(isCount(partial.tokenTtlSeconds), 'tokenTtlSeconds must be a non-negative integer');
    next.tokenTtlSeconds = partial.tokenTtlSeconds;
  }
  if (partial.rateLimits !== undefined) next.rateLimits = mergeLimits(settings.rateLimits, partial.rateLimits);
  if (partial.faults !== undefined) next.faults = copyFaults(partial.faults);
  if (partial.messageRoaming !== undefined) {
    check(typeof partial.messageRoaming === 'boolean', 'messageRoaming must be a boolean');
    next.messageRoaming = partial.messageRoaming;
  }
  return next;
}

/** @param {string} raw */
function decodeSegment(raw) {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

/** @param {string | undefined} url */
function splitUrl(url = '/') {
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const rawQuery = q < 0 ? '' : url.slice(q + 1);
  return { rawPath, rawQuery, query: Object.fromEntries(new URLSearchParams(rawQuery)) };
}

/**
 * The query as a servlet container reads it: `+` is a space, and a name or value that is not
 * correctly percent-encoded is dropped (Tomcat's default), so the service sees that parameter as missing.
 * @param {string} rawQuery @returns {Query}
 */
function parseQuery(rawQuery) {
  /** @type {Query} */
  const params = new Map();
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeSegment((eq < 0 ? pair : pair.slice(0, eq)).replace(/\+/g, ' '));
    const value = decodeSegment((eq < 0 ? '' : pair.slice(eq + 1)).replace(/\+/g, ' '));
    if (name === undefined || value === undefined) continue;
    params.set(name, [...(params.get(name) ?? []), value]);
  }
  return params;
}

// Spring's binding of @RequestParam values, with its messages: a repeated parameter bound to a
// String is its values joined by commas, an empty value counts as absent.

/** @param {Query} query @param {string} name @param {string} javaType */
function requiredParam(query, name, javaType) {
  const value = query.get(name)?.join(',');
  if (value === undefined || value === '') {
    throw refuse(400, 'illegal_argument', `Required request parameter '${name}' for method parameter type ${javaType} is not present`);
  }
  return value;
}

/** @param {string} javaType @param {string} cause */
const conversionFailed = (javaType, cause) =>
  `Failed to convert value of type 'java.lang.String' to required type '${javaType}'; nested exception is ${cause}`;

/** @param {Query} query @param {string} name */
function longParam(query, name) {
  const text = requiredParam(query, name, 'Long').trim();
  const fits = /^[+-]?\d{1,19}$/.test(text) && BigInt(text) >= -(2n ** 63n) && BigInt(text) < 2n ** 63n;
  if (!fits) {
    throw refuse(400, 'illegal_argument', conversionFailed('java.lang.Long', `java.lang.NumberFormatException: For input string: "${text}"`));
  }
  return Number(text);
}

/** @param {Query} query @param {string} name @returns {boolean | undefined} */
function optionalBooleanParam(query, name) {
  const text = query.get(name)?.join(',').trim().toLowerCase();
  if (text === undefined || text === '') return undefined;
  if (['true', 'on', 'yes', '1'].includes(text)) return true;
  if (['false', 'off', 'no', '0'].includes(text)) return false;
  const given = query.get(name)?.join(',');
  throw refuse(400, 'illegal_argument', conversionFailed('java.lang.Boolean', `java.lang.IllegalArgumentException: Invalid boolean value '${given}'`));
}

/** @param {string | undefined} method @param {string} rawPath @returns {Route} */
function route(method, rawPath) {
  const seg = rawPath.split('/');
  if (seg.length < 3) return { endpoint: 'other' };
  const [, org, app, ...rest] = seg;
  for (const r of ROUTES) {
    if (r.method !== method || r.parts.length !== rest.length) continue;
    if (r.parts.every((part, i) => part === '*' || part === rest[i])) {
      const star = r.parts.indexOf('*');
      return { endpoint: r.endpoint, org, app, rawUser: star < 0 ? undefined : rest[star] };
    }
  }
  return { endpoint: 'other', org, app };
}

/** @param {Endpoint | 'other'} endpoint @returns {Budget | undefined} */
function budgetOf(endpoint) {
  if (endpoint === 'conversation.delete') return 'conversation';
  if (endpoint.startsWith('history.')) return /** @type {Budget} */ (endpoint);
  if (endpoint.startsWith('user.')) return 'user';
  return undefined;
}

/**
 * Every budget is named as its endpoint is, or as the start of its endpoints' names.
 * @param {string} on @param {Endpoint | 'other'} endpoint
 */
function faultHits(on, endpoint) {
  if (on === 'any') return true;
  const target = on === 'delete' ? 'conversation.delete' : on;
  return endpoint === target || endpoint.startsWith(`${target}.`);
}

/** @param {Map<string, number>} map @param {string} key */
const bump = (map, key) => map.set(key, (map.get(key) ?? 0) + 1);

/** @param {SandboxOptions} [options] @returns {Promise<Sandbox>} */
async function startSandbox(options = {}) {
  const orgName = options.orgName ?? DEFAULTS.orgName;
  const appName = options.appName ?? DEFAULTS.appName;
  const clientId = options.clientId ?? DEFAULTS.clientId;
  const clientSecret = options.clientSecret ?? DEFAULTS.clientSecret;
  const host = options.host ?? '127.0.0.1';
  const agora = options.agora
    ? agoraVerifier({ appId: options.appId ?? DEFAULTS.appId, appCertificate: options.appCertificate ?? DEFAULTS.appCertificate })
    : undefined;
  const applicationId = randomUUID();
  const seed = structuredClone(options.seed ?? JSON.parse(fs.readFileSync(path.join(__dirname, 'seed.json'), 'utf8')));

  /** @type {Settings} */
  let settings = mergeSettings(
    { latencyMs: 0, tokenTtlSeconds: DEFAULTS.tokenTtlSeconds, rateLimits: DEFAULTS.rateLimits, faults: [], messageRoaming: true },
    {
      latencyMs: options.latencyMs,
      tokenTtlSeconds: options.tokenTtlSeconds,
      rateLimits: options.rateLimits,
      faults: options.faults,
      messageRoaming: options.messageRoaming,
    },
  );
  // Seeds are read relative to when the sandbox started, not to each reset, so that a reset gives
  // the same state back (message times and `created` included).
  const startedAt = Date.now();
  let world = data.worldFromSeed(seed, startedAt);
  /** @type {Map<string, number>} token -> expiry (ms since epoch, Infinity = never) */
  let tokens = new Map();
  /** @type {Map<string, number[]>} limiter key -> times of the calls it let through */
  let passed = new Map();
  /** @type {LoggedRequest[]} */
  let log = [];
  let counters = freshCounters();
  /** @type {Set<NodeJS.Timeout>} */
  const timers = new Set();

  function freshCounters() {
    return {
      requests: 0,
      tokenRequests: 0,
      tokensIssued: 0,
      deletes: 0,
      messagesDeleted: 0,
      status429: 0,
      errors: 0,
      /** @type {Map<string, number>} */ byStatus: new Map(),
      /** @type {Map<string, number>} */ deletesByUser: new Map(),
      /** @type {Map<string, { requests: number, ok: number }>} */ endpoints: new Map(),
      /** @type {Record<Budget, BudgetCounters>} */
      budgets: /** @type {Record<Budget, BudgetCounters>} */ (
        Object.fromEntries(
          BUDGETS.map((b) => [b, { passed: 0, refused: 0, ...(b === 'conversation' && { refusedPerUser: 0, refusedPerApp: 0 }) }]),
        )
      ),
    };
  }

  // Tracked so close() can drop pending latency and 'slow' waits instead of waiting them out.
  /** @param {number} ms @returns {Promise<void>} */
  function sleep(ms) {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });
  }

  /** @returns {Counters} */
  function counterSnapshot() {
    return {
      ...counters,
      byStatus: Object.fromEntries(counters.byStatus),
      deletesByUser: Object.fromEntries(counters.deletesByUser),
      endpoints: structuredClone(Object.fromEntries(counters.endpoints)),
      budgets: structuredClone(counters.budgets),
    };
  }

  /** @returns {SandboxState} */
  function stateSnapshot() {
    return {
      users: Object.fromEntries(structuredClone([...world.users])),
      groups: Object.fromEntries(structuredClone([...world.groups])),
    };
  }

  /** @param {Route} r */
  function takeFault(r) {
    const username = r.rawUser === undefined ? undefined : decodeSegment(r.rawUser);
    const fault = settings.faults.find(
      (f) =>
        faultHits(f.on ?? 'delete', r.endpoint) &&
        (f.username === undefined || f.username === username) &&
        (f.times === undefined || f.times > 0),
    );
    if (fault?.times !== undefined) fault.times -= 1;
    return fault;
  }

  /** @param {string} rawUser @param {'ok' | 'failed'} result @returns {Reply} */
  function deleteSuccess(rawUser, result) {
    return {
      status: 200,
      body: {
        path: '/users/user_channel',
        uri: `${sandbox.url}/${orgName}/${appName}/users/${rawUser}/user_channel`,
        timestamp: Date.now(),
        organization: orgName,
        application: applicationId,
        entities: [],
        action: 'delete',
        data: { result },
        duration: 0,
        applicationName: appName,
      },
    };
  }

  /**
   * The usual envelope of the user endpoints, around `entities`.
   * @param {string} action @param {string} uriPath below /{org}/{app} @param {unknown[]} entities @param {Record<string, unknown>} [extra]
   * @returns {Reply}
   */
  function envelope(action, uriPath, entities, extra = {}) {
    return {
      status: 200,
      body: {
        path: uriPath.endsWith('/disconnect') ? '/users/disconnect' : '/users',
        uri: `${sandbox.url}/${orgName}/${appName}/${uriPath}`,
        timestamp: Date.now(),
        organization: orgName,
        application: applicationId,
        entities,
        action,
        ...extra,
        duration: 0,
        applicationName: appName,
      },
    };
  }

  /** @param {Route} r @returns {Reply} A 200 whose body is not the endpoint's success. */
  function notOkReply(r) {
    const users = `users/${r.rawUser}`;
    switch (r.endpoint) {
      case 'history.all':
      case 'history.chat.time':
      case 'history.group.time':
      case 'history.chat.ids':
      case 'history.group.ids':
        return { status: 200, body: { requestStatusCode: 'fail', timestamp: Date.now() } };
      case 'user.disconnect':
        return envelope('get', `${users}/disconnect`, [], { data: { result: false } });
      case 'user.activate':
        return { status: 200, body: { timestamp: Date.now(), duration: 0 } };
      case 'user.get':
      case 'user.list':
        return envelope('get', r.endpoint === 'user.get' ? users : 'users', []);
      case 'user.delete':
        return envelope('delete', users, []);
      case 'user.deactivate':
        return envelope('Deactivate user', `${users}/deactivate`, []);
      default:
        return deleteSuccess(r.rawUser ?? '', 'failed');
    }
  }

  /** @param {Route} r */
  function malformedReply(r) {
    if (r.endpoint.startsWith('history.')) return '{"requestStatusCode":"o';
    if (r.endpoint.startsWith('user.')) return '{"path":"/users","entities":[{"uuid":"';
    return '{"path":"/users/user_channel","data":{"result":"o';
  }

  /** @param {Fault} fault @param {Route} r @returns {Reply} */
  function faultReply(fault, r) {
    switch (fault.kind) {
      case 'status':
        return errorReply(fault.status ?? 500, 'server_error', `Sandbox fault: HTTP ${fault.status ?? 500}`);
      case 'malformed-json':
        return { status: 200, raw: malformedReply(r) };
      case 'result-not-ok':
        return notOkReply(r);
      case 'unauthorized':
        return errorReply(401, 'unauthorized', EXPIRED);
      case 'resource_limited':
        return errorReply(429, 'resource_limited', 'You have exceeded the limit of the Free edition, please upgrade to higher edition.');
      default:
        return errorReply(429, 'reach_limit', 'This request has reached api limit');
    }
  }

  /** @param {unknown} body @returns {Reply} */
  function issueToken(body) {
    if (!isObject(body)) return errorReply(400, 'invalid_request_body', INVALID_BODY);
    if (body.grant_type !== 'client_credentials') {
      return errorReply(400, 'unsupported_grant_type', 'grant_type must be client_credentials');
    }
    if (body.client_id === undefined || body.client_id === null || body.client_id === '') {
      return errorReply(400, 'illegal_argument', 'client_id must be provided.');
    }
    if (body.client_id !== clientId) return errorReply(400, 'invalid_grant', 'client_id does not match');
    if (body.client_secret !== clientSecret) return errorReply(400, 'invalid_grant', 'client_secret does not match');
    if (body.ttl !== undefined && !isCount(body.ttl)) {
      return errorReply(400, 'illegal_argument', 'ttl must be a non-negative integer');
    }
    const lifetime = /** @type {number | undefined} */ (body.ttl) ?? settings.tokenTtlSeconds;
    const accessToken = `YWMt${randomBytes(32).toString('base64url')}`;
    tokens.set(accessToken, lifetime === 0 ? Infinity : Date.now() + lifetime * 1000);
    counters.tokensIssued += 1;
    return { status: 200, body: { access_token: accessToken, expires_in: lifetime, application: applicationId } };
  }

  /** @param {string | undefined} header @returns {Reply | undefined} */
  function authenticate(header) {
    if (header === undefined) return errorReply(401, 'unauthorized', EXPIRED);
    const token = /^Bearer +(\S+) *$/i.exec(header)?.[1];
    if (agora !== undefined && token?.startsWith('007')) {
      const refusal = agora.verify(token);
      return refusal && errorReply(401, refusal.error, refusal.description);
    }
    const expiresAt = token === undefined ? undefined : tokens.get(token);
    if (expiresAt === undefined) {
      // Easemob tells a well-formed token it did not issue apart from a mangled one.
      return token?.startsWith('YWMt')
        ? errorReply(401, 'auth_bad_access_token', 'Unable to authenticate')
        : errorReply(401, 'auth_bad_access_token', 'Unable to authenticate due to corrupt access token');
    }
    return Date.now() >= expiresAt ? errorReply(401, 'unauthorized', EXPIRED) : undefined;
  }

  /**
   * Counts the call against its budget's windows: the one-way delete's per user and per app, each
   * history endpoint's own per app, the one all user calls share. A full window refuses the call
   * and counts it in none.
   * @param {Budget} budget @param {string | undefined} username @returns {Reply | undefined}
   */
  function rateLimit(budget, username) {
    const { perUser, perApp, history, userCalls, windows: mode, retryAfter } = settings.rateLimits;
    const now = Date.now();
    /** @type {Array<[string, RateLimit, 'refusedPerUser' | 'refusedPerApp' | undefined]>} */
    const windows = [];
    if (budget === 'conversation') {
      if (perUser) windows.push([`conversation user:${username}`, perUser, 'refusedPerUser']);
      if (perApp) windows.push(['conversation app', perApp, 'refusedPerApp']);
    } else {
      const limit = budget === 'user' ? userCalls : history;
      if (limit) windows.push([budget, limit, undefined]);
    }
    const tally = counters.budgets[budget];
    let waitMs = 0;
    for (const [key, { limit, windowMs }, which] of windows) {
      // Fixed windows start at multiples of windowMs since the epoch, as Easemob counts in UTC.
      const start = mode === 'fixed' ? now - (now % windowMs) : now - windowMs + 1;
      const kept = (passed.get(key) ?? []).filter((t) => t >= start);
      passed.set(key, kept);
      if (kept.length >= limit) {
        const freeAt = mode === 'fixed' ? start + windowMs : kept[kept.length - limit] + windowMs;
        waitMs = Math.max(waitMs, freeAt - now);
        if (which !== undefined) tally[which] = (tally[which] ?? 0) + 1;
      }
    }
    if (waitMs > 0) {
      tally.refused += 1;
      const reply = errorReply(429, 'reach_limit', 'This request has reached api limit');
      if (retryAfter) reply.headers = { 'Retry-After': String(Math.ceil(waitMs / 1000)) };
      return reply;
    }
    tally.passed += 1;
    for (const [key] of windows) passed.get(key)?.push(now);
    return undefined;
  }

  /** @param {string} username @returns {UserState} */
  function existingUser(username) {
    const user = world.users.get(username);
    if (!user) throw refuse(404, 'service_resource_not_found', NOT_FOUND);
    return user;
  }

  /** @param {Route} r @param {string} username @param {unknown} body @returns {Reply} */
  function deleteConversation(r, username, body) {
    if (!isObject(body)) return errorReply(400, 'invalid_request_body', INVALID_BODY);
    const { channel, type, delete_roam: deleteRoam } = body;
    const wrongType = (/** @type {unknown} */ v, /** @type {string} */ t) => v !== undefined && v !== null && typeof v !== t;
    if (wrongType(channel, 'string') || wrongType(type, 'string') || wrongType(deleteRoam, 'boolean')) {
      return errorReply(400, 'invalid_request_body', INVALID_BODY);
    }
    if (!channel) return errorReply(400, 'illegal_argument', 'field channel cannot be null or empty');
    if (!type) return errorReply(400, 'illegal_argument', 'field type cannot be null or empty');
    if (deleteRoam === undefined || deleteRoam === null) return errorReply(400, 'illegal_argument', 'field delete_roam cannot be null');
    if (type !== 'chat' && type !== 'groupchat') return errorReply(400, 'illegal_argument', 'field type must be chat or groupchat');

    data.deleteConversation(existingUser(username), /** @type {string} */ (channel), type, /** @type {boolean} */ (deleteRoam));
    counters.deletes += 1;
    bump(counters.deletesByUser, username);
    return deleteSuccess(/** @type {string} */ (r.rawUser), 'ok');
  }

  /**
   * The message roaming calls (§5). Spring binds the query first; then the service checks that the
   * app has message roaming, the ID list's length, and the user.
   * @param {Endpoint} endpoint @param {string} username @param {Query} query @param {LoggedRequest} entry @returns {Reply}
   */
  function deleteHistory(endpoint, username, query, entry) {
    const [, kind, by] = endpoint.split('.');
    const roamingOn = () => {
      if (!settings.messageRoaming) throw refuse(400, 'service open exception', 'this appKey not open message roaming');
    };
    let removed;
    if (kind === 'all') {
      roamingOn();
      removed = data.deleteAllHistory(existingUser(username));
    } else {
      const type = kind === 'chat' ? 'chat' : 'groupchat';
      const channel = requiredParam(query, kind === 'chat' ? 'userId' : 'groupId', 'String');
      const delTime = by === 'time' ? longParam(query, 'delTime') : undefined;
      const ids = by === 'ids' ? requiredParam(query, 'msgIdList', 'String').split(',').filter((id) => id !== '') : [];
      const isNotify = optionalBooleanParam(query, 'isNotify') ?? true;
      entry.isNotify = isNotify;
      roamingOn();
      if (ids.length > MAX_MESSAGE_IDS) throw refuse(400, 'param exception', 'delete msg list limit can not greater than 50');
      const user = existingUser(username);
      removed =
        delTime === undefined ? data.deleteMessages(user, channel, type, ids) : data.deleteHistoryBefore(user, channel, type, delTime);
    }
    counters.messagesDeleted += removed;
    return { status: 200, body: { requestStatusCode: 'ok', timestamp: Date.now() } };
  }

  /** @param {Endpoint} endpoint @param {string} username @param {string} rawUser @returns {Reply} */
  function manageUser(endpoint, username, rawUser) {
    const user = existingUser(username);
    const users = `users/${rawUser}`;
    switch (endpoint) {
      case 'user.get':
        return envelope('get', users, [data.userEntity(username, user)], { count: 1 });
      case 'user.delete':
        data.deleteUser(world, username);
        return envelope('delete', users, [data.userEntity(username, user)]);
      case 'user.deactivate':
        // A ban logs the user out at once.
        Object.assign(user, { activated: false, online: false, modified: Date.now() });
        return envelope('Deactivate user', `${users}/deactivate`, [data.userEntity(username, user)]);
      case 'user.activate':
        Object.assign(user, { activated: true, modified: Date.now() });
        return { status: 200, body: { action: 'activate user', timestamp: Date.now(), duration: 0 } };
      default:
        user.online = false;
        return envelope('get', `${users}/disconnect`, [], { data: { result: true } });
    }
  }

  /** The first page of Easemob's user list, in its shape; the credential test needs no more. @returns {Reply} */
  function listUsers() {
    const entities = [...world.users].slice(0, 10).map(([username, user]) => data.userEntity(username, user));
    return envelope('get', 'users', entities, { count: entities.length });
  }

  /**
   * @param {Route} r @param {string} rawPath @param {string} rawQuery @param {string | undefined} authorization
   * @param {string} text @param {LoggedRequest} entry @returns {Reply}
   */
  function answer(r, rawPath, rawQuery, authorization, text, entry) {
    if (r.org === undefined) return errorReply(404, 'service_resource_not_found', NOT_FOUND);
    if (r.org !== orgName || r.app !== appName) {
      return errorReply(
        404,
        'organization_application_not_found',
        `Could not find application for ${r.org}/${r.app} from URI: ${rawPath.slice(1)}`,
      );
    }
    const { endpoint } = r;
    if (endpoint === 'token') return issueToken(parseJson(text));
    if (endpoint === 'other') return errorReply(404, 'service_resource_not_found', NOT_FOUND);
    const username = r.rawUser === undefined ? '' : decodeSegment(r.rawUser);
    if (username === undefined) return errorReply(400, 'illegal_argument', `username ${r.rawUser} is not correctly percent-encoded`);
    const refused = authenticate(authorization) ?? rateLimit(/** @type {Budget} */ (budgetOf(endpoint)), username);
    if (refused) return refused;
    try {
      if (endpoint === 'user.list') return listUsers();
      if (endpoint === 'conversation.delete') return deleteConversation(r, username, parseJson(text));
      if (endpoint.startsWith('history.')) return deleteHistory(endpoint, username, parseQuery(rawQuery), entry);
      return manageUser(endpoint, username, /** @type {string} */ (r.rawUser));
    } catch (error) {
      if (error instanceof Refusal) return error.reply;
      throw error;
    }
  }

  /** @param {http.ServerResponse} res @param {LoggedRequest} entry @param {Reply} reply */
  function send(res, entry, reply) {
    const { status } = reply;
    entry.status = status;
    bump(counters.byStatus, String(status));
    const perEndpoint = counters.endpoints.get(entry.endpoint) ?? { requests: 0, ok: 0 };
    counters.endpoints.set(entry.endpoint, perEndpoint);
    perEndpoint.requests += 1;
    if (status >= 200 && status <= 299) perEndpoint.ok += 1;
    else counters.errors += 1;
    if (status === 429) counters.status429 += 1;
    res.writeHead(status, { 'Content-Type': JSON_TYPE, ...reply.headers });
    res.end(reply.raw ?? JSON.stringify(reply.body));
  }

  /** @param {http.IncomingMessage} req @param {http.ServerResponse} res @param {string} text */
  async function handleApi(req, res, text) {
    const { rawPath, rawQuery, query } = splitUrl(req.url);
    const headers = { ...req.headers };
    if (headers.authorization !== undefined) headers.authorization = 'Bearer <redacted>';
    const r = route(req.method, rawPath);
    /** @type {LoggedRequest} status 0 until answered, and for ever when the socket is reset */
    const entry = {
      method: req.method ?? '',
      path: rawPath,
      query,
      headers,
      body: text === '' ? null : (parseJson(text) ?? text),
      status: 0,
      at: Date.now(),
      endpoint: r.endpoint,
    };
    log.push(entry);
    counters.requests += 1;
    if (r.endpoint === 'token') counters.tokenRequests += 1;

    if (settings.latencyMs > 0) await sleep(settings.latencyMs);
    const fault = takeFault(r);
    if (fault?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'slow') await sleep(fault.delayMs ?? 30_000);
    /** @type {Reply} */
    let reply;
    try {
      reply = fault && fault.kind !== 'slow' ? faultReply(fault, r) : answer(r, rawPath, rawQuery, req.headers.authorization, text, entry);
    } catch (error) {
      // A sandbox bug must show up as a counted 500, not a hung request.
      reply = errorReply(500, 'server_error', String(error));
    }
    send(res, entry, reply);
  }

  /** What a generated seed holds, instead of the whole state (thousands of messages). */
  function seedSummary() {
    let conversations = 0;
    let messages = 0;
    let oldest = Infinity;
    let newest = -Infinity;
    for (const user of world.users.values()) {
      conversations += user.conversations.length;
      for (const entry of user.roaming) {
        messages += entry.history.length;
        if (entry.history.length > 0) {
          oldest = Math.min(oldest, entry.history[0].timestamp);
          newest = Math.max(newest, entry.history[entry.history.length - 1].timestamp);
        }
      }
    }
    return {
      users: world.users.size,
      conversations,
      messages,
      oldest: messages > 0 ? oldest : null,
      newest: messages > 0 ? newest : null,
    };
  }

  /** @param {http.IncomingMessage} req @param {http.ServerResponse} res @param {string} rawPath @param {string} text */
  function handleAdmin(req, res, rawPath, text) {
    /** @param {number} status @param {unknown} body */
    const reply = (status, body) => {
      res.writeHead(status, { 'Content-Type': JSON_TYPE });
      res.end(JSON.stringify(body));
    };
    const body = text.trim() === '' ? undefined : parseJson(text);
    if (text.trim() !== '' && body === undefined) return reply(400, errorReply(400, 'invalid_request_body', INVALID_BODY).body);
    try {
      switch (`${req.method} ${rawPath}`) {
        case 'GET /_sandbox/state':
          return reply(200, { ...stateSnapshot(), counters: counterSnapshot() });
        case 'GET /_sandbox/requests':
          return reply(200, sandbox.requests());
        case 'POST /_sandbox/reset':
          sandbox.reset(body);
          return reply(200, { ...stateSnapshot(), counters: counterSnapshot() });
        case 'POST /_sandbox/seed':
          sandbox.reset(data.generateSeed(body));
          return reply(200, seedSummary());
        case 'POST /_sandbox/configure':
          sandbox.configure(body ?? {});
          return reply(200, settings);
        case 'GET /_sandbox/tokens':
          // Fingerprints, not the tokens: anyone on the machine can read this page.
          return reply(200, (agora?.tokens() ?? []).map(({ token: _token, ...seen }) => seen));
        case 'POST /_sandbox/expire-tokens':
          sandbox.expireTokens();
          return reply(200, { expired: tokens.size });
        default:
          return reply(404, errorReply(404, 'service_resource_not_found', NOT_FOUND).body);
      }
    } catch (error) {
      return reply(400, errorReply(400, 'illegal_argument', /** @type {Error} */ (error).message).body);
    }
  }

  const server = http.createServer((req, res) => {
    /** @type {Buffer[]} */
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const { rawPath } = splitUrl(req.url);
      if (rawPath.startsWith('/_sandbox/')) handleAdmin(req, res, rawPath, text);
      else void handleApi(req, res, text);
    });
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve(undefined));
  });
  const port = /** @type {import('node:net').AddressInfo} */ (server.address()).port;
  /** @type {Promise<void> | undefined} */
  let closing;

  /** @type {Sandbox} */
  const sandbox = {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    orgName,
    appName,
    clientId,
    clientSecret,
    agora: agora !== undefined,
    appId: agora ? (options.appId ?? DEFAULTS.appId) : undefined,
    appCertificate: agora ? (options.appCertificate ?? DEFAULTS.appCertificate) : undefined,
    agoraTokens: () => agora?.tokens() ?? [],
    state: stateSnapshot,
    counters: counterSnapshot,
    requests: () => structuredClone(log),
    configure(partial) {
      const next = mergeSettings(settings, partial);
      // Counts made under other limits say nothing about the new ones.
      if (partial.rateLimits !== undefined) passed = new Map();
      settings = next;
    },
    expireTokens() {
      const now = Date.now();
      for (const [token, expiresAt] of tokens) tokens.set(token, Math.min(expiresAt, now));
      agora?.expireAll();
    },
    reset(nextSeed) {
      world = data.worldFromSeed(nextSeed ?? seed, startedAt);
      tokens = new Map();
      agora?.reset();
      passed = new Map();
      log = [];
      counters = freshCounters();
      settings = { ...settings, faults: [] };
    },
    close() {
      closing ??= new Promise((resolve, reject) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
  return sandbox;
}

module.exports = { startSandbox, generateSeed: data.generateSeed, DEFAULTS };
