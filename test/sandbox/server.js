// @ts-check
'use strict';

// A local stand-in for the slice of the Easemob REST API this package calls (app token and
// one-way conversation delete), so tests, benchmarks and manual n8n runs never touch the real
// service, whose rate limits and token bans make it unfit for repeated runs.
// Types live in server.d.ts; the JSDoc below imports them from there.

const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const { randomBytes, randomUUID } = require('node:crypto');

const { agoraVerifier } = require('./agora');

/**
 * @typedef {import('./server').SandboxOptions} SandboxOptions
 * @typedef {import('./server').SandboxSettings} SandboxSettings
 * @typedef {import('./server').Sandbox} Sandbox
 * @typedef {import('./server').Seed} Seed
 * @typedef {import('./server').UserState} UserState
 * @typedef {import('./server').Fault} Fault
 * @typedef {import('./server').RateLimit} RateLimit
 * @typedef {import('./server').RateLimits} RateLimits
 * @typedef {import('./server').Counters} Counters
 * @typedef {import('./server').LoggedRequest} LoggedRequest
 * @typedef {{ perUser: RateLimit | false, perApp: RateLimit | false, windows: 'fixed' | 'sliding', retryAfter: boolean }} Limits
 * @typedef {{ latencyMs: number, tokenTtlSeconds: number, rateLimits: Limits, faults: Fault[] }} Settings
 * @typedef {{ status: number, body?: unknown, raw?: string, headers?: Record<string, string> }} Reply
 * @typedef {{ kind: 'token' | 'delete' | 'users' | 'other', org?: string, app?: string, rawUser?: string }} Route
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
    windows: /** @type {const} */ ('fixed'),
    retryAfter: false,
  }),
});

const FAULT_KINDS = ['status', 'reset', 'slow', 'malformed-json', 'result-not-ok', 'unauthorized', 'resource_limited', 'reach_limit'];
const JSON_TYPE = 'application/json;charset=UTF-8';
const INVALID_BODY = 'Request body is invalid. Please check body is correct.';
const EXPIRED = 'Unable to authenticate due to expired access token';

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

/** @param {unknown} seed @returns {Map<string, UserState>} */
function usersFromSeed(seed) {
  check(isObject(seed) && isObject(seed.users), 'seed must be { users: { [username]: {...} } }');
  const copy = /** @type {Seed['users']} */ (structuredClone(seed.users));
  return new Map(
    Object.entries(copy).map(([name, user]) => [
      name,
      { conversations: user?.conversations ?? [], roaming: user?.roaming ?? [] },
    ]),
  );
}

