/** The sandbox's message history ("roaming") endpoints over HTTP (easemob-api.md §5), and its seeds' histories. */
import { T, appPath, call, easemobError, holdings, messages, start as startWith, tokenFor, NOT_FOUND } from './helpers/sandbox';
import { generateSeed, type Sandbox, type SandboxOptions, type Seed } from './sandbox/server';

const WEIRD = 'a/b?c#d%e+f .. 张 伟';
// Characters that mean something in a query string.
const PEER = 'p+q r&s=t#u';

const SEED: Seed = {
	users: {
		alice: {
			conversations: [
				{ channel: 'bob', type: 'chat' },
				{ channel: 'carol', type: 'chat' },
				{ channel: 'g1', type: 'groupchat' },
			],
			roaming: [
				{ channel: 'bob', type: 'chat', history: messages('b', 5) },
				{ channel: 'carol', type: 'chat', history: messages('c', 2) },
				{ channel: 'g1', type: 'groupchat', history: messages('g', 4) },
			],
		},
		bob: {
			conversations: [{ channel: 'alice', type: 'chat' }],
			roaming: [{ channel: 'alice', type: 'chat', history: messages('b', 5) }],
		},
		[WEIRD]: {
			conversations: [{ channel: PEER, type: 'chat' }],
			roaming: [{ channel: PEER, type: 'chat', history: messages('w', 2) }],
		},
	},
};
const ALICE = {
	conversations: ['chat bob', 'chat carol', 'groupchat g1'],
	roaming: ['chat bob: b1 b2 b3 b4 b5', 'chat carol: c1 c2', 'groupchat g1: g1 g2 g3 g4'],
};
const OK = { requestStatusCode: 'ok', timestamp: expect.any(Number) };
const NOT_OPEN = easemobError('service open exception', 'this appKey not open message roaming');

const start = async (options: SandboxOptions = {}) => await startWith(SEED, options);

/** `/rest/message/roaming/…` below the app, with the query from `params` (encoded as a browser would). */
const roaming = (s: Sandbox, rest: string, params?: Record<string, string>) =>
	`${appPath(s)}/rest/message/roaming/${rest}${params === undefined ? '' : `?${new URLSearchParams(params)}`}`;

const all = (s: Sandbox, user: string) => roaming(s, `user/${encodeURIComponent(user)}/delete/all`);
const byTime = (s: Sandbox, kind: 'chat' | 'group', user: string, params: Record<string, string>) =>
	roaming(s, `${kind}/user/${encodeURIComponent(user)}/time`, params);
const byIds = (s: Sandbox, kind: 'chat' | 'group', user: string, params: Record<string, string>) =>
	roaming(s, `${kind}/user/${encodeURIComponent(user)}`, params);

/** One call of each of the five endpoints for `user`, each valid. */
const everyEndpoint = (s: Sandbox, user: string): Array<[string, string]> => [
	['POST', all(s, user)],
	['DELETE', byTime(s, 'chat', user, { userId: 'bob', delTime: String(T + 1000) })],
	['DELETE', byTime(s, 'group', user, { groupId: 'g1', delTime: String(T + 1000) })],
	['DELETE', byIds(s, 'chat', user, { userId: 'bob', msgIdList: 'b1' })],
	['DELETE', byIds(s, 'group', user, { groupId: 'g1', msgIdList: 'g1' })],
];

describe('POST /rest/message/roaming/user/{userId}/delete/all', () => {
	test('200 {"requestStatusCode":"ok","timestamp"}; all of the user’s history and every conversation gone, others keep theirs', async () => {
		const s = await start();
		const answer = await call(s, 'POST', all(s, 'alice'), { token: await tokenFor(s) });

		expect(answer.status).toBe(200);
		expect(answer.body).toEqual(OK);
		expect(holdings(s, 'alice')).toEqual({ conversations: [], roaming: [] });
		expect(holdings(s, 'bob')).toEqual({ conversations: ['chat alice'], roaming: ['chat alice: b1 b2 b3 b4 b5'] });
		expect(s.counters()).toMatchObject({ messagesDeleted: 11, endpoints: { 'history.all': { requests: 1, ok: 1 } } });
		expect(s.requests()[1]).toMatchObject({ method: 'POST', endpoint: 'history.all', body: null, status: 200 });
	});
});

