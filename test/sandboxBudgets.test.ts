/**
 * The sandbox's rate-limit budgets (Easemob's, per App Key: the one-way delete 5/min per user and
 * 100/s per app; each history endpoint 100/s of its own; all user calls one shared 100/s) and its
 * faults on the new endpoints. Windows are sliding and a minute long, so no test depends on timing.
 */
import { T, appPath, call, holdings, messages, start as startWith, tokenFor, NOT_FOUND, REACH_LIMIT } from './helpers/sandbox';
import { DEFAULTS, type Budget, type Sandbox, type SandboxOptions, type Seed } from './sandbox/server';

const SEED: Seed = {
	users: {
		alice: {
			online: true,
			conversations: [
				{ channel: 'bob', type: 'chat' },
				{ channel: 'g1', type: 'groupchat' },
			],
			roaming: [
				{ channel: 'bob', type: 'chat', history: messages('b', 3) },
				{ channel: 'g1', type: 'groupchat', history: messages('g', 3) },
			],
		},
		bob: {
			conversations: [{ channel: 'alice', type: 'chat' }],
			roaming: [{ channel: 'alice', type: 'chat', history: messages('b', 3) }],
		},
		carol: {},
		dave: {},
	},
};
const ALICE = { conversations: ['chat bob', 'groupchat g1'], roaming: ['chat bob: b1 b2 b3', 'groupchat g1: g1 g2 g3'] };
const MINUTE = 60_000;
const LATER = String(T + 9000);

const start = async (options: SandboxOptions = {}) => await startWith(SEED, options);
const roaming = (s: Sandbox, rest: string) => `${appPath(s)}/rest/message/roaming/${rest}`;

/**
 * Per history endpoint: a call that deletes nothing (carol has no history, or the peer none), and
 * one that would delete alice's messages.
 */
const HISTORY: Array<{ budget: Budget; method: string; harmless: (s: Sandbox) => string; harmful: (s: Sandbox) => string }> = [
	{
		budget: 'history.all',
		method: 'POST',
		harmless: (s) => roaming(s, 'user/carol/delete/all'),
		harmful: (s) => roaming(s, 'user/alice/delete/all'),
	},
	{
		budget: 'history.chat.time',
		method: 'DELETE',
		harmless: (s) => roaming(s, `chat/user/alice/time?userId=nobody&delTime=${LATER}`),
		harmful: (s) => roaming(s, `chat/user/alice/time?userId=bob&delTime=${LATER}`),
	},
	{
		budget: 'history.group.time',
		method: 'DELETE',
		harmless: (s) => roaming(s, `group/user/alice/time?groupId=g9&delTime=${LATER}`),
		harmful: (s) => roaming(s, `group/user/alice/time?groupId=g1&delTime=${LATER}`),
	},
	{
		budget: 'history.chat.ids',
		method: 'DELETE',
		harmless: (s) => roaming(s, 'chat/user/alice?userId=bob&msgIdList=none'),
		harmful: (s) => roaming(s, 'chat/user/alice?userId=bob&msgIdList=b1,b2'),
	},
	{
		budget: 'history.group.ids',
		method: 'DELETE',
		harmless: (s) => roaming(s, 'group/user/alice?groupId=g1&msgIdList=none'),
		harmful: (s) => roaming(s, 'group/user/alice?groupId=g1&msgIdList=g1'),
	},
];

const userCall = (s: Sandbox, method: string, user: string, action = '') => [method, `${appPath(s)}/users/${user}${action}`] as const;
const oneWay = (s: Sandbox, token: string, user: string) =>
	call(s, 'DELETE', `${appPath(s)}/users/${user}/user_channel`, { token, body: { channel: 'nobody', type: 'chat', delete_roam: true } });

