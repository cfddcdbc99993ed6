import nock from 'nock';
import type { INodeParameters } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { appPath, deleteOkBody, errorBody, freshStore, HOST, roamingEndpoint, roamingOkBody, tokenEndpoint } from './helpers/easemob';
import { FIXES, ROAMING_ERRORS } from './helpers/messages';
import { failure, runNode } from './helpers/n8n';

const fromItems: INodeParameters = {
	resource: 'messageHistory',
	operation: 'deleteAllForUser',
	username: '={{ $json.username }}',
};

const deleteAllPath = (encodedUsername: string) => `${appPath()}/rest/message/roaming/user/${encodedUsername}/delete/all`;

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

describe('Message History → Delete All for a User: the request', () => {
	test('fetches one token, then sends POST /{org}/{app}/rest/message/roaming/user/{username}/delete/all, no query, no body', async () => {
		const token = tokenEndpoint('YWMtAppToken');
		const history = roamingEndpoint('POST');

		const output = await runNode({
			store: freshStore(),
			parameters: { resource: 'messageHistory', operation: 'deleteAllForUser', username: 'u1' },
		});

		expect(token.seen).toHaveLength(1);
		expect(history.seen).toHaveLength(1);
		expect(history.seen[0].path).toBe(deleteAllPath('u1'));
		expect(history.seen[0].headers.authorization).toBe('Bearer YWMtAppToken');
		expect(history.seen[0].headers.accept).toBe('application/json');
		expect(history.seen[0].body).toBe('');
		expect(output).toEqual([{ json: { deleted: true, username: 'u1' }, pairedItem: { item: 0 } }]);
	});

	test('one request per item, outputs in order, a numeric user ID sent as text', async () => {
		tokenEndpoint();
		const history = roamingEndpoint('POST', undefined, 3);

		const output = await runNode({
			store: freshStore(),
			parameters: fromItems,
			items: [{ username: 'alice' }, { username: 10086 }, { username: 'bob' }],
		});

		expect(history.seen.map((r) => r.path).sort()).toEqual([deleteAllPath('10086'), deleteAllPath('alice'), deleteAllPath('bob')]);
		expect(output).toEqual([
			{ json: { deleted: true, username: 'alice' }, pairedItem: { item: 0 } },
			{ json: { deleted: true, username: '10086' }, pairedItem: { item: 1 } },
			{ json: { deleted: true, username: 'bob' }, pairedItem: { item: 2 } },
		]);
	});

	test.each([
		['a/b', 'a%2Fb'],
		['who?x=1', 'who%3Fx%3D1'],
		['hash#tag', 'hash%23tag'],
		['..x', '..x'],
		['a/../b', 'a%2F..%2Fb'],
		['用户一', '%E7%94%A8%E6%88%B7%E4%B8%80'],
	])('username %j is one path segment: %s', async (username, encoded) => {
		tokenEndpoint();
		const history = roamingEndpoint('POST');

		await runNode({ store: freshStore(), parameters: fromItems, items: [{ username }] });

		expect(history.seen.map((r) => [r.pathname, r.query])).toEqual([[deleteAllPath(encoded), {}]]);
	});

	test('Include Easemob Response adds the answer, Include Attempts the attempts and time waited', async () => {
		tokenEndpoint();
		roamingEndpoint('POST');

		const output = await runNode({
			store: freshStore(),
			parameters: { ...fromItems, username: 'u1', options: { includeResponse: true, includeAttempts: true } },
		});

		expect(output[0].json).toEqual({
			deleted: true,
			username: 'u1',
			response: roamingOkBody(),
			attempts: 1,
			waitedMs: expect.any(Number),
		});
	});

	test("a 502 (a gateway lost Easemob's answer) is sent again: deleting all of it twice leaves what once does", async () => {
		tokenEndpoint();
		let calls = 0;
		roamingEndpoint('POST', () => (++calls === 1 ? [502, 'Bad Gateway'] : [200, roamingOkBody()]), 2);

		const output = await runNode({ store: freshStore(), parameters: { ...fromItems, username: 'u1', options: { includeAttempts: true } } });

		expect(calls).toBe(2);
		expect(output[0].json).toMatchObject({ deleted: true, username: 'u1', attempts: 2 });
	});
});

const USERNAME_EMPTY = 'Username is empty: set it to the user ID of the user whose message history is to be deleted';

describe('Message History → Delete All for a User: input checked before any request', () => {
	test.each([
		['', USERNAME_EMPTY],
		[' ', USERNAME_EMPTY],
		[null, USERNAME_EMPTY],
		['.', 'Username "." is not a valid user ID: set it to the user ID of the user whose message history is to be deleted'],
		['..', 'Username ".." is not a valid user ID: set it to the user ID of the user whose message history is to be deleted'],
		[{ id: 'u1' }, 'Username must be text (a user ID), not object'],
		[['u1'], 'Username must be text (a user ID), not a list'],
		['\ud800x', 'Username contains an incomplete Unicode character: give the whole ID, it was probably cut short'],
	])('%j → %s', async (username, message) => {
		const token = tokenEndpoint();
		const history = roamingEndpoint('POST');

		const error = await failure(runNode({ store: freshStore(), parameters: fromItems, items: [{ username }] }));

		expect(error).toBeInstanceOf(NodeOperationError);
		expect(error.message).toBe(message);
		expect((error as NodeOperationError).context.itemIndex).toBe(0);
		expect(token.seen).toEqual([]);
		expect(history.seen).toEqual([]);
	});
});

