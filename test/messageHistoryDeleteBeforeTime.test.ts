import nock from 'nock';
import type { IDataObject, INodeParameters } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { appPath, errorBody, freshStore, HOST, roamingEndpoint, roamingOkBody, tokenEndpoint } from './helpers/easemob';
import { FIXES, ROAMING_ERRORS } from './helpers/messages';
import { failure, runNode } from './helpers/n8n';

const fromItems: INodeParameters = {
	resource: 'messageHistory',
	operation: 'deleteBeforeTime',
	username: '={{ $json.username }}',
	type: '={{ $json.type }}',
	channel: '={{ $json.channel }}',
	before: '={{ $json.before }}',
};

// 2024-01-31T00:00:00Z
const JAN_31_UTC_MS = 1706659200000;

const timePath = (kind: 'chat' | 'group', encodedUsername: string) =>
	`${appPath()}/rest/message/roaming/${kind}/user/${encodedUsername}/time`;

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

describe('Message History → Delete Conversation History Before a Time: the request', () => {
	test('DELETE …/rest/message/roaming/chat/user/{username}/time?userId={peer}&delTime={ms}&isNotify=true, no body', async () => {
		const token = tokenEndpoint('YWMtAppToken');
		const history = roamingEndpoint('DELETE');

		const output = await runNode({
			store: freshStore(),
			parameters: {
				resource: 'messageHistory',
				operation: 'deleteBeforeTime',
				username: 'u1',
				channel: 'u2',
				before: '2024-01-31T00:00:00Z',
			},
		});

		expect(token.seen).toHaveLength(1);
		expect(history.seen.map((r) => r.path)).toEqual([`${timePath('chat', 'u1')}?userId=u2&delTime=${JAN_31_UTC_MS}&isNotify=true`]);
		expect(history.seen[0].headers.authorization).toBe('Bearer YWMtAppToken');
		expect(history.seen[0].headers.accept).toBe('application/json');
		expect(history.seen[0].body).toBe('');
		expect(output).toEqual([
			{
				json: { deleted: true, username: 'u1', type: 'chat', channel: 'u2', before: '2024-01-31T00:00:00.000Z', notifyDevices: true },
				pairedItem: { item: 0 },
			},
		]);
	});

	test('groupchat: …/group/user/{username}/time?groupId={group}; Notify Devices off sends isNotify=false', async () => {
		tokenEndpoint();
		const history = roamingEndpoint('DELETE');

		const output = await runNode({
			store: freshStore(),
			parameters: { ...fromItems, options: { notifyDevices: false } },
			items: [{ username: 'alice', type: 'groupchat', channel: 228950233579521, before: JAN_31_UTC_MS }],
		});

		expect(history.seen.map((r) => [r.pathname, r.query])).toEqual([
			[timePath('group', 'alice'), { groupId: '228950233579521', delTime: String(JAN_31_UTC_MS), isNotify: 'false' }],
		]);
		expect(output[0].json).toEqual({
			deleted: true,
			username: 'alice',
			type: 'groupchat',
			channel: '228950233579521',
			before: '2024-01-31T00:00:00.000Z',
			notifyDevices: false,
		});
	});

	test.each<[string, unknown, number]>([
		['an n8n DateTime from an expression', '={{ DateTime.fromMillis(1706659200000) }}', JAN_31_UTC_MS],
		['a DateTime in another zone', "={{ DateTime.fromISO('2024-01-31T08:00:00', { zone: 'Asia/Shanghai' }) }}", JAN_31_UTC_MS],
		['epoch milliseconds', '={{ 1706659200000 }}', JAN_31_UTC_MS],
		['ISO text in UTC', '2024-01-31T00:00:00Z', JAN_31_UTC_MS],
		['ISO text with an offset', '2024-01-31T08:00:00+08:00', JAN_31_UTC_MS],
		['ISO text with milliseconds', '2024-01-31T00:00:00.250Z', JAN_31_UTC_MS + 250],
		["ISO text without an offset, as the date picker writes it: the workflow's time zone", '2024-01-31T08:00:00', JAN_31_UTC_MS],
		["an ISO date alone: its midnight in the workflow's time zone", '2024-01-31', JAN_31_UTC_MS - 8 * 3600_000],
	])('Before as %s', async (_name, before, ms) => {
		tokenEndpoint();
		const history = roamingEndpoint('DELETE');

		const output = await runNode({
			store: freshStore(),
			timezone: 'Asia/Shanghai',
			parameters: { ...fromItems, username: 'u1', type: 'chat', channel: 'u2', before: before as string },
		});

		expect(history.seen[0].query.delTime).toBe(String(ms));
		expect(output[0].json.before).toBe(new Date(ms).toISOString());
	});

	test('a peer or group ID with reserved characters is one encoded query value; the username one path segment', async () => {
		tokenEndpoint();
		const history = roamingEndpoint('DELETE');

		await runNode({
			store: freshStore(),
			parameters: fromItems,
			items: [{ username: '../admin?x', type: 'chat', channel: 'b&delTime=0#', before: JAN_31_UTC_MS }],
		});

		expect(history.seen[0].path).toBe(
			`${timePath('chat', '..%2Fadmin%3Fx')}?userId=b%26delTime%3D0%23&delTime=${JAN_31_UTC_MS}&isNotify=true`,
		);
		expect(history.seen[0].query).toEqual({ userId: 'b&delTime=0#', delTime: String(JAN_31_UTC_MS), isNotify: 'true' });
	});

	test('Include Easemob Response and Include Attempts', async () => {
		tokenEndpoint();
		roamingEndpoint('DELETE');

		const output = await runNode({
			store: freshStore(),
			parameters: { ...fromItems, options: { includeResponse: true, includeAttempts: true } },
			items: [{ username: 'u1', type: 'chat', channel: 'u2', before: JAN_31_UTC_MS }],
		});

		expect(output[0].json).toMatchObject({ response: roamingOkBody(), attempts: 1, waitedMs: expect.any(Number) });
	});

	test('a 504 is sent again: a second delete up to the same time finds nothing more to delete', async () => {
		tokenEndpoint();
		const history = roamingEndpoint('DELETE', () => (history.seen.length === 1 ? [504, 'Gateway Timeout'] : [200, roamingOkBody()]), 2);

		const output = await runNode({
			store: freshStore(),
			parameters: { ...fromItems, options: { includeAttempts: true } },
			items: [{ username: 'u1', type: 'chat', channel: 'u2', before: JAN_31_UTC_MS }],
		});

		expect(history.seen.map((r) => r.path)).toEqual([history.seen[0].path, history.seen[0].path]);
		expect(output[0].json).toMatchObject({ deleted: true, attempts: 2 });
	});
});

