import nock from 'nock';
import type { IDataObject, INodeParameters, INodePropertyOptions } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { drive, useFakeClock } from './helpers/clock';
import { appPath, deleteEndpoint, errorBody, freshStore, tokenEndpoint } from './helpers/easemob';
import { FIXES } from './helpers/messages';
import { failure, runNode } from './helpers/n8n';
import type { UserOperation } from './helpers/users';
import { USER_CALLS, userEndpoint, userEntity, userEnvelope } from './helpers/users';
import { Easemob } from '../nodes/Easemob/Easemob.node';

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

const OPERATIONS: UserOperation[] = ['get', 'delete', 'deactivate', 'activate', 'forceLogout'];

function params(operation: UserOperation, extra: INodeParameters = {}): INodeParameters {
	return { resource: 'user', operation, username: '={{ $json.username }}', ...extra };
}

async function runFor(operation: UserOperation, usernames: unknown[], extra: INodeParameters = {}, continueOnFail = false) {
	return await runNode({
		store: freshStore(),
		continueOnFail,
		parameters: params(operation, extra),
		items: usernames.map((username) => ({ username }) as IDataObject),
	});
}

const NOT_FOUND = errorBody('service_resource_not_found', 'Service resource not found');
const MANAGEMENT = errorBody('management', 'User with id null does not exist in app demo-org#demo-app');
const OPTION = 'Unknown User Is Deleted';
const deleteNotFound = (username: string) =>
	`This app has no user "${username}": check the Username (a user ID, not a nickname), ` +
	`or turn on the option ${OPTION} to count a missing user as already deleted`;

/** Each operation's call exactly as Easemob's documentation gives it, and one line of its output. */
describe.each<[UserOperation, string, string, object]>([
	['get', 'GET', '/users/alice', userEntity('alice')],
	['delete', 'DELETE', '/users/alice', { deleted: true, username: 'alice', existed: true }],
	['deactivate', 'POST', '/users/alice/deactivate', { username: 'alice', activated: false }],
	['activate', 'POST', '/users/alice/activate', { username: 'alice', activated: true }],
	['forceLogout', 'GET', '/users/alice/disconnect', { username: 'alice', loggedOut: true }],
])('User → %s: the request and the output', (operation, method, path, json) => {
	test(`${method} /{org}/{app}${path} with the token, JSON headers and no body; outputs ${JSON.stringify(json)}`, async () => {
		const token = tokenEndpoint('YWMtAppToken');
		const call = userEndpoint(operation);

		const output = await runNode({ store: freshStore(), parameters: { resource: 'user', operation, username: 'alice' } });

		expect(token.seen).toHaveLength(1);
		expect(call.seen).toHaveLength(1);
		expect(call.seen[0].method).toBe(method);
		expect(call.seen[0].path).toBe(`${appPath()}${path}`);
		expect(call.seen[0].headers.authorization).toBe('Bearer YWMtAppToken');
		expect(call.seen[0].headers.accept).toBe('application/json');
		expect(call.seen[0].body).toBe('');
		expect(output).toEqual([{ json, pairedItem: { item: 0 } }]);
	});

	test('usernames from expressions, reserved and non-ASCII characters each one encoded path segment, outputs in order', async () => {
		const usernames = ['a/b', 'who?x=1#y', '100%', '..x', '用户一', 10086];
		tokenEndpoint();
		const call = userEndpoint(operation, undefined, usernames.length);

		const output = await runFor(operation, usernames, { options: { concurrency: 1 } });

		const suffix = USER_CALLS[operation].suffix;
		expect(call.seen.map((r) => r.path)).toEqual(
			['a%2Fb', 'who%3Fx%3D1%23y', '100%25', '..x', '%E7%94%A8%E6%88%B7%E4%B8%80', '10086'].map(
				(segment) => `${appPath()}/users/${segment}${suffix}`,
			),
		);
		expect(output.map((item) => [item.json.username, item.pairedItem])).toEqual(
			usernames.map((username, item) => [String(username), { item }]),
		);
	});

	test('Include Easemob Response and Include Attempts add the answer, attempts and waitedMs', async () => {
		tokenEndpoint();
		userEndpoint(operation);

		const output = await runFor(operation, ['alice'], { options: { includeResponse: true, includeAttempts: true } });

		expect(output[0].json).toEqual({
			...json,
			response: USER_CALLS[operation].ok('alice'),
			attempts: 1,
			waitedMs: expect.any(Number),
		});
	});
});

