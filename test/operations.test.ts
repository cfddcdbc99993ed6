/**
 * What each operation declares stays its own: its rate-limit options' defaults, its budget's pace,
 * and its error hints. On n8n-core's real HTTP helpers with nock; the pace under jest's fake clock.
 */
import nock from 'nock';
import type { INodeParameters, INodeProperties } from 'n8n-workflow';

import { drive, useFakeClock, utcSecond } from './helpers/clock';
import { deleteOkBody, errorBody, freshStore, HOST, roamingOkBody, tokenEndpoint } from './helpers/easemob';
import { FIXES, ROAMING_ERRORS } from './helpers/messages';
import type { CredentialStore } from './helpers/n8n';
import { failure, runNode } from './helpers/n8n';
import { Easemob } from '../nodes/Easemob/Easemob.node';

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

/** One item's parameters for each operation, with the options given. */
const OPERATIONS: Record<string, (options: INodeParameters) => INodeParameters> = {
	'conversation.delete': (options) => ({
		resource: 'conversation',
		operation: 'delete',
		username: '={{ $json.username }}',
		channel: 'peer',
		options,
	}),
	'messageHistory.deleteAllForUser': (options) => ({
		resource: 'messageHistory',
		operation: 'deleteAllForUser',
		username: '={{ $json.username }}',
		options,
	}),
	'messageHistory.deleteBeforeTime': (options) => ({
		resource: 'messageHistory',
		operation: 'deleteBeforeTime',
		username: '={{ $json.username }}',
		channel: 'peer',
		before: '2024-01-31T00:00:00Z',
		options,
	}),
	'messageHistory.deleteByIds': (options) => ({
		resource: 'messageHistory',
		operation: 'deleteByIds',
		username: '={{ $json.username }}',
		channel: 'peer',
		messageIds: 'm1,m2',
		options,
	}),
};

