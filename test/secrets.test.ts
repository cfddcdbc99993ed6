/**
 * Neither the client secret, the App Certificate nor an app token may reach what n8n shows or stores of a run:
 * output items, error messages and descriptions, or anything an error carries when serialised.
 */
import { inspect } from 'node:util';

import nock from 'nock';
import type { INodeExecutionData, INodeParameters } from 'n8n-workflow';

import { agoraStore } from './helpers/agora';
import { appPath, deleteOkBody, errorBody, freshStore, HOST, roamingOkBody } from './helpers/easemob';
import { credentialTestVerdict, runCredentialTest, runNode } from './helpers/n8n';

const SECRET = 'YXA6-client-secret-that-must-never-leak';
const TOKEN = 'YWMt-app-token-that-must-never-leak';

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

const params: INodeParameters = {
	resource: 'conversation',
	operation: 'delete',
	username: 'u1',
	channel: 'u2',
	options: { maxAttempts: 1, includeResponse: true, includeAttempts: true },
};

function circularSafe() {
	const seen = new WeakSet<object>();
	return (_key: string, value: unknown) => {
		if (typeof value === 'object' && value !== null) {
			if (seen.has(value)) return '[circular]';
			seen.add(value);
		}
		return value;
	};
}

/** Every way an error or item can be turned into text by n8n, a log line or a reader. */
function everyRendering(value: unknown): string {
	const renderings = [inspect(value, { depth: 12 }), JSON.stringify(value, circularSafe()) ?? ''];
	if (value instanceof Error) {
		const error = value as Error & { description?: unknown; messages?: unknown; context?: unknown; cause?: unknown };
		renderings.push(
			error.message,
			String(error.stack),
			String(error.description),
			JSON.stringify(error.messages ?? null),
			JSON.stringify(error.context ?? null),
			inspect(error.cause, { depth: 12 }),
			JSON.stringify(
				Object.getOwnPropertyNames(error).map((key) => [key, (error as unknown as Record<string, unknown>)[key]]),
				circularSafe(),
			),
		);
	}
	return renderings.join('\n');
}

function expectNoSecrets(value: unknown) {
	const text = everyRendering(value);
	expect(text).not.toContain(SECRET);
	expect(text).not.toContain(TOKEN);
}

const tokenOk = () => nock(HOST).post(`${appPath()}/token`).reply(200, { access_token: TOKEN, expires_in: 100 });
const deleteAnswers = (status: number, body: unknown, times = 1) =>
	nock(HOST)
		.delete(`${appPath()}/users/u1/user_channel`)
		.times(times)
		.reply(status, body as object);

const failures: Array<[string, () => void]> = [
	['token refused: wrong secret', () => nock(HOST).post(`${appPath()}/token`).reply(400, errorBody('invalid_grant', 'client_secret does not match'))],
	['token refused: unknown app', () => nock(HOST).post(`${appPath()}/token`).reply(404, errorBody('organization_application_not_found', 'no app'))],
	['token endpoint 500', () => nock(HOST).post(`${appPath()}/token`).reply(500, 'oops')],
	['delete 400', () => (tokenOk(), deleteAnswers(400, errorBody('illegal_argument', 'field channel cannot be null or empty')))],
	[
		'delete 401 after a new token too',
		() => (tokenOk(), nock(HOST).post(`${appPath()}/token`).reply(200, { access_token: TOKEN, expires_in: 100 }), deleteAnswers(401, errorBody('unauthorized', 'expired'), 2)),
	],
	['delete 404', () => (tokenOk(), deleteAnswers(404, errorBody('service_resource_not_found', 'Service resource not found')))],
	['delete 429 resource_limited', () => (tokenOk(), deleteAnswers(429, errorBody('resource_limited', 'quota')))],
	['delete 503', () => (tokenOk(), deleteAnswers(503, 'Service Unavailable'))],
	['delete 200 not ok', () => (tokenOk(), deleteAnswers(200, { data: { result: 'failed' } }))],
];

