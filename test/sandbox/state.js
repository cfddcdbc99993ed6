// @ts-check
'use strict';

// The sandbox's data: users as Easemob's user entity has them, each user's conversation list, each
// user's own copy of each conversation's history (message IDs and timestamps), and the groups users
// own. Read from a seed, generated in bulk for benchmarks, and changed only by the functions below,
// which do what easemob-api.md §1 and §5 say each call destroys.

const { createHash } = require('node:crypto');

/**
 * @typedef {import('./server').Seed} Seed
 * @typedef {import('./server').SeedUser} SeedUser
 * @typedef {import('./server').SeedHistory} SeedHistory
 * @typedef {import('./server').SeedSpec} SeedSpec
 * @typedef {import('./server').UserState} UserState
 * @typedef {import('./server').GroupState} GroupState
 * @typedef {import('./server').RoamingHistory} RoamingHistory
 * @typedef {import('./server').Message} Message
 * @typedef {import('./server').ConversationType} ConversationType
 * @typedef {{ users: Map<string, UserState>, groups: Map<string, GroupState> }} World
 */

const DAY_MS = 86_400_000;
/** How far back a seed's `messages: n` reaches when it gives no `days`. */
const DEFAULT_DAYS = 30;
const GROUP_ID_BASE = 100_000_000_000_000;

/** @param {boolean} ok @param {string} message @returns {asserts ok} */
function check(ok, message) {
  if (!ok) throw new TypeError(`sandbox: ${message}`);
}

/** @param {unknown} value @returns {value is Record<string, unknown>} */
function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** @param {unknown} value */
const isCount = (value) => Number.isInteger(value) && /** @type {number} */ (value) >= 0;
/** @param {unknown} value */
const isTime = (value) => Number.isSafeInteger(value);

/** @param {string} text */
const digest = (text) => createHash('sha256').update(text).digest('hex');

