import * as http from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import {
	JSON_TYPE,
	UUID,
	appPath,
	call,
	credentials,
	easemobError,
	holdings,
	messages,
	start as startWith,
	tokenFor,
	type Answer,
} from './helpers/sandbox';
import { DEFAULTS, type Sandbox, type SandboxOptions, type SandboxState, type Seed } from './sandbox/server';

// Every character that can break a naive path: separators, query/fragment marks, percent, dots,
// spaces and non-ASCII.
const WEIRD = 'a/b?c#d%e .. 张 伟';

const SEED: Seed = {
	users: {
		alice: {
			conversations: [
				{ channel: 'bob', type: 'chat' },
				{ channel: 'g1', type: 'groupchat' },
			],
			roaming: [
				{ channel: 'bob', type: 'chat', history: messages('b', 3) },
				{ channel: 'g1', type: 'groupchat', history: messages('g', 9) },
			],
		},
		bob: {
			conversations: [{ channel: 'alice', type: 'chat' }],
			roaming: [{ channel: 'alice', type: 'chat', history: messages('b', 3) }],
		},
		[WEIRD]: {
			conversations: [{ channel: 'alice', type: 'chat' }],
			roaming: [{ channel: 'alice', type: 'chat', history: messages('w', 1) }],
		},
	},
};
const SEED_COPY = structuredClone(SEED);
const ALICE = {
	conversations: ['chat bob', 'groupchat g1'],
	roaming: ['chat bob: b1 b2 b3', 'groupchat g1: g1 g2 g3 g4 g5 g6 g7 g8 g9'],
};

const initial = new WeakMap<Sandbox, SandboxState>();

/** Most tests switch the limits off so they can call freely; the rate-limit tests set their own. */
async function start(options: SandboxOptions = {}): Promise<Sandbox> {
	const s = await startWith(SEED, options);
	initial.set(s, s.state());
	return s;
}

/** The state is still the one the sandbox started with. */
const expectUnchanged = (s: Sandbox) => expect(s.state()).toEqual(initial.get(s));

const sleep = async (ms: number) => await new Promise((resolve) => setTimeout(resolve, ms));

const channelPath = (s: Sandbox, user: string) => `${appPath(s)}/users/${encodeURIComponent(user)}/user_channel`;

const BOB_CHAT = { channel: 'bob', type: 'chat', delete_roam: true };

async function del(s: Sandbox, user: string, body: unknown, token: string): Promise<Answer> {
	return await call(s, 'DELETE', channelPath(s, user), { body, token });
}

describe('startSandbox', () => {
	test('defaults: DEFAULTS credentials, a random port, seed.json as state, one-day tokens, Easemob\'s limits and message roaming on', async () => {
		const seedFile = JSON.parse(readFileSync(join(__dirname, 'sandbox', 'seed.json'), 'utf8')) as Required<Seed>;
		const s = await startWith(undefined, { rateLimits: undefined });
		expect(s.port).toBeGreaterThan(0);
		expect(s).toMatchObject({
			url: `http://127.0.0.1:${s.port}`,
			orgName: 'demo-org',
			appName: 'demo-app',
			clientId: 'YXA6SandboxClientId',
			clientSecret: 'YXA6SandboxClientSecret',
		});
		expect(DEFAULTS).toMatchObject({ orgName: s.orgName, appName: s.appName, clientId: s.clientId, clientSecret: s.clientSecret });
		const { users, groups } = s.state();
		expect(Object.keys(users)).toEqual(Object.keys(seedFile.users));
		for (const [name, seeded] of Object.entries(seedFile.users)) {
			expect(users[name]).toMatchObject({
				nickname: seeded.nickname,
				created: seeded.created,
				modified: seeded.created,
				activated: seeded.activated ?? true,
				online: seeded.online ?? false,
				conversations: seeded.conversations,
			});
			expect(users[name].roaming.map(({ channel, type, messages: count }) => ({ channel, type, messages: count }))).toEqual(
				seeded.roaming?.map(({ channel, type, messages: count }) => ({ channel, type, messages: count })),
			);
		}
		expect(groups).toEqual(seedFile.groups);
		const settings = await call(s, 'POST', '/_sandbox/configure', { body: {} });
		expect(settings.body).toMatchObject({ rateLimits: DEFAULTS.rateLimits, messageRoaming: true, faults: [] });
		const token = await call(s, 'POST', `${appPath(s)}/token`, { body: credentials(s) });
		expect(token.body.expires_in).toBe(86400);
	});
});

