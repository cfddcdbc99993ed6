import nock from 'nock';
import type { INodeParameters } from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';

import { appName, appPath, deleteEndpoint, deleteOkBody, errorBody, freshStore, HOST, tokenEndpoint } from './helpers/easemob';
import { drive, useFakeClock } from './helpers/clock';
import { FIXES } from './helpers/messages';
import { CredentialStore, failure, runCredentialTest, runNode } from './helpers/n8n';
import { startSandbox } from './sandbox/server';

const params: INodeParameters = { resource: 'conversation', operation: 'delete', username: 'u1', channel: 'u2' };

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

describe('EasemobApi credential: where requests go', () => {
	test.each([
		['a1.easemob.com', 'https://a1.easemob.com'],
		['  a1.easemob.com  ', 'https://a1.easemob.com'],
		['https://a1.easemob.com/', 'https://a1.easemob.com'],
		['HTTPS://A61.EASEMOB.COM', 'https://a61.easemob.com'],
		['http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
		['http://127.0.0.1:8080/', 'http://127.0.0.1:8080'],
		['a41.chat.agora.io:443', 'https://a41.chat.agora.io'],
	])('host %j → %s', async (host, origin) => {
		const token = nock(origin).post(`${appPath()}/token`).reply(200, { access_token: 'YWMtT', expires_in: 10 });
		const del = nock(origin).delete(`${appPath()}/users/u1/user_channel`).reply(200, deleteOkBody('u1'));

		await runNode({ store: freshStore({ host }), parameters: params });

		expect(token.isDone()).toBe(true);
		expect(del.isDone()).toBe(true);
	});

	test.each([
		['', "The credential's Host is empty"],
		['ftp://a1.easemob.com', "The credential's Host must use https:// or http://, not ftp:"],
		['javascript://alert(1)', "The credential's Host must use https:// or http://, not javascript:"],
		['javascript:alert(1)', 'is not a valid host name'],
		['a1.easemob.com/other-org', 'must be a host name only'],
		['https://a1.easemob.com/org/app', 'must be a host name only'],
		['https://a1.easemob.com?x=1', 'must be a host name only'],
		['https://a1.easemob.com#x', 'must be a host name only'],
		['https://user:pw@a1.easemob.com', 'must be a host name only'],
		['a1.easemob.com:99999', 'is not a valid host name'],
		['exa mple.com', 'is not a valid host name'],
	])('host %j is refused before any request: %s', async (host, message) => {
		const error = await failure(runNode({ store: freshStore({ host }), parameters: params }));

		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.message).toContain(message);
		expect((error as NodeApiError).context.itemIndex).toBe(0);
	});

	test.each([
		['orgName', 'org/other', 'Org Name'],
		['orgName', '..', 'Org Name'],
		['orgName', '', 'Org Name'],
		['appName', 'app?x', 'App Name'],
		['appName', 'my app', 'App Name'],
		['appName', '应用', 'App Name'],
	])('%s %j is refused before any request', async (name, value, label) => {
		const error = await failure(runNode({ store: freshStore({ [name]: value }), parameters: params }));

		expect(error.message).toContain(`The credential's ${label} "${value}" is not valid`);
	});
});

