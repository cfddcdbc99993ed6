/** The sandbox's user endpoints over HTTP (easemob-api.md §5): get, delete, ban, unban, force logout. */
import { T, UUID, appPath, call, easemobError, holdings, messages, start as startWith, tokenFor, NOT_FOUND } from './helpers/sandbox';
import type { Sandbox, SandboxOptions, Seed } from './sandbox/server';

const WEIRD = 'a/b?c#d%e .. 张 伟';

const SEED: Seed = {
	users: {
		alice: {
			uuid: '4759aa70-1111-4a2b-925f-6fa0510823ba',
			created: T,
			nickname: 'Alice',
			online: true,
			conversations: [
				{ channel: 'bob', type: 'chat' },
				{ channel: 'g1', type: 'groupchat' },
			],
			roaming: [
				{ channel: 'bob', type: 'chat', history: messages('b', 2) },
				{ channel: 'g1', type: 'groupchat', history: messages('g', 2) },
			],
		},
		bob: {
			created: T + 5,
			online: true,
			conversations: [
				{ channel: 'alice', type: 'chat' },
				{ channel: 'g1', type: 'groupchat' },
				{ channel: 'g2', type: 'groupchat' },
			],
			roaming: [{ channel: 'alice', type: 'chat', history: messages('b', 2) }],
		},
		dave: { created: T + 9, activated: false },
		[WEIRD]: { online: true },
	},
	groups: {
		g1: { owner: 'alice', members: ['bob'] },
		g2: { owner: 'bob', members: ['alice', 'dave'] },
	},
};

/** Each user endpoint: method and what follows the username. */
const CALLS: Array<[string, string]> = [
	['GET', ''],
	['DELETE', ''],
	['POST', '/deactivate'],
	['POST', '/activate'],
	['GET', '/disconnect'],
];

const start = async (options: SandboxOptions = {}) => await startWith(SEED, options);
const userPath = (s: Sandbox, user: string, action = '') => `${appPath(s)}/users/${encodeURIComponent(user)}${action}`;

/** The envelope Easemob's user endpoints answer with. */
function envelope(s: Sandbox, uriPath: string, fields: Record<string, unknown>) {
	return {
		path: '/users',
		uri: `${s.url}/demo-org/demo-app/${uriPath}`,
		timestamp: expect.any(Number),
		organization: 'demo-org',
		application: expect.stringMatching(UUID),
		duration: 0,
		applicationName: 'demo-app',
		...fields,
	};
}

const ALICE_ENTITY = {
	uuid: '4759aa70-1111-4a2b-925f-6fa0510823ba',
	type: 'user',
	created: T,
	modified: T,
	username: 'alice',
	activated: true,
	nickname: 'Alice',
};

describe('GET /users/{username}', () => {
	test('200: the envelope with the user entity (no nickname when none is set) and count 1; nothing changes', async () => {
		const s = await start();
		const token = await tokenFor(s);
		const before = s.state();

		const alice = await call(s, 'GET', userPath(s, 'alice'), { token });
		expect(alice.status).toBe(200);
		expect(alice.body).toEqual(envelope(s, 'users/alice', { entities: [ALICE_ENTITY], action: 'get', count: 1 }));

		const dave = await call(s, 'GET', userPath(s, 'dave'), { token });
		expect(dave.body.entities).toEqual([
			{ uuid: expect.stringMatching(UUID), type: 'user', created: T + 9, modified: T + 9, username: 'dave', activated: false },
		]);
		expect(dave.body.entities[0].uuid).toBe(s.state().users.dave.uuid);
		expect(s.state()).toEqual(before);
	});
});

describe('DELETE /users/{username}', () => {
	test('200 with the deleted user; the user, their conversations and history and every group they own are gone', async () => {
		const s = await start();
		const answer = await call(s, 'DELETE', userPath(s, 'alice'), { token: await tokenFor(s) });

		expect(answer.status).toBe(200);
		expect(answer.body).toEqual(envelope(s, 'users/alice', { entities: [ALICE_ENTITY], action: 'delete' }));
		const { users, groups } = s.state();
		expect(Object.keys(users)).toEqual(['bob', 'dave', WEIRD]);
		// The group alice owned is gone; she leaves the one bob owns; bob keeps his copies of everything.
		expect(groups).toEqual({ g2: { owner: 'bob', members: ['bob', 'dave'] } });
		expect(holdings(s, 'bob')).toEqual({
			conversations: ['chat alice', 'groupchat g1', 'groupchat g2'],
			roaming: ['chat alice: b1 b2'],
		});
	});

	test('a deleted user is unknown from then on: 404 to every user call and to a one-way delete', async () => {
		const s = await start();
		const token = await tokenFor(s);
		await call(s, 'DELETE', userPath(s, 'alice'), { token });

		for (const [method, action] of CALLS) {
			expect(await call(s, method, userPath(s, 'alice', action), { token })).toMatchObject({ status: 404, body: NOT_FOUND });
		}
		const body = { channel: 'bob', type: 'chat', delete_roam: true };
		const oneWay = await call(s, 'DELETE', userPath(s, 'alice', '/user_channel'), { token, body });
		expect(oneWay).toMatchObject({ status: 404, body: NOT_FOUND });
	});
});

