/**
 * The adaptive pace and the execution's schedule, on n8n-core's real HTTP helpers with nock under
 * jest's fake clock, against a model of Easemob's fixed UTC windows (test/helpers/easemob.ts).
 */
import nock from 'nock';
import type { IDataObject, INodeParameters } from 'n8n-workflow';

import { drive, perUtcSecond, useFakeClock, utcSecond } from './helpers/clock';
import type { LimitedDelete } from './helpers/easemob';
import { freshStore, limitedDeletes, tokenEndpoint } from './helpers/easemob';
import { runNode } from './helpers/n8n';

beforeAll(() => nock.disableNetConnect());
useFakeClock();
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

type Helpers = typeof import('./helpers/n8n');

function parameters(options: IDataObject): INodeParameters {
	return {
		resource: 'conversation',
		operation: 'delete',
		username: '={{ $json.username }}',
		channel: 'peer',
		options: { includeAttempts: true, timeout: 100_000, ...options },
	};
}

const users = (count: number, from = 0) => Array.from({ length: count }, (_, i) => ({ username: `user${from + i}` }));

/** Requests per UTC second, from the first one's second on. */
const perSecond = (seen: LimitedDelete[]) => perUtcSecond(seen.map((request) => request.at));

/** Processes of their own: module state (the pace, shared tokens) is per process, as in n8n workers. */
function processes(count: number): Helpers[] {
	const loaded: Helpers[] = [];
	for (let i = 0; i < count; i++) jest.isolateModules(() => loaded.push(require('./helpers/n8n')));
	return loaded;
}

describe('the adaptive pace', () => {
	test('429s from a smaller real limit lower the rate below it; it climbs back to App Rate Limit once Easemob allows more', async () => {
		tokenEndpoint();
		let liftAt = Infinity;
		const seen = limitedDeletes({ appLimit: (now) => (now < liftAt ? 10 : 1000) });
		liftAt = Date.now() + 12_000;

		const output = await drive(runNode({ store: freshStore(), parameters: parameters({ appRateLimit: 20, userRateLimit: 0 }), items: users(400) }));

		expect(output.map((o) => o.json.deleted)).toEqual(Array(400).fill(true));
		const sent = perSecond(seen);
		const refused = seen.filter((r) => r.status === 429).length;
		// While Easemob allows 10 per second, the node sends about that many, not its 20.
		const limited = sent.slice(2, 11);
		expect(Math.max(...limited)).toBeLessThanOrEqual(14);
		expect(limited.reduce((a, b) => a + b, 0) / limited.length).toBeGreaterThanOrEqual(7);
		// Few requests are refused: each 429 holds the rest of Easemob's window.
		expect(refused / seen.length).toBeLessThan(0.1);
		// Once Easemob allows more, the rate grows back to the App Rate Limit and no further.
		const lifted = sent.slice(13);
		expect(Math.max(...lifted)).toBe(20);
		// The 429s the pace answered for used up no attempts: each item was charged at most its first.
		expect(Math.max(...output.map((o) => o.json.attempts as number))).toBeLessThanOrEqual(3);
	}, 60_000);

	test("a 429 holds the app until the end of the second the refused request left in, not the one its answer came in", async () => {
		tokenEndpoint();
		const latencyMs = 400;
		const seen = limitedDeletes({ appLimit: () => 10, latencyMs });

		const output = await drive(runNode({ store: freshStore(), parameters: parameters({ appRateLimit: 20, userRateLimit: 0 }), items: users(150) }));

		expect(output.map((o) => o.json.deleted)).toEqual(Array(150).fill(true));
		// A 429 for a request that left late in a second is answered in the next one, whose window is
		// still open: requests go out in it once the answer is in, instead of waiting another second
		// (unless the pace counts that second full already, as it counts the 429s answered in it too).
		const lateRefusals = seen.filter((r) => r.status === 429 && (r.at % 1000) + latencyMs >= 1000 && r.at < seen[seen.length - 1].at - 2000);
		expect(lateRefusals.length).toBeGreaterThan(0);
		const sentAfterAnswer = lateRefusals.map(
			(refusal) => seen.filter((r) => r.at >= refusal.at + latencyMs && utcSecond(r.at) === utcSecond(refusal.at) + 1).length,
		);
		expect(Math.max(...sentAfterAnswer)).toBeGreaterThan(0);
	}, 60_000);

	test("the app's 429s use up no attempts: with Max Attempts 2, items refused for 3 s are all deleted", async () => {
		tokenEndpoint();
		let openAt = Infinity;
		const seen = limitedDeletes({ appLimit: (now) => (now < openAt ? 0 : 1000) });
		openAt = Date.now() + 3000;

		const output = await drive(
			runNode({ store: freshStore(), parameters: parameters({ maxAttempts: 2, userRateLimit: 0 }), items: users(30) }),
		);

		expect(output.map((o) => o.json.deleted)).toEqual(Array(30).fill(true));
		// Sent more often than Max Attempts allows for other failures.
		expect(Math.max(...output.map((o) => o.json.attempts as number))).toBeGreaterThan(2);
		// While refusing, each 429 held the app for the rest of Easemob's second: a few per second.
		expect(seen.filter((r) => r.status === 429).length).toBeLessThan(30);
	}, 60_000);

	test('two processes sharing one app limit converge below it, with no item failed', async () => {
		tokenEndpoint('YWMtT', 2);
		const seen = limitedDeletes({ appLimit: () => 40 });
		const [first, second] = processes(2);

		const outputs = await drive(
			Promise.all([
				first.runNode({ store: freshStore(), parameters: parameters({ userRateLimit: 0 }), items: users(400) }),
				second.runNode({ store: freshStore(), parameters: parameters({ userRateLimit: 0 }), items: users(400, 400) }),
			]),
		);

		expect(outputs.flat().map((o) => o.json.deleted)).toEqual(Array(800).fill(true));
		const refused = seen.filter((r) => r.status === 429).length;
		expect(refused / seen.length).toBeLessThan(0.1);
		// After the first seconds, the two together send about the 40 per second Easemob allows:
		// both at App Rate Limit (100) would have sent 200.
		const settled = perSecond(seen).slice(3, -1);
		expect(Math.max(...settled)).toBeLessThanOrEqual(48);
		expect(settled.reduce((a, b) => a + b, 0) / settled.length).toBeGreaterThanOrEqual(28);
	}, 60_000);
});