/** Derived from the username, so that states read before and after a reset compare equal. @param {string} username */
function uuidFor(username) {
  const h = digest(`uuid\0${username}`);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[parseInt(h[16], 16) % 4]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * The same conversation gets the same key on both sides, so a one-to-one history seeded for both
 * users holds the same messages.
 * @param {string} username @param {string} channel @param {ConversationType} type
 */
const conversationKey = (username, channel, type) =>
  type === 'chat' ? `chat\0${[username, channel].sort().join('\0')}` : `groupchat\0${channel}`;

/**
 * `count` messages spread evenly over the `days` days before `now`, each in the middle of its share,
 * so that no message falls on a whole number of days ago (where a cut-off is likely to be set). IDs
 * are 18 or 19 decimal digits, as Easemob's are, rising through the conversation from a start the
 * key picks (one hash per conversation keeps a thousand-user seed fast).
 * @param {string} key @param {number} count @param {number} days @param {number} now @returns {Message[]}
 */
function generatedHistory(key, count, days, now) {
  const first = BigInt(`0x${digest(`msg\0${key}`).slice(0, 15)}`) + 10n ** 17n;
  return Array.from({ length: count }, (_, i) => ({
    msgId: (first + BigInt(i)).toString(),
    timestamp: Math.round(now - (days * DAY_MS * (count - i - 0.5)) / count),
  }));
}

/** @param {string} where @param {unknown} type */
function checkType(where, type) {
  check(type === 'chat' || type === 'groupchat', `${where}.type must be 'chat' or 'groupchat'`);
}

/** @param {string} username @param {unknown} entry @param {number} now @returns {RoamingHistory} */
function historyFromSeed(username, entry, now) {
  const where = `seed.users[${JSON.stringify(username)}].roaming[]`;
  check(isObject(entry) && typeof entry.channel === 'string', `${where} must be { channel, type, messages?, days?, history? }`);
  checkType(where, entry.type);
  const { history, messages, days, ...rest } = /** @type {SeedHistory} */ (/** @type {unknown} */ (entry));
  /** @type {Message[]} */
  let list;
  if (history !== undefined) {
    check(
      Array.isArray(history) && history.every((m) => isObject(m) && typeof m.msgId === 'string' && isTime(m.timestamp)),
      `${where}.history must be [{ msgId: string, timestamp: ms since the epoch }]`,
    );
    list = history.map(({ msgId, timestamp }) => ({ msgId, timestamp })).sort((a, b) => a.timestamp - b.timestamp);
  } else {
    check(messages === undefined || isCount(messages), `${where}.messages must be a non-negative integer`);
    check(days === undefined || (typeof days === 'number' && days > 0), `${where}.days must be a positive number`);
    list = generatedHistory(conversationKey(username, rest.channel, rest.type), messages ?? 0, days ?? DEFAULT_DAYS, now);
  }
  return { ...rest, messages: list.length, history: list };
}

/** @param {string} username @param {unknown} seedUser @param {number} now @returns {UserState} */
function userFromSeed(username, seedUser, now) {
  const where = `seed.users[${JSON.stringify(username)}]`;
  check(seedUser === undefined || seedUser === null || isObject(seedUser), `${where} must be an object`);
  const u = /** @type {SeedUser} */ (seedUser ?? {});
  check(u.conversations === undefined || Array.isArray(u.conversations), `${where}.conversations must be an array`);
  check(u.roaming === undefined || Array.isArray(u.roaming), `${where}.roaming must be an array`);
  for (const key of /** @type {const} */ (['uuid', 'nickname'])) {
    check(u[key] === undefined || typeof u[key] === 'string', `${where}.${key} must be a string`);
  }
  for (const key of /** @type {const} */ (['created', 'modified'])) {
    check(u[key] === undefined || isTime(u[key]), `${where}.${key} must be ms since the epoch`);
  }
  for (const key of /** @type {const} */ (['activated', 'online'])) {
    check(u[key] === undefined || typeof u[key] === 'boolean', `${where}.${key} must be a boolean`);
  }
  const created = u.created ?? now;
  return {
    uuid: u.uuid ?? uuidFor(username),
    created,
    modified: u.modified ?? created,
    ...(u.nickname === undefined ? {} : { nickname: u.nickname }),
    activated: u.activated ?? true,
    online: u.online ?? false,
    conversations: structuredClone(u.conversations ?? []),
    roaming: (u.roaming ?? []).map((entry) => historyFromSeed(username, entry, now)),
  };
}

/** @param {unknown} seed @param {number} now @returns {World} */
function worldFromSeed(seed, now) {
  check(isObject(seed) && isObject(seed.users), 'seed must be { users: { [username]: {...} }, groups?: {...} }');
  check(seed.groups === undefined || isObject(seed.groups), 'seed.groups must be { [groupId]: { owner, members? } }');
  const users = new Map(Object.entries(seed.users).map(([name, user]) => [name, userFromSeed(name, user, now)]));
  const groups = new Map(
    Object.entries(seed.groups ?? {}).map(([id, group]) => {
      const members = isObject(group) ? group.members : undefined;
      check(
        isObject(group) &&
          typeof group.owner === 'string' &&
          (members === undefined || (Array.isArray(members) && members.every((m) => typeof m === 'string'))),
        `seed.groups[${JSON.stringify(id)}] must be { owner: string, members?: string[] }`,
      );
      const listed = /** @type {string[]} */ (members ?? []);
      return [id, { owner: group.owner, members: listed.includes(group.owner) ? [...listed] : [group.owner, ...listed] }];
    }),
  );
  return { users, groups };
}

/**
 * Many users, conversations and messages at once, for benchmarks. Users are `${prefix}0` to
 * `${prefix}${users - 1}`; user i's one-to-one conversations are with the next users (i + 1, i + 2, …,
 * wrapping round); group conversations are with groups 100000000000000, 100000000000001, … that
 * `${prefix}0` owns and every user is in. Each conversation holds `messages` messages spread over
 * the `days` days before the sandbox started (as a seed's `messages` and `days` are).
 * @param {SeedSpec} spec @returns {Seed}
 */
function generateSeed(spec) {
  check(isObject(spec), 'a seed spec is an object: { users, conversations?, type?, messages?, days?, prefix? }');
  const { users, conversations = 1, type = 'chat', messages = 10, days = 180, prefix = 'user' } = spec;
  check(Number.isInteger(users) && users > 0 && users <= 100_000, 'spec.users must be an integer from 1 to 100000');
  check(isCount(conversations), 'spec.conversations must be a non-negative integer');
  checkType('spec', type);
  check(type === 'groupchat' || conversations < users, 'spec.conversations must be less than spec.users for chat');
  check(isCount(messages), 'spec.messages must be a non-negative integer');
  check(typeof days === 'number' && days > 0, 'spec.days must be a positive number');
  check(typeof prefix === 'string', 'spec.prefix must be a string');
  const names = Array.from({ length: users }, (_, i) => `${prefix}${i}`);
  /** @type {{ users: Record<string, SeedUser>, groups: NonNullable<Seed['groups']> }} */
  const seed = { users: {}, groups: {} };
  if (type === 'groupchat') {
    for (let j = 0; j < conversations; j++) seed.groups[String(GROUP_ID_BASE + j)] = { owner: names[0], members: names };
  }
  names.forEach((name, i) => {
    const channels = Array.from({ length: conversations }, (_, j) =>
      type === 'chat' ? names[(i + j + 1) % users] : String(GROUP_ID_BASE + j),
    );
    seed.users[name] = {
      conversations: channels.map((channel) => ({ channel, type })),
      roaming: channels.map((channel) => ({ channel, type, messages, days })),
    };
  });
  return seed;
}

/** @param {{ channel: string, type: string }} c @param {string} channel @param {string} type */
const same = (c, channel, type) => c.channel === channel && c.type === type;

/**
 * One-way delete (§1): the conversation leaves the list; with `deleteRoam`, the history goes too.
 * @param {UserState} user @param {string} channel @param {string} type @param {boolean} deleteRoam
 */
function deleteConversation(user, channel, type, deleteRoam) {
  user.conversations = user.conversations.filter((c) => !same(c, channel, type));
  if (deleteRoam) user.roaming = user.roaming.filter((c) => !same(c, channel, type));
}

/** All of the user's history goes, and every conversation leaves the list. @returns {number} messages removed */
function deleteAllHistory(/** @type {UserState} */ user) {
  const removed = user.roaming.reduce((sum, entry) => sum + entry.history.length, 0);
  user.conversations = [];
  user.roaming = [];
  return removed;
}

/**
 * Removes the messages `drop` picks from one conversation's history for this user; a history left
 * empty is no longer listed. @returns {number} messages removed
 * @param {UserState} user @param {string} channel @param {ConversationType} type @param {(m: Message) => boolean} drop
 */
function dropMessages(user, channel, type, drop) {
  const entry = user.roaming.find((c) => same(c, channel, type));
  if (entry === undefined) return 0;
  const before = entry.history.length;
  entry.history = entry.history.filter((m) => !drop(m));
  entry.messages = entry.history.length;
  if (entry.messages === 0) user.roaming = user.roaming.filter((c) => c !== entry);
  return before - entry.messages;
}

/**
 * Messages at or before `delTime` go; a conversation left with no message leaves the list too (§5),
 * as does one that had none.
 * @param {UserState} user @param {string} channel @param {ConversationType} type @param {number} delTime
 * @returns {number} messages removed
 */
function deleteHistoryBefore(user, channel, type, delTime) {
  const removed = dropMessages(user, channel, type, (m) => m.timestamp <= delTime);
  if (!user.roaming.some((c) => same(c, channel, type))) {
    user.conversations = user.conversations.filter((c) => !same(c, channel, type));
  }
  return removed;
}

/**
 * The messages with these IDs go; IDs the history does not hold are ignored, and the conversation
 * stays in the list (§5 removes it only on a time-based delete).
 * @param {UserState} user @param {string} channel @param {ConversationType} type @param {string[]} ids
 * @returns {number} messages removed
 */
function deleteMessages(user, channel, type, ids) {
  const gone = new Set(ids);
  return dropMessages(user, channel, type, (m) => gone.has(m.msgId));
}

/** The user and everything of theirs goes, with every group they own (§5); others keep their copies. */
function deleteUser(/** @type {World} */ world, /** @type {string} */ username) {
  world.users.delete(username);
  for (const [id, group] of world.groups) {
    if (group.owner === username) world.groups.delete(id);
    else group.members = group.members.filter((member) => member !== username);
  }
}

/** The entity Easemob's user endpoints answer with, in its field order. @param {string} username @param {UserState} user */
function userEntity(username, user) {
  return {
    uuid: user.uuid,
    type: 'user',
    created: user.created,
    modified: user.modified,
    username,
    activated: user.activated,
    ...(user.nickname === undefined ? {} : { nickname: user.nickname }),
  };
}

module.exports = {
  worldFromSeed,
  generateSeed,
  deleteConversation,
  deleteAllHistory,
  deleteHistoryBefore,
  deleteMessages,
  deleteUser,
  userEntity,
};