const BEFORE_FORMS = 'an n8n date-time, ISO 8601 text like 2024-01-31T00:00:00Z, or epoch milliseconds';

describe('Message History → Delete Conversation History Before a Time: input checked before any request', () => {
	const valid: IDataObject = { username: 'u1', type: 'chat', channel: 'u2', before: JAN_31_UTC_MS };

	test.each<[IDataObject, string]>([
		[{ username: '' }, 'Username is empty: set it to the user ID of the user whose message history is to be deleted'],
		[{ username: '..' }, 'Username ".." is not a valid user ID: set it to the user ID of the user whose message history is to be deleted'],
		[{ channel: ' ' }, "Channel is empty: set it to the other user's ID (Conversation Type chat) or the group ID (groupchat)"],
		[{ channel: ['g1'] }, 'Channel must be text (a user or group ID), not a list'],
		[{ channel: 'g\udc00' }, 'Channel contains an incomplete Unicode character: give the whole ID, it was probably cut short'],
		[{ type: 'group' }, 'Conversation Type must be "chat" (one-to-one) or "groupchat" (group), not "group"'],
		[{ before: '' }, `Before is empty: set it to ${BEFORE_FORMS}; messages at or before it are deleted`],
		[{ before: null }, `Before is empty: set it to ${BEFORE_FORMS}; messages at or before it are deleted`],
		[{ before: 'yesterday' }, `Before "yesterday" is not an ISO 8601 date-time: set it to ${BEFORE_FORMS}`],
		[{ before: '2024-02-30' }, `Before "2024-02-30" is not an ISO 8601 date-time: set it to ${BEFORE_FORMS}`],
		[{ before: '2024-01-31T25:00:00Z' }, `Before "2024-01-31T25:00:00Z" is not an ISO 8601 date-time: set it to ${BEFORE_FORMS}`],
		[{ before: '2024-01-31 00:00:00' }, `Before "2024-01-31 00:00:00" is not an ISO 8601 date-time: set it to ${BEFORE_FORMS}`],
		[{ before: 'Wed, 31 Jan 2024 00:00:00 GMT' }, `Before "Wed, 31 Jan 2024 00:00:00 GMT" is not an ISO 8601 date-time: set it to ${BEFORE_FORMS}`],
		[
			{ before: '1706659200000' },
			'Before "1706659200000" is digits in text, which could be a date or a number: give epoch milliseconds as a number, e.g. {{ Number($json.before) }}, or ISO 8601 text like 2024-01-31T00:00:00Z',
		],
		[{ before: 1706659200 }, `Before 1706659200 looks like epoch seconds, not milliseconds: multiply it by 1000, or set it to ${BEFORE_FORMS}`],
		[{ before: -1 }, `Before -1 is not epoch milliseconds: set it to ${BEFORE_FORMS}`],
		[{ before: 1706659200000.5 }, `Before 1706659200000.5 is not epoch milliseconds: set it to ${BEFORE_FORMS}`],
		[{ before: 1706659200000000 }, `Before 1706659200000000 is not epoch milliseconds: set it to ${BEFORE_FORMS}`],
		[{ before: true }, `Before must be ${BEFORE_FORMS}, not boolean`],
		[{ before: { at: 1 } }, `Before must be ${BEFORE_FORMS}, not object`],
	])('%j → %s', async (override, message) => {
		const token = tokenEndpoint();
		const history = roamingEndpoint('DELETE');

		const error = await failure(runNode({ store: freshStore(), parameters: fromItems, items: [{ ...valid, ...override }] }));

		expect(error).toBeInstanceOf(NodeOperationError);
		expect(error.message).toBe(message);
		expect((error as NodeOperationError).context.itemIndex).toBe(0);
		expect(token.seen).toEqual([]);
		expect(history.seen).toEqual([]);
	});

	test.each<[string, string, string]>([
		['an invalid DateTime', "={{ DateTime.fromISO('not a date') }}", `Before is an invalid date-time (unparsable): set it to ${BEFORE_FORMS}`],
		[
			'a JavaScript Date',
			'={{ new Date(1706659200000) }}',
			`Before must be ${BEFORE_FORMS}, not a JavaScript Date (use $now, DateTime.fromJSDate(…) or .toISOString())`,
		],
	])('Before as %s is refused', async (_name, before, message) => {
		const history = roamingEndpoint('DELETE');

		const error = await failure(runNode({ store: freshStore(), parameters: { ...fromItems, before }, items: [valid] }));

		expect(error.message).toBe(message);
		expect(history.seen).toEqual([]);
	});

	test('Notify Devices from an expression must be a real boolean', async () => {
		const history = roamingEndpoint('DELETE');

		const error = await failure(
			runNode({ store: freshStore(), parameters: { ...fromItems, options: { notifyDevices: '={{ "false" }}' } }, items: [valid] }),
		);

		expect(error.message).toBe('Notify Devices must be true or false, not "false"');
		expect(history.seen).toEqual([]);
	});
});