describe('POST /{org}/{app}/token', () => {
	test('issues a token whose lifetime follows ttl, tokenTtlSeconds, and ttl 0 = never', async () => {
		const s = await start({ tokenTtlSeconds: 3600 });
		const path = `${appPath(s)}/token`;

		const plain = await call(s, 'POST', path, { body: credentials(s) });
		expect(plain.status).toBe(200);
		expect(plain.headers.get('content-type')).toBe(JSON_TYPE);
		expect(plain.body).toEqual({ access_token: expect.stringMatching(/^YWMt./), expires_in: 3600, application: expect.stringMatching(UUID) });

		const withTtl = await call(s, 'POST', path, { body: { ...credentials(s), ttl: 1024000 } });
		expect(withTtl.body).toEqual({ access_token: expect.stringMatching(/^YWMt./), expires_in: 1024000, application: plain.body.application });

		const forever = await call(s, 'POST', path, { body: { ...credentials(s), ttl: 0 } });
		expect(forever.status).toBe(200);
		expect(forever.body.expires_in).toBe(0);
		expect(new Set([plain.body.access_token, withTtl.body.access_token, forever.body.access_token]).size).toBe(3);
		expect((await del(s, 'alice', BOB_CHAT, forever.body.access_token)).status).toBe(200);
	});

	const good = { grant_type: 'client_credentials', client_id: DEFAULTS.clientId, client_secret: DEFAULTS.clientSecret };
	test.each([
		['unknown org', '/nope/demo-app/token', { body: good }, 404, 'organization_application_not_found', 'Could not find application for nope/demo-app from URI: nope/demo-app/token'],
		['unknown app', '/demo-org/nope/token', { body: good }, 404, 'organization_application_not_found', 'Could not find application for demo-org/nope from URI: demo-org/nope/token'],
		['body not JSON', null, { raw: 'grant_type=client_credentials' }, 400, 'invalid_request_body', 'Request body is invalid. Please check body is correct.'],
		['other grant_type', null, { body: { ...good, grant_type: 'password' } }, 400, 'unsupported_grant_type', 'grant_type must be client_credentials'],
		['no client_id', null, { body: { ...good, client_id: undefined } }, 400, 'illegal_argument', 'client_id must be provided.'],
		['empty client_id', null, { body: { ...good, client_id: '' } }, 400, 'illegal_argument', 'client_id must be provided.'],
		['wrong client_id', null, { body: { ...good, client_id: 'YXA6other' } }, 400, 'invalid_grant', 'client_id does not match'],
		['wrong client_secret', null, { body: { ...good, client_secret: 'YXA6other' } }, 400, 'invalid_grant', 'client_secret does not match'],
		['negative ttl', null, { body: { ...good, ttl: -1 } }, 400, 'illegal_argument', 'ttl must be a non-negative integer'],
		['fractional ttl', null, { body: { ...good, ttl: 1.5 } }, 400, 'illegal_argument', 'ttl must be a non-negative integer'],
		['string ttl', null, { body: { ...good, ttl: '60' } }, 400, 'illegal_argument', 'ttl must be a non-negative integer'],
	])('%s', async (_name, path, options, status, error, description) => {
		const s = await start();
		const answer = await call(s, 'POST', path ?? `${appPath(s)}/token`, options);
		expect(answer.status).toBe(status);
		expect(answer.headers.get('content-type')).toBe(JSON_TYPE);
		expect(answer.body).toEqual(easemobError(error, description));
		expect(s.counters()).toMatchObject({ tokenRequests: 1, tokensIssued: 0, errors: 1 });
	});
});