describe('DELETE /rest/message/roaming/{chat|group}/user/{userId}/time', () => {
	test('chat: messages at or before delTime go, later ones stay, the conversation stays; isNotify=false is logged', async () => {
		const s = await start();
		const path = byTime(s, 'chat', 'alice', { userId: 'bob', delTime: String(T + 3000), isNotify: 'false' });
		const answer = await call(s, 'DELETE', path, { token: await tokenFor(s) });

		expect(answer.status).toBe(200);
		expect(answer.body).toEqual(OK);
		expect(holdings(s, 'alice')).toEqual({
			conversations: ALICE.conversations,
			roaming: ['chat bob: b4 b5', 'chat carol: c1 c2', 'groupchat g1: g1 g2 g3 g4'],
		});
		expect(s.state().users.alice.roaming[0]).toMatchObject({
			messages: 2,
			history: [{ timestamp: T + 4000 }, { timestamp: T + 5000 }],
		});
		expect(holdings(s, 'bob').roaming).toEqual(['chat alice: b1 b2 b3 b4 b5']);
		expect(s.requests()[1]).toMatchObject({
			endpoint: 'history.chat.time',
			query: { userId: 'bob', isNotify: 'false' },
			isNotify: false,
		});
		expect(s.counters().messagesDeleted).toBe(3);
	});

	test('a conversation the delete leaves empty leaves the list too', async () => {
		const s = await start();
		const answer = await call(s, 'DELETE', byTime(s, 'chat', 'alice', { userId: 'bob', delTime: String(T + 5000) }), {
			token: await tokenFor(s),
		});

		expect(answer.body).toEqual(OK);
		expect(holdings(s, 'alice')).toEqual({
			conversations: ['chat carol', 'groupchat g1'],
			roaming: ['chat carol: c1 c2', 'groupchat g1: g1 g2 g3 g4'],
		});
	});

	test('group: by groupId; isNotify absent is logged as true (the default), isNotify=true as true', async () => {
		const s = await start();
		const token = await tokenFor(s);
		await call(s, 'DELETE', byTime(s, 'group', 'alice', { groupId: 'g1', delTime: String(T + 2000) }), { token });
		await call(s, 'DELETE', byTime(s, 'group', 'alice', { groupId: 'g1', delTime: String(T + 2500), isNotify: 'true' }), { token });

		expect(holdings(s, 'alice').roaming).toEqual(['chat bob: b1 b2 b3 b4 b5', 'chat carol: c1 c2', 'groupchat g1: g3 g4']);
		expect(s.requests().map((r) => [r.endpoint, r.status, r.isNotify])).toEqual([
			['token', 200, undefined],
			['history.group.time', 200, true],
			['history.group.time', 200, true],
		]);
	});

	test('a delTime before every message, or a peer without a history, changes nothing and still answers ok', async () => {
		const s = await start();
		const token = await tokenFor(s);
		const before = s.state();
		for (const params of [
			{ userId: 'bob', delTime: String(T) },
			{ userId: 'nobody', delTime: String(T + 9000) },
			{ userId: 'g1', delTime: String(T + 9000) },
		]) {
			expect((await call(s, 'DELETE', byTime(s, 'chat', 'alice', params), { token })).body).toEqual(OK);
		}
		expect(s.state()).toEqual(before);
	});
});

describe('DELETE /rest/message/roaming/{chat|group}/user/{userId}?msgIdList=', () => {
	test('chat: the listed IDs go, unknown IDs are ignored; isNotify is logged', async () => {
		const s = await start();
		const path = byIds(s, 'chat', 'alice', { userId: 'bob', msgIdList: 'b2,b4,nope', isNotify: 'false' });
		const answer = await call(s, 'DELETE', path, { token: await tokenFor(s) });

		expect(answer.status).toBe(200);
		expect(answer.body).toEqual(OK);
		expect(holdings(s, 'alice').roaming[0]).toBe('chat bob: b1 b3 b5');
		expect(holdings(s, 'bob').roaming).toEqual(['chat alice: b1 b2 b3 b4 b5']);
		expect(s.requests()[1]).toMatchObject({ endpoint: 'history.chat.ids', query: { msgIdList: 'b2,b4,nope' }, isNotify: false });
		expect(s.counters().messagesDeleted).toBe(2);
	});

	test('group: by groupId; deleting every message empties the history but the conversation stays listed', async () => {
		const s = await start();
		const path = byIds(s, 'group', 'alice', { groupId: 'g1', msgIdList: 'g1,g2,g3,g4' });
		expect((await call(s, 'DELETE', path, { token: await tokenFor(s) })).body).toEqual(OK);

		expect(holdings(s, 'alice')).toEqual({
			conversations: ALICE.conversations,
			roaming: ['chat bob: b1 b2 b3 b4 b5', 'chat carol: c1 c2'],
		});
		expect(s.requests()[1].isNotify).toBe(true);
	});

	test('50 IDs are accepted; 51 answer 400 param exception "delete msg list limit can not greater than 50" and delete none', async () => {
		const s = await start();
		const token = await tokenFor(s);
		const ids = (n: number) => ['b1', ...Array.from({ length: n - 1 }, (_, i) => `x${i}`)].join(',');

		const tooMany = await call(s, 'DELETE', byIds(s, 'chat', 'alice', { userId: 'bob', msgIdList: ids(51) }), { token });
		expect(tooMany.status).toBe(400);
		expect(tooMany.body).toEqual(easemobError('param exception', 'delete msg list limit can not greater than 50'));
		expect(holdings(s, 'alice')).toEqual(ALICE);

		const fifty = await call(s, 'DELETE', byIds(s, 'chat', 'alice', { userId: 'bob', msgIdList: ids(50) }), { token });
		expect(fifty.body).toEqual(OK);
		expect(holdings(s, 'alice').roaming[0]).toBe('chat bob: b2 b3 b4 b5');
	});
});