describe('no secret in errors', () => {
	test.each(failures)('%s', async (_name, arrange) => {
		arrange();

		const error = await runNode({ store: freshStore({ clientSecret: SECRET }), parameters: params }).then(
			() => undefined,
			(e: unknown) => e,
		);

		expect(error).toBeInstanceOf(Error);
		expectNoSecrets(error);
	});

	test('an unreachable host', async () => {
		nock.enableNetConnect('127.0.0.1');
		const error = await runNode({ store: freshStore({ clientSecret: SECRET, host: 'http://127.0.0.1:1' }), parameters: params }).catch(
			(e: unknown) => e,
		);
		nock.disableNetConnect();

		expect(error).toBeInstanceOf(Error);
		expectNoSecrets(error);
	});

	test('the credential test', async () => {
		nock(HOST).post(`${appPath()}/token`).reply(400, errorBody('invalid_grant', 'client_secret does not match'));

		const error = await runCredentialTest(freshStore({ clientSecret: SECRET })).catch((e: unknown) => e);

		expect(error).toBeInstanceOf(Error);
		expectNoSecrets(error);
	});
});

describe('no secret in output items', () => {
	test('under continue-on-fail, error items and successful items alike', async () => {
		tokenOk();
		nock(HOST)
			.delete(() => true)
			.times(3)
			.reply((path) => {
				const username = decodeURIComponent(path.split('/')[4]);
				if (username === 'bad') return [400, errorBody('illegal_argument', 'field channel cannot be null or empty')];
				if (username === 'down') return [503, 'Service Unavailable'];
				return [200, deleteOkBody(username)];
			});

		const output: INodeExecutionData[] = await runNode({
			store: freshStore({ clientSecret: SECRET }),
			continueOnFail: true,
			parameters: { ...params, username: '={{ $json.username }}' },
			items: [{ username: 'ok' }, { username: 'bad' }, { username: 'down' }, { username: '' }],
		});

		expect(output.map((item) => Object.keys(item.json).includes('error'))).toEqual([false, true, true, true]);
		expectNoSecrets(output);
	});
});

describe('Message History: no secret in items or errors, a partly done Delete Messages by ID included', () => {
	test('under continue-on-fail, with Include Easemob Response and Include Attempts', async () => {
		tokenOk();
		nock(HOST)
			.delete(() => true)
			.times(4)
			.reply((path) => {
				if (path.includes('userId=off')) return [400, errorBody('service open exception', 'this appKey not open message roaming')];
				// The second call of the item with 60 IDs.
				return path.includes('msgIdList=m50') ? [503, 'Service Unavailable'] : [200, roamingOkBody()];
			});

		const output: INodeExecutionData[] = await runNode({
			store: freshStore({ clientSecret: SECRET }),
			continueOnFail: true,
			parameters: {
				resource: 'messageHistory',
				operation: 'deleteByIds',
				username: 'u1',
				channel: '={{ $json.channel }}',
				messageIds: '={{ $json.messageIds }}',
				options: { maxAttempts: 1, includeResponse: true, includeAttempts: true },
			},
			items: [
				{ channel: 'u2', messageIds: 'm1' },
				{ channel: 'u3', messageIds: Array.from({ length: 60 }, (_, k) => `m${k}`) },
				{ channel: 'off', messageIds: 'm1' },
			],
		});

		expect(output.map((item) => Object.keys(item.json).includes('error'))).toEqual([false, true, true]);
		expect(output[1].json.description).toMatch(/Before this failure 1 of 2 calls succeeded/);
		expectNoSecrets(output);
	});
});