describe('DELETE /{org}/{app}/users/{username}/user_channel', () => {
	test('chat with delete_roam true: 200 with the documented body; conversation and history gone', async () => {
		const s = await start();
		const answer = await del(s, 'alice', BOB_CHAT, await tokenFor(s));
		expect(answer.status).toBe(200);
		expect(answer.headers.get('content-type')).toBe(JSON_TYPE);
		expect(answer.body).toEqual({
			path: '/users/user_channel',
			uri: `${s.url}/demo-org/demo-app/users/alice/user_channel`,
			timestamp: expect.any(Number),
			organization: 'demo-org',
			application: expect.stringMatching(UUID),
			entities: [],
			action: 'delete',
			data: { result: 'ok' },
			duration: 0,
			applicationName: 'demo-app',
		});
		expect(holdings(s, 'alice')).toEqual({ conversations: ['groupchat g1'], roaming: ['groupchat g1: g1 g2 g3 g4 g5 g6 g7 g8 g9'] });
		// Only alice loses it: bob keeps his side.
		expect(s.state().users.bob).toEqual(initial.get(s)?.users.bob);
	});

	test('groupchat with delete_roam false: conversation gone, history kept', async () => {
		const s = await start();
		const answer = await del(s, 'alice', { channel: 'g1', type: 'groupchat', delete_roam: false }, await tokenFor(s));
		expect(answer.status).toBe(200);
		expect(answer.body.data).toEqual({ result: 'ok' });
		expect(holdings(s, 'alice')).toEqual({ conversations: ['chat bob'], roaming: ALICE.roaming });
	});

	test('idempotent, and only the conversation matching both channel and type goes', async () => {
		const s = await start();
		const token = await tokenFor(s);
		expect((await del(s, 'alice', { channel: 'bob', type: 'groupchat', delete_roam: true }, token)).status).toBe(200);
		expect((await del(s, 'alice', { channel: 'nobody', type: 'chat', delete_roam: true }, token)).body.data).toEqual({ result: 'ok' });
		expectUnchanged(s);
		expect((await del(s, 'alice', BOB_CHAT, token)).status).toBe(200);
		expect((await del(s, 'alice', BOB_CHAT, token)).status).toBe(200);
		expect(s.counters().deletesByUser).toEqual({ alice: 4 });
	});

	test('a username with / ? # % .. spaces and non-ASCII, sent encoded, reaches that user', async () => {
		const s = await start();
		const encoded = encodeURIComponent(WEIRD);
		const answer = await del(s, WEIRD, { channel: 'alice', type: 'chat', delete_roam: true }, await tokenFor(s));
		expect(answer.status).toBe(200);
		expect(answer.body.uri).toBe(`${s.url}/demo-org/demo-app/users/${encoded}/user_channel`);
		expect(holdings(s, WEIRD)).toEqual({ conversations: [], roaming: [] });
		expect(holdings(s, 'alice')).toEqual(ALICE);
		expect(s.requests()[1].path).toBe(`/demo-org/demo-app/users/${encoded}/user_channel`);
		expect(s.counters().deletesByUser).toEqual({ [WEIRD]: 1 });

		const broken = await call(s, 'DELETE', `${appPath(s)}/users/%E4%zz/user_channel`, { body: BOB_CHAT, token: await tokenFor(s) });
		expect(broken.status).toBe(400);
		expect(broken.body.error).toBe('illegal_argument');
	});

	const INVALID = ['invalid_request_body', 'Request body is invalid. Please check body is correct.'];
	test.each([
		['body not JSON', { raw: 'channel=bob' }, INVALID],
		['empty body', { raw: '' }, INVALID],
		['body an array', { body: [BOB_CHAT] }, INVALID],
		['channel a number', { body: { ...BOB_CHAT, channel: 5 } }, INVALID],
		['type a boolean', { body: { ...BOB_CHAT, type: true } }, INVALID],
		['delete_roam a string', { body: { ...BOB_CHAT, delete_roam: 'true' } }, INVALID],
		['no channel', { body: { type: 'chat', delete_roam: true } }, ['illegal_argument', 'field channel cannot be null or empty']],
		['empty channel', { body: { ...BOB_CHAT, channel: '' } }, ['illegal_argument', 'field channel cannot be null or empty']],
		['no type', { body: { channel: 'bob', delete_roam: true } }, ['illegal_argument', 'field type cannot be null or empty']],
		['empty type', { body: { ...BOB_CHAT, type: '' } }, ['illegal_argument', 'field type cannot be null or empty']],
		['no delete_roam', { body: { channel: 'bob', type: 'chat' } }, ['illegal_argument', 'field delete_roam cannot be null']],
		['null delete_roam', { body: { ...BOB_CHAT, delete_roam: null } }, ['illegal_argument', 'field delete_roam cannot be null']],
		['type chatroom', { body: { ...BOB_CHAT, type: 'chatroom' } }, ['illegal_argument', 'field type must be chat or groupchat']],
	])('400 when %s', async (_name, options, [error, description]) => {
		const s = await start();
		const answer = await call(s, 'DELETE', channelPath(s, 'alice'), { ...options, token: await tokenFor(s) });
		expect(answer.status).toBe(400);
		expect(answer.body).toEqual(easemobError(error, description));
		expectUnchanged(s);
	});

	test('401 for a missing, corrupt, foreign or expired token', async () => {
		const s = await start();
		const path = channelPath(s, 'alice');
		const answer = async (authorization?: string) => await call(s, 'DELETE', path, { body: BOB_CHAT, authorization });
		const corrupt = easemobError('auth_bad_access_token', 'Unable to authenticate due to corrupt access token');
		const expired = easemobError('unauthorized', 'Unable to authenticate due to expired access token');

		expect(await answer()).toMatchObject({ status: 401, body: expired });
		expect(await answer('Basic YWxpY2U6cHc=')).toMatchObject({ status: 401, body: corrupt });
		expect(await answer('Bearer')).toMatchObject({ status: 401, body: corrupt });
		expect(await answer('Bearer not-a-token')).toMatchObject({ status: 401, body: corrupt });
		expect(await answer('Bearer YWMtIssuedSomewhereElse')).toMatchObject({
			status: 401,
			body: easemobError('auth_bad_access_token', 'Unable to authenticate'),
		});

		const token = await tokenFor(s, { ttl: 0 });
		s.expireTokens();
		expect(await answer(`Bearer ${token}`)).toMatchObject({ status: 401, body: expired });
		expectUnchanged(s);
		expect(await answer(`Bearer ${await tokenFor(s)}`)).toMatchObject({ status: 200 });
	});

	test('404 for an unknown user, org or app, and for other routes', async () => {
		const s = await start();
		const token = await tokenFor(s);
		const notFound = easemobError('service_resource_not_found', 'Service resource not found');
		expect(await del(s, 'ghost', BOB_CHAT, token)).toMatchObject({ status: 404, body: notFound });
		expect(await call(s, 'DELETE', '/acme/demo-app/users/alice/user_channel', { body: BOB_CHAT, token })).toMatchObject({
			status: 404,
			body: easemobError('organization_application_not_found', 'Could not find application for acme/demo-app from URI: acme/demo-app/users/alice/user_channel'),
		});
		for (const [method, path] of [
			['GET', channelPath(s, 'alice')],
			['DELETE', `${appPath(s)}/users/alice/user_channel/extra`],
			['PUT', `${appPath(s)}/users/alice`],
			['GET', `${appPath(s)}/rest/message/roaming/user/alice/delete/all`],
			['POST', `${appPath(s)}/rest/message/roaming/chat/user/alice/time`],
			['DELETE', `${appPath(s)}/rest/message/roaming/chatroom/user/alice`],
			['GET', '/'],
		]) {
			expect(await call(s, method, path, { token })).toMatchObject({ status: 404, body: notFound });
		}
	});
});