describe('User → Get', () => {
	test("outputs Easemob's user entity as it comes, banned users and unknown fields included", async () => {
		const entity = { ...userEntity('dave', false), notification_display_style: 1, extra: { a: 1 } };
		tokenEndpoint();
		userEndpoint('get', () => [200, userEnvelope('get', [entity], { count: 1 })]);

		const output = await runFor('get', ['dave']);

		expect(output[0].json).toEqual(entity);
	});

	test.each([
		['no entities', userEnvelope('get', []), 'entities[0] is null, not a user'],
		['an entity that is not an object', userEnvelope('get', ['dave']), 'entities[0] is "dave", not a user'],
		['no envelope', { requestStatusCode: 'ok' }, 'entities[0] is null, not a user'],
	])('a 200 with %s is not a success', async (_name, body, why) => {
		tokenEndpoint();
		userEndpoint('get', () => [200, body]);

		const error = await failure(runFor('get', ['dave']));

		expect(error.message).toBe(`Easemob did not confirm success (${why}). ${FIXES.unconfirmed}`);
	});
});

describe('User → Delete', () => {
	test('its descriptions say what else goes with the user and that it cannot be undone', () => {
		const { properties } = new Easemob().description;
		const operation = properties.find((p) => p.name === 'operation' && p.displayOptions?.show?.resource?.[0] === 'user');
		const option = (operation?.options as INodePropertyOptions[]).find((o) => o.value === 'delete');
		const username = properties.find(
			(p) => p.name === 'username' && p.displayOptions?.show?.resource?.[0] === 'user' && p.displayOptions?.show?.operation?.[0] === 'delete',
		);

		for (const text of [option?.description, username?.description]) {
			expect(text).toMatch(/every group and chat room they own/);
			expect(text).toMatch(/contacts, messages and conversations/);
			expect(text).toMatch(/annot be undone/);
		}
	});

	test.each([
		['404 service_resource_not_found', 404, NOT_FOUND, 'Easemob answered 404 service_resource_not_found: Service resource not found'],
		['400 management "User with id null does not exist"', 400, MANAGEMENT, 'Easemob answered 400 management: User with id null does not exist in app demo-org#demo-app'],
	])('%s: by default an error naming the user and the option', async (_name, status, body, answer) => {
		tokenEndpoint();
		userEndpoint('delete', () => [status, body]);

		const error = (await failure(runFor('delete', ['ghost']))) as NodeApiError;

		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.message).toBe(`${answer}. ${deleteNotFound('ghost')}`);
		expect(error.httpCode).toBe(String(status));
		expect(error.description).toMatch(/deleted already/);
		expect(error.context.itemIndex).toBe(0);
	});

	test.each([
		['404 service_resource_not_found', 404, NOT_FOUND],
		['400 management "User with id null does not exist"', 400, MANAGEMENT],
	])('%s with Unknown User Is Deleted: { deleted: true, username, existed: false }', async (_name, status, body) => {
		tokenEndpoint();
		const call = userEndpoint('delete', (username) => (username === 'ghost' ? [status, body] : [200, USER_CALLS.delete.ok(username)]), 2);

		const output = await runFor('delete', ['ghost', 'alice'], { options: { unknownUserIsDeleted: true } });

		expect(call.seen).toHaveLength(2);
		expect(output).toEqual([
			{ json: { deleted: true, username: 'ghost', existed: false }, pairedItem: { item: 0 } },
			{ json: { deleted: true, username: 'alice', existed: true }, pairedItem: { item: 1 } },
		]);
	});

	test.each([
		[
			404,
			errorBody('organization_application_not_found', 'Could not find application for demo-org/x from URI: users/ghost'),
			/^Easemob answered 404 organization_application_not_found: .*The credential needs fixing, not the fields: check its Org Name/,
		],
		[
			400,
			errorBody('management', 'Something else went wrong'),
			/^Easemob answered 400 management: Something else went wrong\. Check the fields against/,
		],
		[404, '<html>Not Found</html>', /^Easemob answered 404\. This app has no such user/],
	])('with Unknown User Is Deleted, %i answered otherwise is still an error', async (status, body, message) => {
		tokenEndpoint();
		userEndpoint('delete', () => [status, body]);

		const error = await failure(runFor('delete', ['ghost'], { options: { unknownUserIsDeleted: true } }));

		expect(error.message).toMatch(message);
	});

	test('a 504 (the gateway lost the answer) is not sent again: the user may have been deleted', async () => {
		tokenEndpoint();
		const call = userEndpoint('delete', () => [504, 'Gateway Timeout'], 2);

		const error = await failure(runFor('delete', ['alice']));

		expect(call.seen).toHaveLength(1);
		expect(error.message).toBe(
			'Easemob answered 504. The call may have gone through, so it is not sent again: check its result before running the item again',
		);
	});

	test('a 200 without the deleted user is not a success', async () => {
		tokenEndpoint();
		userEndpoint('delete', () => [200, userEnvelope('delete', [])]);

		const error = await failure(runFor('delete', ['alice']));

		expect(error.message).toBe(`Easemob did not confirm success (entities[0] is null, not a user). ${FIXES.unconfirmed}`);
	});

	test('Unknown User Is Deleted from an expression must be a boolean, checked before any request', async () => {
		const token = tokenEndpoint();
		const call = userEndpoint('delete');

		const error = await failure(runFor('delete', ['alice'], { options: { unknownUserIsDeleted: '={{ "yes" }}' } }));

		expect(error).toBeInstanceOf(NodeOperationError);
		expect(error.message).toBe(`${OPTION} must be true or false, not "yes"`);
		expect(token.seen).toEqual([]);
		expect(call.seen).toEqual([]);
	});
});