describe('Message History → Delete All for a User: Easemob errors', () => {
	const params: INodeParameters = { ...fromItems, username: 'u1', options: { maxAttempts: 1 } };

	async function failureFor(status: number, body: unknown) {
		tokenEndpoint();
		nock(HOST).post(deleteAllPath('u1')).reply(status, body as object);
		return (await failure(runNode({ store: freshStore(), parameters: params }))) as NodeApiError & {
			statusCode?: number;
			easemobError?: string;
			transient?: boolean;
		};
	}

	test('400 "this appKey not open message roaming": the app has no message roaming, ask Easemob to enable it', async () => {
		const error = await failureFor(400, errorBody(...ROAMING_ERRORS.roamingOff));

		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.message).toBe(
			`Easemob answered 400 service open exception: this appKey not open message roaming. ${FIXES.roamingOff}`,
		);
		expect(error.description).toMatch(/"message roaming"\) only for apps it is enabled for/);
		expect(error).toMatchObject({ statusCode: 400, easemobError: 'service open exception', transient: false });
	});

	test('404 service_resource_not_found: no such user', async () => {
		const error = await failureFor(404, errorBody('service_resource_not_found', 'Service resource not found'));

		expect(error.message).toBe(`Easemob answered 404 service_resource_not_found: Service resource not found. ${FIXES.unknownUser}`);
		expect(error.description).toMatch(/no such user/);
	});

	test('429 reach_limit names this call\'s limit, 100 per second per app, and no per-user one', async () => {
		const error = await failureFor(429, errorBody('reach_limit', 'This request has reached api limit'));

		expect(error.message).toBe(`Easemob answered 429 reach_limit: This request has reached api limit. ${FIXES.historyRateLimit}`);
		expect(error.description).not.toMatch(/per user/);
	});

	test('403 reach_limit, as an older page of Easemob\'s has the rate limit, is paced and sent again like a 429', async () => {
		tokenEndpoint();
		let calls = 0;
		roamingEndpoint('POST', () => (++calls === 1 ? [403, errorBody('reach_limit', 'This request has reached api limit')] : [200, roamingOkBody()]), 2);

		const output = await runNode({ store: freshStore(), parameters: { ...fromItems, username: 'u1' } });

		expect(calls).toBe(2);
		expect(output[0].json).toEqual({ deleted: true, username: 'u1' });
	});

	test.each([
		['requestStatusCode "fail"', { requestStatusCode: 'fail' }, 'requestStatusCode is "fail", not "ok"'],
		["the one-way delete's success body", deleteOkBody('u1'), 'requestStatusCode is null, not "ok"'],
		['an empty object', {}, 'requestStatusCode is null, not "ok"'],
	])('a 200 with %s is not a success', async (_name, body, why) => {
		const error = await failureFor(200, body);

		expect(error.message).toBe(`Easemob did not confirm success (${why}). ${FIXES.unconfirmed}`);
		expect(error.transient).toBe(false);
	});

	test("the one-way delete's hints stay its own: 400 invalid_request_body does not speak of Channel or Delete Roaming Messages", async () => {
		const error = await failureFor(400, errorBody('invalid_request_body', 'Request body is invalid. Please check body is correct.'));

		expect(error.message).toBe(
			'Easemob answered 400 invalid_request_body: Request body is invalid. Please check body is correct. Check the fields against the Easemob REST API documentation',
		);
		expect(`${error.message} ${error.description}`).not.toMatch(/Channel|Roaming Messages/);
	});
});

describe('Message History → Delete All for a User: continue on fail', () => {
	test('an unknown user and an empty username become error items paired with their input; the others are deleted', async () => {
		tokenEndpoint();
		const history = roamingEndpoint(
			'POST',
			(request) =>
				request.pathname === deleteAllPath('ghost')
					? [404, errorBody('service_resource_not_found', 'Service resource not found')]
					: [200, roamingOkBody()],
			3,
		);

		const output = await runNode({
			store: freshStore(),
			continueOnFail: true,
			parameters: fromItems,
			items: [{ username: 'u1' }, { username: 'ghost' }, { username: '' }, { username: 'u4' }],
		});

		expect(history.seen).toHaveLength(3);
		expect(output.map((item) => item.pairedItem)).toEqual([0, 1, 2, 3].map((item) => ({ item })));
		expect(output.map((item) => item.json)).toEqual([
			{ deleted: true, username: 'u1' },
			{
				error: `Easemob answered 404 service_resource_not_found: Service resource not found. ${FIXES.unknownUser}`,
				description: expect.stringMatching(/no such user/),
				statusCode: 404,
				easemobError: 'service_resource_not_found',
			},
			{ error: USERNAME_EMPTY, description: expect.stringMatching(/Item 2/) },
			{ deleted: true, username: 'u4' },
		]);
	});
});