describe('GET /{org}/{app}/users (what the credential test calls)', () => {
	test('lists the first users for a valid token; 401 without one', async () => {
		const s = await start();

		const listed = await call(s, 'GET', `${appPath(s)}/users?limit=1`, { token: await tokenFor(s) });
		expect(listed.status).toBe(200);
		expect(listed.body).toMatchObject({
			action: 'get',
			path: '/users',
			entities: expect.arrayContaining([expect.objectContaining({ type: 'user', username: 'alice', activated: true })]),
		});

		expect((await call(s, 'GET', `${appPath(s)}/users`)).body.error).toBe('unauthorized');
	});
});

describe('rate limits', () => {
	test('per user: the 6th call in the window gets 429, changes nothing, other users go on', async () => {
		const s = await start({ rateLimits: { perUser: { limit: 5, windowMs: 300 }, windows: 'sliding' } });
		const token = await tokenFor(s);
		for (let i = 0; i < 5; i++) expect((await del(s, 'alice', { ...BOB_CHAT, channel: `x${i}` }, token)).status).toBe(200);
		const limited = await del(s, 'alice', BOB_CHAT, token);
		expect(limited.status).toBe(429);
		expect(limited.body).toEqual(easemobError('reach_limit', 'This request has reached api limit'));
		expect(limited.headers.get('retry-after')).toBeNull();
		expect(holdings(s, 'alice')).toEqual(ALICE);
		expect((await del(s, 'bob', BOB_CHAT, token)).status).toBe(200);
		await sleep(320);
		expect((await del(s, 'alice', BOB_CHAT, token)).status).toBe(200);
	});

	test('per app: counts every user together', async () => {
		const s = await start({ rateLimits: { perUser: false, perApp: { limit: 3, windowMs: 300 }, windows: 'sliding' } });
		const token = await tokenFor(s);
		for (const user of ['alice', 'bob', WEIRD]) expect((await del(s, user, BOB_CHAT, token)).status).toBe(200);
		expect((await del(s, 'alice', BOB_CHAT, token)).status).toBe(429);
		expect(s.counters()).toMatchObject({ deletes: 3, status429: 1 });
	});

	test('fixed windows start at multiples of windowMs since the epoch', async () => {
		const s = await start({ rateLimits: { perUser: { limit: 5, windowMs: 300 } } });
		const token = await tokenFor(s);
		await sleep(300 - (Date.now() % 300) + 5);
		for (let i = 0; i < 5; i++) expect((await del(s, 'alice', BOB_CHAT, token)).status).toBe(200);
		expect((await del(s, 'alice', BOB_CHAT, token)).status).toBe(429);
		await sleep(300 - (Date.now() % 300) + 5);
		expect((await del(s, 'alice', BOB_CHAT, token)).status).toBe(200);
	});

	test('the defaults limit a user to 5 a minute; rateLimits false lifts every limit', async () => {
		const s = await start({ rateLimits: {} });
		const token = await tokenFor(s);
		const statuses = [];
		for (let i = 0; i < 6; i++) statuses.push((await del(s, 'alice', BOB_CHAT, token)).status);
		expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
		s.configure({ rateLimits: false });
		for (let i = 0; i < 120; i++) expect((await del(s, 'alice', BOB_CHAT, token)).status).toBe(200);
	});

	test('Retry-After, when enabled, gives whole seconds until the window frees', async () => {
		const s = await start({ rateLimits: { perUser: { limit: 1, windowMs: 60_000 }, perApp: false, retryAfter: true } });
		const token = await tokenFor(s);
		await del(s, 'alice', BOB_CHAT, token);
		const fixed = await del(s, 'alice', BOB_CHAT, token);
		expect(fixed.status).toBe(429);
		const seconds = Number(fixed.headers.get('retry-after'));
		expect(Number.isInteger(seconds) && seconds >= 1 && seconds <= 60).toBe(true);

		s.configure({ rateLimits: { perUser: { limit: 1, windowMs: 1500 }, windows: 'sliding' } });
		await del(s, 'bob', BOB_CHAT, token);
		expect((await del(s, 'bob', BOB_CHAT, token)).headers.get('retry-after')).toBe('2');
	});
});