describe('a user whose window is full elsewhere', () => {
	test('two processes, 8 one-item executions for one user at 2 per 10 s: all deleted in 4 windows, each 429 waits a full one', async () => {
		tokenEndpoint('YWMtT', 2);
		const seen = limitedDeletes({ appLimit: () => 1000, userLimit: 2, userWindowMs: 10_000 });
		const workers = processes(2);
		// Max Retry Wait below one window: waiting for the user's window is pacing, not retrying.
		const options = { userRateLimit: 2, userRateWindow: 10, maxRetryWait: 5 };
		const startedAt = Date.now();

		const outputs = await drive(
			Promise.all(
				Array.from({ length: 8 }, async (_, k) => {
					const store = freshStore({ clientId: 'YXA6OneClient' });
					return await workers[k % 2].runNode({ store, parameters: parameters(options), items: [{ username: 'solo' }] });
				}),
			),
		);

		expect(outputs.flat().map((o) => o.json.deleted)).toEqual(Array(8).fill(true));
		// The requests go in rounds: no short retry is spent on a full window, each 429 waits one. On a busy
		// machine a round's requests may reach Easemob a latency or two apart, not at the same instant.
		const rounds = seen.map((r) => r.at).filter((at, k, all) => k === 0 || at - all[k - 1] > 200);
		for (let k = 1; k < rounds.length; k++) expect(rounds[k] - rounds[k - 1]).toBeGreaterThanOrEqual(10_200);
		expect(seen.filter((r) => r.status === 429).length).toBeGreaterThan(0);
		// 2 per window: the last two in the fourth window, soon after it surely began.
		expect(rounds.length).toBe(4);
		expect(rounds[3] - startedAt).toBeLessThan(3 * 10_200 + 2000);
		// No short retry was spent on the full window: an item's sends are at most a 429 before its
		// process knew the window full (on a busy machine its execution may start a round late), one
		// for the full window, and the one that went through.
		expect(Math.max(...outputs.flat().map((o) => o.json.attempts as number))).toBeLessThanOrEqual(3);
	}, 60_000);
});

describe('the schedule of one execution', () => {
	test('250 paced items: a user at its limit gives up its place among the items checked ahead, others go on', async () => {
		tokenEndpoint();
		const seen = limitedDeletes({ appLimit: () => 1000, latencyMs: 30 });
		// 120 items for one user whose window lets 2 through per minute, then 130 users with one item
		// each; item 240 has no username, so checking it fails the run.
		const items = [
			...Array.from({ length: 120 }, () => ({ username: 'busy' })),
			...users(130).map((item, i) => (i === 120 ? { username: '' } : item)),
		];

		const { error } = await drive(
			runNode({ store: freshStore(), parameters: parameters({ appRateLimit: 50, userRateLimit: 2, concurrency: 3 }), items }).then(
				() => ({ error: undefined }),
				(e: Error) => ({ error: e }),
			),
		);

		expect(error?.message).toBe('Username is empty: set it to the user ID of the user whose conversation is to be deleted');
		const busy = seen.filter((r) => r.username === 'busy');
		const others = seen.filter((r) => r.username !== 'busy');
		// Only two for the busy user: the other 118 wait for its window, not holding up the rest.
		expect(busy).toHaveLength(2);
		// Item 240 is checked only once fewer than 20 checked items wait to be sent: by then 100 or
		// more of the other users' items have gone (without the check-ahead none would have).
		expect(others.length).toBeGreaterThanOrEqual(100);
		expect(others.length).toBeLessThan(120);
		// Nothing is sent after the failure is known; none of the 118 waited a minute for it.
		expect(Math.max(...seen.map((r) => r.at)) - seen[0].at).toBeLessThan(10_000);
	}, 60_000);
});