/** @param {Limits} current @param {RateLimits | false} next @returns {Limits} */
function mergeLimits(current, next) {
  if (next === false) return { ...current, perUser: false, perApp: false };
  check(isObject(next), 'rateLimits must be an object or false');
  const merged = { ...current, ...next };
  for (const key of /** @type {const} */ (['perUser', 'perApp'])) {
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
    check(f.on === undefined || ['delete', 'token', 'any'].includes(/** @type {string} */ (f.on)), "fault.on must be 'delete', 'token' or 'any'");
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
  return next;
}

/** @param {string | undefined} url */
function splitUrl(url = '/') {
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const query = Object.fromEntries(new URLSearchParams(q < 0 ? '' : url.slice(q + 1)));
  return { rawPath, query };
}

/** @param {string | undefined} method @param {string} rawPath @returns {Route} */
function route(method, rawPath) {
  const seg = rawPath.split('/');
  if (seg.length < 3) return { kind: 'other' };
  const [, org, app] = seg;
  if (method === 'POST' && seg.length === 4 && seg[3] === 'token') return { kind: 'token', org, app };
  // Listing users is what the credential's Test button calls once it has a token.
  if (method === 'GET' && seg.length === 4 && seg[3] === 'users') return { kind: 'users', org, app };
  if (method === 'DELETE' && seg.length === 6 && seg[3] === 'users' && seg[5] === 'user_channel') {
    return { kind: 'delete', org, app, rawUser: seg[4] };
  }
  return { kind: 'other', org, app };
}

/** @param {string} raw */
function decodeSegment(raw) {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

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
    { latencyMs: 0, tokenTtlSeconds: DEFAULTS.tokenTtlSeconds, rateLimits: DEFAULTS.rateLimits, faults: [] },
    { latencyMs: options.latencyMs, tokenTtlSeconds: options.tokenTtlSeconds, rateLimits: options.rateLimits, faults: options.faults },
  );
  let users = usersFromSeed(seed);
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
      status429: 0,
      errors: 0,
      /** @type {Map<string, number>} */ byStatus: new Map(),
      /** @type {Map<string, number>} */ deletesByUser: new Map(),
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
    };
  }

  function stateSnapshot() {
    return { users: Object.fromEntries(structuredClone([...users])) };
  }

  /** @param {Route} r */
  function takeFault(r) {
    const username = r.rawUser === undefined ? undefined : decodeSegment(r.rawUser);
    const fault = settings.faults.find(
      (f) =>
        (f.on === 'any' || (f.on ?? 'delete') === r.kind) &&
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

  /** @param {Fault} fault @param {Route} r @returns {Reply} */
  function faultReply(fault, r) {
    switch (fault.kind) {
      case 'status':
        return errorReply(fault.status ?? 500, 'server_error', `Sandbox fault: HTTP ${fault.status ?? 500}`);
      case 'malformed-json':
        return { status: 200, raw: '{"path":"/users/user_channel","data":{"result":"o' };
      case 'result-not-ok':
        return deleteSuccess(r.rawUser ?? '', 'failed');
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

  /** @param {string} username @returns {Reply | undefined} */
  function rateLimit(username) {
    const { perUser, perApp, windows: mode, retryAfter } = settings.rateLimits;
    const now = Date.now();
    /** @type {Array<[string, RateLimit]>} */
    const buckets = [];
    if (perUser) buckets.push([`user:${username}`, perUser]);
    if (perApp) buckets.push(['app', perApp]);
    let waitMs = 0;
    for (const [key, { limit, windowMs }] of buckets) {
      // Fixed windows start at multiples of windowMs since the epoch, as Easemob counts in UTC.
      const start = mode === 'fixed' ? now - (now % windowMs) : now - windowMs + 1;
      const kept = (passed.get(key) ?? []).filter((t) => t >= start);
      passed.set(key, kept);
      if (kept.length >= limit) {
        const freeAt = mode === 'fixed' ? start + windowMs : kept[kept.length - limit] + windowMs;
        waitMs = Math.max(waitMs, freeAt - now);
      }
    }
    if (waitMs > 0) {
      const reply = errorReply(429, 'reach_limit', 'This request has reached api limit');
      if (retryAfter) reply.headers = { 'Retry-After': String(Math.ceil(waitMs / 1000)) };
      return reply;
    }
    for (const [key] of buckets) passed.get(key)?.push(now);
    return undefined;
  }

  /** @param {Route} r @param {string | undefined} authorization @param {unknown} body @returns {Reply} */
  function deleteConversation(r, authorization, body) {
    const username = decodeSegment(r.rawUser ?? '');
    if (username === undefined) return errorReply(400, 'illegal_argument', `username ${r.rawUser} is not correctly percent-encoded`);
    const refused = authenticate(authorization) ?? rateLimit(username);
    if (refused) return refused;

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

    const user = users.get(username);
    if (!user) return errorReply(404, 'service_resource_not_found', 'Service resource not found');
    const other = (/** @type {{ channel: string, type: string }} */ c) => c.channel !== channel || c.type !== type;
    user.conversations = user.conversations.filter(other);
    if (deleteRoam) user.roaming = user.roaming.filter(other);
    counters.deletes += 1;
    counters.deletesByUser.set(username, (counters.deletesByUser.get(username) ?? 0) + 1);
    return deleteSuccess(/** @type {string} */ (r.rawUser), 'ok');
  }

  /** The first page of Easemob's user list, in its shape; the credential test needs no more. @returns {Reply} */
  function listUsers() {
    const entities = [...users.keys()].slice(0, 10).map((username) => ({ type: 'user', username, activated: true }));
    return { status: 200, body: { action: 'get', path: '/users', entities, count: entities.length } };
  }

  /** @param {Route} r @param {string} rawPath @param {string | undefined} authorization @param {string} text @returns {Reply} */
  function answer(r, rawPath, authorization, text) {
    if (r.org === undefined) return errorReply(404, 'service_resource_not_found', 'Service resource not found');
    if (r.org !== orgName || r.app !== appName) {
      return errorReply(
        404,
        'organization_application_not_found',
        `Could not find application for ${r.org}/${r.app} from URI: ${rawPath.slice(1)}`,
      );
    }
    if (r.kind === 'token') return issueToken(parseJson(text));
    if (r.kind === 'delete') return deleteConversation(r, authorization, parseJson(text));
    if (r.kind === 'users') return authenticate(authorization) ?? listUsers();
    return errorReply(404, 'service_resource_not_found', 'Service resource not found');
  }

  /** @param {http.ServerResponse} res @param {LoggedRequest} entry @param {Reply} reply */
  function send(res, entry, reply) {
    const { status } = reply;
    entry.status = status;
    const key = String(status);
    counters.byStatus.set(key, (counters.byStatus.get(key) ?? 0) + 1);
    if (status < 200 || status > 299) counters.errors += 1;
    if (status === 429) counters.status429 += 1;
    res.writeHead(status, { 'Content-Type': JSON_TYPE, ...reply.headers });
    res.end(reply.raw ?? JSON.stringify(reply.body));
  }

  /** @param {http.IncomingMessage} req @param {http.ServerResponse} res @param {string} text */
  async function handleApi(req, res, text) {
    const { rawPath, query } = splitUrl(req.url);
    const headers = { ...req.headers };
    if (headers.authorization !== undefined) headers.authorization = 'Bearer <redacted>';
    /** @type {LoggedRequest} status 0 until answered, and for ever when the socket is reset */
    const entry = {
      method: req.method ?? '',
      path: rawPath,
      query,
      headers,
      body: text === '' ? null : (parseJson(text) ?? text),
      status: 0,
      at: Date.now(),
    };
    log.push(entry);
    counters.requests += 1;
    const r = route(req.method, rawPath);
    if (r.kind === 'token') counters.tokenRequests += 1;

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
      reply = fault && fault.kind !== 'slow' ? faultReply(fault, r) : answer(r, rawPath, req.headers.authorization, text);
    } catch (error) {
      // A sandbox bug must show up as a counted 500, not a hung request.
      reply = errorReply(500, 'server_error', String(error));
    }
    send(res, entry, reply);
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
          return reply(404, errorReply(404, 'service_resource_not_found', 'Service resource not found').body);
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
      users = usersFromSeed(nextSeed ?? seed);
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

module.exports = { startSandbox, DEFAULTS };