describe('latency and faults', () => {
	test('latencyMs delays API answers but not the admin endpoints', async () => {
		const s = await start({ latencyMs: 150 });
		let t = Date.now();
		const token = await tokenFor(s);
		expect(Date.now() - t).toBeGreaterThanOrEqual(145);
		t = Date.now();
		await fetch(`${s.url}/_sandbox/state`);
		expect(Date.now() - t).toBeLessThan(100);
		s.configure({ latencyMs: 0 });
		t = Date.now();
		await del(s, 'alice', BOB_CHAT, token);
		expect(Date.now() - t).toBeLessThan(100);
	});

	test('status: answers that status with an Easemob error body, `times` times, changing nothing', async () => {
		const s = await start({ faults: [{ kind: 'status', status: 503, times: 1 }] });
		const token = await tokenFor(s);
		const failed = await del(s, 'alice', BOB_CHAT, token);
		expect(failed.status).toBe(503);
		expect(failed.body).toEqual(easemobError('server_error', 'Sandbox fault: HTTP 503'));
		expectUnchanged(s);
		expect((await del(s, 'alice', BOB_CHAT, token)).status).toBe(200);
	});

	test('reset: the connection drops unanswered; logged with status 0', async () => {
		const s = await start({ faults: [{ kind: 'reset', times: 1 }] });
		const token = await tokenFor(s);
		await expect(del(s, 'alice', BOB_CHAT, token)).rejects.toThrow('fetch failed');
		expectUnchanged(s);
		expect(s.requests().map((r) => r.status)).toEqual([200, 0]);
		expect((await del(s, 'alice', BOB_CHAT, token)).status).toBe(200);
	});

	test('slow: answers normally after delayMs', async () => {
		const s = await start({ faults: [{ kind: 'slow', delayMs: 200 }] });
		const token = await tokenFor(s);
		const t = Date.now();
		expect((await del(s, 'alice', BOB_CHAT, token)).body.data).toEqual({ result: 'ok' });
		expect(Date.now() - t).toBeGreaterThanOrEqual(195);
		expect(s.state().users.alice.conversations).toHaveLength(1);
	});

	test('malformed-json: 200, JSON content type, unparsable body', async () => {
		const s = await start({ faults: [{ kind: 'malformed-json' }] });
		const answer = await del(s, 'alice', BOB_CHAT, await tokenFor(s));
		expect(answer.status).toBe(200);
		expect(answer.headers.get('content-type')).toBe(JSON_TYPE);
		expect(() => JSON.parse(answer.text)).toThrow(SyntaxError);
		expectUnchanged(s);
	});

	test('result-not-ok: the documented body with data.result "failed"', async () => {
		const s = await start({ faults: [{ kind: 'result-not-ok' }] });
		const answer = await del(s, 'alice', BOB_CHAT, await tokenFor(s));
		expect(answer.status).toBe(200);
		expect(answer.body).toMatchObject({ action: 'delete', path: '/users/user_channel', data: { result: 'failed' } });
		expectUnchanged(s);
		expect(s.counters().deletes).toBe(0);
	});

	test('unauthorized on any: a revoked app, tokens refused too', async () => {
		const s = await start();
		const token = await tokenFor(s);
		s.configure({ faults: [{ kind: 'unauthorized', on: 'any' }] });
		const expired = easemobError('unauthorized', 'Unable to authenticate due to expired access token');
		expect(await del(s, 'alice', BOB_CHAT, token)).toMatchObject({ status: 401, body: expired });
		expect(await call(s, 'POST', `${appPath(s)}/token`, { body: credentials(s) })).toMatchObject({ status: 401, body: expired });
		expect(s.counters()).toMatchObject({ tokensIssued: 1, deletes: 0 });
	});

	test('resource_limited and reach_limit: 429 with their Easemob bodies', async () => {
		const s = await start({ faults: [{ kind: 'resource_limited', times: 1 }, { kind: 'reach_limit', times: 1 }] });
		const token = await tokenFor(s);
		expect(await del(s, 'alice', BOB_CHAT, token)).toMatchObject({
			status: 429,
			body: easemobError('resource_limited', 'You have exceeded the limit of the Free edition, please upgrade to higher edition.'),
		});
		expect(await del(s, 'alice', BOB_CHAT, token)).toMatchObject({
			status: 429,
			body: easemobError('reach_limit', 'This request has reached api limit'),
		});
		expect(s.counters()).toMatchObject({ status429: 2, deletes: 0 });
		expectUnchanged(s);
	});

	test('rules pick by username and by endpoint; configure validates them', async () => {
		const s = await start({
			faults: [
				{ kind: 'status', status: 502, username: WEIRD },
				{ kind: 'status', status: 500, on: 'token', times: 1 },
			],
		});
		expect((await call(s, 'POST', `${appPath(s)}/token`, { body: credentials(s) })).status).toBe(500);
		const token = await tokenFor(s);
		expect((await del(s, 'alice', BOB_CHAT, token)).status).toBe(200);
		expect((await del(s, WEIRD, BOB_CHAT, token)).status).toBe(502);
		expect(() => s.configure({ faults: [{ kind: 'explode' as 'reset' }] })).toThrow(TypeError);
		expect(() => s.configure({ latencyMs: -1 })).toThrow(TypeError);
	});
});

