/**
 * Property-based: whatever usernames, channels and hosts users (or upstream data) produce, the
 * node either refuses them clearly before sending anything, or calls exactly the intended
 * endpoint on the configured host.
 */
import fc from 'fast-check';
import nock from 'nock';
import type { IDataObject } from 'n8n-workflow';

import { EasemobApi } from '../credentials/EasemobApi.credentials';
import { appName, appPath, deleteOkBody, freshStore, HOST } from './helpers/easemob';
import { CREDENTIALS, credentialRequestHelper, runNode } from './helpers/n8n';

const RUNS = 20;
const ITEMS_PER_RUN = 100;
const HOST_RUNS = 1500;

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

const tricky = fc.constantFrom(
	'', ' ', '\t', '.', '..', '...', '/', '?', '#', '%', '%2e%2e', '%2F', '../admin', 'a/../../b', '\\', '?x=1#y',
	'\u0000', '\r\n', '\u202e', '\ud800', '\udfff', '😀', 'ü', '用户', 'user name', 'a'.repeat(2000),
);
const anyText = fc.oneof(
	{ weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
	{ weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
	{ weight: 2, arbitrary: tricky },
	{ weight: 2, arbitrary: fc.array(fc.oneof(tricky, fc.string({ maxLength: 5 })), { maxLength: 6 }).map((parts) => parts.join('')) },
	{ weight: 1, arbitrary: fc.integer() },
	{ weight: 1, arbitrary: fc.constantFrom(null, true, { id: 1 }, ['u']) },
);
const validationError =
	/^(Username|Channel) (is empty: set it to .+|must be text \(a (user|user or group) ID\), not .+|contains an incomplete Unicode character: give the whole ID, it was probably cut short)$|^Username "\.\.?" is not a valid user ID: set it to .+$/;

test(`${RUNS * ITEMS_PER_RUN} generated usernames and channels: refused before sending, or one encoded path segment`, async () => {
	await fc.assert(
		fc.asyncProperty(
			fc.array(fc.record({ username: anyText, channel: anyText, deleteRoam: fc.boolean() }), {
				minLength: ITEMS_PER_RUN,
				maxLength: ITEMS_PER_RUN,
			}),
			async (items) => {
				nock.cleanAll();
				const seen: Array<{ path: string; body: IDataObject }> = [];
				nock(HOST).post(/.*/).reply(200, { access_token: 'YWMtT' });
				nock(HOST)
					.delete(() => true)
					.times(Infinity)
					.reply((path, body) => {
						seen.push({ path, body: body as IDataObject });
						return [200, deleteOkBody('x')];
					});

				const output = await runNode({
					store: freshStore(),
					continueOnFail: true,
					parameters: {
						resource: 'conversation',
						operation: 'delete',
						username: '={{ $json.username }}',
						channel: '={{ $json.channel }}',
						type: 'groupchat',
						deleteRoam: '={{ $json.deleteRoam }}',
						options: { appRateLimit: 0, userRateLimit: 0, maxAttempts: 1, concurrency: 1 },
					},
					items,
				});

				expect(output).toHaveLength(items.length);
				const expected: Array<{ path: string; body: IDataObject }> = [];
				output.forEach((item, i) => {
					expect(item.pairedItem).toEqual({ item: i });
					if ('error' in item.json) {
						expect(item.json.error).toMatch(validationError);
						return;
					}
					const username = String(items[i].username);
					expected.push({
						path: `${appPath()}/users/${encodeURIComponent(username)}/user_channel`,
						body: { channel: String(items[i].channel), type: 'groupchat', delete_roam: items[i].deleteRoam },
					});
				});
				expect(seen).toEqual(expected);
				for (const { path } of seen) {
					const parts = path.split('/');
					expect(parts).toHaveLength(6);
					expect(parts.slice(0, 4)).toEqual(['', 'demo-org', appName(), 'users']);
					expect(parts[5]).toBe('user_channel');
				}
			},
		),
		{ numRuns: RUNS },
	);
}, 120_000);

test(`${HOST_RUNS} generated hosts: refused with a clear message, or the token request goes to that host only`, async () => {
	const credential = new EasemobApi();
	const helper = credentialRequestHelper();
	const sent: Array<{ origin: string; path: string }> = [];
	nock(/.*/)
		.persist()
		.post(/.*/)
		.reply(function (path) {
			const { protocol } = (this.req as unknown as { options: { protocol?: string } }).options;
			sent.push({ origin: `${protocol ?? ''}//${String(this.req.headers.host)}`, path });
			return [200, { access_token: 'YWMtT' }];
		});

	const hostArbitrary = fc.oneof(
		fc.domain(),
		fc.webUrl({ withQueryParameters: true, withFragments: true, authoritySettings: { withPort: true, withUserInfo: true } }),
		fc.tuple(fc.constantFrom('', 'http://', 'https://', 'ftp://', 'file://', 'javascript:', '//'), fc.domain(), fc.constantFrom('', '/', ':8080', ':99999', '/x', '?a', '#f', '@evil.com', '/../x')).map((parts) => parts.join('')),
		fc.string({ unit: 'binary', maxLength: 30 }),
		tricky,
	);

	await fc.assert(
		fc.asyncProperty(hostArbitrary, async (host) => {
			sent.length = 0;
			const data = { ...CREDENTIALS, host, clientId: `YXA6Client-${Math.random()}`, appToken: '' };
			const outcome = await credential.preAuthentication.call(helper, data).then(
				() => undefined,
				(error: Error) => error,
			);
			if (outcome !== undefined) {
				expect(outcome.message).toMatch(/^The credential's Host /);
				expect(sent).toEqual([]);
				return;
			}
			expect(sent).toHaveLength(1);
			expect(sent[0].path).toBe('/demo-org/demo-app/token');
			const typed = new URL(host.trim().includes('://') ? host.trim() : `https://${host.trim()}`);
			expect(sent[0].origin).toBe(typed.origin);
			expect(typed.pathname === '/' && typed.search === '' && typed.hash === '' && typed.username === '').toBe(true);
		}),
		{ numRuns: HOST_RUNS },
	);
}, 120_000);

const USER_OPERATIONS = [
	['get', 'GET', ''],
	['delete', 'DELETE', ''],
	['deactivate', 'POST', '/deactivate'],
	['activate', 'POST', '/activate'],
	['forceLogout', 'GET', '/disconnect'],
] as const;

test(`${RUNS * ITEMS_PER_RUN} generated usernames for the User operations: refused before sending, or one encoded path segment`, async () => {
	await fc.assert(
		fc.asyncProperty(
			fc.constantFrom(...USER_OPERATIONS),
			fc.array(anyText, { minLength: ITEMS_PER_RUN, maxLength: ITEMS_PER_RUN }),
			async ([operation, method, suffix], usernames) => {
				nock.cleanAll();
				const seen: Array<{ method: string; path: string }> = [];
				nock(HOST).post(`${appPath()}/token`).reply(200, { access_token: 'YWMtT' });
				nock(HOST)
					.intercept(() => true, method)
					.times(Infinity)
					.reply((path) => {
						seen.push({ method, path });
						const entity = { username: 'x', activated: true };
						return [200, { action: 'activate user', entities: [entity], data: { result: true } }];
					});

				const output = await runNode({
					store: freshStore(),
					continueOnFail: true,
					parameters: {
						resource: 'user',
						operation,
						username: '={{ $json.username }}',
						options: { appRateLimit: 0, maxAttempts: 1, concurrency: 1 },
					},
					items: usernames.map((username) => ({ username })),
				});

				expect(output).toHaveLength(usernames.length);
				const expected: Array<{ method: string; path: string }> = [];
				output.forEach((item, i) => {
					expect(item.pairedItem).toEqual({ item: i });
					if ('error' in item.json) {
						expect(item.json.error).toMatch(validationError);
						return;
					}
					expected.push({ method, path: `${appPath()}/users/${encodeURIComponent(String(usernames[i]))}${suffix}` });
				});
				expect(seen).toEqual(expected);
				for (const { path } of seen) {
					const parts = path.split('/');
					expect(parts.slice(0, 4)).toEqual(['', 'demo-org', appName(), 'users']);
					expect(parts.slice(5)).toEqual(suffix === '' ? [] : [suffix.slice(1)]);
				}
			},
		),
		{ numRuns: RUNS },
	);
}, 120_000);