describe('EasemobApi credential: the app token', () => {
	test.each([
		[{ ttlMode: 'console' }, undefined],
		[{ ttlMode: 'custom', ttlSeconds: 0 }, 0],
		[{ ttlMode: 'custom', ttlSeconds: 3600 }, 3600],
	])('%j sends ttl %p', async (data, ttl) => {
		const token = tokenEndpoint();
		deleteEndpoint();
		const store = freshStore(data);

		await runNode({ store, parameters: params });

		const expected: Record<string, unknown> = {
			grant_type: 'client_credentials',
			client_id: store.data.clientId,
			client_secret: store.data.clientSecret,
		};
		if (ttl !== undefined) expected.ttl = ttl;
		expect(token.seen[0].body).toEqual(expected);
	});

	test('is kept with the credential: two executions, one token request', async () => {
		const token = tokenEndpoint('YWMtKept', 2);
		const del = deleteEndpoint(undefined, 2);
		const store = freshStore();

		await runNode({ store, parameters: params });
		await runNode({ store, parameters: params });

		expect(token.seen).toHaveLength(1);
		expect(store.data.appToken).toBe('YWMtKept');
		expect(del.seen.map((r) => r.headers.authorization)).toEqual(['Bearer YWMtKept', 'Bearer YWMtKept']);
	});

	test('a 401 fetches exactly one new token and sends the request again with it', async () => {
		const store = freshStore({ appToken: 'YWMtExpired' });
		const token = tokenEndpoint('YWMtRenewed');
		const del = deleteEndpoint(() =>
			del.seen.length === 1
				? [401, errorBody('unauthorized', 'Unable to authenticate due to expired access token')]
				: [200, deleteOkBody('u1')],
		2);

		const output = await runNode({ store, parameters: params });

		expect(token.seen).toHaveLength(1);
		expect(del.seen.map((r) => r.headers.authorization)).toEqual(['Bearer YWMtExpired', 'Bearer YWMtRenewed']);
		expect(store.data.appToken).toBe('YWMtRenewed');
		expect(output[0].json.deleted).toBe(true);
	});

	test('a 401 that persists after the new token ends in a clear error, not a loop', async () => {
		const token = tokenEndpoint('YWMtRenewed', 5);
		const del = deleteEndpoint(() => [401, errorBody('unauthorized', 'Unable to authenticate due to expired access token')], 5);

		const error = await failure(runNode({ store: freshStore({ appToken: 'YWMtRevoked' }), parameters: params }));

		expect(error.message).toBe(`Easemob answered 401 unauthorized: Unable to authenticate due to expired access token. ${FIXES.unauthorized}`);
		expect(token.seen).toHaveLength(1);
		expect(del.seen).toHaveLength(2);
	});

	test('executions that find no token at the same time share one token request', async () => {
		const token = tokenEndpoint('YWMtShared', 3);
		const del = deleteEndpoint(undefined, 3);
		const first = freshStore();
		const others = [1, 2].map(() => freshStore({ clientId: first.data.clientId }));

		await Promise.all([first, ...others].map(async (store) => await runNode({ store, parameters: params })));

		expect(token.seen).toHaveLength(1);
		expect(del.seen.map((r) => r.headers.authorization)).toEqual(Array(3).fill('Bearer YWMtShared'));
	});

	test('an answer without an access token is an error, not a token', async () => {
		nock(HOST).post(`${appPath()}/token`).reply(200, { expires_in: 10 });

		const error = await failure(runNode({ store: freshStore(), parameters: params }));

		expect(error.message).toMatch(/^Easemob answered the token request without an access token/);
	});
});

const expiredAnswer = errorBody('unauthorized', 'Unable to authenticate due to expired access token');
const manyItems = (count: number, from = 0) => Array.from({ length: count }, (_, i) => ({ username: `u${from + i}` }));
const manyParams: INodeParameters = {
	...params,
	username: '={{ $json.username }}',
	options: { appRateLimit: 0, userRateLimit: 0, concurrency: 10 },
};

/**
 * Answers deletes, refusing `refused` tokens with 401 after `delayMs(refused, refusals so far)`, and
 * records the token each delete carried.
 */
function deletes(refused: (token: string) => boolean, delayMs: (isRefused: boolean, refusals: number) => number) {
	const seen: string[] = [];
	nock(HOST)
		.delete(() => true)
		.times(Infinity)
		.reply(function (_path, _body, callback) {
			const token = String(this.req.headers.authorization).replace('Bearer ', '');
			seen.push(token);
			const isRefused = refused(token);
			const answer: [number, nock.Body] = isRefused ? [401, expiredAnswer] : [200, deleteOkBody('u')];
			setTimeout(() => callback(null, answer), delayMs(isRefused, seen.filter(refused).length));
		});
	return seen;
}

