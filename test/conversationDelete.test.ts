import nock from 'nock';
import type { INodeParameters } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { appPath, deleteEndpoint, deleteOkBody, errorBody, freshStore, tokenEndpoint } from './helpers/easemob';
import { FIXES } from './helpers/messages';
import { runNode } from './helpers/n8n';

const fromItems: INodeParameters = {
	resource: 'conversation',
	operation: 'delete',
	username: '={{ $json.username }}',
	channel: '={{ $json.channel }}',
	type: '={{ $json.type }}',
	deleteRoam: '={{ $json.deleteRoam }}',
};

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

describe('Conversation → Delete for One User: the request', () => {
	test('fetches one token, then sends DELETE /{org}/{app}/users/{username}/user_channel with a JSON body', async () => {
		const token = tokenEndpoint('YWMtAppToken');
		const del = deleteEndpoint();
		const store = freshStore();

		const output = await runNode({
			store,
			parameters: { resource: 'conversation', operation: 'delete', username: 'u1', channel: 'u2', type: 'chat', deleteRoam: true },
		});

		expect(token.seen).toHaveLength(1);
		expect(token.seen[0].path).toBe(`${appPath()}/token`);
		expect(token.seen[0].headers.authorization).toBeUndefined();
		expect(token.seen[0].headers['content-type']).toBe('application/json');
		expect(token.seen[0].body).toEqual({
			grant_type: 'client_credentials',
			client_id: store.data.clientId,
			client_secret: store.data.clientSecret,
		});

		expect(del.seen).toHaveLength(1);
		expect(del.seen[0].path).toBe(`${appPath()}/users/u1/user_channel`);
		expect(del.seen[0].headers.authorization).toBe('Bearer YWMtAppToken');
		expect(del.seen[0].headers['content-type']).toBe('application/json');
		expect(del.seen[0].headers.accept).toBe('application/json');
		expect(del.seen[0].body).toEqual({ channel: 'u2', type: 'chat', delete_roam: true });

		expect(output).toEqual([
			{
				json: { deleted: true, username: 'u1', channel: 'u2', type: 'chat', deleteRoam: true },
				pairedItem: { item: 0 },
			},
		]);
	});

	test('chat and groupchat items, values from expressions, delete_roam a real boolean, outputs in order', async () => {
		tokenEndpoint();
		const del = deleteEndpoint(undefined, 2);

		const output = await runNode({
			store: freshStore(),
			parameters: fromItems,
			items: [
				{ username: 'alice', channel: 'bob', type: 'chat', deleteRoam: false },
				{ username: 'alice', channel: '1234567890', type: 'groupchat', deleteRoam: true },
			],
		});

		expect(del.seen.map((r) => [r.path, r.body])).toEqual([
			[`${appPath()}/users/alice/user_channel`, { channel: 'bob', type: 'chat', delete_roam: false }],
			[`${appPath()}/users/alice/user_channel`, { channel: '1234567890', type: 'groupchat', delete_roam: true }],
		]);
		expect(output.map((item) => [item.json.channel, item.json.type, item.json.deleteRoam, item.pairedItem])).toEqual([
			['bob', 'chat', false, { item: 0 }],
			['1234567890', 'groupchat', true, { item: 1 }],
		]);
	});

	test('defaults: one-to-one chat, history kept', async () => {
		tokenEndpoint();
		const del = deleteEndpoint();

		await runNode({
			store: freshStore(),
			parameters: { resource: 'conversation', operation: 'delete', username: 'u1', channel: 'u2' },
		});

		expect(del.seen[0].body).toEqual({ channel: 'u2', type: 'chat', delete_roam: false });
	});

	test.each([
		['a/b', 'a%2Fb'],
		['who?x=1', 'who%3Fx%3D1'],
		['hash#tag', 'hash%23tag'],
		['100%', '100%25'],
		['..x', '..x'],
		['a/../b', 'a%2F..%2Fb'],
		['with space', 'with%20space'],
		['用户一', '%E7%94%A8%E6%88%B7%E4%B8%80'],
		['Zoë', 'Zo%C3%AB'],
	])('username %j is one path segment: %s', async (username, encoded) => {
		tokenEndpoint();
		const del = deleteEndpoint();

		await runNode({
			store: freshStore(),
			parameters: fromItems,
			items: [{ username, channel: `${username}-peer`, type: 'chat', deleteRoam: false }],
		});

		expect(del.seen[0].path).toBe(`${appPath()}/users/${encoded}/user_channel`);
		expect(del.seen[0].body).toEqual({ channel: `${username}-peer`, type: 'chat', delete_roam: false });
	});

	test('channels with reserved and non-ASCII characters go in the body unchanged', async () => {
		const channels = ['a/b?c#d%e', '..', '.', 'group 1', '群组-١٢٣'];
		tokenEndpoint();
		const del = deleteEndpoint(undefined, channels.length);

		await runNode({
			store: freshStore(),
			parameters: fromItems,
			items: channels.map((channel) => ({ username: 'u1', channel, type: 'groupchat', deleteRoam: false })),
		});

		expect(del.seen.map((r) => (r.body as { channel: string }).channel)).toEqual(channels);
		expect(new Set(del.seen.map((r) => r.path))).toEqual(new Set([`${appPath()}/users/u1/user_channel`]));
	});

	test('a numeric user or group ID from an expression is sent as text', async () => {
		tokenEndpoint();
		const del = deleteEndpoint();

		const output = await runNode({
			store: freshStore(),
			parameters: fromItems,
			items: [{ username: 10086, channel: 204957283, type: 'groupchat', deleteRoam: false }],
		});

		expect(del.seen[0].path).toBe(`${appPath()}/users/10086/user_channel`);
		expect(del.seen[0].body).toEqual({ channel: '204957283', type: 'groupchat', delete_roam: false });
		expect(output[0].json).toMatchObject({ username: '10086', channel: '204957283' });
	});

	test('the Include Easemob Response option adds the full response', async () => {
		tokenEndpoint();
		deleteEndpoint();

		const output = await runNode({
			store: freshStore(),
			parameters: {
				resource: 'conversation',
				operation: 'delete',
				username: 'u1',
				channel: 'u2',
				options: { includeResponse: true },
			},
		});

		expect(output[0].json).toEqual({
			deleted: true,
			username: 'u1',
			channel: 'u2',
			type: 'chat',
			deleteRoam: false,
			response: deleteOkBody('u1'),
		});
	});
});