describe('budgets', () => {
	test('each history endpoint has its own: the call over its limit is answered 429 reach_limit and deletes nothing, the next endpoint still has all of its own', async () => {
		const s = await start({ rateLimits: { history: { limit: 2, windowMs: MINUTE }, windows: 'sliding' } });
		const token = await tokenFor(s);
		for (const { method, harmless, harmful } of HISTORY) {
			expect((await call(s, method, harmless(s), { token })).status).toBe(200);
			expect((await call(s, method, harmless(s), { token })).status).toBe(200);
			expect(await call(s, method, harmful(s), { token })).toMatchObject({ status: 429, body: REACH_LIMIT });
		}
		expect(holdings(s, 'alice')).toEqual(ALICE);
		const { budgets, messagesDeleted } = s.counters();
		for (const { budget } of HISTORY) expect(budgets[budget]).toEqual({ passed: 2, refused: 1 });
		expect(messagesDeleted).toBe(0);
		// Neither the user calls nor the one-way delete count against them.
		expect((await call(s, ...userCall(s, 'GET', 'alice'), { token })).status).toBe(200);
		expect((await oneWay(s, token, 'alice')).status).toBe(200);
	});

	test('every user call shares one: get, force logout and the list use it up, then ban, delete and unban are refused and change nothing', async () => {
		const s = await start({ rateLimits: { userCalls: { limit: 3, windowMs: MINUTE }, windows: 'sliding' } });
		const token = await tokenFor(s);
		const statuses = [];
		for (const [method, path] of [
			userCall(s, 'GET', 'alice'),
			userCall(s, 'GET', 'bob', '/disconnect'),
			['GET', `${appPath(s)}/users`],
			userCall(s, 'POST', 'alice', '/deactivate'),
			userCall(s, 'DELETE', 'dave'),
			userCall(s, 'POST', 'carol', '/activate'),
		]) {
			statuses.push((await call(s, method, path, { token })).status);
		}
		expect(statuses).toEqual([200, 200, 200, 429, 429, 429]);
		expect(s.state().users.alice).toMatchObject({ activated: true, online: true });
		expect(s.state().users).toHaveProperty('dave');
		expect(s.counters().budgets.user).toEqual({ passed: 3, refused: 3 });
		expect((await call(s, HISTORY[0].method, HISTORY[0].harmless(s), { token })).status).toBe(200);
		expect((await oneWay(s, token, 'alice')).status).toBe(200);
	});

	test('the one-way delete has its own, per user and per app, and says which refused', async () => {
		const s = await start({
			rateLimits: { perUser: { limit: 1, windowMs: MINUTE }, perApp: { limit: 2, windowMs: MINUTE }, windows: 'sliding' },
		});
		const token = await tokenFor(s);
		expect([
			(await oneWay(s, token, 'alice')).status,
			(await oneWay(s, token, 'alice')).status,
			(await oneWay(s, token, 'bob')).status,
			(await oneWay(s, token, 'carol')).status,
		]).toEqual([200, 429, 200, 429]);
		expect(s.counters().budgets.conversation).toEqual({ passed: 2, refused: 2, refusedPerUser: 1, refusedPerApp: 1 });
		for (const { method, harmful } of HISTORY.slice(1)) expect((await call(s, method, harmful(s), { token })).status).toBe(200);
		expect((await call(s, ...userCall(s, 'POST', 'alice', '/deactivate'), { token })).status).toBe(200);
	});

	test('the defaults are 100 a second for each history endpoint and for the user calls; rateLimits false lifts them too; a limit of 0 is refused', async () => {
		expect(DEFAULTS.rateLimits).toEqual({
			perUser: { limit: 5, windowMs: 60_000 },
			perApp: { limit: 100, windowMs: 1000 },
			history: { limit: 100, windowMs: 1000 },
			userCalls: { limit: 100, windowMs: 1000 },
			windows: 'fixed',
			retryAfter: false,
		});
		const one = { limit: 1, windowMs: MINUTE };
		const s = await start({ rateLimits: { history: one, userCalls: one, windows: 'sliding' } });
		const token = await tokenFor(s);
		const twice = async () => {
			const answers = [];
			for (let i = 0; i < 2; i++) {
				answers.push((await call(s, HISTORY[1].method, HISTORY[1].harmless(s), { token })).status);
				answers.push((await call(s, ...userCall(s, 'GET', 'carol'), { token })).status);
			}
			return answers;
		};
		expect(await twice()).toEqual([200, 200, 429, 429]);
		s.configure({ rateLimits: false });
		expect(await twice()).toEqual([200, 200, 200, 200]);
		const configured = await call(s, 'POST', '/_sandbox/configure', { body: { rateLimits: { history: { limit: 0, windowMs: 1 } } } });
		expect(configured.status).toBe(400);
	});

	test('Retry-After, when enabled, is sent by the history and user budgets too', async () => {
		const one = { limit: 1, windowMs: MINUTE };
		const s = await start({ rateLimits: { history: one, userCalls: one, windows: 'sliding', retryAfter: true } });
		const token = await tokenFor(s);
		for (const [method, path] of [[HISTORY[3].method, HISTORY[3].harmless(s)], userCall(s, 'GET', 'carol')]) {
			await call(s, method, path, { token });
			const limited = await call(s, method, path, { token });
			expect(limited.status).toBe(429);
			const seconds = Number(limited.headers.get('retry-after'));
			expect(Number.isInteger(seconds) && seconds >= 1 && seconds <= 60).toBe(true);
		}
	});
});