describe('User → Deactivate (Ban), Activate, Force Logout: what counts as success', () => {
	test.each<[UserOperation, string, object, string]>([
		['deactivate', 'no entities', userEnvelope('Deactivate user', []), 'entities[0] is null, not a user'],
		['activate', 'no action', { timestamp: 1542795196504, duration: 0 }, 'action is null, not "activate user"'],
		['activate', 'another action', userEnvelope('get', [userEntity('alice')]), 'action is "get", not "activate user"'],
		['forceLogout', 'no data.result', userEnvelope('get', []), 'data.result is null, not true or false'],
		['forceLogout', 'data.result "ok"', userEnvelope('get', [], { data: { result: 'ok' } }), 'data.result is "ok", not true or false'],
	])('%s: a 200 with %s is not a success', async (operation, _name, body, why) => {
		tokenEndpoint();
		userEndpoint(operation, () => [200, body]);

		const error = await failure(runFor(operation, ['alice']));

		expect(error.message).toBe(`Easemob did not confirm success (${why}). ${FIXES.unconfirmed}`);
	});

	test('Force Logout: data.result false is an answer, output as loggedOut false', async () => {
		tokenEndpoint();
		userEndpoint('forceLogout', () => [200, userEnvelope('get', [], { data: { result: false } })]);

		const output = await runFor('forceLogout', ['alice']);

		expect(output[0].json).toEqual({ username: 'alice', loggedOut: false });
	});

	test('the descriptions say that a ban logs the user out and lasts until Activate', () => {
		const { properties } = new Easemob().description;
		const operation = properties.find((p) => p.name === 'operation' && p.displayOptions?.show?.resource?.[0] === 'user');
		const option = (operation?.options as INodePropertyOptions[]).find((o) => o.value === 'deactivate');

		expect(option?.name).toBe('Deactivate (Ban)');
		expect(option?.description).toMatch(/logs them out of every device at once and keeps them out until Activate/);
	});
});