describe('POST /users/{username}/deactivate and /activate', () => {
	test('deactivate: 200 "Deactivate user" with the entity, activated false; the user is logged out and keeps all data', async () => {
		const s = await start();
		const token = await tokenFor(s);
		const before = Date.now();
		const answer = await call(s, 'POST', userPath(s, 'alice', '/deactivate'), { token });

		expect(answer.status).toBe(200);
		expect(answer.body).toEqual(
			envelope(s, 'users/alice/deactivate', {
				entities: [{ ...ALICE_ENTITY, activated: false, modified: expect.any(Number) }],
				action: 'Deactivate user',
			}),
		);
		const alice = s.state().users.alice;
		expect(alice).toMatchObject({ activated: false, online: false });
		expect(alice.modified).toBeGreaterThanOrEqual(before);
		expect(answer.body.entities[0].modified).toBe(alice.modified);
		expect(holdings(s, 'alice')).toEqual({
			conversations: ['chat bob', 'groupchat g1'],
			roaming: ['chat bob: b1 b2', 'groupchat g1: g1 g2'],
		});
		expect((await call(s, 'GET', userPath(s, 'alice'), { token })).body.entities[0].activated).toBe(false);
	});

	test('activate: 200 {"action":"activate user","timestamp","duration"} and activated true; both are idempotent', async () => {
		const s = await start();
		const token = await tokenFor(s);
		const answer = await call(s, 'POST', userPath(s, 'dave', '/activate'), { token });

		expect(answer.status).toBe(200);
		expect(answer.body).toEqual({ action: 'activate user', timestamp: expect.any(Number), duration: 0 });
		expect(s.state().users.dave).toMatchObject({ activated: true, online: false });
		expect((await call(s, 'POST', userPath(s, 'dave', '/activate'), { token })).status).toBe(200);
		expect((await call(s, 'POST', userPath(s, 'dave', '/deactivate'), { token })).status).toBe(200);
		expect((await call(s, 'POST', userPath(s, 'dave', '/deactivate'), { token })).status).toBe(200);
		expect(s.state().users.dave.activated).toBe(false);
	});
});

describe('GET /users/{username}/disconnect', () => {
	test('200 with data.result true; the user is offline, still activated', async () => {
		const s = await start();
		const answer = await call(s, 'GET', userPath(s, 'bob', '/disconnect'), { token: await tokenFor(s) });

		expect(answer.status).toBe(200);
		expect(answer.body).toEqual(
			envelope(s, 'users/bob/disconnect', { path: '/users/disconnect', entities: [], action: 'get', data: { result: true } }),
		);
		expect(s.state().users.bob).toMatchObject({ online: false, activated: true });
		expect(s.state().users.alice.online).toBe(true);
	});
});

describe('every user endpoint', () => {

	test('404 service_resource_not_found for an unknown user; 401 without a token', async () => {
		const s = await start();
		const token = await tokenFor(s);
		const expired = easemobError('unauthorized', 'Unable to authenticate due to expired access token');
		for (const [method, action] of CALLS) {
			expect(await call(s, method, userPath(s, 'ghost', action), { token })).toMatchObject({ status: 404, body: NOT_FOUND });
			expect(await call(s, method, userPath(s, 'dave', action))).toMatchObject({ status: 401, body: expired });
		}
		expect(s.state().users.dave.activated).toBe(false);
	});

	test('a username with / ? # % .. spaces and non-ASCII, sent encoded, reaches that user; a broken encoding is a 400', async () => {
		const s = await start();
		const token = await tokenFor(s);
		const got = await call(s, 'GET', userPath(s, WEIRD), { token });
		expect(got.body.entities[0].username).toBe(WEIRD);
		expect(got.body.uri).toBe(`${s.url}/demo-org/demo-app/users/${encodeURIComponent(WEIRD)}`);
		expect((await call(s, 'GET', userPath(s, WEIRD, '/disconnect'), { token })).body.data).toEqual({ result: true });
		expect(s.state().users[WEIRD].online).toBe(false);

		const broken = await call(s, 'GET', `${appPath(s)}/users/%E4%zz`, { token });
		expect(broken).toMatchObject({ status: 400, body: { error: 'illegal_argument' } });
	});

	test('the user list shows each user’s entity, a ban included', async () => {
		const s = await start();
		const token = await tokenFor(s);
		await call(s, 'POST', userPath(s, 'alice', '/deactivate'), { token });
		const listed = await call(s, 'GET', `${appPath(s)}/users?limit=10`, { token });

		expect(listed.body).toMatchObject({ action: 'get', count: 4 });
		expect(listed.body.entities.map((e: { username: string; activated: boolean }) => [e.username, e.activated])).toEqual([
			['alice', false],
			['bob', true],
			['dave', false],
			[WEIRD, true],
		]);
	});
});
