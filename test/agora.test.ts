/**
 * Agora Chat accounts: the credential signs an AccessToken2 app token with the App Certificate,
 * sends it as the Bearer token without calling any token endpoint, keeps it with the credential
 * and signs a new one only when a request is refused.
 */
import nock from 'nock';
import type { INodeParameters } from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';

import { EasemobApi } from '../credentials/EasemobApi.credentials';
import { newAgoraAppToken } from '../credentials/agoraToken';
import { agoraStore, APP_CERTIFICATE, tokenIn, verdictFor } from './helpers/agora';
import { appPath, deleteEndpoint, deleteOkBody, errorBody, HOST } from './helpers/easemob';
import { CredentialStore, credentialTestVerdict, failure, runNode } from './helpers/n8n';
import { FIXES } from './helpers/messages';
import { startSandbox, type Sandbox } from './sandbox/server';

const params: INodeParameters = { resource: 'conversation', operation: 'delete', username: 'u1', channel: 'u2' };
const fromItems: INodeParameters = { ...params, username: '={{ $json.username }}', channel: '={{ $json.channel }}' };

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

/** The token endpoint, which an Agora credential must never call. */
function tokenEndpointNeverCalled() {
	const calls: string[] = [];
	nock(HOST)
		.post(() => true)
		.reply((path) => {
			calls.push(path);
			return [500, {}];
		})
		.persist();
	return calls;
}

const expired = () => [401, errorBody('unauthorized', 'Unable to authenticate due to expired access token')] as [number, unknown];
const badToken = () => [401, errorBody('auth_bad_access_token', 'Unable to authenticate')] as [number, unknown];

describe('EasemobApi credential: the Agora Chat fields', () => {
	const properties = new EasemobApi().properties;
	const property = (name: string) => properties.find((p) => p.name === name)!;

	test('Account Type (realm) comes first, defaults to easemob and offers easemob and agora', () => {
		expect(properties[0]).toMatchObject({ name: 'realm', displayName: 'Account Type', type: 'options', default: 'easemob' });
		expect(property('realm').options).toEqual([
			expect.objectContaining({ name: 'Easemob — Client ID and Client Secret', value: 'easemob' }),
			expect.objectContaining({ name: 'Agora Chat — App ID and App Certificate', value: 'agora' }),
		]);
	});

	test('App ID, App Certificate (a password) and Token Lifetime (3600, 60..86400) show only for agora', () => {
		for (const name of ['appId', 'appCertificate', 'agoraTokenLifetime']) {
			expect(property(name).displayOptions).toEqual({ show: { realm: ['agora'] } });
		}
		expect(property('appCertificate').typeOptions).toEqual({ password: true });
		expect(property('agoraTokenLifetime')).toMatchObject({
			default: 3600,
			typeOptions: { minValue: 60, maxValue: 86400, numberPrecision: 0 },
		});
	});

	test('Client ID, Client Secret and the Easemob token lifetime show only for easemob; Host, Org and App Name always', () => {
		for (const name of ['clientId', 'clientSecret', 'ttlMode']) expect(property(name).displayOptions).toEqual({ show: { realm: ['easemob'] } });
		expect(property('ttlSeconds').displayOptions).toEqual({ show: { realm: ['easemob'], ttlMode: ['custom'] } });
		for (const name of ['host', 'orgName', 'appName']) expect(property(name).displayOptions).toBeUndefined();
	});
});