describe('faults on the new endpoints', () => {
	test('a fault picks an endpoint, a budget ("user"), or all history calls ("history"), with a username; it uses no budget', async () => {
		const s = await start({
			rateLimits: { history: { limit: 1, windowMs: MINUTE }, windows: 'sliding' },
			faults: [
				{ kind: 'status', status: 503, on: 'history.chat.time', times: 1 },
				{ kind: 'reach_limit', on: 'user', username: 'bob' },
				{ kind: 'status', status: 502, on: 'history', username: 'bob' },
			],
		});
		const token = await tokenFor(s);
		const chatTime = roaming(s, `chat/user/alice/time?userId=bob&delTime=${LATER}`);
		expect((await call(s, 'DELETE', chatTime, { token })).status).toBe(503);
		expect(holdings(s, 'alice')).toEqual(ALICE);
		expect((await call(s, 'DELETE', chatTime, { token })).status).toBe(200);
		for (const [method, path] of [
			userCall(s, 'GET', 'bob'),
			userCall(s, 'GET', 'bob', '/disconnect'),
			userCall(s, 'POST', 'bob', '/deactivate'),
		]) {
			expect(await call(s, method, path, { token })).toMatchObject({ status: 429, body: REACH_LIMIT });
		}
		expect((await call(s, ...userCall(s, 'GET', 'alice'), { token })).status).toBe(200);
		expect((await call(s, 'POST', roaming(s, 'user/bob/delete/all'), { token })).status).toBe(502);
		expect((await call(s, 'DELETE', roaming(s, 'group/user/bob?groupId=g1&msgIdList=g1'), { token })).status).toBe(502);
		expect(s.counters().budgets).toMatchObject({
			'history.chat.time': { passed: 1, refused: 0 },
			'history.all': { passed: 0 },
			user: { passed: 1, refused: 0 },
		});
		expect(s.counters().status429).toBe(3);
	});

	test('without `on`, a fault hits only the one-way delete, as before; an unknown `on` is refused', async () => {
		const s = await start({ faults: [{ kind: 'status', status: 500 }] });
		const token = await tokenFor(s);
		expect((await oneWay(s, token, 'alice')).status).toBe(500);
		expect((await call(s, HISTORY[0].method, HISTORY[0].harmless(s), { token })).status).toBe(200);
		expect((await call(s, ...userCall(s, 'GET', 'ghost'), { token })).body).toEqual(NOT_FOUND);
		expect(() => s.configure({ faults: [{ kind: 'reset', on: 'users' as 'user' }] })).toThrow(TypeError);
		const targets = [{ kind: 'reset', on: 'conversation' }, { kind: 'reset', on: 'user.disconnect' }] as const;
		expect(() => s.configure({ faults: [...targets] })).not.toThrow();
	});

	test('result-not-ok: 200 with each endpoint’s body that is not a success, changing nothing', async () => {
		const s = await start({ faults: [{ kind: 'result-not-ok', on: 'any' }] });
		const token = await tokenFor(s);
		const before = s.state();
		const body = async (method: string, path: string) => {
			const answer = await call(s, method, path, { token });
			expect(answer.status).toBe(200);
			return answer.body;
		};
		for (const { method, harmful } of HISTORY) {
			expect(await body(method, harmful(s))).toEqual({ requestStatusCode: 'fail', timestamp: expect.any(Number) });
		}
		expect(await body(...userCall(s, 'GET', 'alice', '/disconnect'))).toMatchObject({ action: 'get', data: { result: false } });
		expect(await body(...userCall(s, 'POST', 'alice', '/activate'))).toEqual({ timestamp: expect.any(Number), duration: 0 });
		expect(await body(...userCall(s, 'GET', 'alice'))).toMatchObject({ action: 'get', entities: [] });
		expect(await body(...userCall(s, 'DELETE', 'alice'))).toMatchObject({ action: 'delete', entities: [] });
		expect(await body(...userCall(s, 'POST', 'alice', '/deactivate'))).toMatchObject({ action: 'Deactivate user', entities: [] });
		expect(s.state()).toEqual(before);
	});

	test('malformed-json and reset on a history and a user endpoint: an unparsable 200, a dropped connection', async () => {
		const s = await start({
			faults: [
				{ kind: 'malformed-json', on: 'history.all', times: 1 },
				{ kind: 'malformed-json', on: 'user.get', times: 1 },
				{ kind: 'reset', on: 'history.group.ids', times: 1 },
			],
		});
		const token = await tokenFor(s);
		for (const [method, path] of [[HISTORY[0].method, HISTORY[0].harmful(s)], userCall(s, 'GET', 'alice')]) {
			const answer = await call(s, method, path, { token });
			expect(answer.status).toBe(200);
			expect(() => JSON.parse(answer.text)).toThrow(SyntaxError);
		}
		await expect(call(s, HISTORY[4].method, HISTORY[4].harmful(s), { token })).rejects.toThrow('fetch failed');
		expect(s.requests().map((r) => [r.endpoint, r.status])).toEqual([
			['token', 200],
			['history.all', 200],
			['user.get', 200],
			['history.group.ids', 0],
		]);
		expect(holdings(s, 'alice')).toEqual(ALICE);
	});
});