describe('EasemobApi credential: a token that expires while many requests use it', () => {
	// The first refusal comes at once, later ones after 300 ms, when the new token has long arrived (a busy Easemob).
	const busyDeletes = (refused: (token: string) => boolean) =>
		deletes(refused, (isRefused, refusals) => (isRefused && refusals > 1 ? 300 : 0));

	test('20 concurrent items after an expiry make exactly one token request, and every item is deleted', async () => {
		const token = tokenEndpoint('YWMtRenewed', 5);
		const seen = busyDeletes((t) => t === 'YWMtExpired');

		const output = await runNode({ store: freshStore({ appToken: 'YWMtExpired' }), parameters: manyParams, items: manyItems(20) });

		expect(token.seen).toHaveLength(1);
		expect(output.map((o) => o.json.deleted)).toEqual(Array(20).fill(true));
		// Only the requests already on their way carried the expired token.
		expect(seen.filter((t) => t === 'YWMtExpired')).toHaveLength(10);
	});

	test('two processes sharing the credential record: one token request each after an expiry', async () => {
		const token = tokenEndpoint('YWMtRenewed', 5);
		busyDeletes((t) => t === 'YWMtExpired');
		const store = freshStore({ appToken: 'YWMtExpired' });
		// Each process has its own module state, as n8n workers do; the store stands for the database.
		const workers: Array<typeof import('./helpers/n8n')> = [];
		for (let i = 0; i < 2; i++) jest.isolateModules(() => workers.push(require('./helpers/n8n')));

		const outputs = await Promise.all(
			workers.map(async (worker) => await worker.runNode({ store, parameters: manyParams, items: manyItems(20) })),
		);

		expect(token.seen).toHaveLength(2);
		expect(outputs.flat().map((o) => o.json.deleted)).toEqual(Array(40).fill(true));
		// Loading n8n-core once more per process takes seconds.
	}, 60_000);

	test('a refused token another worker stored: a new token, never the process\'s own older one', async () => {
		const own = tokenEndpoint('YWMtOwn', 1);
		let ended = false;
		const seen = busyDeletes((t) => ended && (t === 'YWMtOwn' || t === 'YWMtOtherWorker'));
		const store = freshStore();
		await runNode({ store, parameters: manyParams, items: manyItems(1) });
		// Another worker renewed the token in the database; then Easemob ended both.
		store.data.appToken = 'YWMtOtherWorker';
		ended = true;
		const renewed = tokenEndpoint('YWMtRenewed', 5);

		const output = await runNode({ store, parameters: manyParams, items: manyItems(20) });

		expect(own.seen).toHaveLength(1);
		expect(renewed.seen).toHaveLength(1);
		expect(output.map((o) => o.json.deleted)).toEqual(Array(20).fill(true));
		expect(seen.slice(1)).not.toContain('YWMtOwn');
	});

});

describe('EasemobApi credential: tokens on the fake clock', () => {
	useFakeClock();
	const evenDeletes = (refused: (token: string) => boolean, latencyMs: number) => deletes(refused, () => latencyMs);

	test('a token Easemob keeps refusing: at most one new token per second, and every item ends with its 401', async () => {
		const token = tokenEndpoint('YWMtRenewed', 50);
		const seen = evenDeletes(() => true, 0);
		const startedAt = Date.now();

		const output = await drive(
			runNode({ store: freshStore({ appToken: 'YWMtRevoked' }), parameters: manyParams, items: manyItems(30), continueOnFail: true }),
		);

		expect(output.map((o) => o.json.error)).toEqual(
			Array(30).fill(`Easemob answered 401 unauthorized: Unable to authenticate due to expired access token. ${FIXES.unauthorized}`),
		);
		// One for the revoked token, then none for a second: the run takes less on a quiet machine.
		expect(token.seen.length).toBeGreaterThanOrEqual(1);
		expect(token.seen.length).toBeLessThanOrEqual(1 + Math.floor((Date.now() - startedAt) / 1000));
		// n8n sends each once more with the new token; once more at most if a newer one came meanwhile.
		expect(seen.length).toBeGreaterThanOrEqual(60);
		expect(seen.length).toBeLessThanOrEqual(30 * 4);
	}, 60_000);

	test('an 8 s token lifetime over a 20 s run of two executions: no item fails, one new token per expiry', async () => {
		const expiresAt = new Map<string, number>();
		const issuedAt: number[] = [];
		nock(HOST)
			.post(`${appPath()}/token`)
			.times(Infinity)
			.reply(() => {
				const token = `YWMt${issuedAt.length}`;
				issuedAt.push(Date.now());
				expiresAt.set(token, Date.now() + 8000);
				return [200, { access_token: token, expires_in: 8 }];
			});
		evenDeletes((token) => !(Date.now() < (expiresAt.get(token) ?? 0)), 20);
		const store = freshStore();
		const paced: INodeParameters = { ...manyParams, options: { appRateLimit: 5, userRateLimit: 0 } };
		const later = async () => {
			await new Promise((resolve) => setTimeout(resolve, 5000));
			return await runNode({ store, parameters: paced, items: manyItems(50, 50) });
		};

		const outputs = await drive(Promise.all([runNode({ store, parameters: paced, items: manyItems(50) }), later()]));

		expect(outputs.flat().map((o) => o.json.deleted)).toEqual(Array(100).fill(true));
		expect(issuedAt.length).toBeGreaterThanOrEqual(3);
		for (let k = 1; k < issuedAt.length; k++) expect(issuedAt[k] - issuedAt[k - 1]).toBeGreaterThanOrEqual(7000);
	}, 60_000);
});

