/**
 * Pacing, concurrency and retries, on n8n-core's real HTTP helpers with nock, under jest's fake
 * clock: every wait in the node is n8n-workflow's `sleep`, so virtual time shows the schedule.
 */
import nock from 'nock';
import type { IDataObject, INodeParameters } from 'n8n-workflow';

import { drive, perUtcSecond, useFakeClock, utcSecond } from './helpers/clock';
import { appPath, deleteOkBody, errorBody, freshStore, HOST } from './helpers/easemob';
import { FIXES } from './helpers/messages';
import type { CredentialStore } from './helpers/n8n';
import { runNode } from './helpers/n8n';
import { backoffMs } from '../nodes/Easemob/transport';

const STEP_MS = 10;

beforeAll(() => nock.disableNetConnect());
useFakeClock();
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

interface Sent {
	at: number;
	username: string;
	channel: string;
}

/**
 * Answers the token request, then every delete with `answer(sent, n)` (n counts deletes from 1)
 * after `latencyMs` of virtual time, recording when each request arrived.
 */
function easemob(answer: (sent: Sent, n: number) => [number, unknown, Record<string, string>?] = (sent) => [200, deleteOkBody(sent.username)], latencyMs = 0) {
	const sent: Sent[] = [];
	let inFlight = 0;
	let maxInFlight = 0;
	nock(HOST).post(`${appPath()}/token`).reply(200, { access_token: 'YWMtT', expires_in: 3600 });
	nock(HOST)
		.delete(() => true)
		.times(Infinity)
		.reply((path, body, callback) => {
			const request: Sent = {
				at: Date.now(),
				username: decodeURIComponent(path.split('/')[4]),
				channel: (body as { channel: string }).channel,
			};
			sent.push(request);
			const [status, reply, headers] = answer(request, sent.length);
			inFlight += 1;
			maxInFlight = Math.max(maxInFlight, inFlight);
			setTimeout(() => {
				inFlight -= 1;
				callback(null, [status, reply as IDataObject, headers ?? {}]);
			}, latencyMs);
		});
	return { sent, maxInFlight: () => maxInFlight };
}

function execution(items: IDataObject[], options: IDataObject, extra: { store?: CredentialStore } = {}) {
	const parameters: INodeParameters = {
		resource: 'conversation',
		operation: 'delete',
		username: '={{ $json.username }}',
		channel: '={{ $json.channel }}',
		// A timeout far beyond any wait here, so the jumping clock can never fire it by mistake.
		options: { includeAttempts: true, timeout: 100_000, ...options },
	};
	return runNode({ parameters, items, store: extra.store ?? freshStore() }).then(
		(output) => ({ output, error: undefined }),
		(error: Error) => ({ output: undefined, error }),
	);
}

async function run(items: IDataObject[], options: IDataObject) {
	const startedAt = Date.now();
	const result = await drive(execution(items, options));
	return { ...result, startedAt, endedAt: Date.now() };
}

function items(count: number, username: (i: number) => string): IDataObject[] {
	return Array.from({ length: count }, (_, i) => ({ username: username(i), channel: `c${i}` }));
}