describe.each(OPERATIONS)('User → %s: Easemob errors', (operation) => {
	async function failureFor(status: number, body: object) {
		tokenEndpoint();
		// n8n answers a 401 by fetching a new token and sending the request once more.
		if (status === 401) tokenEndpoint('YWMtSecondToken');
		const call = userEndpoint(operation, () => [status, body], status === 401 ? 2 : 1);
		const error = (await failure(runFor(operation, ['ghost'], { options: { maxAttempts: 1 } }))) as NodeApiError & {
			statusCode?: number;
			easemobError?: string;
		};
		return { error, call };
	}

	test.each([
		[401, 'unauthorized', 'Unable to authenticate due to expired access token', FIXES.unauthorized],
		[429, 'reach_limit', 'This request has reached api limit', "Easemob's rate limit was hit (100 calls per second per app): try again in a moment"],
		[429, 'resource_limited', 'You have exceeded the limit of the Free edition', "The app's Easemob plan quota for this is used up: retrying will not help until the plan allows more"],
	])('%i %s: the message adds what to change', async (status, type, description, fix) => {
		const { error } = await failureFor(status, errorBody(type, description));

		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.message).toBe(`Easemob answered ${status} ${type}: ${description}. ${fix}`);
		expect(error.statusCode).toBe(status);
		expect(error.easemobError).toBe(type);
		expect(error.context.itemIndex).toBe(0);
	});

	if (operation !== 'delete') {
		test("404 unknown user: the unknown-user hint, without Delete's option", async () => {
			const { error } = await failureFor(404, NOT_FOUND);

			expect(error.message).toBe(`Easemob answered 404 service_resource_not_found: Service resource not found. ${FIXES.unknownUser}`);
			expect(`${error.message} ${error.description}`).not.toMatch(OPTION);
		});

		test("400 management: not Delete's hint", async () => {
			const { error } = await failureFor(400, MANAGEMENT);

			expect(error.message).toBe(
				'Easemob answered 400 management: User with id null does not exist in app demo-org#demo-app. Check the fields against the Easemob REST API documentation',
			);
			expect(`${error.message} ${error.description}`).not.toMatch(OPTION);
		});
	}
});

test("Conversation → Delete for One User keeps its own 404 message, without User → Delete's option", async () => {
	tokenEndpoint();
	deleteEndpoint(() => [404, NOT_FOUND]);

	const error = await failure(
		runNode({ store: freshStore(), parameters: { resource: 'conversation', operation: 'delete', username: 'ghost', channel: 'bob' } }),
	);

	expect(error.message).toBe(`Easemob answered 404 service_resource_not_found: Service resource not found. ${FIXES.unknownUser}`);
});

describe.each(OPERATIONS)('User → %s: continue on fail', (operation) => {
	test('an unknown user and a blank username become error items paired with their input; the others go on, in order', async () => {
		tokenEndpoint();
		const answer = (username: string): [number, object] =>
			username === 'ghost' ? [404, NOT_FOUND] : [200, USER_CALLS[operation].ok(username)];
		const call = userEndpoint(operation, answer, 3);

		const output = await runFor(operation, ['alice', 'ghost', ' ', 'bob'], { options: { concurrency: 1 } }, true);

		expect(call.seen).toHaveLength(3);
		expect(output.map((item) => item.pairedItem)).toEqual([0, 1, 2, 3].map((item) => ({ item })));
		expect(output.map((item) => item.json.username)).toEqual(['alice', undefined, undefined, 'bob']);
		expect(output[1].json).toEqual({
			error: `Easemob answered 404 service_resource_not_found: Service resource not found. ${
				operation === 'delete' ? deleteNotFound('ghost') : FIXES.unknownUser
			}`,
			description: expect.any(String),
			statusCode: 404,
			easemobError: 'service_resource_not_found',
		});
		expect(output[2].json).toEqual({
			error: expect.stringMatching(/^Username is empty: set it to the user ID of the user to /),
			description: expect.stringMatching(/Item 2/),
		});
	});
});

