/** The sandbox's Agora Chat mode, over HTTP: which `007` app tokens it accepts, and what it shows of them. */
import { buildAgoraAppToken, newAgoraAppToken } from '../credentials/agoraToken';
import { APP_CERTIFICATE } from './helpers/agora';
import { DEFAULTS, startSandbox, type Sandbox } from './sandbox/server';

const opened: Sandbox[] = [];

async function start(options: Parameters<typeof startSandbox>[0] = {}): Promise<Sandbox> {
	const sandbox = await startSandbox({ rateLimits: false, agora: true, ...options });
	opened.push(sandbox);
	return sandbox;
}

afterEach(async () => {
	await Promise.all(opened.splice(0).map(async (s) => await s.close()));
});

async function listUsers(s: Sandbox, token: string) {
	const res = await fetch(`${s.url}/${s.orgName}/${s.appName}/users?limit=1`, { headers: { Authorization: `Bearer ${token}` } });
	return { status: res.status, body: (await res.json()) as { error?: string; error_description?: string } };
}

async function deleteFor(s: Sandbox, token: string) {
	const res = await fetch(`${s.url}/${s.orgName}/${s.appName}/users/alice/user_channel`, {
		method: 'DELETE',
		headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
		body: JSON.stringify({ channel: 'bob', type: 'chat', delete_roam: false }),
	});
	return { status: res.status, body: (await res.json()) as { error?: string; data?: unknown } };
}

const signed = (s: Sandbox, lifetime = 600) => newAgoraAppToken(s.appId!, s.appCertificate!, lifetime);

describe('sandbox in Agora mode', () => {
	test('uses DEFAULTS.appId and DEFAULTS.appCertificate unless given others; off by default', async () => {
		const agora = await start();
		const other = await start({ appId: 'a'.repeat(32), appCertificate: 'b'.repeat(32) });
		const plain = await start({ agora: false });

		expect([agora.agora, agora.appId, agora.appCertificate]).toEqual([true, DEFAULTS.appId, DEFAULTS.appCertificate]);
		expect([other.appId, other.appCertificate]).toEqual(['a'.repeat(32), 'b'.repeat(32)]);
		expect([plain.agora, plain.appId, plain.appCertificate]).toEqual([false, undefined, undefined]);
	});

	test('a token signed for its App ID with its certificate deletes, and no token request is needed', async () => {
		const s = await start();

		const answer = await deleteFor(s, signed(s));

		expect(answer.status).toBe(200);
		expect(answer.body.data).toEqual({ result: 'ok' });
		expect(s.state().users.alice.conversations.map((c) => c.channel)).not.toContain('bob');
		expect(s.counters()).toMatchObject({ deletes: 1, tokenRequests: 0 });
	});

	test.each([
		['signed with another certificate', 'auth_bad_access_token', 'Unable to authenticate', 'bad signature', (s: Sandbox) => newAgoraAppToken(s.appId!, APP_CERTIFICATE, 600)],
		['for another App ID', 'auth_bad_access_token', 'Unable to authenticate', 'other App ID', (s: Sandbox) => newAgoraAppToken('f'.repeat(32), s.appCertificate!, 600)],
		['cut short', 'auth_bad_access_token', 'Unable to authenticate due to corrupt access token', 'malformed', (s: Sandbox) => signed(s).slice(0, 60)],
		['not base64 zlib', 'auth_bad_access_token', 'Unable to authenticate due to corrupt access token', 'malformed', () => '007notatoken'],
		[
			'past its lifetime',
			'unauthorized',
			'Unable to authenticate due to expired access token',
			'expired',
			(s: Sandbox) => buildAgoraAppToken({ appId: s.appId!, appCertificate: s.appCertificate!, issueTs: Math.floor(Date.now() / 1000) - 700, salt: 9, expire: 600 }),
		],
	])('a token %s is answered 401 %s "%s" and shown as %s', async (_name, error, description, verdict, token) => {
		const s = await start();

		const answer = await listUsers(s, token(s));

		expect(answer.status).toBe(401);
		expect(answer.body).toMatchObject({ error, error_description: description });
		expect(s.agoraTokens().map((seen) => seen.verdict)).toEqual([verdict]);
	});

	test('expireTokens() and POST /_sandbox/expire-tokens end the tokens seen so far; later ones are accepted', async () => {
		const s = await start();
		const first = signed(s);
		const second = signed(s);
		expect((await listUsers(s, first)).status).toBe(200);

		await fetch(`${s.url}/_sandbox/expire-tokens`, { method: 'POST' });

		expect(await listUsers(s, first)).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
		expect((await listUsers(s, second)).status).toBe(200);
	});

	test('GET /_sandbox/tokens lists each token seen with its fields, requests and verdict, by fingerprint, never the token', async () => {
		const s = await start();
		const token = signed(s, 900);
		await listUsers(s, token);
		await deleteFor(s, token);

		const res = await fetch(`${s.url}/_sandbox/tokens`);
		const text = await res.text();

		expect(text).not.toContain(token.slice(3, 40));
		expect(JSON.parse(text)).toEqual([
			{
				fingerprint: expect.stringMatching(/^[0-9a-f]{12}$/),
				length: 143,
				appId: s.appId,
				issueTs: expect.any(Number),
				expire: 900,
				salt: expect.any(Number),
				firstSeen: expect.any(Number),
				requests: 2,
				verdict: 'accepted',
			},
		]);
		expect(s.agoraTokens()[0].token).toBe(token);
	});

	test('reset() forgets the tokens seen; Client ID and Secret tokens keep working beside 007 ones', async () => {
		const s = await start();
		await listUsers(s, signed(s));
		s.reset();
		const res = await fetch(`${s.url}/${s.orgName}/${s.appName}/token`, {
			method: 'POST',
			headers: { 'Content-Type': 'application/json' },
			body: JSON.stringify({ grant_type: 'client_credentials', client_id: s.clientId, client_secret: s.clientSecret }),
		});
		const { access_token: easemobToken } = (await res.json()) as { access_token: string };

		expect(s.agoraTokens()).toEqual([]);
		expect((await listUsers(s, easemobToken)).status).toBe(200);
	});

	test('without Agora mode a 007 token is not recognised', async () => {
		const s = await start({ agora: false });

		const answer = await listUsers(s, newAgoraAppToken(DEFAULTS.appId, DEFAULTS.appCertificate, 600));

		expect(answer).toMatchObject({ status: 401, body: { error: 'auth_bad_access_token' } });
		expect(s.agoraTokens()).toEqual([]);
	});
});