describe('every history endpoint', () => {
	test('path and query values are percent-decoded (a + in the query is a space), so an odd user and peer are reached', async () => {
		const s = await start();
		const token = await tokenFor(s);
		const user = encodeURIComponent(WEIRD);
		// %2B arrives as "+", and a raw "+" as a space, as a servlet container reads a query.
		const peer = encodeURIComponent(PEER).replace(/%20/g, '+');
		const path = `${appPath(s)}/rest/message/roaming/chat/user/${user}?userId=${peer}&msgIdList=w1`;
		const answer = await call(s, 'DELETE', path, { token });

		expect(answer.body).toEqual(OK);
		expect(holdings(s, WEIRD).roaming).toEqual([`chat ${PEER}: w2`]);
		expect(s.requests()[1].path).toBe(`/demo-org/demo-app/rest/message/roaming/chat/user/${user}`);
	});

	const missing = (name: string, type: string) => `Required request parameter '${name}' for method parameter type ${type} is not present`;
	const mismatch = (type: string, cause: string) =>
		`Failed to convert value of type 'java.lang.String' to required type '${type}'; nested exception is ${cause}`;
	test.each([
		['no userId', 'chat/user/alice/time?delTime=1', missing('userId', 'String')],
		['an empty userId', 'chat/user/alice/time?userId=&delTime=1', missing('userId', 'String')],
		['a userId not correctly percent-encoded (dropped, as Tomcat does)', 'chat/user/alice/time?userId=%E4%zz&delTime=1', missing('userId', 'String')],
		['userId instead of groupId on the group endpoint', 'group/user/alice/time?userId=g1&delTime=1', missing('groupId', 'String')],
		['no delTime', 'chat/user/alice/time?userId=bob', missing('delTime', 'Long')],
		['delTime not a number', 'chat/user/alice/time?userId=bob&delTime=yesterday', mismatch('java.lang.Long', 'java.lang.NumberFormatException: For input string: "yesterday"')],
		['delTime with a fraction', 'chat/user/alice/time?userId=bob&delTime=1.5', mismatch('java.lang.Long', 'java.lang.NumberFormatException: For input string: "1.5"')],
		['delTime beyond a Java long', 'chat/user/alice/time?userId=bob&delTime=9223372036854775808', mismatch('java.lang.Long', 'java.lang.NumberFormatException: For input string: "9223372036854775808"')],
		['an ISO delTime', 'chat/user/alice/time?userId=bob&delTime=2024-01-01T00%3A00%3A00Z', mismatch('java.lang.Long', 'java.lang.NumberFormatException: For input string: "2024-01-01T00:00:00Z"')],
		['isNotify not a boolean', 'chat/user/alice/time?userId=bob&delTime=1&isNotify=maybe', mismatch('java.lang.Boolean', "java.lang.IllegalArgumentException: Invalid boolean value 'maybe'")],
		['no msgIdList', 'chat/user/alice?userId=bob', missing('msgIdList', 'String')],
		['an empty msgIdList', 'group/user/alice?groupId=g1&msgIdList=', missing('msgIdList', 'String')],
		['isNotify not a boolean, by ID', 'group/user/alice?groupId=g1&msgIdList=g1&isNotify=2', mismatch('java.lang.Boolean', "java.lang.IllegalArgumentException: Invalid boolean value '2'")],
	])('400 illegal_argument, as Spring binds parameters, for %s; nothing deleted', async (_name, rest, description) => {
		const s = await start();
		const answer = await call(s, 'DELETE', `${appPath(s)}/rest/message/roaming/${rest}`, { token: await tokenFor(s) });

		expect(answer.status).toBe(400);
		expect(answer.body).toEqual(easemobError('illegal_argument', description));
		expect(holdings(s, 'alice')).toEqual(ALICE);
	});

	test('404 service_resource_not_found for an unknown user, from each endpoint', async () => {
		const s = await start();
		const token = await tokenFor(s);
		for (const [method, path] of everyEndpoint(s, 'ghost')) {
			expect(await call(s, method, path, { token })).toMatchObject({ status: 404, body: NOT_FOUND });
		}
	});

	test('401 without a token, from each endpoint, before any parameter is read', async () => {
		const s = await start();
		const expired = easemobError('unauthorized', 'Unable to authenticate due to expired access token');
		for (const [method, path] of [...everyEndpoint(s, 'alice'), ['DELETE', roaming(s, 'chat/user/alice/time')]]) {
			expect(await call(s, method, path)).toMatchObject({ status: 401, body: expired });
		}
		expect(holdings(s, 'alice')).toEqual(ALICE);
	});
});