describe('Message History → Delete Conversation History Before a Time: Easemob errors', () => {
	async function failureFor(status: number, body: unknown) {
		tokenEndpoint();
		nock(HOST)
			.delete(() => true)
			.reply(status, body as object);
		return (await failure(
			runNode({ store: freshStore(), parameters: { ...fromItems, options: { maxAttempts: 1 } }, items: [{ username: 'u1', type: 'chat', channel: 'u2', before: JAN_31_UTC_MS }] }),
		)) as NodeApiError & { statusCode?: number; transient?: boolean };
	}

	test('400 "this appKey not open message roaming": ask Easemob to enable message roaming', async () => {
		const error = await failureFor(400, errorBody(...ROAMING_ERRORS.roamingOff));

		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.message).toBe(`Easemob answered 400 service open exception: this appKey not open message roaming. ${FIXES.roamingOff}`);
		expect(error).toMatchObject({ statusCode: 400, transient: false });
	});

	test('404: no such user', async () => {
		const error = await failureFor(404, errorBody('service_resource_not_found', 'Service resource not found'));

		expect(error.message).toBe(`Easemob answered 404 service_resource_not_found: Service resource not found. ${FIXES.unknownUser}`);
	});

	test('a 200 without requestStatusCode "ok" is not a success', async () => {
		const error = await failureFor(200, { requestStatusCode: 'fail', timestamp: 1 });

		expect(error.message).toBe(`Easemob did not confirm success (requestStatusCode is "fail", not "ok"). ${FIXES.unconfirmed}`);
	});

	test('the 50-ID limit is Delete Messages by ID\'s hint, not this call\'s', async () => {
		const error = await failureFor(400, errorBody(...ROAMING_ERRORS.moreThan50));

		expect(error.message).toBe(
			'Easemob answered 400 param exception: delete msg list limit can not greater than 50. Check the fields against the Easemob REST API documentation',
		);
	});
});

describe('Message History → Delete Conversation History Before a Time: continue on fail', () => {
	test('a bad time and an app without message roaming become error items; the others go on, in order', async () => {
		tokenEndpoint();
		const history = roamingEndpoint(
			'DELETE',
			(request) => (request.query.userId === 'off' ? [400, errorBody(...ROAMING_ERRORS.roamingOff)] : [200, roamingOkBody()]),
			2,
		);

		const output = await runNode({
			store: freshStore(),
			continueOnFail: true,
			parameters: { ...fromItems, options: { maxAttempts: 1 } },
			items: [
				{ username: 'u1', type: 'chat', channel: 'u2', before: JAN_31_UTC_MS },
				{ username: 'u1', type: 'chat', channel: 'u3', before: 'last week' },
				{ username: 'u1', type: 'chat', channel: 'off', before: JAN_31_UTC_MS },
			],
		});

		expect(history.seen.map((r) => r.query.userId)).toEqual(['u2', 'off']);
		expect(output.map((item) => item.pairedItem)).toEqual([0, 1, 2].map((item) => ({ item })));
		expect(output.map((item) => item.json)).toEqual([
			{ deleted: true, username: 'u1', type: 'chat', channel: 'u2', before: '2024-01-31T00:00:00.000Z', notifyDevices: true },
			{ error: `Before "last week" is not an ISO 8601 date-time: set it to ${BEFORE_FORMS}`, description: expect.stringMatching(/Item 1/) },
			{
				error: `Easemob answered 400 service open exception: this appKey not open message roaming. ${FIXES.roamingOff}`,
				description: expect.stringMatching(/message roaming/),
				statusCode: 400,
				easemobError: 'service open exception',
			},
		]);
	});
});