const USERNAME_EMPTY = 'Username is empty: set it to the user ID of the user whose conversation is to be deleted';
const CHANNEL_EMPTY = "Channel is empty: set it to the other user's ID (Conversation Type chat) or the group ID (groupchat)";

describe('Conversation → Delete for One User: input checked before any request', () => {
	test.each([
		[{ username: '' }, USERNAME_EMPTY],
		[{ username: '   ' }, USERNAME_EMPTY],
		[{ username: undefined }, USERNAME_EMPTY],
		[{ username: null }, USERNAME_EMPTY],
		[{ username: '.' }, 'Username "." is not a valid user ID: set it to the user ID of the user whose conversation is to be deleted'],
		[{ username: '..' }, 'Username ".." is not a valid user ID: set it to the user ID of the user whose conversation is to be deleted'],
		[{ username: { id: 'u1' } }, 'Username must be text (a user ID), not object'],
		[{ username: ['u1'] }, 'Username must be text (a user ID), not a list'],
		[{ channel: '' }, CHANNEL_EMPTY],
		[{ channel: '\t' }, CHANNEL_EMPTY],
		[{ channel: true }, 'Channel must be text (a user or group ID), not boolean'],
		[{ type: 'chatroom' }, 'Conversation Type must be "chat" (one-to-one) or "groupchat" (group), not "chatroom"'],
		[{ type: 'Chat' }, 'Conversation Type must be "chat" (one-to-one) or "groupchat" (group), not "Chat"'],
		[{ type: '' }, 'Conversation Type must be "chat" (one-to-one) or "groupchat" (group), not ""'],
		[{ deleteRoam: 'true' }, 'Delete Roaming Messages must be true or false, not "true"'],
		[{ deleteRoam: 1 }, 'Delete Roaming Messages must be true or false, not 1'],
		[{ deleteRoam: null }, 'Delete Roaming Messages must be true or false, not null'],
	])('%j → %s', async (override, message) => {
		const item = { username: 'u1', channel: 'u2', type: 'chat', deleteRoam: false, ...override };

		const token = tokenEndpoint();
		const del = deleteEndpoint();

		const error = await runNode({ store: freshStore(), parameters: fromItems, items: [item] }).then(
			() => undefined,
			(e: unknown) => e,
		);

		expect(error).toBeInstanceOf(NodeOperationError);
		expect((error as NodeOperationError).message).toBe(message);
		expect((error as NodeOperationError).context.itemIndex).toBe(0);
		expect(token.seen).toEqual([]);
		expect(del.seen).toEqual([]);
	});

	test('an invalid item stops the run: neither it nor any item after it is sent', async () => {
		tokenEndpoint();
		const del = deleteEndpoint(undefined, 45);
		const valid = (i: number) => ({ username: `u${i}`, channel: 'peer', type: 'chat', deleteRoam: false });

		const error = await runNode({
			store: freshStore(),
			parameters: fromItems,
			items: [...Array.from({ length: 30 }, (_, i) => valid(i)), { ...valid(30), channel: '' }, ...Array.from({ length: 14 }, (_, i) => valid(31 + i))],
		}).catch((e: unknown) => e);

		expect((error as NodeOperationError).message).toBe(CHANNEL_EMPTY);
		expect((error as NodeOperationError).context.itemIndex).toBe(30);
		// Items are checked while earlier ones are sent, so some of the first 30 may have gone.
		const sentUsers = del.seen.map((r) => Number(r.path.split('/')[4].slice(1)));
		expect(sentUsers.every((i) => i < 30)).toBe(true);
	});
});

