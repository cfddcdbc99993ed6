import { sleep } from 'n8n-workflow';

// A request counts until its answer, which comes at least the way back after Easemob counted it,
// so windows counted from answers already hold with time to spare. Users' windows, a minute long
// where Easemob's counting could be coarser, get 2% more; the app's one-second window gets none,
// which would cost a second in fifty at full rate.
const USER_WINDOW_SAFETY = 1.02;

/**
 * Sleeps for `ms`, in steps of at most a second so that a long wait ends soon after `stopped()`
 * turns true (n8n's `sleep` cannot be cancelled). Returns false when stopped.
 */
export async function sleepUnlessStopped(ms: number, stopped: () => boolean): Promise<boolean> {
	const until = Date.now() + ms;
	for (let left = ms; left > 0; left = until - Date.now()) {
		if (stopped()) return false;
		await sleep(Math.min(left, 1000));
	}
	return !stopped();
}

export interface PacingLimits {
	/** Requests per second for the whole app; 0 turns the app pace off. */
	appPerSecond: number;
	/** Requests per user per `userWindowMs`; 0 turns the per-user window off. */
	userLimit: number;
	userWindowMs: number;
}

/**
 * At most `limit` requests in any sliding window. A request counts from the moment it is granted
 * until its answer has come, and then for a window after that: Easemob counted it at some moment
 * in between, and only the answer bounds when. So the limit holds however late a request leaves
 * (waiting for a token, say) and whether Easemob counts fixed or sliding windows.
 */
class SlidingWindow {
	private answeredAt: number[] = [];

	private open = 0;

	/** 0 when a request was granted to the caller, else how long to wait before asking again. */
	tryGrant(limit: number, span: number, now: number): number {
		this.answeredAt = this.answeredAt.filter((at) => at > now - span);
		const excess = this.answeredAt.length + this.open - limit + 1;
		if (excess <= 0) {
			this.open += 1;
			return 0;
		}
		// Open requests are answered no earlier than now, so they free nothing before now + span.
		return excess <= this.answeredAt.length ? this.answeredAt[excess - 1] + span - now : span;
	}

	/** The granted request was answered (or failed) now, or was never sent. */
	close(now: number, sent: boolean) {
		this.open -= 1;
		if (sent) this.answeredAt.push(now);
	}

	isIdle(now: number, span: number) {
		return this.open === 0 && this.answeredAt.every((at) => at <= now - span);
	}
}

/** Counts the requests that are waiting for their user's window to let them through. */
export interface UserWaits {
	started(): void;
	ended(): void;
}

async function waitForGrant(
	window: SlidingWindow,
	limit: number,
	span: number,
	stopped: () => boolean,
	waits?: UserWaits,
): Promise<boolean> {
	let waited = false;
	try {
		for (;;) {
			const wait = window.tryGrant(limit, span, Date.now());
			if (wait === 0) return true;
			if (!waited) waits?.started();
			waited = true;
			if (!(await sleepUnlessStopped(wait, stopped))) return false;
		}
	} finally {
		if (waited) waits?.ended();
	}
}

/** Permission to send one request; `done` must be called once it has been answered. */
export interface Grant {
	waitedMs: number;
	done(): void;
}

/**
 * The pace of one Easemob app within this n8n process, shared by every execution that uses it:
 * a sliding window for the app and one per user. A user whose window is full waits without
 * holding up other users' requests.
 */
export class AppPacing {
	private readonly app = new SlidingWindow();

	private readonly users = new Map<string, SlidingWindow>();

	/**
	 * Waits until a request for `user` may be sent, or until `stopped()` says it is no longer
	 * wanted (then undefined).
	 */
	async acquire(
		user: string | undefined,
		limits: PacingLimits,
		stopped: () => boolean,
		userWaits?: UserWaits,
	): Promise<Grant | undefined> {
		const startedAt = Date.now();
		const userSpan = limits.userWindowMs * USER_WINDOW_SAFETY;
		const userWindow = user !== undefined && limits.userLimit > 0 ? this.userWindow(user, userSpan) : undefined;
		if (userWindow && !(await waitForGrant(userWindow, limits.userLimit, userSpan, stopped, userWaits))) {
			return undefined;
		}
		const appWindow = limits.appPerSecond > 0 ? this.app : undefined;
		// A per-second limit below 1 is the same limit over a longer window.
		const appLimit = Math.max(1, Math.round(limits.appPerSecond));
		const appWindowMs = (1000 * appLimit) / limits.appPerSecond;
		if (appWindow && !(await waitForGrant(appWindow, appLimit, appWindowMs, stopped))) {
			userWindow?.close(Date.now(), false);
			return undefined;
		}
		if (stopped()) {
			userWindow?.close(Date.now(), false);
			appWindow?.close(Date.now(), false);
			return undefined;
		}
		return {
			waitedMs: Date.now() - startedAt,
			done: () => {
				const now = Date.now();
				userWindow?.close(now, true);
				appWindow?.close(now, true);
			},
		};
	}

	private userWindow(user: string, span: number): SlidingWindow {
		let window = this.users.get(user);
		if (window === undefined) {
			if (this.users.size >= 1000) this.forgetIdleUsers(span);
			window = new SlidingWindow();
			this.users.set(user, window);
		}
		return window;
	}

	private forgetIdleUsers(span: number) {
		const now = Date.now();
		for (const [user, window] of this.users) {
			if (window.isIdle(now, span)) this.users.delete(user);
		}
	}
}

const pacingByApp = new Map<string, AppPacing>();

/** The pacing shared by all executions in this process that call the same Easemob app. */
export function pacingFor(appKey: string): AppPacing {
	let pacing = pacingByApp.get(appKey);
	if (pacing === undefined) {
		pacing = new AppPacing();
		pacingByApp.set(appKey, pacing);
	}
	return pacing;
}
