/**
 * Property-based: whatever usernames, channels, message IDs, times and hosts users (or upstream
 * data) produce, the node either refuses them clearly before sending anything, or calls exactly the
 * intended endpoint on the configured host, every path segment and query value encoded.
 */
import fc from 'fast-check';
import nock from 'nock';
import type { IDataObject } from 'n8n-workflow';

import { EasemobApi } from '../credentials/EasemobApi.credentials';
import { appName, appPath, deleteOkBody, freshStore, HOST, roamingOkBody } from './helpers/easemob';
import { CREDENTIALS, credentialRequestHelper, runNode } from './helpers/n8n';

const RUNS = 20;
const ITEMS_PER_RUN = 100;
const HISTORY_RUNS = 8;
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

// Every message the Message History operations refuse their fields with (the type is always valid here).
const historyValidationError = new RegExp(
	[
		validationError.source,
		'^Before (is empty|"[^]*" is not an ISO 8601 date-time|"\\d+" is digits in text|\\S+ is not epoch milliseconds|\\d+ looks like epoch seconds|must be .+, not )',
		'^Message IDs (is empty|has an empty ID at position \\d+|must hold text or numbers, not \\S+( \\S+)? at position \\d+|must be comma-separated text or a list of IDs, not |has an incomplete Unicode character at position \\d+)',
		'^Message ID ([^]* at position \\d+ contains a comma|\\S+ at position \\d+ is (too long to be exact as a number|not a message ID))',
	].join('|'),
);

const EPOCH_MS = fc.integer({ min: 100_000_000_000, max: 4_000_000_000_000 });
const anyBefore = fc.oneof(
	{ weight: 2, arbitrary: EPOCH_MS },
	{ weight: 2, arbitrary: EPOCH_MS.map((ms) => new Date(ms).toISOString()) },
	{ weight: 2, arbitrary: anyText },
	{ weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.constantFrom('2024-02-30', '1706659200000', '2024-01-31T25:00Z')) },
);
const anyMessageIds = fc.oneof(
	{ weight: 3, arbitrary: anyText },
	{ weight: 3, arbitrary: fc.array(fc.oneof(anyText, fc.integer({ min: 0 })), { maxLength: 8 }) },
	{ weight: 1, arbitrary: fc.array(fc.stringMatching(/^[0-9a-z]{1,19}$/), { minLength: 51, maxLength: 120 }) },
);

/** What the node must have sent for a valid item, and of it which IDs and time it reports. */
function expectedHistoryRequests(operation: string, item: Record<string, unknown>, json: IDataObject) {
	const username = String(item.username);
	const kind = item.type === 'chat' ? 'chat' : 'group';
	const peer: Record<string, string> = item.type === 'chat' ? { userId: String(item.channel) } : { groupId: String(item.channel) };
	const base = `${appPath()}/rest/message/roaming`;
	if (operation === 'deleteAllForUser') {
		return [{ method: 'POST', pathname: `${base}/user/${encodeURIComponent(username)}/delete/all`, query: {} }];
	}
	if (operation === 'deleteBeforeTime') {
		const { before } = item;
		const ms = typeof before === 'number' ? before : typeof before === 'string' && /Z$/.test(before) ? Date.parse(before) : undefined;
		const delTime = String(Date.parse(json.before as string));
		if (ms !== undefined) expect(delTime).toBe(String(ms));
		return [{ method: 'DELETE', pathname: `${base}/${kind}/user/${encodeURIComponent(username)}/time`, query: { ...peer, delTime, isNotify: 'true' } }];
	}
	const entries = typeof item.messageIds === 'string' ? item.messageIds.split(',') : ([] as unknown[]).concat(item.messageIds);
	const ids = [...new Set(entries.map((entry) => String(entry).trim()))];
	expect(json.messageIds).toEqual(ids);
	const calls = [];
	for (let start = 0; start < ids.length; start += 50) {
		calls.push({
			method: 'DELETE',
			pathname: `${base}/${kind}/user/${encodeURIComponent(username)}`,
			query: { ...peer, msgIdList: ids.slice(start, start + 50).join(','), isNotify: 'true' },
		});
	}
	expect(json.requests).toBe(calls.length);
	return calls;
}

describe.each(['deleteAllForUser', 'deleteBeforeTime', 'deleteByIds'])('Message History → %s', (operation) => {
	test(`${HISTORY_RUNS * ITEMS_PER_RUN} generated items: refused before sending, or the intended path and query, each value encoded`, async () => {
		await fc.assert(
			fc.asyncProperty(
				fc.array(
					fc.record({
						username: anyText,
						type: fc.constantFrom('chat', 'groupchat'),
						channel: anyText,
						before: anyBefore,
						messageIds: anyMessageIds,
					}),
					{ minLength: ITEMS_PER_RUN, maxLength: ITEMS_PER_RUN },
				),
				async (items) => {
					nock.cleanAll();
					const seen: Array<{ method: string; pathname: string; query: Record<string, string>; body: unknown }> = [];
					const record = (method: string) => (path: string, body: unknown) => {
						const url = new URL(path, HOST);
						seen.push({ method, pathname: url.pathname, query: Object.fromEntries(url.searchParams), body });
						return [200, roamingOkBody()] as [number, nock.Body];
					};
					nock(HOST).post(/.*token$/).reply(200, { access_token: 'YWMtT' });
					nock(HOST).post(/roaming/).times(Infinity).reply(record('POST'));
					nock(HOST).delete(/roaming/).times(Infinity).reply(record('DELETE'));

					const output = await runNode({
						store: freshStore(),
						continueOnFail: true,
						parameters: {
							resource: 'messageHistory',
							operation,
							username: '={{ $json.username }}',
							type: '={{ $json.type }}',
							channel: '={{ $json.channel }}',
							before: '={{ $json.before }}',
							messageIds: '={{ $json.messageIds }}',
							options: { appRateLimit: 0, maxAttempts: 1, concurrency: 1 },
						},
						items,
					});

					expect(output).toHaveLength(items.length);
					const expected: typeof seen = [];
					output.forEach((item, i) => {
						expect(item.pairedItem).toEqual({ item: i });
						if ('error' in item.json) {
							expect(item.json.error).toMatch(historyValidationError);
							return;
						}
						expect(item.json).toMatchObject({ deleted: true, username: String(items[i].username) });
						for (const call of expectedHistoryRequests(operation, items[i], item.json)) expected.push({ ...call, body: '' });
					});
					// Items' calls interleave: an item's second call waits for its first, not for other items.
					const sorted = (calls: typeof seen) => calls.map((call) => JSON.stringify(call)).sort();
					expect(sorted(seen)).toEqual(sorted(expected));
					// /{org}/{app}/rest/message/roaming/[chat|group/]user/{username}[/time | /delete/all]
					for (const { pathname } of seen) expect(pathname.split('/')).toHaveLength(operation === 'deleteByIds' ? 9 : 10);
				},
			),
			// Shrinking runs of 100 items would outlast the timeout: the first counterexample is reported as it is.
			{ numRuns: HISTORY_RUNS, endOnFailure: true },
		);
	}, 120_000);
});

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