describe('Agora Chat credential: the request that goes out', () => {
	test('DELETE with Bearer a 007 token signed for the App ID with the certificate, and no token request', async () => {
		const tokenCalls = tokenEndpointNeverCalled();
		const del = deleteEndpoint();
		const store = agoraStore();

		const output = await runNode({ store, parameters: params });

		expect(tokenCalls).toEqual([]);
		expect(del.seen).toHaveLength(1);
		expect(del.seen[0].path).toBe(`${appPath()}/users/u1/user_channel`);
		const token = tokenIn(del.seen[0].headers.authorization)!;
		expect(token).toMatchObject({ appId: store.data.appId, expire: 3600 });
		expect(verdictFor(token.token, store.data.appId as string)).toBe('accepted');
		expect(store.data.appToken).toBe(token.token);
		expect(output[0].json).toEqual({ deleted: true, username: 'u1', channel: 'u2', type: 'chat', deleteRoam: false });
	});

	test.each([
		[{}, 3600],
		[{ agoraTokenLifetime: 60 }, 60],
		[{ agoraTokenLifetime: 600 }, 600],
		[{ agoraTokenLifetime: 86400 }, 86400],
		[{ agoraTokenLifetime: '900' }, 900],
		[{ agoraTokenLifetime: undefined }, 3600],
	])('%j signs a token that lives %i seconds', async (data, seconds) => {
		tokenEndpointNeverCalled();
		const del = deleteEndpoint();

		await runNode({ store: agoraStore(data), parameters: params });

		expect(tokenIn(del.seen[0].headers.authorization)?.expire).toBe(seconds);
	});

	test('the App ID and certificate are read without surrounding spaces and in any hex case', async () => {
		tokenEndpointNeverCalled();
		const del = deleteEndpoint();
		const store = agoraStore();
		const appId = store.data.appId as string;
		store.data = { ...store.data, appId: ` ${appId.toUpperCase()} `, appCertificate: ` ${APP_CERTIFICATE} ` };

		await runNode({ store, parameters: params });

		const token = tokenIn(del.seen[0].headers.authorization)!;
		expect(token.appId).toBe(appId.toUpperCase());
		expect(verdictFor(token.token, appId.toUpperCase())).toBe('accepted');
	});
});

