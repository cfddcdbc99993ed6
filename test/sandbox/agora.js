// @ts-check
'use strict';

// The sandbox's Agora Chat mode: it accepts AccessToken2 (`007…`) app tokens signed with its App
// Certificate, reading them the way Agora's own parsers do. Written from the token format in
// docs (easemob-api.md §6), independently of credentials/agoraToken.ts, so that a mistake in the
// node's builder is not mirrored here.

const { createHash, createHmac } = require('node:crypto');
const { inflateSync } = require('node:zlib');

const CHAT_SERVICE = 5;
const CHAT_APP_PRIVILEGE = 2;

/**
 * @typedef {import('./server').AgoraTokenSeen} AgoraTokenSeen
 * @typedef {{ appId: string, issueTs: number, expire: number, salt: number, services: Map<number, { privileges: Map<number, number>, userId: string }>, signature: Buffer, signed: Buffer }} ParsedToken
 */

/** @param {Buffer} buffer */
function reader(buffer) {
  let offset = 0;
  const take = (/** @type {number} */ n) => {
    if (offset + n > buffer.length) throw new RangeError('token too short');
    const slice = buffer.subarray(offset, offset + n);
    offset += n;
    return slice;
  };
  return {
    u16: () => take(2).readUInt16LE(0),
    u32: () => take(4).readUInt32LE(0),
    bytes() {
      return take(this.u16());
    },
    get offset() {
      return offset;
    },
    get done() {
      return offset === buffer.length;
    },
  };
}

/** @param {string} token @returns {ParsedToken | undefined} */
function parseToken(token) {
  if (!token.startsWith('007')) return undefined;
  try {
    const content = inflateSync(Buffer.from(token.slice(3), 'base64'));
    const r = reader(content);
    const signature = r.bytes();
    const signedFrom = r.offset;
    const appId = r.bytes().toString('utf8');
    const issueTs = r.u32();
    const expire = r.u32();
    const salt = r.u32();
    const services = new Map();
    for (let count = r.u16(); count > 0; count--) {
      const type = r.u16();
      const privileges = new Map();
      for (let n = r.u16(); n > 0; n--) privileges.set(r.u16(), r.u32());
      // Only the Chat service is known here; its own field is the user id (empty: an app token).
      if (type !== CHAT_SERVICE) return undefined;
      services.set(type, { privileges, userId: r.bytes().toString('utf8') });
    }
    if (!r.done) return undefined;
    return { appId, issueTs, expire, salt, services, signature, signed: content.subarray(signedFrom) };
  } catch {
    return undefined;
  }
}

/** @param {Buffer | string} key @param {Buffer | string} message */
const hmac = (key, message) => createHmac('sha256', key).update(message).digest();

/** @param {number} value */
function u32(value) {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32LE(value);
  return buffer;
}

/** @param {ParsedToken} parsed @param {string} certificate */
function signatureMatches(parsed, certificate) {
  const key = hmac(u32(parsed.salt), hmac(u32(parsed.issueTs), certificate));
  return hmac(key, parsed.signed).equals(parsed.signature);
}

/**
 * Checks Agora app tokens for one App ID and certificate and remembers every token seen.
 * @param {{ appId: string, appCertificate: string }} app
 */
function agoraVerifier({ appId, appCertificate }) {
  /** @type {Map<string, AgoraTokenSeen>} */
  let seen = new Map();
  /** Tokens expireTokens() ended early. */
  let expired = new Set();

  /**
   * Undefined when the token is accepted; otherwise Easemob's error type and description.
   * @param {string} token
   * @returns {{ error: 'auth_bad_access_token' | 'unauthorized', description: string } | undefined}
   */
  function verify(token) {
    const parsed = parseToken(token);
    const now = Date.now();
    /** @type {AgoraTokenSeen['verdict']} */
    let verdict = 'accepted';
    const chat = parsed?.services.get(CHAT_SERVICE);
    const privilegeExpire = chat?.privileges.get(CHAT_APP_PRIVILEGE);
    if (parsed === undefined) verdict = 'malformed';
    else if (parsed.appId !== appId) verdict = 'other App ID';
    else if (!signatureMatches(parsed, appCertificate)) verdict = 'bad signature';
    else if (privilegeExpire === undefined || chat?.userId !== '') verdict = 'not a Chat app token';
    else if (expired.has(token) || now >= (parsed.issueTs + Math.min(parsed.expire, privilegeExpire)) * 1000) verdict = 'expired';

    const entry = seen.get(token) ?? {
      token,
      fingerprint: createHash('sha256').update(token).digest('hex').slice(0, 12),
      length: token.length,
      appId: parsed?.appId ?? null,
      issueTs: parsed?.issueTs ?? null,
      expire: parsed?.expire ?? null,
      salt: parsed?.salt ?? null,
      firstSeen: now,
      requests: 0,
      verdict,
    };
    entry.requests += 1;
    entry.verdict = verdict;
    seen.set(token, entry);

    if (verdict === 'accepted') return undefined;
    if (verdict === 'expired') return { error: 'unauthorized', description: 'Unable to authenticate due to expired access token' };
    if (verdict === 'malformed') return { error: 'auth_bad_access_token', description: 'Unable to authenticate due to corrupt access token' };
    return { error: 'auth_bad_access_token', description: 'Unable to authenticate' };
  }

  return {
    verify,
    /** @param {string} token */
    looksLikeAgora: (token) => token.startsWith('007'),
    tokens: () => structuredClone([...seen.values()]),
    expireAll() {
      for (const token of seen.keys()) expired.add(token);
    },
    reset() {
      seen = new Map();
      expired = new Set();
    },
  };
}

module.exports = { agoraVerifier, parseToken };