describe('message roaming switched off', () => {
	test('configure({ messageRoaming: false }): each endpoint answers 400 service open exception and deletes nothing; back on, it works', async () => {
		const s = await start();
		const token = await tokenFor(s);
		s.configure({ messageRoaming: false });
		for (const [method, path] of everyEndpoint(s, 'alice')) {
			expect(await call(s, method, path, { token })).toMatchObject({ status: 400, body: NOT_OPEN });
		}
		expect(holdings(s, 'alice')).toEqual(ALICE);
		// The one-way delete is not a message roaming call.
		const oneWay = await call(s, 'DELETE', `${appPath(s)}/users/alice/user_channel`, {
			token,
			body: { channel: 'carol', type: 'chat', delete_roam: false },
		});
		expect(oneWay.body.data).toEqual({ result: 'ok' });

		s.configure({ messageRoaming: true });
		expect((await call(s, 'POST', all(s, 'alice'), { token })).body).toEqual(OK);
	});

	test('startSandbox({ messageRoaming: false }) and POST /_sandbox/configure do the same; bad values are refused', async () => {
		const s = await start({ messageRoaming: false });
		const token = await tokenFor(s);
		expect(await call(s, 'POST', all(s, 'alice'), { token })).toMatchObject({ status: 400, body: NOT_OPEN });

		const configured = await call(s, 'POST', '/_sandbox/configure', { body: { messageRoaming: true } });
		expect(configured.body.messageRoaming).toBe(true);
		expect((await call(s, 'POST', all(s, 'alice'), { token })).body).toEqual(OK);
		expect((await call(s, 'POST', '/_sandbox/configure', { body: { messageRoaming: 'no' } })).status).toBe(400);
		expect(() => s.configure({ messageRoaming: 0 as unknown as boolean })).toThrow(TypeError);
	});

	test('parameters are still read first: a bad delTime is answered 400 illegal_argument, not service open exception', async () => {
		const s = await start({ messageRoaming: false });
		const answer = await call(s, 'DELETE', byTime(s, 'chat', 'alice', { userId: 'bob' }), { token: await tokenFor(s) });
		expect(answer.body.error).toBe('illegal_argument');
	});
});