describe('Conversation → Delete for One User: Easemob errors', () => {
	// One attempt: these tests are about how answers are reported; retries are tested apart.
	const params: INodeParameters = {
		resource: 'conversation',
		operation: 'delete',
		username: 'u1',
		channel: 'u2',
		options: { maxAttempts: 1 },
	};

	async function failureFor(status: number, body: unknown, headers: Record<string, string> = {}) {
		tokenEndpoint();
		nock('https://a1.easemob.com')
			.delete(`${appPath()}/users/u1/user_channel`)
			// n8n answers a 401 by fetching a new token and sending the request once more.
			.times(status === 401 ? 2 : 1)
			.reply(status, body as object, headers);
		return (await runNode({ store: freshStore(), parameters: params }).catch((e: unknown) => e)) as NodeApiError & {
			statusCode?: number;
			easemobError?: string;
			transient?: boolean;
			retryAfterMs?: number;
		};
	}

	test.each([
		[
			'invalid_request_body',
			'Request body is invalid. Please check body is correct.',
			'Easemob answered 400 invalid_request_body: Request body is invalid. Please check body is correct. Easemob could not read the request: Channel must be text, Conversation Type "chat" or "groupchat", Delete Roaming Messages true or false',
		],
		[
			'illegal_argument',
			'field channel cannot be null or empty',
			'Easemob answered 400 illegal_argument: field channel cannot be null or empty. Correct the field Easemob names',
		],
		[
			'illegal_argument',
			'field type cannot be null or empty',
			'Easemob answered 400 illegal_argument: field type cannot be null or empty. Correct the field Easemob names',
		],
		[
			'illegal_argument',
			'field delete_roam cannot be null',
			'Easemob answered 400 illegal_argument: field delete_roam cannot be null. Correct the field Easemob names',
		],
	])('400 %s "%s"', async (type, description, message) => {
		const error = await failureFor(400, errorBody(type, description));

		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.message).toBe(message);
		expect(error.httpCode).toBe('400');
		expect(error.statusCode).toBe(400);
		expect(error.easemobError).toBe(type);
		expect(error.description).toMatch(type === 'invalid_request_body' ? /Channel is text/ : /field/);
		expect(error.context.itemIndex).toBe(0);
		expect(error.transient).toBe(false);
	});

	test.each([
		[401, 'unauthorized', 'Unable to authenticate due to expired access token', FIXES.unauthorized, /app is enabled/, false],
		[403, 'forbidden_op', 'forbidden operation', 'Easemob does not allow this for the app: enable the feature for it in the Easemob console', /feature is enabled/, false],
		[404, 'service_resource_not_found', 'Service resource not found', FIXES.unknownUser, /no such user/, false],
		[429, 'reach_limit', 'This request has reached api limit', FIXES.rateLimit, /rate limit/, true],
		[429, 'resource_limited', 'You have exceeded the limit of the Free edition', "The app's Easemob plan quota for this is used up: retrying will not help until the plan allows more", /retrying will not help/, false],
		[500, 'server_error', 'internal error', "A problem on Easemob's side: try again later", /problem on its side/, true],
		[503, 'service_unavailable', 'too many requests', "A problem on Easemob's side: try again later", /problem on its side/, true],
	])('%i %s: the message adds what to change', async (status, type, description, fix, hint, transient) => {
		if (status === 401) tokenEndpoint('YWMtSecondToken');
		const error = await failureFor(status, errorBody(type, description));

		expect(error.message).toBe(`Easemob answered ${status} ${type}: ${description}. ${fix}`);
		expect(error.httpCode).toBe(String(status));
		expect(error.easemobError).toBe(type);
		expect(error.description).toMatch(hint);
		expect(error.transient).toBe(transient);
	});

	test('a 5xx without an Easemob body still says what happened', async () => {
		const error = await failureFor(502, '<html>Bad Gateway</html>', { 'Content-Type': 'text/html' });

		expect(error.message).toBe("Easemob answered 502. A problem on Easemob's side: try again later");
		expect(error.description).toMatch(/problem on its side/);
		expect(error.transient).toBe(true);
	});

	test('Retry-After is kept for retries, in seconds or as a date', async () => {
		const inSeconds = await failureFor(429, errorBody('reach_limit', 'This request has reached api limit'), {
			'Retry-After': '3',
		});
		expect(inSeconds.retryAfterMs).toBe(3000);

		const noHeader = await failureFor(429, errorBody('reach_limit', 'This request has reached api limit'));
		expect(noHeader.retryAfterMs).toBeUndefined();
	});

	test('a 200 whose data.result is not "ok" is not a success', async () => {
		const error = await failureFor(200, { ...deleteOkBody('u1'), data: { result: 'failed' } });

		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.message).toBe('Easemob did not confirm success (data.result is "failed", not "ok"). ' + FIXES.unconfirmed);
	});

	test('a 200 without data is not a success', async () => {
		const error = await failureFor(200, { entities: [] });

		expect(error.message).toBe('Easemob did not confirm success (data.result is null, not "ok"). ' + FIXES.unconfirmed);
	});

	test('a 200 whose body is not JSON is not a success', async () => {
		const error = await failureFor(200, '{"data": {"result": "o', { 'Content-Type': 'application/json' });

		expect(error.message).toBe('Easemob answered with a body that is not JSON, so success cannot be confirmed. ' + FIXES.unconfirmed);
	});

	test('a connection that fails before any answer names the network error', async () => {
		nock.enableNetConnect('127.0.0.1');
		const error = (await runNode({
			store: freshStore({ host: 'http://127.0.0.1:1' }),
			parameters: params,
		}).catch((e: unknown) => e)) as NodeApiError & { transient?: boolean };

		expect(error.message).toBe(
			"Could not reach the Easemob host http://127.0.0.1:1 to get an app token: the connection was refused. Check the credential's Host and that n8n can reach it.",
		);
		expect(error.transient).toBe(true);
		nock.disableNetConnect();
	});
});

