/**
 * The transport follows what a call declares (its budget, whether a request whose answer was lost
 * may be sent again, how Easemob says success) without knowing the operation. Driven directly with
 * declarations no operation of the node makes, on n8n-core's real HTTP helpers with nock; the pace
 * under jest's fake clock. The operations' own declarations are asserted in their test files.
 */
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import nock from 'nock';

import { drive, useFakeClock, utcSecond } from './helpers/clock';
import { appName, appPath, freshStore, HOST, tokenEndpoint } from './helpers/easemob';
import type { CredentialStore } from './helpers/n8n';
import { failure, nodeContext } from './helpers/n8n';
import type { EasemobCall, EasemobRequest, RequestPolicy } from '../nodes/Easemob/transport';
import { EasemobClient } from '../nodes/Easemob/transport';
import { ENVELOPE, REQUEST_STATUS_OK, RESULT_OK } from '../nodes/Easemob/transport/call';

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

const POLICY: RequestPolicy = {
	appPerSecond: 0,
	userLimit: 0,
	userWindowMs: 0,
	concurrency: 10,
	maxAttempts: 5,
	maxRetryWaitMs: 120_000,
	timeoutMs: 100_000,
};

const ONCE_ONLY: EasemobCall = {
	budget: { name: 'onceOnly', appPerSecond: 100 },
	resendAfterLostAnswer: false,
	success: ENVELOPE,
	hints: [],
};

const REQUEST: EasemobRequest = { method: 'POST', segments: ['things', 't1', 'do'] };

function client(store: CredentialStore, call: EasemobCall, policy: Partial<RequestPolicy> = {}) {
	return new EasemobClient(
		nodeContext(store),
		{ id: 'cred-1', name: 'Easemob account', type: 'easemobApi', data: store.data },
		call,
		{ ...POLICY, ...policy },
		() => false,
	);
}

/** Answers POST /things/t1/do with `answers` in turn, recording when each request came. */
function things(answers: Array<(interceptor: nock.Interceptor) => nock.Scope>) {
	const seen: number[] = [];
	const scope = nock(HOST);
	scope.on('request', () => seen.push(Date.now()));
	for (const answer of answers) answer(scope.post(`${appPath()}/things/t1/do`));
	return seen;
}

/** How the local server below answers one request. */
type Answer = 'reset' | 'silent' | [number, object | string];

/**
 * A real server on the loopback address answering POST /things/t1/do with `answers` in turn, for
 * failures that only real sockets show faithfully; records each request's arrival.
 */