describe('Agora Chat credential: one token, reused until refused', () => {
	test('reused across items and executions: 3 items twice, one token', async () => {
		tokenEndpointNeverCalled();
		const del = deleteEndpoint(undefined, 6);
		const store = agoraStore();
		const items = [{ username: 'a', channel: 'b' }, { username: 'c', channel: 'd' }, { username: 'e', channel: 'f' }];

		await runNode({ store, parameters: fromItems, items });
		await runNode({ store, parameters: fromItems, items });

		const bearers = del.seen.map((r) => r.headers.authorization);
		expect(bearers).toHaveLength(6);
		expect(new Set(bearers).size).toBe(1);
		expect(bearers[0]).toBe(`Bearer ${store.data.appToken}`);
	});

	test('a stored token is used as it is: nothing is signed while it is accepted', async () => {
		tokenEndpointNeverCalled();
		const stored = agoraStore();
		const del = deleteEndpoint(undefined, 2);
		await runNode({ store: stored, parameters: params });
		const kept = stored.data.appToken;

		await runNode({ store: new CredentialStore(stored.data), parameters: params });

		expect(del.seen.map((r) => r.headers.authorization)).toEqual([`Bearer ${kept}`, `Bearer ${kept}`]);
	});

	test('a 401 signs exactly one new token and sends the request again with it', async () => {
		tokenEndpointNeverCalled();
		const store = agoraStore({ appToken: '007eJxOldTokenTheServerNoLongerAccepts' });
		const del = deleteEndpoint(() => (del.seen.length === 1 ? expired() : [200, deleteOkBody('u1')]), 2);

		const output = await runNode({ store, parameters: params });

		expect(del.seen.map((r) => r.headers.authorization?.slice(0, 20))).toEqual(['Bearer 007eJxOldToke', expect.stringMatching(/^Bearer 007/)]);
		const renewed = tokenIn(del.seen[1].headers.authorization)!;
		expect(verdictFor(renewed.token, store.data.appId as string)).toBe('accepted');
		expect(store.data.appToken).toBe(renewed.token);
		expect(output[0].json.deleted).toBe(true);
	});

	test('requests refused at the same time share one new token', async () => {
		tokenEndpointNeverCalled();
		const stale = 'Bearer 007eJxStaleTokenForAllThree';
		const store = agoraStore({ appToken: stale.slice(7) });
		const del = nock(HOST)
			.delete(() => true)
			.times(6)
			.reply(function (path) {
				return this.req.headers.authorization === stale ? expired() : [200, deleteOkBody(decodeURIComponent(path.split('/')[4]))];
			});
		const seen: string[] = [];
		del.on('request', (req: { headers: Record<string, string> }) => seen.push(req.headers.authorization));
		const items = [{ username: 'a', channel: 'b' }, { username: 'c', channel: 'd' }, { username: 'e', channel: 'f' }];

		const output = await runNode({ store, parameters: { ...fromItems, options: { concurrency: 3 } }, items });

		expect(output.map((item) => item.json.deleted)).toEqual([true, true, true]);
		expect(seen.filter((bearer) => bearer === stale)).toHaveLength(3);
		const renewed = seen.filter((bearer) => bearer !== stale);
		expect(renewed).toHaveLength(3);
		expect(new Set(renewed)).toEqual(new Set([`Bearer ${store.data.appToken}`]));
	});

	test('executions that find no token at the same time share one signed token', async () => {
		tokenEndpointNeverCalled();
		const del = deleteEndpoint(undefined, 3);
		const first = agoraStore();
		const others = [1, 2].map(() => new CredentialStore({ ...first.data }));

		await Promise.all([first, ...others].map(async (store) => await runNode({ store, parameters: params })));

		expect(new Set(del.seen.map((r) => r.headers.authorization)).size).toBe(1);
	});

	test('a 401 that persists after the new token ends in a message naming the App ID, App Certificate and Host', async () => {
		tokenEndpointNeverCalled();
		const del = deleteEndpoint(badToken, 5);

		const error = await failure(runNode({ store: agoraStore({ appToken: '007eJxStale' }), parameters: params }));

		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.message).toBe(
			"Agora Chat refused a freshly signed app token (401 auth_bad_access_token: Unable to authenticate). Check the credential's App ID and App Certificate (copy both again from your project in Agora Console) and that the Host is your app's REST API domain (a1.easemob.com now; Agora Chat's are a41.chat.agora.io, a61.chat.agora.io and a71.chat.agora.io).",
		);
		expect((error as NodeApiError).httpCode).toBe('401');
		expect(del.seen).toHaveLength(2);
	});

	test('an Easemob credential keeps Easemob\'s 401 message', async () => {
		nock(HOST).post(`${appPath()}/token`).times(2).reply(200, { access_token: 'YWMtT', expires_in: 10 });
		deleteEndpoint(expired, 2);

		const error = await failure(runNode({ store: new CredentialStore({ realm: 'easemob', appName: appPath().split('/')[2], clientId: 'YXA6Own' }), parameters: params }));

		expect(error.message).toBe(`Easemob answered 401 unauthorized: Unable to authenticate due to expired access token. ${FIXES.unauthorized}`);
	});
});

