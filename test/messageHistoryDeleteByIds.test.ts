import nock from 'nock';
import type { IDataObject, INodeParameters } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { appPath, errorBody, freshStore, roamingEndpoint, roamingOkBody, tokenEndpoint } from './helpers/easemob';
import { FIXES, ROAMING_ERRORS } from './helpers/messages';
import { failure, runNode } from './helpers/n8n';

const fromItems: INodeParameters = {
	resource: 'messageHistory',
	operation: 'deleteByIds',
	username: '={{ $json.username }}',
	type: '={{ $json.type }}',
	channel: '={{ $json.channel }}',
	messageIds: '={{ $json.messageIds }}',
};

const idsPath = (kind: 'chat' | 'group', encodedUsername: string) =>
	`${appPath()}/rest/message/roaming/${kind}/user/${encodedUsername}`;

const ids = (count: number, from = 1) => Array.from({ length: count }, (_, k) => `m${from + k}`);

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

describe('Message History → Delete Messages by ID: the request', () => {
	test('DELETE …/rest/message/roaming/chat/user/{username}?userId={peer}&msgIdList={a,b}&isNotify=true, no body', async () => {
		const token = tokenEndpoint('YWMtAppToken');
		const history = roamingEndpoint('DELETE');

		const output = await runNode({
			store: freshStore(),
			parameters: {
				resource: 'messageHistory',
				operation: 'deleteByIds',
				username: 'u1',
				channel: 'u2',
				messageIds: '1196186326338848700, 1196186326338848701',
			},
		});

		expect(token.seen).toHaveLength(1);
		expect(history.seen.map((r) => r.path)).toEqual([
			`${idsPath('chat', 'u1')}?userId=u2&msgIdList=1196186326338848700%2C1196186326338848701&isNotify=true`,
		]);
		expect(history.seen[0].headers.authorization).toBe('Bearer YWMtAppToken');
		expect(history.seen[0].body).toBe('');
		expect(output).toEqual([
			{
				json: {
					deleted: true,
					username: 'u1',
					type: 'chat',
					channel: 'u2',
					messageIds: ['1196186326338848700', '1196186326338848701'],
					requests: 1,
					notifyDevices: true,
				},
				pairedItem: { item: 0 },
			},
		]);
	});

	test('groupchat: …/group/user/{username}?groupId={group}; Notify Devices off sends isNotify=false', async () => {
		tokenEndpoint();
		const history = roamingEndpoint('DELETE');

		await runNode({
			store: freshStore(),
			parameters: { ...fromItems, options: { notifyDevices: false } },
			items: [{ username: 'alice', type: 'groupchat', channel: 'g1', messageIds: 'm1' }],
		});

		expect(history.seen.map((r) => [r.pathname, r.query])).toEqual([
			[idsPath('group', 'alice'), { groupId: 'g1', msgIdList: 'm1', isNotify: 'false' }],
		]);
	});

	test.each<[string, unknown, string[]]>([
		['comma-separated text, trimmed', ' m1 ,m2,  m3 ', ['m1', 'm2', 'm3']],
		['a list of texts and numbers from an expression', [' m1', 2, 'm3 '], ['m1', '2', 'm3']],
		['one number', 42, ['42']],
		['repeats, sent once each in order of first appearance', 'm2, m1, m2, m1', ['m2', 'm1']],
		['a number and the same ID as text', [7, '7', ' 7'], ['7']],
	])('Message IDs as %s', async (_name, messageIds, expected) => {
		tokenEndpoint();
		const history = roamingEndpoint('DELETE');

		const output = await runNode({
			store: freshStore(),
			parameters: fromItems,
			items: [{ username: 'u1', type: 'chat', channel: 'u2', messageIds } as IDataObject],
		});

		expect(history.seen[0].query.msgIdList).toBe(expected.join(','));
		expect(output[0].json.messageIds).toEqual(expected);
	});

	test('120 IDs: three calls of 50, 50 and 20, one after another, all reported', async () => {
		tokenEndpoint();
		let inFlight = 0;
		let mostInFlight = 0;
		const seen: string[][] = [];
		nock('https://a1.easemob.com')
			.delete(() => true)
			.times(3)
			.reply((path, _body, callback) => {
				inFlight += 1;
				mostInFlight = Math.max(mostInFlight, inFlight);
				seen.push(new URL(path, 'https://a1.easemob.com').searchParams.get('msgIdList')!.split(','));
				setTimeout(() => {
					inFlight -= 1;
					callback(null, [200, roamingOkBody()]);
				}, 20);
			});

		const output = await runNode({
			store: freshStore(),
			parameters: { ...fromItems, options: { includeResponse: true, includeAttempts: true } },
			items: [{ username: 'u1', type: 'chat', channel: 'u2', messageIds: ids(120).join(',') }],
		});

		expect(seen).toEqual([ids(50), ids(50, 51), ids(20, 101)]);
		expect(mostInFlight).toBe(1);
		expect(output).toHaveLength(1);
		expect(output[0].json).toEqual({
			deleted: true,
			username: 'u1',
			type: 'chat',
			channel: 'u2',
			messageIds: ids(120),
			requests: 3,
			notifyDevices: true,
			response: [roamingOkBody(), roamingOkBody(), roamingOkBody()],
			attempts: 3,
			waitedMs: expect.any(Number),
		});
	});

	test('an ID with reserved characters is encoded within the one msgIdList value', async () => {
		tokenEndpoint();
		const history = roamingEndpoint('DELETE');

		await runNode({
			store: freshStore(),
			parameters: fromItems,
			items: [{ username: 'u1', type: 'chat', channel: 'u2', messageIds: ['a&isNotify=false', 'b#c'] }],
		});

		expect(history.seen[0].path).toBe(`${idsPath('chat', 'u1')}?userId=u2&msgIdList=a%26isNotify%3Dfalse%2Cb%23c&isNotify=true`);
		expect(history.seen[0].query).toEqual({ userId: 'u2', msgIdList: 'a&isNotify=false,b#c', isNotify: 'true' });
	});

	test('a lost answer (502) is sent again: the same IDs once more delete nothing else', async () => {
		tokenEndpoint();
		const history = roamingEndpoint('DELETE', () => (history.seen.length === 1 ? [502, 'Bad Gateway'] : [200, roamingOkBody()]), 2);

		const output = await runNode({
			store: freshStore(),
			parameters: { ...fromItems, options: { includeAttempts: true } },
			items: [{ username: 'u1', type: 'chat', channel: 'u2', messageIds: 'm1,m2' }],
		});

		expect(history.seen.map((r) => r.query.msgIdList)).toEqual(['m1,m2', 'm1,m2']);
		expect(output[0].json).toMatchObject({ deleted: true, requests: 1, attempts: 2 });
	});
});