describe('pacing', () => {
	test("at most App Rate Limit requests count in each UTC second, from arrival to 20 ms after the answer; each second's leave spaced out, from 20 ms into it", async () => {
		const latencyMs = 50;
		const api = easemob(undefined, latencyMs);

		const { output, startedAt } = await run(items(16, (i) => `user${i}`), { appRateLimit: 5, userRateLimit: 0 });

		expect(output).toHaveLength(16);
		const times = api.sent.map((s) => s.at);
		// A request counts in every second Easemob may have seen it in, clocks 20 ms apart.
		const counted = perUtcSecond(times, latencyMs + 20);
		expect(Math.max(...counted)).toBeLessThanOrEqual(5);
		// Not five at once: spread over the part of the second whose answers come back within it, which
		// is never less than half of it, so at least 100 ms apart; after a full second, from 20 ms into
		// the next, once it has begun on both clocks. (A request seen late only seems later.)
		const counts = perUtcSecond(times);
		const second = (at: number) => utcSecond(at) - utcSecond(times[0]);
		for (const [k, at] of times.entries()) {
			const before = times.slice(0, k).filter((earlier) => second(earlier) === second(at)).length;
			if (second(at) === 0) expect(at - startedAt).toBeGreaterThanOrEqual(100 * before);
			else if (counts[second(at) - 1] === 5) expect(at - (utcSecond(at) * 1000 + 20)).toBeGreaterThanOrEqual(100 * before);
		}
		// Every second between the first and the last is used up, each as soon as it begins: a request
		// need not wait a second after the answer to the one five places before it.
		expect(counted.slice(1, -1)).toEqual(Array(counted.length - 2).fill(5));
		const sinceAnswerFiveBefore = times.slice(5).map((at, k) => at - (times[k] + latencyMs));
		expect(Math.min(...sinceAnswerFiveBefore)).toBeLessThan(1000);
	});

	test('a user at the window limit waits; other users go ahead', async () => {
		const api = easemob();
		const list = [...items(7, () => 'alice'), { username: 'bob', channel: 'b0' }];

		const { output } = await run(list, { appRateLimit: 0, userRateLimit: 3, userRateWindow: 1 });

		const alice = api.sent.filter((s) => s.username === 'alice').map((s) => s.at);
		const bob = api.sent.find((s) => s.username === 'bob')!;
		// 3 per 1 s window, counted over 1.02 s.
		expect(alice[3] - alice[0]).toBeGreaterThanOrEqual(1020);
		expect(alice[6] - alice[3]).toBeGreaterThanOrEqual(1020);
		expect(alice[2] - alice[0]).toBeLessThan(1020);
		expect(bob.at).toBeLessThan(alice[3]);
		// Still one output per input, in input order, although bob's went first.
		expect(output!.map((o) => [o.json.username, o.json.channel, o.pairedItem])).toEqual(
			list.map((item, i) => [item.username, item.channel, { item: i }]),
		);
		expect(output![7].json.waitedMs).toBeLessThan(100);
		expect(output![6].json.waitedMs).toBeGreaterThanOrEqual(2040);
	});

	test('executions running at the same time share the pace of the same app', async () => {
		const api = easemob();
		const store = freshStore();

		await drive(
			Promise.all([
				execution(items(3, (i) => `a${i}`), { appRateLimit: 2, userRateLimit: 0 }, { store }),
				execution(items(3, (i) => `b${i}`), { appRateLimit: 2, userRateLimit: 0 }, { store }),
			]),
		);

		expect(new Set(api.sent.map((s) => s.username)).size).toBe(6);
		// Two per second between both executions, not two per second each.
		expect(Math.max(...perUtcSecond(api.sent.map((s) => s.at), 20))).toBe(2);
	});

	test('the pace is per app, not per spelling of its Host: a1.easemob.com and https://a1.easemob.com/ share one', async () => {
		const api = easemob();
		nock(HOST).post(`${appPath()}/token`).reply(200, { access_token: 'YWMtT2', expires_in: 3600 });

		await drive(
			Promise.all([
				execution(items(3, (i) => `a${i}`), { appRateLimit: 2, userRateLimit: 0 }, { store: freshStore({ host: 'a1.easemob.com' }) }),
				execution(items(3, (i) => `b${i}`), { appRateLimit: 2, userRateLimit: 0 }, {
					store: freshStore({ host: 'https://a1.easemob.com/' }),
				}),
			]),
		);

		expect(new Set(api.sent.map((s) => s.username)).size).toBe(6);
		expect(Math.max(...perUtcSecond(api.sent.map((s) => s.at), 20))).toBe(2);
	});

	test('limits set to 0 send at once, bounded only by Requests in Parallel', async () => {
		const api = easemob(undefined, 100);

		const { error, startedAt, endedAt } = await run(items(12, () => 'carol'), {
			appRateLimit: 0,
			userRateLimit: 0,
			concurrency: 4,
		});

		expect(error).toBeUndefined();
		expect(api.sent).toHaveLength(12);
		expect(api.maxInFlight()).toBe(4);
		// 12 requests, 4 at a time, 100 ms each.
		expect(endedAt - startedAt).toBeLessThan(400 + 15 * STEP_MS);
	});

	test('answers arriving out of order still give outputs in input order', async () => {
		let n = 0;
		const answeredAt: Record<string, number> = {};
		nock(HOST).post(`${appPath()}/token`).reply(200, { access_token: 'YWMtT' });
		nock(HOST)
			.delete(() => true)
			.times(5)
			.reply((path, _body, callback) => {
				n += 1;
				const username = decodeURIComponent(path.split('/')[4]);
				setTimeout(() => {
					answeredAt[username] = Date.now();
					callback(null, [200, deleteOkBody(username)]);
				}, (6 - n) * 100);
			});

		const { output } = await run(items(5, (i) => `u${i}`), { appRateLimit: 0, userRateLimit: 0 });

		expect(answeredAt.u4).toBeLessThan(answeredAt.u0);
		expect(output!.map((o) => [o.json.username, o.pairedItem])).toEqual(
			[0, 1, 2, 3, 4].map((i) => [`u${i}`, { item: i }]),
		);
	});
});