describe.each(OPERATIONS)('User → %s: a bad username is refused before any request', (operation) => {
	test.each<[unknown, RegExp]>([
		['', /^Username is empty: set it to the user ID of the user to \w+/],
		['   ', /^Username is empty: /],
		[null, /^Username is empty: /],
		['.', /^Username "\." is not a valid user ID: /],
		['..', /^Username "\.\." is not a valid user ID: /],
		[{ id: 'u1' }, /^Username must be text \(a user ID\), not object$/],
		[['u1'], /^Username must be text \(a user ID\), not a list$/],
		['ab\ud800', /^Username contains an incomplete Unicode character/],
	])('%j', async (username, message) => {
		const token = tokenEndpoint();
		const call = userEndpoint(operation);

		const error = (await failure(runFor(operation, [username]))) as NodeOperationError;

		expect(error).toBeInstanceOf(NodeOperationError);
		expect(error.message).toMatch(message);
		expect(error.context.itemIndex).toBe(0);
		expect(token.seen).toEqual([]);
		expect(call.seen).toEqual([]);
	});
});

describe('User calls: one budget, 100 per second per app, shared by every user operation', () => {
	useFakeClock();

	/** When each request reached Easemob, in order, while two executions of two items each run at once. */
	async function arrivals(first: INodeParameters, second: INodeParameters, scopes: nock.Scope[]) {
		const store = freshStore();
		const at: number[] = [];
		for (const scope of scopes) scope.on('request', () => at.push(Date.now()));
		await drive(
			Promise.all([
				runNode({ store, parameters: first, items: [{ username: 'u1' }, { username: 'u2' }] }),
				runNode({ store, parameters: second, items: [{ username: 'u3' }, { username: 'u4' }] }),
			]),
		);
		return at.sort((a, b) => a - b);
	}

	test('Get and Deactivate at App Rate Limit 1: the four calls leave a second apart between both', async () => {
		tokenEndpoint();
		const times = await arrivals(
			params('get', { options: { appRateLimit: 1 } }),
			params('deactivate', { options: { appRateLimit: 1 } }),
			[userEndpoint('get', undefined, 2).scope, userEndpoint('deactivate', undefined, 2).scope],
		);

		expect(times).toHaveLength(4);
		for (let k = 1; k < times.length; k++) expect(times[k] - times[k - 1]).toBeGreaterThanOrEqual(1000);
	});

	test("Get and the one-way delete at App Rate Limit 1: each budget sends its first call at once", async () => {
		tokenEndpoint();
		const times = await arrivals(
			params('get', { options: { appRateLimit: 1 } }),
			{
				resource: 'conversation',
				operation: 'delete',
				username: '={{ $json.username }}',
				channel: 'peer',
				options: { appRateLimit: 1, userRateLimit: 0 },
			},
			[userEndpoint('get', undefined, 2).scope, deleteEndpoint(undefined, 2).scope],
		);

		expect(times).toHaveLength(4);
		expect(times[1] - times[0]).toBeLessThan(1000);
		expect(times[3] - times[0]).toBeGreaterThanOrEqual(1000);
	});

	test('the options show the user budget: App Rate Limit 100, no user window', () => {
		const { properties } = new Easemob().description;
		for (const operation of OPERATIONS) {
			const options = properties.find(
				(p) => p.name === 'options' && p.displayOptions?.show?.resource?.[0] === 'user' && p.displayOptions?.show?.operation?.[0] === operation,
			);
			const names = (options?.options ?? []).map((o) => ('name' in o ? o.name : undefined));
			expect(names).toContain('appRateLimit');
			expect(names).not.toContain('userRateLimit');
			expect(names).not.toContain('userRateWindow');
			expect((options?.options as Array<{ name: string; default: unknown }>).find((o) => o.name === 'appRateLimit')?.default).toBe(100);
		}
	});
});

describe('User → Deactivate (Ban), Activate, Force Logout, Get: a lost answer is sent again', () => {
	useFakeClock();

	test.each<UserOperation>(['get', 'deactivate', 'activate', 'forceLogout'])(
		'%s: a 504 is sent again, and the second answer is the output',
		async (operation) => {
			tokenEndpoint();
			let calls = 0;
			const answer = (username: string): [number, nock.Body] =>
				++calls === 1 ? [504, 'Gateway Timeout'] : [200, USER_CALLS[operation].ok(username)];
			const call = userEndpoint(operation, answer, 2);

			const output = await drive(runFor(operation, ['alice'], { options: { includeAttempts: true } }));

			expect(call.seen).toHaveLength(2);
			expect(output[0].json).toMatchObject({ username: 'alice', attempts: 2 });
		},
	);
});