const IDS_EMPTY = 'Message IDs is empty: set it to the IDs of the messages to delete, comma-separated or as a list';

describe('Message History → Delete Messages by ID: input checked before any request', () => {
	const valid: IDataObject = { username: 'u1', type: 'chat', channel: 'u2', messageIds: 'm1' };

	test.each<[IDataObject, string]>([
		[{ username: '.' }, 'Username "." is not a valid user ID: set it to the user ID of the user whose message history is to be deleted'],
		[{ channel: '' }, "Channel is empty: set it to the other user's ID (Conversation Type chat) or the group ID (groupchat)"],
		[{ type: 'chatroom' }, 'Conversation Type must be "chat" (one-to-one) or "groupchat" (group), not "chatroom"'],
		[{ messageIds: '' }, IDS_EMPTY],
		[{ messageIds: '  ' }, IDS_EMPTY],
		[{ messageIds: [] }, IDS_EMPTY],
		[{ messageIds: null }, IDS_EMPTY],
		[{ messageIds: 'm1,,m2' }, 'Message IDs has an empty ID at position 2: remove the extra comma or the blank entry'],
		[{ messageIds: 'm1,' }, 'Message IDs has an empty ID at position 2: remove the extra comma or the blank entry'],
		[{ messageIds: ['m1', ' '] }, 'Message IDs has an empty ID at position 2: remove the extra comma or the blank entry'],
		[{ messageIds: ['m1', null] }, 'Message IDs must hold text or numbers, not null at position 2'],
		[{ messageIds: [{ id: 'm1' }] }, 'Message IDs must hold text or numbers, not object at position 1'],
		[{ messageIds: [['m1']] }, 'Message IDs must hold text or numbers, not a list at position 1'],
		[{ messageIds: ['m1', 'm2,m3'] }, 'Message ID "m2,m3" at position 2 contains a comma: give one ID per entry of the list'],
		[{ messageIds: [1196186326338848700] }, 'Message ID 1196186326338848800 at position 1 is too long to be exact as a number: give the IDs as text'],
		[{ messageIds: [1.5] }, 'Message ID 1.5 at position 1 is not a message ID: give whole numbers or text'],
		[{ messageIds: [-3] }, 'Message ID -3 at position 1 is not a message ID: give whole numbers or text'],
		[{ messageIds: 'm1,\ud800' }, 'Message IDs has an incomplete Unicode character at position 2: give the whole ID, it was probably cut short'],
		[{ messageIds: true }, 'Message IDs must be comma-separated text or a list of IDs, not boolean'],
		[{ messageIds: { m1: true } }, 'Message IDs must be comma-separated text or a list of IDs, not object'],
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
});

describe('Message History → Delete Messages by ID: Easemob errors', () => {
	const oneCall: IDataObject = { username: 'u1', type: 'chat', channel: 'u2', messageIds: 'm1' };

	async function failureFor(status: number, body: unknown, item: IDataObject = oneCall) {
		tokenEndpoint();
		roamingEndpoint('DELETE', () => [status, body]);
		return (await failure(
			runNode({ store: freshStore(), parameters: { ...fromItems, options: { maxAttempts: 1 } }, items: [item] }),
		)) as NodeApiError & { statusCode?: number; transient?: boolean };
	}

	test('400 "delete msg list limit can not greater than 50": the node sends no more, so report it', async () => {
		const error = await failureFor(400, errorBody(...ROAMING_ERRORS.moreThan50));

		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.message).toBe(`Easemob answered 400 param exception: delete msg list limit can not greater than 50. ${FIXES.moreThan50Ids}`);
		expect(error.description).toMatch(/splits the IDs into calls of at most 50/);
	});

	test('400 "this appKey not open message roaming"', async () => {
		const error = await failureFor(400, errorBody(...ROAMING_ERRORS.roamingOff));

		expect(error.message).toBe(`Easemob answered 400 service open exception: this appKey not open message roaming. ${FIXES.roamingOff}`);
	});

	test('404: no such user', async () => {
		const error = await failureFor(404, errorBody('service_resource_not_found', 'Service resource not found'));

		expect(error.message).toBe(`Easemob answered 404 service_resource_not_found: Service resource not found. ${FIXES.unknownUser}`);
	});

	test('a 200 without requestStatusCode "ok" is not a success', async () => {
		const error = await failureFor(200, { data: { result: 'ok' } });

		expect(error.message).toBe(`Easemob did not confirm success (requestStatusCode is null, not "ok"). ${FIXES.unconfirmed}`);
	});

	test('the second of three calls fails: the error names the 50 IDs already deleted, and the third is not sent', async () => {
		tokenEndpoint();
		const history = roamingEndpoint(
			'DELETE',
			() => (history.seen.length === 2 ? [500, errorBody('server_error', 'boom')] : [200, roamingOkBody()]),
			3,
		);

		const error = await failure(
			runNode({
				store: freshStore(),
				parameters: { ...fromItems, options: { maxAttempts: 1 } },
				items: [{ username: 'u1', type: 'chat', channel: 'u2', messageIds: ids(120) }],
			}),
		);

		expect(history.seen).toHaveLength(2);
		expect(error.message).toBe("Easemob answered 500 server_error: boom. A problem on Easemob's side: try again later");
		expect((error as NodeApiError).description).toBe(
			"Easemob had a problem on its side. Try again later; if it persists, check Easemob's service status. " +
				`Before this failure 1 of 3 calls succeeded, deleting 50 of the 120 messages: ${ids(50).join(', ')}. The other 70 were not deleted, or not confirmed.`,
		);
	});
});

describe('Message History → Delete Messages by ID: continue on fail', () => {
	test('a failed item becomes one error item, whatever number of calls it needed; the others go on, in order', async () => {
		tokenEndpoint();
		const history = roamingEndpoint(
			'DELETE',
			(request) =>
				request.query.userId === 'ghost-peer' && request.query.msgIdList.startsWith('m51')
					? [404, errorBody('service_resource_not_found', 'Service resource not found')]
					: [200, roamingOkBody()],
			5,
		);

		const output = await runNode({
			store: freshStore(),
			continueOnFail: true,
			parameters: fromItems,
			items: [
				{ username: 'u1', type: 'chat', channel: 'u2', messageIds: 'm1' },
				{ username: 'u1', type: 'chat', channel: 'ghost-peer', messageIds: ids(60) },
				{ username: 'u1', type: 'chat', channel: 'u3', messageIds: 'm1,,m2' },
				{ username: 'u1', type: 'groupchat', channel: 'g1', messageIds: ids(70) },
			],
		});

		// Items go concurrently, each item's calls one after another.
		const callsOf = (conversation: string) =>
			history.seen.filter((r) => (r.query.userId ?? r.query.groupId) === conversation).map((r) => r.query.msgIdList.split(',').length);
		expect([callsOf('u2'), callsOf('ghost-peer'), callsOf('u3'), callsOf('g1')]).toEqual([[1], [50, 10], [], [50, 20]]);
		expect(output.map((item) => item.pairedItem)).toEqual([0, 1, 2, 3].map((item) => ({ item })));
		expect(output[0].json).toMatchObject({ deleted: true, messageIds: ['m1'], requests: 1 });
		expect(output[1].json).toEqual({
			error: `Easemob answered 404 service_resource_not_found: Service resource not found. ${FIXES.unknownUser}`,
			description: expect.stringMatching(/Before this failure 1 of 2 calls succeeded, deleting 50 of the 60 messages: m1, m2, .*, m50\. /),
			statusCode: 404,
			easemobError: 'service_resource_not_found',
		});
		expect(output[2].json).toEqual({
			error: 'Message IDs has an empty ID at position 2: remove the extra comma or the blank entry',
			description: expect.stringMatching(/Item 2/),
		});
		expect(output[3].json).toMatchObject({ deleted: true, type: 'groupchat', messageIds: ids(70), requests: 2 });
	});
});