/** Answers every call of every operation with its own success body, recording when each came. */
function easemobAnswering() {
	const seen: Array<{ at: number; method: string; path: string }> = [];
	const record = (method: string) =>
		function (path: string): [number, nock.Body] {
			seen.push({ at: Date.now(), method, path });
			return [200, path.includes('/rest/message/roaming/') ? roamingOkBody() : deleteOkBody('u')];
		};
	nock(HOST).delete(() => true).times(Infinity).reply(record('DELETE'));
	nock(HOST).post(/\/rest\/message\/roaming\//).times(Infinity).reply(record('POST'));
	return seen;
}

function optionsOf(resource: string, operation: string): INodeProperties[] {
	const options = new Easemob().description.properties.find(
		(property) =>
			property.name === 'options' &&
			property.displayOptions?.show?.resource?.includes(resource) &&
			property.displayOptions?.show?.operation?.includes(operation),
	);
	return (options?.options ?? []) as INodeProperties[];
}

describe("each operation's options show its own limits", () => {
	test.each([
		['conversation', 'delete', { appRateLimit: 100, userRateLimit: 5, userRateWindow: 60 }],
		['messageHistory', 'deleteAllForUser', { appRateLimit: 100 }],
		['messageHistory', 'deleteBeforeTime', { notifyDevices: true, appRateLimit: 100 }],
		['messageHistory', 'deleteByIds', { notifyDevices: true, appRateLimit: 100 }],
	])('%s.%s: %j, then the common ones; no user window where Easemob has no per-user limit', (resource, operation, own) => {
		const options = optionsOf(resource, operation);
		const defaults = Object.fromEntries(options.map((option) => [option.name, option.default]));

		expect(defaults).toEqual({
			...own,
			includeResponse: false,
			concurrency: 10,
			maxAttempts: 5,
			maxRetryWait: 120,
			timeout: 30,
			includeAttempts: false,
		});
	});
});

describe('the pace is kept per budget', () => {
	useFakeClock();

	const items = (prefix: string) => [0, 1, 2].map((k) => ({ username: `${prefix}${k}` }));
	const atOneASecond = { appRateLimit: 1, userRateLimit: 0, timeout: 100_000 };

	async function together(store: CredentialStore, first: string, second: string) {
		const seen = easemobAnswering();
		tokenEndpoint();
		await drive(
			Promise.all([
				runNode({ store, parameters: OPERATIONS[first](atOneASecond), items: items('a') }),
				runNode({ store, parameters: OPERATIONS[second](atOneASecond), items: items('b') }),
			]),
		);
		return seen;
	}

	test('a history call and the one-way delete, at 1 per second each, on one app: each budget sends at once, neither waits for the other', async () => {
		const seen = await together(freshStore(), 'conversation.delete', 'messageHistory.deleteAllForUser');

		const conversation = seen.filter((r) => r.method === 'DELETE').map((r) => r.at);
		const history = seen.filter((r) => r.method === 'POST').map((r) => r.at);
		expect(conversation).toHaveLength(3);
		expect(history).toHaveLength(3);
		expect(Math.abs(history[0] - conversation[0])).toBeLessThan(100);
		for (const times of [conversation, history]) expect(new Set(times.map(utcSecond)).size).toBe(3);
	});

	test('two history calls of different budgets do not share a window either', async () => {
		const seen = await together(freshStore(), 'messageHistory.deleteBeforeTime', 'messageHistory.deleteByIds');

		const byTime = seen.filter((r) => r.path.includes('/time?')).map((r) => r.at);
		const byIds = seen.filter((r) => r.path.includes('msgIdList=')).map((r) => r.at);
		expect(Math.abs(byIds[0] - byTime[0])).toBeLessThan(100);
		expect(new Set(byTime.map(utcSecond)).size).toBe(3);
		expect(new Set(byIds.map(utcSecond)).size).toBe(3);
	});

	test('two executions of the same history call share its budget: 6 requests at 1 per second, one after another', async () => {
		const seen = await together(freshStore(), 'messageHistory.deleteAllForUser', 'messageHistory.deleteAllForUser');

		const times = seen.map((r) => r.at).sort((a, b) => a - b);
		expect(times).toHaveLength(6);
		expect(new Set(times.map(utcSecond)).size).toBe(6);
	});
});

describe("an operation's hints do not appear in another's messages", () => {
	const GENERIC = 'Check the fields against the Easemob REST API documentation';

	async function messageFor(operation: string, status: number, body: object) {
		tokenEndpoint();
		nock(HOST).delete(() => true).reply(status, body);
		nock(HOST).post(/\/rest\/message\/roaming\//).reply(status, body);
		const error = await failure(runNode({ store: freshStore(), parameters: OPERATIONS[operation]({ maxAttempts: 1 }), items: [{ username: 'u1' }] }));
		return `${error.message}\n${(error as Error & { description?: string }).description}`;
	}

	test.each<[string, string, string, RegExp]>([
		['conversation.delete', ...ROAMING_ERRORS.roamingOff, /message roaming/i],
		['conversation.delete', ...ROAMING_ERRORS.moreThan50, /50/],
		['messageHistory.deleteAllForUser', 'invalid_request_body', 'Request body is invalid. Please check body is correct.', /Channel|Delete Roaming/],
		['messageHistory.deleteByIds', 'illegal_argument', 'field channel cannot be null or empty', /Correct the field Easemob names/],
		['messageHistory.deleteAllForUser', ...ROAMING_ERRORS.moreThan50, /at most 50/],
	])('%s answered 400 %s "%s": the common words, nothing matching %s', async (operation, type, text, foreign) => {
		const message = await messageFor(operation, 400, errorBody(type, text));

		expect(message.startsWith(`Easemob answered 400 ${type}: ${text.replace(/\.$/, '')}. ${GENERIC}\n`)).toBe(true);
		expect(message.split('\n')[1]).not.toMatch(foreign);
	});

	test.each([
		['conversation.delete', FIXES.rateLimit],
		['messageHistory.deleteAllForUser', FIXES.historyRateLimit],
		['messageHistory.deleteBeforeTime', FIXES.historyRateLimit],
		['messageHistory.deleteByIds', FIXES.historyRateLimit],
	])("%s's 429 names its own budget", async (operation, fix) => {
		const message = await messageFor(operation, 429, errorBody('reach_limit', 'This request has reached api limit'));

		expect(message.split('\n')[0]).toBe(`Easemob answered 429 reach_limit: This request has reached api limit. ${fix}`);
	});
});