describe('Conversation → Delete for One User: continue on fail', () => {
	/** Easemob's answers when the user `ghost` does not exist and every other user does. */
	const ghostIsUnknown = (path: string): [number, unknown] => {
		const username = decodeURIComponent(path.split('/')[4]);
		if (username === 'ghost') return [404, errorBody('service_resource_not_found', 'Service resource not found')];
		return [200, deleteOkBody(username)];
	};

	test('every failed item becomes an error item paired with its input; the others go on, in order', async () => {
		tokenEndpoint();
		const del = deleteEndpoint(ghostIsUnknown, 3);

		const output = await runNode({
			store: freshStore(),
			continueOnFail: true,
			parameters: fromItems,
			items: [
				{ username: 'u1', channel: 'u2', type: 'chat', deleteRoam: false },
				{ username: 'ghost', channel: 'u2', type: 'chat', deleteRoam: false },
				{ username: 'u3', channel: '', type: 'chat', deleteRoam: false },
				{ username: 'u4', channel: 'g1', type: 'groupchat', deleteRoam: true },
				{ username: 'u5', channel: 'u6', type: 'chatroom', deleteRoam: false },
			],
		});

		expect(del.seen.map((r) => r.path)).toEqual([
			`${appPath()}/users/u1/user_channel`,
			`${appPath()}/users/ghost/user_channel`,
			`${appPath()}/users/u4/user_channel`,
		]);
		expect(output).toHaveLength(5);
		expect(output.map((item) => item.pairedItem)).toEqual([0, 1, 2, 3, 4].map((item) => ({ item })));
		expect(output[0].json).toEqual({ deleted: true, username: 'u1', channel: 'u2', type: 'chat', deleteRoam: false });
		expect(output[1].json).toEqual({
			error: `Easemob answered 404 service_resource_not_found: Service resource not found. ${FIXES.unknownUser}`,
			description: expect.stringMatching(/no such user/),
			statusCode: 404,
			easemobError: 'service_resource_not_found',
		});
		expect(output[2].json).toEqual({ error: CHANNEL_EMPTY, description: expect.stringMatching(/Item 2/) });
		expect(output[3].json).toEqual({ deleted: true, username: 'u4', channel: 'g1', type: 'groupchat', deleteRoam: true });
		expect(output[4].json.error).toBe('Conversation Type must be "chat" (one-to-one) or "groupchat" (group), not "chatroom"');
		// n8n would replace the JSON of an item that carries an error object with the message alone.
		expect(output.every((item) => item.error === undefined)).toBe(true);
	});

	test('with "Continue (using error output)" a failed item holds only `error`, which is what n8n routes by', async () => {
		tokenEndpoint();
		deleteEndpoint(ghostIsUnknown, 2);

		const output = await runNode({
			store: freshStore(),
			continueOnFail: true,
			errorOutput: true,
			parameters: fromItems,
			items: [
				{ username: 'u1', channel: 'u2', type: 'chat', deleteRoam: false },
				{ username: 'ghost', channel: 'u2', type: 'chat', deleteRoam: false },
				{ username: 'u3', channel: '', type: 'chat', deleteRoam: false },
			],
		});

		expect(output.map((item) => item.pairedItem)).toEqual([0, 1, 2].map((item) => ({ item })));
		expect(output.map((item) => item.json)).toEqual([
			{ deleted: true, username: 'u1', channel: 'u2', type: 'chat', deleteRoam: false },
			{ error: `Easemob answered 404 service_resource_not_found: Service resource not found. ${FIXES.unknownUser}` },
			{ error: CHANNEL_EMPTY },
		]);
		expect(output.every((item) => item.error === undefined)).toBe(true);
	});
});