describe('histories in seeds', () => {
	test('messages: n over days: n messages at the middles of n equal shares of the days before the sandbox started', async () => {
		const before = Date.now();
		const s = await startWith({
			users: {
				ann: { roaming: [{ channel: 'ben', type: 'chat', messages: 4, days: 8 }] },
				ben: { roaming: [{ channel: 'ann', type: 'chat', messages: 4, days: 8 }] },
				cat: { roaming: [{ channel: 'ann', type: 'chat', messages: 3 }] },
			},
		});
		const after = Date.now();
		const { users } = s.state();
		const day = 86_400_000;
		const ages = users.ann.roaming[0].history.map((m) => m.timestamp);
		[7, 5, 3, 1].forEach((days, i) => {
			expect(ages[i]).toBeGreaterThanOrEqual(before - days * day);
			expect(ages[i]).toBeLessThanOrEqual(after - days * day);
		});
		// Both sides of one conversation hold the same messages.
		expect(users.ben.roaming[0].history).toEqual(users.ann.roaming[0].history);
		const ids = users.ann.roaming[0].history.map((m) => m.msgId);
		expect(ids.every((id) => /^\d{18,19}$/.test(id))).toBe(true);
		expect(new Set(ids).size).toBe(4);
		// Without days, the last 30.
		expect(users.cat.roaming[0].history[0].timestamp).toBeLessThanOrEqual(after - 25 * day);
		expect(users.cat.roaming[0]).toMatchObject({ messages: 3 });

		s.reset();
		expect(s.state().users).toEqual(users);
	});

	test('an explicit history is kept as given, oldest first; a malformed seed is refused with a TypeError', async () => {
		const s = await startWith({
			users: {
				ann: {
					roaming: [
						{
							channel: 'ben',
							type: 'chat',
							history: [
								{ msgId: '2', timestamp: T + 2 },
								{ msgId: '1', timestamp: T + 1 },
							],
						},
					],
				},
			},
		});
		expect(s.state().users.ann.roaming).toEqual([
			{ channel: 'ben', type: 'chat', messages: 2, history: [{ msgId: '1', timestamp: T + 1 }, { msgId: '2', timestamp: T + 2 }] },
		]);
		expect(() => s.reset({ users: { ann: { roaming: [{ channel: 'ben', type: 'chatroom' as 'chat' }] } } })).toThrow(TypeError);
		expect(() => s.reset({ users: { ann: { roaming: [{ channel: 'ben', type: 'chat', messages: -1 }] } } })).toThrow(TypeError);
		expect(() => s.reset({ users: { ann: { activated: 'yes' as unknown as boolean } } })).toThrow(TypeError);
	});

	test('generateSeed: users prefix0…, each with the next users as peers, `messages` messages each; groups owned by prefix0', () => {
		const chat = generateSeed({ users: 3, conversations: 2, messages: 5, days: 10, prefix: 'u' });
		expect(chat.users.u2).toEqual({
			conversations: [
				{ channel: 'u0', type: 'chat' },
				{ channel: 'u1', type: 'chat' },
			],
			roaming: [
				{ channel: 'u0', type: 'chat', messages: 5, days: 10 },
				{ channel: 'u1', type: 'chat', messages: 5, days: 10 },
			],
		});
		expect(chat.groups).toEqual({});

		const group = generateSeed({ users: 2, type: 'groupchat' });
		expect(group.users.user1.conversations).toEqual([{ channel: '100000000000000', type: 'groupchat' }]);
		expect(group.users.user1.roaming).toEqual([{ channel: '100000000000000', type: 'groupchat', messages: 10, days: 180 }]);
		expect(group.groups).toEqual({ '100000000000000': { owner: 'user0', members: ['user0', 'user1'] } });

		expect(() => generateSeed({ users: 2, conversations: 2 })).toThrow(TypeError);
		expect(() => generateSeed({ users: 0 })).toThrow(TypeError);
	});

	test('POST /_sandbox/seed: 1,000 conversations with history on both sides of a cut-off, answered with a summary; a time-based delete splits them', async () => {
		const s = await start();
		const day = 86_400_000;
		const seeded = await call(s, 'POST', '/_sandbox/seed', { body: { users: 1000, messages: 4, days: 180 } });

		expect(seeded.status).toBe(200);
		expect(seeded.body).toEqual({
			users: 1000,
			conversations: 1000,
			messages: 4000,
			oldest: expect.any(Number),
			newest: expect.any(Number),
		});
		expect(seeded.body.newest - seeded.body.oldest).toBe(135 * day);
		const { users } = s.state();
		expect(Object.keys(users)).toHaveLength(1000);
		expect(holdings(s, 'user999').conversations).toEqual(['chat user0']);

		const cutOff = Date.now() - 90 * day;
		const answer = await call(s, 'DELETE', byTime(s, 'chat', 'user7', { userId: 'user8', delTime: String(cutOff) }), {
			token: await tokenFor(s),
		});
		expect(answer.body).toEqual(OK);
		const newer = users.user7.roaming[0].history.slice(2);
		expect(s.state().users.user7.roaming[0].history).toEqual(newer);

		expect((await call(s, 'POST', '/_sandbox/seed', { body: { users: 'many' } })).status).toBe(400);
		expect((await call(s, 'POST', '/_sandbox/reset')).body.users).toHaveProperty('alice');
	});
});