describe('EasemobApi credential: the credential test', () => {
	// n8n's credential tester shows the error's own message when its cause carries neither an HTTP
	// response nor a network code; these tests hold the credential to that.
	function expectShownAsIs(error: Error & { cause?: unknown }, message: string | RegExp) {
		expect(error.message).toMatch(message);
		const cause = error.cause as { response?: unknown; code?: unknown } | undefined;
		expect(cause?.response).toBeUndefined();
		expect(cause?.code).toBeUndefined();
	}

	test('fetches a token and makes one authenticated call', async () => {
		const token = tokenEndpoint('YWMtTested');
		const list = nock(HOST)
			.get(`${appPath()}/users`)
			.query({ limit: '1' })
			.matchHeader('authorization', 'Bearer YWMtTested')
			.reply(200, { entities: [{ username: 'u1' }], count: 1 });

		await runCredentialTest(freshStore());

		expect(token.seen).toHaveLength(1);
		expect(list.isDone()).toBe(true);
	});

	test('a wrong client ID or secret (400 invalid_grant) is named as such', async () => {
		nock(HOST).post(`${appPath()}/token`).reply(400, errorBody('invalid_grant', 'client_secret does not match'));

		const error = await failure(runCredentialTest(freshStore()));

		expectShownAsIs(
			error,
			`Easemob rejected the Client ID or Client Secret for demo-org/${appName()} on a1.easemob.com (400 invalid_grant client_secret does not match). Copy both again from the app's details in the Easemob console.`,
		);
	});

	test('a wrong org or app (404 organization_application_not_found) is named as such', async () => {
		nock(HOST)
			.post(`${appPath()}/token`)
			.reply(
				404,
				errorBody(
					'organization_application_not_found',
					`Could not find application for demo-org/${appName()} from URI: demo-org/${appName()}/token`,
				),
			);

		const error = await failure(runCredentialTest(freshStore()));

		expect(error.message).toContain(`Easemob has no app demo-org/${appName()} on a1.easemob.com (404 organization_application_not_found`);
		expectShownAsIs(error, /\)\. Check the Org Name and App Name/);
	});

	test('an unreachable host is named as such', async () => {
		nock.enableNetConnect('127.0.0.1');
		const error = await failure(runCredentialTest(freshStore({ host: 'http://127.0.0.1:1' })));
		nock.disableNetConnect();

		expectShownAsIs(
			error,
			"Could not reach the Easemob host http://127.0.0.1:1 to get an app token: the connection was refused. Check the credential's Host and that n8n can reach it.",
		);
	});

	test('a host name that does not resolve is named as such', async () => {
		nock.enableNetConnect('easemob.invalid');
		const error = await failure(runCredentialTest(freshStore({ host: 'easemob.invalid' })));
		nock.disableNetConnect();

		expectShownAsIs(error, /^Could not reach the Easemob host easemob\.invalid to get an app token: the host name (does not resolve|could not be looked up right now)\./);
	});
});

describe('EasemobApi credential: the credential test against the local sandbox', () => {
	test('passes with the values npm run sandbox prints, and names a wrong secret', async () => {
		nock.enableNetConnect('127.0.0.1');
		const sandbox = await startSandbox();
		const values = {
			host: sandbox.url,
			orgName: sandbox.orgName,
			appName: sandbox.appName,
			clientId: sandbox.clientId,
			clientSecret: sandbox.clientSecret,
		};
		try {
			await runCredentialTest(new CredentialStore(values));
			const error = await failure(runCredentialTest(new CredentialStore({ ...values, clientSecret: 'YXA6-wrong' })));
			expect(error.message).toMatch(/^Easemob rejected the Client ID or Client Secret/);
			expect(sandbox.requests().map((r) => [r.method, r.path.split('?')[0], r.status])).toEqual([
				['POST', '/demo-org/demo-app/token', 200],
				['GET', '/demo-org/demo-app/users', 200],
				['POST', '/demo-org/demo-app/token', 400],
			]);
		} finally {
			await sandbox.close();
			nock.disableNetConnect();
		}
	});
});