describe('observation and control', () => {
	test('counters() and requests() record every API answer, with the authorization redacted', async () => {
		const s = await start({ rateLimits: { perUser: { limit: 1, windowMs: 60_000 } } });
		const token = await tokenFor(s);
		await call(s, 'POST', `${appPath(s)}/token?trace=1`, { raw: 'not json' });
		await del(s, 'alice', BOB_CHAT, token);
		await del(s, 'alice', BOB_CHAT, token);
		await del(s, 'ghost', BOB_CHAT, token);

		const idle = { passed: 0, refused: 0 };
		expect(s.counters()).toEqual({
			requests: 5,
			tokenRequests: 2,
			tokensIssued: 1,
			deletes: 1,
			messagesDeleted: 0,
			status429: 1,
			errors: 3,
			byStatus: { '200': 2, '400': 1, '429': 1, '404': 1 },
			deletesByUser: { alice: 1 },
			endpoints: { token: { requests: 2, ok: 1 }, 'conversation.delete': { requests: 3, ok: 1 } },
			budgets: {
				conversation: { passed: 2, refused: 1, refusedPerUser: 1, refusedPerApp: 0 },
				'history.all': idle,
				'history.chat.time': idle,
				'history.group.time': idle,
				'history.chat.ids': idle,
				'history.group.ids': idle,
				user: idle,
			},
		});
		const log = s.requests();
		expect(log.map((r) => [r.method, r.path, r.status, r.endpoint])).toEqual([
			['POST', '/demo-org/demo-app/token', 200, 'token'],
			['POST', '/demo-org/demo-app/token', 400, 'token'],
			['DELETE', '/demo-org/demo-app/users/alice/user_channel', 200, 'conversation.delete'],
			['DELETE', '/demo-org/demo-app/users/alice/user_channel', 429, 'conversation.delete'],
			['DELETE', '/demo-org/demo-app/users/ghost/user_channel', 404, 'conversation.delete'],
		]);
		expect(log[0].body).toEqual(credentials(s));
		expect(log[1]).toMatchObject({ query: { trace: '1' }, body: 'not json' });
		expect(log[2]).toMatchObject({ query: {}, body: BOB_CHAT });
		expect(log[2].headers).toMatchObject({ authorization: 'Bearer <redacted>', 'content-type': 'application/json' });
		expect(log[0].headers.authorization).toBeUndefined();
		expect(JSON.stringify(log)).not.toContain(token.slice(4));
		expect(log.every((r, i) => i === 0 || r.at >= log[i - 1].at)).toBe(true);
	});

	test('reset() restores the seed and clears counters, log, tokens, windows and faults; the caller seed stays intact', async () => {
		const s = await start({ rateLimits: { perUser: { limit: 1, windowMs: 60_000 } }, faults: [{ kind: 'reach_limit', username: 'bob' }] });
		const token = await tokenFor(s);
		await del(s, 'alice', BOB_CHAT, token);
		expect(SEED).toEqual(SEED_COPY);

		s.reset();
		expectUnchanged(s);
		expect(s.counters()).toMatchObject({ requests: 0, deletes: 0, byStatus: {}, deletesByUser: {} });
		expect(s.requests()).toEqual([]);
		expect((await del(s, 'alice', BOB_CHAT, token)).body.error_description).toBe('Unable to authenticate');
		const fresh = await tokenFor(s);
		expect((await del(s, 'alice', BOB_CHAT, fresh)).status).toBe(200);
		expect((await del(s, 'bob', BOB_CHAT, fresh)).status).toBe(200);

		s.reset({ users: { zoe: {} } });
		expect(s.state()).toEqual({
			users: {
				zoe: {
					uuid: expect.stringMatching(UUID),
					created: expect.any(Number),
					modified: expect.any(Number),
					activated: true,
					online: false,
					conversations: [],
					roaming: [],
				},
			},
			groups: {},
		});
		s.reset();
		expectUnchanged(s);
	});

	test('admin endpoints: state, requests, configure, expire-tokens, reset; not counted, not delayed', async () => {
		const s = await start();
		const admin = async (method: string, path: string, body?: unknown) =>
			await call(s, method, `/_sandbox/${path}`, body === undefined ? {} : { body });
		const token = await tokenFor(s);
		await del(s, 'alice', BOB_CHAT, token);

		const state = await admin('GET', 'state');
		expect(state.status).toBe(200);
		expect(state.headers.get('content-type')).toBe(JSON_TYPE);
		expect(state.body).toEqual({ ...s.state(), counters: s.counters() });
		expect((await admin('GET', 'requests')).body).toEqual(s.requests());

		const configured = await admin('POST', 'configure', { latencyMs: 120, faults: [{ kind: 'status', status: 500, times: 1 }] });
		expect(configured).toMatchObject({ status: 200, body: { latencyMs: 120, faults: [{ kind: 'status', times: 1 }] } });
		expect((await admin('POST', 'configure', { faults: [{ kind: 'nope' }] })).status).toBe(400);
		expect((await call(s, 'POST', '/_sandbox/configure', { raw: '{' })).status).toBe(400);
		const t = Date.now();
		expect((await del(s, 'bob', BOB_CHAT, token)).status).toBe(500);
		expect(Date.now() - t).toBeGreaterThanOrEqual(115);
		await admin('POST', 'configure', { latencyMs: 0 });

		expect((await admin('POST', 'expire-tokens')).status).toBe(200);
		expect((await del(s, 'bob', BOB_CHAT, token)).body.error).toBe('unauthorized');

		const reset = await admin('POST', 'reset', { users: { zoe: { conversations: [{ channel: 'amy', type: 'chat' }] } } });
		expect(reset.body).toMatchObject({ users: { zoe: { conversations: [{ channel: 'amy', type: 'chat' }], roaming: [] } }, counters: { requests: 0 } });
		expect((await admin('POST', 'reset')).body.users).toEqual(initial.get(s)?.users);
		expect((await admin('GET', 'nothing-here')).status).toBe(404);
		expect(s.counters().requests).toBe(0);
	});

	test('close() ends kept-alive connections and a pending slow request at once', async () => {
		const s = await start({ faults: [{ kind: 'slow', username: 'bob' }] });
		const agent = new http.Agent({ keepAlive: true });
		const get = async () =>
			await new Promise<void>((resolve, reject) => {
				const req = http.get(`${s.url}${appPath(s)}/users`, { agent }, (res) => {
					res.resume();
					res.on('end', () => resolve());
				});
				req.on('error', reject);
			});
		await get();

		const pending = del(s, 'bob', BOB_CHAT, await tokenFor(s));
		pending.catch(() => undefined);
		while (s.requests().length < 3) await sleep(5);
		const t = Date.now();
		await s.close();
		expect(Date.now() - t).toBeLessThan(300);
		await expect(pending).rejects.toThrow();
		agent.destroy();
	});
});