describe('Agora Chat credential: fields checked before any request', () => {
	test.each([
		[{ appId: '' }, "The credential's App ID is empty; copy it from your project in Agora Console"],
		[{ appId: '970CA35de60c44645bbae8a215061b3' }, 'The credential\'s App ID "970CA35de60c44645bbae8a215061b3" is not valid: it must be the 32 hexadecimal characters'],
		[{ appId: '970CA35de60c44645bbae8a215061b33a' }, "The credential's App ID \"970CA35de60c44645bbae8a215061b33a\" is not valid"],
		[{ appId: '970CA35de60c44645bbae8a215061bzz' }, "The credential's App ID \"970CA35de60c44645bbae8a215061bzz\" is not valid"],
		[{ appCertificate: '' }, "The credential's App Certificate is empty; copy it from your project in Agora Console"],
		[{ appCertificate: '5CFd2fd1755d40ecb72977518be15d3' }, "The credential's App Certificate is not valid: it must be 32 hexadecimal characters (it has 31 characters)"],
		[{ appCertificate: '5CFd2fd1755d40ecb72977518be15d3g' }, "The credential's App Certificate is not valid: it must be 32 hexadecimal characters (it has 32 characters, not all hexadecimal)"],
		[{ agoraTokenLifetime: 59 }, "The credential's Token Lifetime (Seconds) must be a whole number from 60 to 86400 (Agora's maximum, one day), not 59"],
		[{ agoraTokenLifetime: 86401 }, 'not 86401'],
		[{ agoraTokenLifetime: 600.5 }, 'not 600.5'],
		[{ agoraTokenLifetime: 'an hour' }, 'not "an hour"'],
		[{ host: 'a41.chat.agora.io/other-org' }, 'must be a host name only'],
		[{ orgName: 'org/other' }, "The credential's Org Name \"org/other\" is not valid"],
	])('%j fails with no request sent: %s', async (data, message) => {
		tokenEndpointNeverCalled();
		const del = deleteEndpoint();

		const error = await failure(runNode({ store: agoraStore(data), parameters: params }));

		expect(error.message).toContain(message);
		expect((error as NodeApiError).context.itemIndex).toBe(0);
		expect(del.seen).toEqual([]);
	});

	test('a stored token is not sent once the certificate beside it is malformed', async () => {
		tokenEndpointNeverCalled();
		const del = deleteEndpoint();

		const error = await failure(runNode({ store: agoraStore({ appToken: '007eJxStored', appCertificate: 'not-hex' }), parameters: params }));

		expect(error.message).toMatch(/^The credential's App Certificate is not valid/);
		expect(del.seen).toEqual([]);
	});
});

describe('Agora Chat credential: against the sandbox in Agora mode', () => {
	let sandbox: Sandbox;
	beforeAll(async () => {
		nock.enableNetConnect('127.0.0.1');
		sandbox = await startSandbox({ agora: true, rateLimits: false, seed: thousandUsers() });
	});
	afterAll(async () => {
		await sandbox.close();
		nock.disableNetConnect();
	});
	beforeEach(() => sandbox.reset());

	function thousandUsers() {
		const users: Record<string, { conversations: Array<{ channel: string; type: 'chat' }> }> = {};
		for (let i = 0; i < 1000; i++) users[`user${i}`] = { conversations: [{ channel: 'peer', type: 'chat' }] };
		return { users };
	}

	const sandboxStore = (data: Record<string, unknown> = {}) =>
		new CredentialStore({
			realm: 'agora',
			host: sandbox.url,
			orgName: sandbox.orgName,
			appName: sandbox.appName,
			appId: sandbox.appId,
			appCertificate: sandbox.appCertificate,
			agoraTokenLifetime: 3600,
			...data,
		});

	test('1,000 items: all deleted with one token built, and no token request', async () => {
		const output = await runNode({
			store: sandboxStore(),
			parameters: { ...fromItems, options: { appRateLimit: 0, userRateLimit: 0, concurrency: 20 } },
			items: Array.from({ length: 1000 }, (_, i) => ({ username: `user${i}`, channel: 'peer' })),
		});

		expect(output.filter((item) => item.json.deleted === true)).toHaveLength(1000);
		expect(sandbox.counters()).toMatchObject({ deletes: 1000, tokenRequests: 0, errors: 0 });
		expect(sandbox.agoraTokens().map(({ verdict, requests }) => ({ verdict, requests }))).toEqual([{ verdict: 'accepted', requests: 1000 }]);
		// n8n's expression evaluation on 2 busy cores, not the sandbox, sets how long this takes.
	}, 120_000);

	test('a token the sandbox expires between two runs is rebuilt once and the second run succeeds', async () => {
		// Signed earlier (by another process, say): a token this process signed seconds ago is
		// never signed again, since one that young cannot have expired.
		const store = sandboxStore({ appToken: newAgoraAppToken(sandbox.appId!, sandbox.appCertificate!, 3600) });
		await runNode({ store, parameters: { ...params, username: 'user0', channel: 'peer' } });
		sandbox.expireTokens();

		const output = await runNode({ store, parameters: { ...params, username: 'user1', channel: 'peer' } });

		expect(output[0].json.deleted).toBe(true);
		expect(sandbox.agoraTokens().map(({ verdict }) => verdict)).toEqual(['expired', 'accepted']);
		expect(sandbox.requests().map((r) => r.status)).toEqual([200, 401, 200]);
	});

	test('a wrong certificate: the sandbox judges the signature bad and the run fails with the Agora message', async () => {
		const error = await failure(runNode({ store: sandboxStore({ appCertificate: APP_CERTIFICATE }), parameters: params }));

		expect(error.message).toMatch(/^Agora Chat refused a freshly signed app token \(401 auth_bad_access_token: Unable to authenticate\)\. Check the credential's App ID and App Certificate/);
		// n8n asked for a new token once; one signed moments before with the same fields is handed back.
		expect(sandbox.agoraTokens().map(({ verdict, requests }) => ({ verdict, requests }))).toEqual([{ verdict: 'bad signature', requests: 2 }]);
		expect(sandbox.counters()).toMatchObject({ deletes: 0, tokenRequests: 0 });
	});

	test('the Test button: passes, and tells a wrong certificate, a wrong org or app and an unreachable host apart', async () => {
		const ok = await credentialTestVerdict(sandboxStore());
		const wrongCertificate = await credentialTestVerdict(sandboxStore({ appCertificate: APP_CERTIFICATE }));
		const wrongApp = await credentialTestVerdict(sandboxStore({ appName: 'other-app' }));
		const unreachable = await credentialTestVerdict(sandboxStore({ host: 'http://127.0.0.1:1' }));

		expect(ok).toEqual({ status: 'OK', message: 'Connection successful!' });
		expect(wrongCertificate.message).toMatch(/^The app token was refused \(401\)\. Agora Chat: the App ID or App Certificate is wrong/);
		expect(wrongApp.message).toMatch(/^There is no app with this Org Name and App Name on this Host \(404\)/);
		expect(unreachable).toEqual({ status: 'Error', message: 'ECONNREFUSED' });
		expect(sandbox.counters().tokenRequests).toBe(0);
	});

	test('the Test button fails for a mistyped certificate even while a token signed with the right one is stored', async () => {
		const good = newAgoraAppToken(sandbox.appId!, sandbox.appCertificate!, 3600);

		const verdict = await credentialTestVerdict(sandboxStore({ appToken: good, appCertificate: APP_CERTIFICATE }));

		expect(verdict.message).toMatch(/^The app token was refused \(401\)/);
		expect(sandbox.agoraTokens().map(({ verdict: judged }) => judged)).toEqual(['bad signature']);
	});

	test('a stored token signed with a previous certificate is not sent: the request carries one for the current fields', async () => {
		const previous = newAgoraAppToken(sandbox.appId!, APP_CERTIFICATE, 3600);

		const output = await runNode({ store: sandboxStore({ appToken: previous }), parameters: { ...params, username: 'user2', channel: 'peer' } });

		expect(output[0].json.deleted).toBe(true);
		expect(sandbox.agoraTokens().map(({ token, verdict }) => [token === previous, verdict])).toEqual([[false, 'accepted']]);
		expect(sandbox.requests().map((r) => r.status)).toEqual([200]);
	});

	test('the Test button names a malformed App Certificate before any request', async () => {
		const verdict = await credentialTestVerdict(sandboxStore({ appCertificate: 'abc' }));

		expect(verdict.message).toMatch(/^The credential's App Certificate is not valid: it must be 32 hexadecimal characters \(it has 3 characters\)/);
		expect(sandbox.requests()).toEqual([]);
	});
});
