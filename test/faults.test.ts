/**
 * Faults on real sockets, against the local sandbox: every run ends in bounded time with exactly
 * one output item per input item, in order; transient faults are retried, permanent ones are not.
 * The README's troubleshooting table states these outcomes.
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

import { FIXES } from './helpers/messages';
import { CredentialStore, runNode } from './helpers/n8n';
import type { Fault, Sandbox } from './sandbox/server';
import { startSandbox } from './sandbox/server';

const USERS = ['u1', 'u2', 'u3'];

let sandbox: Sandbox;

beforeEach(async () => {
	sandbox = await startSandbox({
		rateLimits: false,
		seed: {
			users: Object.fromEntries(USERS.map((user) => [user, { conversations: [{ channel: 'peer', type: 'chat' }] }])),
		},
	});
});
afterEach(async () => await sandbox.close());

function store(data: Partial<CredentialStore['data']> = {}) {
	return new CredentialStore({
		host: sandbox.url,
		orgName: sandbox.orgName,
		appName: sandbox.appName,
		clientId: sandbox.clientId,
		clientSecret: sandbox.clientSecret,
		...data,
	});
}

async function runAll(options: IDataObject, credentials: Partial<CredentialStore['data']> = {}) {
	const startedAt = Date.now();
	const output: INodeExecutionData[] = await runNode({
		store: store(credentials),
		continueOnFail: true,
		parameters: {
			resource: 'conversation',
			operation: 'delete',
			username: '={{ $json.username }}',
			channel: 'peer',
			options: { includeAttempts: true, ...options },
		},
		items: USERS.map((username) => ({ username })),
	});
	// One output per input, in input order, paired with it, whatever happened.
	expect(output.map((item) => item.pairedItem)).toEqual(USERS.map((_, item) => ({ item })));
	return { output: output.map((item) => item.json), seconds: (Date.now() - startedAt) / 1000 };
}

function deletesOf(username: string) {
	return sandbox.requests().filter((r) => r.method === 'DELETE' && r.path.includes(`/users/${username}/`));
}

describe('transient faults are retried', () => {
	test.each<[string, Fault, IDataObject]>([
		['500', { kind: 'status', status: 500, username: 'u1', times: 1 }, {}],
		['502', { kind: 'status', status: 502, username: 'u1', times: 1 }, {}],
		['503', { kind: 'status', status: 503, username: 'u1', times: 2 }, {}],
		['connection reset mid-request', { kind: 'reset', username: 'u1', times: 1 }, {}],
		['answer slower than the timeout', { kind: 'slow', delayMs: 5000, username: 'u1', times: 1 }, { timeout: 1 }],
		['429 reach_limit', { kind: 'reach_limit', username: 'u1', times: 1 }, {}],
	])('%s: retried until it goes through', async (_name, fault, options) => {
		sandbox.configure({ faults: [fault] });

		const { output, seconds } = await runAll(options);

		const faults = fault.times ?? 1;
		expect(output[0]).toMatchObject({ deleted: true, username: 'u1', attempts: faults + 1 });
		expect(output.slice(1).map((json) => json.attempts)).toEqual([1, 1]);
		expect(deletesOf('u1')).toHaveLength(faults + 1);
		expect(sandbox.state().users.u1.conversations).toEqual([]);
		expect(seconds).toBeLessThan(8);
	});

	test('a fault that persists ends at Max Attempts with the last answer and what to change', async () => {
		sandbox.configure({ faults: [{ kind: 'status', status: 503, username: 'u1' }] });

		const { output, seconds } = await runAll({ maxAttempts: 3 });

		expect(output[0].error).toMatch(
			/^Easemob answered 503[^.]*\. A problem on Easemob's side: try again later\. Stopped after 3 attempts over [\d.]+ s because Max Attempts \(3\) was reached; to keep trying for longer, raise Max Attempts or Max Retry Wait in the node's Options$/,
		);
		expect(output[0].statusCode).toBe(503);
		expect(deletesOf('u1')).toHaveLength(3);
		expect(output.slice(1).map((json) => json.deleted)).toEqual([true, true]);
		expect(seconds).toBeLessThan(8);
	});

	test('connection refused (wrong port): retried, then a message naming the host', async () => {
		const { output, seconds } = await runAll({ maxAttempts: 2 }, { host: 'http://127.0.0.1:1' });

		for (const json of output) {
			expect(json.error).toBe(
				"Could not reach the Easemob host http://127.0.0.1:1 to get an app token: the connection was refused. Check the credential's Host and that n8n can reach it. Stopped after 2 attempts over " +
					String(json.error).match(/over ([\d.]+) s/)![1] +
					` s because Max Attempts (2) was reached; ${FIXES.keepTrying}`,
			);
		}
		expect(seconds).toBeLessThan(8);
	});
});

describe('permanent faults are not retried', () => {
	test.each<[string, Fault, RegExp, number | undefined]>([
		['200 with malformed JSON', { kind: 'malformed-json', username: 'u1' }, /^Easemob answered with a body that is not JSON/, 200],
		['200 whose data.result is not ok', { kind: 'result-not-ok', username: 'u1' }, /^Easemob did not confirm success \(data\.result is "failed", not "ok"\)\. The change may not have been made: try again$/, 200],
		['429 resource_limited', { kind: 'resource_limited', username: 'u1' }, /^Easemob answered 429 resource_limited: /, 429],
	])('%s', async (_name, fault, message, statusCode) => {
		sandbox.configure({ faults: [fault] });

		const { output, seconds } = await runAll({});

		expect(output[0].error).toMatch(message);
		expect(output[0].statusCode).toBe(statusCode);
		expect(deletesOf('u1')).toHaveLength(1);
		expect(output.slice(1).map((json) => json.deleted)).toEqual([true, true]);
		expect(seconds).toBeLessThan(3);
	});

	test('a 401 that persists after a new token (a revoked app) ends with a clear error, not a loop', async () => {
		sandbox.configure({ faults: [{ kind: 'unauthorized', username: 'u1' }] });

		const { output, seconds } = await runAll({});

		expect(output[0].error).toBe(`Easemob answered 401 unauthorized: Unable to authenticate due to expired access token. ${FIXES.unauthorized}`);
		expect(output[0].description).toMatch(/even after n8n fetched a new one/);
		expect(deletesOf('u1')).toHaveLength(2);
		expect(sandbox.counters().tokenRequests).toBe(2);
		expect(output.slice(1).map((json) => json.deleted)).toEqual([true, true]);
		expect(seconds).toBeLessThan(3);
	});

	test('a revoked app whose token requests answer 401 too', async () => {
		sandbox.configure({ faults: [{ kind: 'unauthorized', on: 'any' }] });

		const { output, seconds } = await runAll({});

		for (const json of output) expect(json.error).toMatch(/^Easemob refused the app token request for demo-org\/demo-app on http:\/\/127\.0\.0\.1:\d+ \(401 unauthorized /);
		expect(sandbox.counters().deletes).toBe(0);
		expect(seconds).toBeLessThan(3);
	});

	test('a wrong client secret names the credential problem', async () => {
		const { output } = await runAll({}, { clientSecret: 'YXA6-wrong' });

		for (const json of output) expect(json.error).toMatch(/^Easemob rejected the Client ID or Client Secret for demo-org\/demo-app/);
		expect(sandbox.counters().deletes).toBe(0);
	});

	test('a host name that does not resolve', async () => {
		const { output, seconds } = await runAll({}, { host: 'easemob.invalid' });

		for (const json of output) expect(json.error).toMatch(/^Could not reach the Easemob host easemob\.invalid to get an app token: the host name (does not resolve|could not be looked up right now)/);
		expect(seconds).toBeLessThan(5);
	});
});