describe('retries', () => {
	test('the backoff doubles from about 1 s, with jitter between half and all of it, up to 30 s', () => {
		expect([1, 2, 3, 4, 5, 6, 7].map((attempt) => backoffMs(attempt, () => 0))).toEqual([
			500, 1000, 2000, 4000, 8000, 15000, 15000,
		]);
		expect([1, 2, 3, 4, 5, 6, 7].map((attempt) => backoffMs(attempt, () => 1))).toEqual([
			1000, 2000, 4000, 8000, 16000, 30000, 30000,
		]);
	});

	test('429 reach_limit for a lone user: sent again in the next second, then only a full user window after each 429', async () => {
		const api = easemob((sent, n) =>
			n < 4 ? [429, errorBody('reach_limit', 'This request has reached api limit')] : [200, deleteOkBody(sent.username)],
		);

		const { output } = await run(items(1, () => 'u1'), {});

		const times = api.sent.map((s) => s.at);
		expect(times).toHaveLength(4);
		// The first 429 could be the app's: the next second starts a new app window.
		expect(times[1]).toBe((utcSecond(times[0]) + 1) * 1000);
		// Another one says the user's window is full (elsewhere): 60 s × 1.02 after each.
		expect(times[2] - times[1]).toBeGreaterThanOrEqual(61_200);
		expect(times[2] - times[1]).toBeLessThanOrEqual(61_200 + 2 * STEP_MS);
		expect(times[3] - times[2]).toBeGreaterThanOrEqual(61_200);
		// Those two count as attempts, the first did not: 3 of 5 attempts used, and no Max Retry Wait.
		expect(output![0].json).toMatchObject({ deleted: true, attempts: 4 });
		expect(output![0].json.waitedMs).toBeGreaterThanOrEqual(2 * 61_200);
	});

	test("Easemob's Retry-After is honoured", async () => {
		const api = easemob((sent, n) =>
			n === 1
				? [429, errorBody('reach_limit', 'This request has reached api limit'), { 'Retry-After': '7' }]
				: [200, deleteOkBody(sent.username)],
		);

		await run(items(1, () => 'u1'), {});

		expect(api.sent[1].at - api.sent[0].at).toBeGreaterThanOrEqual(7000);
		expect(api.sent[1].at - api.sent[0].at).toBeLessThanOrEqual(7000 + 2 * STEP_MS);
	});

	test.each([500, 502, 503, 504])('%i is retried', async (status) => {
		const api = easemob((sent, n) => (n === 1 ? [status, errorBody('server_error', 'boom')] : [200, deleteOkBody(sent.username)]));

		const { output } = await run(items(1, () => 'u1'), {});

		expect(api.sent).toHaveLength(2);
		expect(output![0].json.attempts).toBe(2);
	});

	test.each([
		[429, 'resource_limited', 'You have exceeded the limit of the Free edition', "The app's Easemob plan quota for this is used up: retrying will not help until the plan allows more"],
		[400, 'illegal_argument', 'field channel cannot be null or empty', 'Correct the field Easemob names'],
		[401, 'unauthorized', 'Unable to authenticate due to expired access token', FIXES.unauthorized],
		[403, 'forbidden_op', 'forbidden', 'Easemob does not allow this for the app: enable the feature for it in the Easemob console'],
		[404, 'service_resource_not_found', 'Service resource not found', FIXES.unknownUser],
	])('%i %s is not retried', async (status, type, description, fix) => {
		const api = easemob(() => [status, errorBody(type, description)]);
		if (status === 401) nock(HOST).post(`${appPath()}/token`).reply(200, { access_token: 'YWMtT2' });

		const { error } = await run(items(1, () => 'u1'), {});

		expect(error!.message).toBe(`Easemob answered ${status} ${type}: ${description}. ${fix}`);
		// A 401 is sent again once by n8n itself, with a new token.
		expect(api.sent).toHaveLength(status === 401 ? 2 : 1);
	});

	test('Max Attempts ends the retries with a message naming the limit', async () => {
		const api = easemob(() => [503, errorBody('service_unavailable', 'busy')]);

		const { error } = await run(items(1, () => 'u1'), { maxAttempts: 3 });

		expect(api.sent).toHaveLength(3);
		expect(error!.message).toMatch(
			/^Easemob answered 503 service_unavailable: busy\. A problem on Easemob's side: try again later\. Stopped after 3 attempts over \d+(\.\d)? s because Max Attempts \(3\) was reached; to keep trying for longer, raise Max Attempts or Max Retry Wait in the node's Options$/,
		);
		expect((error as Error & { description: string }).description).toMatch(/raise Max Attempts or Max Retry Wait/);
	});

	test('429 reach_limit for a lone user until Max Attempts: 3 sent (the first 429 uncounted), the whole message', async () => {
		const api = easemob(() => [429, errorBody('reach_limit', 'This request has reached api limit')]);

		const { error } = await run(items(1, () => 'u1'), { maxAttempts: 2 });

		expect(api.sent).toHaveLength(3);
		// The time waited depends on the backoff's jitter.
		expect(error!.message.replace(/ over \d+(\.\d)? s /, ' over … s ')).toBe(
			`Easemob answered 429 reach_limit: This request has reached api limit. ${FIXES.rateLimit}. ` +
				'Stopped after 3 attempts (2 counted; 429s the pace answers for are not) over … s ' +
				`because Max Attempts (2) was reached; ${FIXES.keepTrying}`,
		);
	});

	test('Max Retry Wait ends the retries before a wait that would pass it', async () => {
		const api = easemob(() => [429, errorBody('reach_limit', 'This request has reached api limit'), { 'Retry-After': '90' }]);

		const { error, startedAt, endedAt } = await run(items(1, () => 'u1'), { maxRetryWait: 60 });

		expect(api.sent).toHaveLength(1);
		expect(endedAt - startedAt).toBeLessThan(1000);
		expect(error!.message).toMatch(/\. Stopped after 1 attempt over 0 s because waiting again would pass Max Retry Wait \(60 s\); to keep trying/);
	});

	test('the total retry wait is bounded: backoffs stop before passing Max Retry Wait', async () => {
		const api = easemob(() => [500, errorBody('server_error', 'boom')]);

		const { error, startedAt, endedAt } = await run(items(1, () => 'u1'), { maxAttempts: 50, maxRetryWait: 10 });

		expect(endedAt - startedAt).toBeLessThanOrEqual(10_000 + 10 * STEP_MS);
		expect(api.sent.length).toBeGreaterThanOrEqual(3);
		expect(error!.message).toMatch(/waiting again would pass Max Retry Wait \(10 s\)/);
	});

	test('without continue-on-fail, the first failure stops items still waiting for their turn', async () => {
		const api = easemob((sent) =>
			sent.channel === 'c0' ? [404, errorBody('service_resource_not_found', 'Service resource not found')] : [200, deleteOkBody(sent.username)],
		);

		const { error, startedAt, endedAt } = await run(items(8, () => 'dave'), { userRateLimit: 2, userRateWindow: 60 });

		expect(error!.message).toBe(`Easemob answered 404 service_resource_not_found: Service resource not found. ${FIXES.unknownUser}`);
		// c1 may or may not have been sent before c0's answer came; none waiting for the window was.
		expect(api.sent.length).toBeLessThanOrEqual(2);
		expect(endedAt - startedAt).toBeLessThan(1500);
	});
});