async function easemobOnLoopback(answers: Answer[]) {
	const seen: string[] = [];
	const server = createServer((request, response) => {
		seen.push(`${request.method} ${request.url}`);
		const answer = answers[seen.length - 1] ?? [500, 'no answer planned'];
		if (answer === 'reset') request.socket.destroy();
		else if (answer !== 'silent') {
			const [status, body] = answer;
			response.writeHead(status, { 'Content-Type': typeof body === 'string' ? 'text/plain' : 'application/json' });
			response.end(typeof body === 'string' ? body : JSON.stringify(body));
		}
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	servers.push(server);
	// A token already stored, so that every request reaching the server is the call's own.
	const store = freshStore({ host: `http://127.0.0.1:${port}`, appToken: 'YWMtStored' });
	return { seen, store };
}

const servers: Server[] = [];
afterEach(async () => {
	for (const server of servers.splice(0)) {
		server.close();
		// Kept-alive and unanswered connections would hold the server open.
		server.closeAllConnections();
	}
});

describe('a call declared not to be sent twice', () => {
	beforeEach(() => nock.enableNetConnect('127.0.0.1'));
	afterEach(() => nock.disableNetConnect());

	test.each<[string, Answer, string]>([
		['the connection is reset', 'reset', 'Could not reach Easemob: the connection was closed before an answer came'],
		['no answer within Timeout', 'silent', 'Could not reach Easemob: no answer came in time'],
		['a gateway answers 504', [504, 'Gateway Timeout'], 'Easemob answered 504'],
	])('%s: sent once, and the message says the call may have gone through', async (_name, answer, what) => {
		const { seen, store } = await easemobOnLoopback([answer, [200, { action: 'post' }]]);

		const error = await failure(client(store, ONCE_ONLY, { timeoutMs: 500 }).send(REQUEST, 0));

		expect(seen).toEqual([`POST /demo-org/${appName()}/things/t1/do`]);
		expect(error.message).toBe(
			`${what}. The call may have gone through, so it is not sent again: check its result before running the item again`,
		);
		expect(error).toMatchObject({ transient: false });
	});

	test('503 (Easemob did nothing): sent again, and the second answer is the output', async () => {
		const { seen, store } = await easemobOnLoopback([
			[503, { error: 'service_unavailable', error_description: 'busy' }],
			[200, { action: 'post', data: { done: true } }],
		]);

		const response = await client(store, ONCE_ONLY).send(REQUEST, 0);

		expect(seen).toHaveLength(2);
		expect(response).toMatchObject({ body: { action: 'post', data: { done: true } }, attempts: 2 });
	});

	test('a refused connection (nothing was sent): tried again, up to Max Attempts', async () => {
		const { store } = await easemobOnLoopback([]);
		await new Promise((resolve) => servers.pop()!.close(resolve));

		const error = await failure(client(store, ONCE_ONLY, { maxAttempts: 2 }).send(REQUEST, 0));

		expect(error.message).toMatch(
			/^Could not reach Easemob: the connection was refused\. Check the credential's Host and that n8n can reach it; a later try may work\. Stopped after 2 attempts over [\d.]+ s because Max Attempts \(2\) was reached/,
		);
	});

	test('the same reset on a call declared safe to resend is sent again', async () => {
		const { seen, store } = await easemobOnLoopback(['reset', [200, { action: 'post' }]]);

		const response = await client(store, { ...ONCE_ONLY, resendAfterLostAnswer: true }).send(REQUEST, 0);

		expect(seen).toHaveLength(2);
		expect(response?.attempts).toBe(2);
	});
});

describe("a 2xx is a success only in the call's declared shape", () => {
	test.each([
		['data.result "ok"', RESULT_OK, { data: { result: 'ok' } }, { requestStatusCode: 'ok' }, 'data.result is null, not "ok"'],
		['requestStatusCode "ok"', REQUEST_STATUS_OK, { requestStatusCode: 'ok', timestamp: 1 }, { data: { result: 'ok' } }, 'requestStatusCode is null, not "ok"'],
		['the envelope', ENVELOPE, { action: 'get', entities: [] }, { requestStatusCode: 'ok' }, "the answer is not Easemob's usual envelope: action is null"],
	])('%s: passes its own success body, and another shape\'s success body is an error', async (_name, success, good, other, why) => {
		tokenEndpoint();
		things([(i) => i.reply(200, good), (i) => i.reply(200, other)]);
		const call = { ...ONCE_ONLY, success };
		const store = freshStore();

		const response = await client(store, call).send(REQUEST, 0);
		const error = await failure(client(store, call).send(REQUEST, 0));

		expect(response?.body).toEqual(good);
		expect(error.message).toBe(`Easemob did not confirm success (${why}). The change may not have been made: try again`);
	});
});

test('query names and values are percent-encoded one by one, in order, after the encoded path', async () => {
	tokenEndpoint();
	const seen: string[] = [];
	nock(HOST)
		.delete(() => true)
		.reply((path) => {
			seen.push(path);
			return [200, { action: 'delete' }];
		});

	await client(freshStore(), ONCE_ONLY).send(
		{ method: 'DELETE', segments: ['a b', 'c/d'], query: { userId: 'x&y=1#', 'odd name': 'ü,é', empty: '' } },
		0,
	);

	expect(seen).toEqual([`${appPath()}/a%20b/c%2Fd?userId=x%26y%3D1%23&odd%20name=%C3%BC%2C%C3%A9&empty=`]);
});

describe('the pace is kept per app and per budget', () => {
	useFakeClock();

	async function sendTwoEach(store: CredentialStore, first: EasemobCall, second: EasemobCall) {
		tokenEndpoint();
		const seen = things(Array.from({ length: 4 }, () => (i: nock.Interceptor) => i.reply(200, { action: 'post' })));
		await drive(
			Promise.all([
				...[0, 1].map(async (k) => await client(store, first, { appPerSecond: 1 }).send(REQUEST, k)),
				...[2, 3].map(async (k) => await client(store, second, { appPerSecond: 1 }).send(REQUEST, k)),
			]),
		);
		return seen.sort((a, b) => a - b);
	}

	test('two calls naming the same budget share its window: 4 requests at 1 per second go in 4 UTC seconds', async () => {
		const times = await sendTwoEach(freshStore(), ONCE_ONLY, { ...ONCE_ONLY, resendAfterLostAnswer: true });

		expect(new Set(times.map(utcSecond)).size).toBe(4);
	});

	test('two budgets of the same app do not: each sends its first request at once', async () => {
		const times = await sendTwoEach(freshStore(), ONCE_ONLY, { ...ONCE_ONLY, budget: { name: 'another', appPerSecond: 100 } });

		expect(times[1] - times[0]).toBeLessThan(100);
		expect(utcSecond(times[3])).toBeGreaterThan(utcSecond(times[0]));
	});
});
