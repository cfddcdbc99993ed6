/**
 * jest's fake clock for runs of the node: every wait in the node is n8n-workflow's `sleep`, so
 * virtual time shows the schedule, while real I/O in n8n's HTTP client still needs real time.
 */

// Captured before jest fakes the clock.
const realSetTimeout = global.setTimeout;

/** Fakes the clock for each test of the file (and restores it after). */
export function useFakeClock() {
	beforeEach(() => {
		jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
	});
	afterEach(() => {
		jest.useRealTimers();
	});
}

/**
 * Runs `work` to completion on the virtual clock: it moves to the next timer only after real
 * work (n8n's HTTP client does some) has had time to finish, and never more than a second at a
 * time, so a slow machine cannot make it leap to an HTTP timeout while an answer is on its way.
 */
export async function drive<T>(work: Promise<T>): Promise<T> {
	let settled = false;
	void work.finally(() => (settled = true)).catch(() => undefined);
	for (;;) {
		for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => realSetTimeout(resolve, 2));
		if (settled) return await work;
		const ceiling = setTimeout(() => undefined, 1000);
		await jest.advanceTimersToNextTimerAsync();
		clearTimeout(ceiling);
	}
}

/** The UTC second a time falls in: Easemob counts an app's rate limit in these. */
export function utcSecond(at: number): number {
	return Math.floor(at / 1000);
}

/**
 * Requests per UTC second from the first one's second on, each counted in every second from its
 * arrival to `countedForMs` after it.
 */
export function perUtcSecond(times: number[], countedForMs = 0): number[] {
	const first = utcSecond(Math.min(...times));
	const counts: number[] = [];
	for (const at of times) {
		for (let second = utcSecond(at); second <= utcSecond(at + countedForMs); second++) {
			counts[second - first] = (counts[second - first] ?? 0) + 1;
		}
	}
	return Array.from(counts, (count) => count ?? 0);
}