describe('Agora Chat: neither the App Certificate nor any token signed with it in errors or items', () => {
	const CERTIFICATE = 'c0ffee0123456789abcdef0123456789';
	// A certificate mistyped by one character: the message must say it is wrong without quoting it.
	const MISTYPED = `${CERTIFICATE.slice(0, 31)}g`;
	let bearers: string[] = [];

	/** Answers the delete with `status` and `body`, noting every Bearer token it is sent. */
	function agoraDelete(status: number, body: unknown, times = 1) {
		nock(HOST)
			.delete(`${appPath()}/users/u1/user_channel`)
			.times(times)
			.reply(function () {
				bearers.push(String(this.req.headers.authorization).replace(/^Bearer /, ''));
				return [status, body as object];
			});
	}

	function expectNoAgoraSecrets(value: unknown) {
		const text = everyRendering(value);
		const tokens = bearers.filter((token) => token.startsWith('007'));
		for (const secret of [CERTIFICATE, MISTYPED, ...tokens, ...tokens.map((token) => token.slice(3, 40))]) {
			expect(text).not.toContain(secret);
		}
	}

	beforeEach(() => {
		bearers = [];
	});

	const store = (data: Record<string, unknown> = {}) => agoraStore({ appCertificate: CERTIFICATE, ...data });

	test.each<[string, () => void]>([
		['401 after a newly signed token too', () => agoraDelete(401, errorBody('auth_bad_access_token', 'Unable to authenticate'), 2)],
		['delete 400', () => agoraDelete(400, errorBody('illegal_argument', 'field channel cannot be null or empty'))],
		['delete 404', () => agoraDelete(404, errorBody('service_resource_not_found', 'Service resource not found'))],
		['delete 503', () => agoraDelete(503, 'Service Unavailable')],
		['delete 200 not ok', () => agoraDelete(200, { data: { result: 'failed' } })],
	])('%s', async (_name, arrange) => {
		arrange();

		const error = await runNode({ store: store(), parameters: params }).then(
			() => undefined,
			(e: unknown) => e,
		);

		expect(error).toBeInstanceOf(Error);
		expect(bearers.filter((token) => token.startsWith('007')).length).toBeGreaterThan(0);
		expectNoAgoraSecrets(error);
	});

	test('a mistyped App Certificate', async () => {
		const error = await runNode({ store: store({ appCertificate: MISTYPED }), parameters: params }).catch((e: unknown) => e);

		expect((error as Error).message).toMatch(/^The credential's App Certificate is not valid/);
		expectNoAgoraSecrets(error);
	});

	test('an unreachable host', async () => {
		nock.enableNetConnect('127.0.0.1');
		const error = await runNode({ store: store({ host: 'http://127.0.0.1:1' }), parameters: params }).catch((e: unknown) => e);
		nock.disableNetConnect();

		expect(error).toBeInstanceOf(Error);
		expectNoAgoraSecrets(error);
	});

	// For an answer to its test request n8n shows the user only the verdict: its own error object
	// keeps the request it sent (with the token), as for any credential, and is not shown.
	test('the credential test with a refused token: what n8n shows', async () => {
		nock(HOST)
			.get(`${appPath()}/users`)
			.query(true)
			.times(2)
			.reply(function () {
				bearers.push(String(this.req.headers.authorization).replace(/^Bearer /, ''));
				return [401, errorBody('auth_bad_access_token', 'Unable to authenticate')];
			});

		const verdict = await credentialTestVerdict(store());

		expect(verdict.status).toBe('Error');
		expect(bearers).toHaveLength(2);
		expectNoAgoraSecrets(verdict);
	});

	test('under continue-on-fail, error items and successful items alike', async () => {
		nock(HOST)
			.delete(() => true)
			.times(3)
			.reply(function (path) {
				bearers.push(String(this.req.headers.authorization).replace(/^Bearer /, ''));
				const username = decodeURIComponent(path.split('/')[4]);
				if (username === 'gone') return [401, errorBody('auth_bad_access_token', 'Unable to authenticate')];
				return [200, deleteOkBody(username)];
			});

		const output: INodeExecutionData[] = await runNode({
			store: store(),
			continueOnFail: true,
			parameters: { ...params, username: '={{ $json.username }}' },
			items: [{ username: 'ok' }, { username: 'gone' }],
		});

		expect(output.map((item) => Object.keys(item.json).includes('error'))).toEqual([false, true]);
		expectNoAgoraSecrets(output);
	});
});
