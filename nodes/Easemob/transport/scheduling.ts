import { sleep } from 'n8n-workflow';

/**
 * Everything that decides when a request may leave: the pace of each app (shared by the executions
 * of this process, adapting to what Easemob answers), each user's window, and the two semaphores of
 * an execution (requests in flight, items checked ahead of sending).
 *
 * n8n workers share no memory, and a community node may not reach Redis, so a process learns the
 * budget it really has from Easemob's answers, as TCP and AWS SDKs' adaptive retry mode do: a 429
 * for the app cuts the rate multiplicatively, at most once per round trip (429s answering requests
 * sent before the cut say nothing new), and the rate then grows back along a cubic curve, slowly
 * near the rate that was refused and faster beyond it, never above the App Rate Limit option. The
 * pace starts at that option: a process alone must lose no time probing.
 */

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

/** A counting semaphore: at most `capacity` holders, the others served first come, first served. */
export class Semaphore {
	private readonly waiting: Array<() => void> = [];

	constructor(private free: number) {}

	async acquire(): Promise<void> {
		if (this.free > 0) {
			this.free -= 1;
			return;
		}
		await new Promise<void>((resolve) => this.waiting.push(resolve));
	}

	/** Hands the permit straight to the next waiter, so that no newcomer can overtake it. */
	release(): void {
		const next = this.waiting.shift();
		if (next) next();
		else this.free += 1;
	}
}

export interface PacingLimits {
	/** Requests per second for the whole app; 0 turns the app pace off. */
	appPerSecond: number;
	/** Requests per user per `userWindowMs`; 0 turns the per-user window off. */
	userLimit: number;
	userWindowMs: number;
}

const APP_WINDOW_MS = 1000;
// How far this machine's clock may be from Easemob's, both kept by NTP: a request this close to the
// end of a second may count in either.
const CLOCK_SKEW_MS = 20;
// Each turnaround moves the average a tenth of the way: steady over a second at full rate.
const TURNAROUND_WEIGHT = 0.1;
// However slow the answers, half of each second is spent sending.
const LEAST_ANSWERED_WITHIN_SHARE = 0.5;
// A user's window, a minute long where Easemob's counting could be coarser, gets 2% more; the
// app's UTC seconds get only the clocks' allowance, as 2% would cost a second in fifty at full rate.
const USER_WINDOW_SAFETY = 1.02;
// The cut on a 429 and the cubic growth after it, as in AWS SDKs' adaptive retry mode: back where
// it was cut after cbrt(0.5 × rate) seconds (3.7 s at 100 per second, 0.8 s at 1), then beyond
// it ever faster. A rate cut from a small one so recovers fast. AWS cuts to 0.7; in a model of two
// workers sharing one app (W4) and of another client spending half of it (W5), 0.8 kept the sum
// nearer the limit and finished both 15 % sooner for the same share of 429s.
const CUT = 0.8;
const GROWTH_PER_S3 = 0.4;
// However often Easemob refuses, one request per second still probes whether the budget is back.
const LEAST_RATE = 1;
// A process sending at least this share of its pace may well be the one that filled the app's window.
const BUSY_SHARE = 0.25;
// A rate measured over less than this would make a first burst look faster than any pace.
const LEAST_MEASURED_SPAN_MS = 100;
// Requests leave evenly spaced, with bursts of at most this share of a second's rate: a burst that
// meets a full window is refused whole, while evenly spaced requests lose one or two before the
// first 429 comes back and holds the rest.
const BURST_SHARE = 0.05;

/**
 * Requests counted in a window. A request counts from the moment it is granted until its answer
 * has come, and then until `expiry(answeredAt)`: Easemob counted it at some moment in between, and
 * only the answer bounds when. So the limit holds however late a request leaves (waiting for a
 * token, say).
 */
class Window {
	answeredAt: number[] = [];

	open = 0;

	/**
	 * 0 when a request may be granted now, else how long to wait before asking again. `expiry` must
	 * grow with the answer's time, as the answers are kept in the order they came.
	 */
	waitFor(limit: number, expiry: (answeredAt: number) => number, now: number): number {
		const counted = this.answeredAt.filter((at) => expiry(at) > now);
		const excess = counted.length + this.open - limit + 1;
		if (excess <= 0) return 0;
		// Open requests are answered no earlier than now, so they free nothing before expiry(now).
		return (excess <= counted.length ? expiry(counted[excess - 1]) : expiry(now)) - now;
	}

	forget(expiry: (answeredAt: number) => number, now: number) {
		if (this.answeredAt.length > 0 && expiry(this.answeredAt[0]) <= now) {
			this.answeredAt = this.answeredAt.filter((at) => expiry(at) > now);
		}
	}

	close(now: number, sends: number) {
		this.open -= 1;
		for (let n = 0; n < sends; n++) this.answeredAt.push(now);
	}
}

class UserPace {
	readonly window = new Window();

	/** No request for this user leaves before this: its window may be full elsewhere. */
	blockedUntil = 0;

	/** When Easemob last answered a request for this user with a rate-limit 429. */
	refusedAt = -Infinity;

	isIdle(now: number, span: number) {
		return this.window.open === 0 && this.blockedUntil <= now && this.window.answeredAt.every((at) => at <= now - span);
	}
}

/** What a `429 reach_limit` was taken to mean, and so how the item is sent again. */
export type RateRefusal =
	/** The app's budget was spent: the pace has slowed down; the item goes again at the slower pace. */
	| { kind: 'app' }
	/** The user's window may be full elsewhere: no request for the user leaves before `retryAt`. */
	| { kind: 'user'; retryAt: number }
	/** Not clear yet: the item goes again in the next second; another 429 for the user makes it 'user'. */
	| { kind: 'unclear'; retryAt: number };

/** Permission to send one request; exactly one of `answered`, `refused` or `unsent` ends it. */
export interface Grant {
	/** Time spent waiting for the pace. */
	waitedMs: number;
	/** The part of it spent waiting for the user's window. */
	userWaitedMs: number;
	/**
	 * Resolves when the request may leave (false once stopped): it may have waited for a free slot
	 * since it was let through, and the app may have been held meanwhile.
	 */
	sending(): Promise<boolean>;
	/** `sends`: n8n sends a request again itself, once, after a 401 and a new token. */
	answered(sends?: number): void;
	/** Easemob answered `429 reach_limit`. */
	refused(sends?: number): RateRefusal;
	unsent(): void;
}

function nextSecond(now: number): number {
	return (Math.floor(now / APP_WINDOW_MS) + 1) * APP_WINDOW_MS;
}

/**
 * Easemob counts an app's requests in UTC seconds, by when each arrives: some moment before its
 * answer. So an answered request counts in the second of its answer and, as clocks differ, in the
 * next one while its answer is within CLOCK_SKEW_MS of it, and no longer once that second has
 * begun by our clock and Easemob's alike.
 */
function appExpiry(answeredAt: number): number {
	return nextSecond(answeredAt + CLOCK_SKEW_MS) + CLOCK_SKEW_MS;
}

/** An exponentially weighted moving average, 0 until its first value. */
class MovingAverage {
	value = 0;

	private seen = false;

	add(sample: number) {
		this.value = this.seen ? this.value + TURNAROUND_WEIGHT * (sample - this.value) : sample;
		this.seen = true;
	}
}

/**
 * The pace of one Easemob app within this n8n process, shared by every execution that uses it: the
 * app's adaptive rate and one window per user. A user whose window is full waits without holding up
 * other users' requests.
 */
export class AppPace {
	private readonly app = new Window();

	private readonly users = new Map<string, UserPace>();

	/** The rate just before the last cut, and when it was cut; undefined while at the App Rate Limit. */
	private cut: { from: number; at: number } | undefined;

	/** Easemob's app window in which it last refused: nothing more is sent to the app before it ends. */
	private heldUntil = 0;

	private lastRefusal = { user: undefined as string | undefined, at: -Infinity };

	/** When requests left over the last second, to measure the rate actually sent. */
	private sentAt: number[] = [];

	/** When the process started sending after a second or more without. */
	private sendingSince = 0;

	private bucket = { tokens: Infinity, at: 0 };

	/** How long requests take from being granted to being answered, recently. */
	private readonly turnaround = new MovingAverage();

	/** Requests per second this process may send now, at most `ceiling`. */
	rate(ceiling: number, now = Date.now()): number {
		if (this.cut === undefined) return ceiling;
		const { from, at } = this.cut;
		const t = (now - at) / 1000;
		const plateau = Math.cbrt((from * (1 - CUT)) / GROWTH_PER_S3);
		const rate = from + GROWTH_PER_S3 * (t - plateau) ** 3;
		if (rate >= ceiling) {
			this.cut = undefined;
			return ceiling;
		}
		return Math.max(Math.min(LEAST_RATE, ceiling), rate);
	}

	/**
	 * Waits until a request for `user` may be sent, or until `stopped()` says it is no longer wanted
	 * (then undefined). `onUserWait` is called when the request starts waiting for its user.
	 */
	async acquire(
		user: string | undefined,
		limits: PacingLimits,
		stopped: () => boolean,
		onUserWait?: () => void,
	): Promise<Grant | undefined> {
		const startedAt = Date.now();
		const userSpan = limits.userWindowMs * USER_WINDOW_SAFETY;
		const userExpiry = (answeredAt: number) => answeredAt + userSpan;
		const userPace = user !== undefined && limits.userLimit > 0 ? this.userPace(user, userSpan) : undefined;
		let waitedForUser = false;
		let userWaitedMs = 0;
		for (;;) {
			if (stopped()) return undefined;
			const now = Date.now();
			userPace?.window.forget(userExpiry, now);
			const userWait = userPace
				? Math.max(userPace.blockedUntil - now, userPace.window.waitFor(limits.userLimit, userExpiry, now))
				: 0;
			if (userWait > 0) {
				if (!waitedForUser) onUserWait?.();
				waitedForUser = true;
				if (!(await sleepUnlessStopped(userWait, stopped))) return undefined;
				userWaitedMs += Date.now() - now;
				continue;
			}
			const appWait = limits.appPerSecond > 0 ? this.appWait(limits.appPerSecond, now) : 0;
			if (appWait > 0) {
				if (!(await sleepUnlessStopped(appWait, stopped))) return undefined;
				continue;
			}
			break;
		}
		// Both windows are checked and taken in the same turn, so no other request slips in between.
		if (userPace) userPace.window.open += 1;
		const appWindow = limits.appPerSecond > 0 ? this.app : undefined;
		if (appWindow) appWindow.open += 1;
		const grantedAt = Date.now();
		if (appWindow) this.bucket.tokens -= 1;
		let leftAt = grantedAt;
		let ended = false;
		const end = (sends: number) => {
			if (ended) return;
			ended = true;
			const now = Date.now();
			userPace?.window.close(now, sends);
			appWindow?.close(now, sends);
			if (appWindow && sends > 0) this.turnaround.add(now - grantedAt);
		};
		return {
			waitedMs: grantedAt - startedAt,
			userWaitedMs,
			sending: async () => {
				// A 429 that came since it was let through means Easemob's window is spent.
				if (appWindow && Date.now() < this.heldUntil) {
					if (!(await sleepUnlessStopped(this.heldUntil - Date.now(), stopped))) return false;
				}
				const now = Date.now();
				if (this.recentlySent(now).length === 0) this.sendingSince = now;
				this.sentAt.push(now);
				leftAt = now;
				return true;
			},
			answered: (sends = 1) => end(sends),
			unsent: () => end(0),
			refused: (sends = 1) => {
				end(sends);
				return this.refused(user, userPace, userSpan, limits, grantedAt, leftAt);
			},
		};
	}

	private appWait(ceiling: number, now: number): number {
		if (now < this.heldUntil) return this.heldUntil - now;
		const rate = this.rate(ceiling, now);
		this.app.forget(appExpiry, now);
		// Alone at the App Rate Limit, requests are spread over the part of each second whose requests
		// are answered within it, so that none counts in the next second too. Once Easemob has refused
		// (another client spends the app's budget, say), evenly over the whole second: early bursts
		// would leave the other client's requests late in each second to be refused. A rate below 1 per
		// second is the bucket's to keep.
		const spread = this.cut === undefined ? rate / this.answeredWithinShare() : rate;
		const burst = Math.max(1, rate * BURST_SHARE);
		this.bucket = { tokens: Math.min(burst, this.bucket.tokens + ((now - this.bucket.at) * spread) / 1000), at: now };
		const bucketWait = this.bucket.tokens >= 1 ? 0 : Math.ceil(((1 - this.bucket.tokens) * 1000) / spread);
		return Math.max(bucketWait, this.app.waitFor(Math.max(1, Math.floor(rate)), appExpiry, now));
	}

	/**
	 * The share of a second in which a request granted still has its answer, with room for the
	 * clocks, before the second ends: twice the recent turnaround, as answers vary.
	 */
	private answeredWithinShare(): number {
		const margin = 2 * this.turnaround.value + 2 * CLOCK_SKEW_MS;
		return Math.max(LEAST_ANSWERED_WITHIN_SHARE, 1 - margin / APP_WINDOW_MS);
	}

	/** Requests sent over the last second. */
	private recentlySent(now: number): number[] {
		this.sentAt = this.sentAt.filter((at) => at > now - APP_WINDOW_MS);
		return this.sentAt;
	}

	/** Requests per second sent over the last second, or since sending started if later. */
	private measuredRate(now: number): number {
		const span = Math.min(APP_WINDOW_MS, Math.max(LEAST_MEASURED_SPAN_MS, now - this.sendingSince));
		return (this.recentlySent(now).length * 1000) / span;
	}

	/**
	 * Easemob says the same for a full app window and a full user window. It is the app's when the
	 * process sent a good share of its pace within the last second, when other users were refused
	 * around the same time, or when the request counts against no user; it is the user's when the same user was refused again within
	 * two of its windows. Otherwise it is unclear, and the item tries once more in the next second.
	 */
	private refused(
		user: string | undefined,
		userPace: UserPace | undefined,
		userSpan: number,
		limits: PacingLimits,
		grantedAt: number,
		leftAt: number,
	): RateRefusal {
		const now = Date.now();
		const ceiling = limits.appPerSecond > 0 ? limits.appPerSecond : Infinity;
		const rate = this.rate(ceiling, now);
		const busy = this.recentlySent(now).length >= BUSY_SHARE * rate;
		const othersRefused = this.lastRefusal.user !== user && this.lastRefusal.at > now - APP_WINDOW_MS;
		this.lastRefusal = { user, at: now };
		if (userPace === undefined || now < this.heldUntil || othersRefused || busy) {
			this.slowDown(rate, this.measuredRate(now), grantedAt, leftAt, now);
			return { kind: 'app' };
		}
		const refusedBefore = userPace.refusedAt > now - 2 * userSpan;
		userPace.refusedAt = now;
		if (refusedBefore) {
			// A full window after the refusal has surely passed whatever window Easemob counts it in.
			userPace.blockedUntil = Math.max(userPace.blockedUntil, now + userSpan);
			return { kind: 'user', retryAt: userPace.blockedUntil };
		}
		return { kind: 'unclear', retryAt: nextSecond(now) };
	}

	private slowDown(rate: number, measured: number, grantedAt: number, leftAt: number, now: number) {
		// The rest of Easemob's window is spent: whatever else is sent in it is refused too. That is
		// the second the refused request reached Easemob in, which is the one it left in unless it
		// crossed into the next: holding to the end of the second its answer came in lost a whole
		// second whenever a request left just before a second ended.
		this.heldUntil = Math.max(this.heldUntil, nextSecond(leftAt) + CLOCK_SKEW_MS);
		// A request let through before the last cut went at the old rate: its 429 tells nothing new.
		if (this.cut !== undefined && grantedAt < this.cut.at) return;
		// From the rate really sent when it was below the pace (waiting for checks, say), but one
		// quiet second must not cut more than twice at once.
		this.cut = { from: Math.max(LEAST_RATE, Math.min(rate, Math.max(measured, CUT * rate))), at: now };
	}

	private userPace(user: string, span: number): UserPace {
		let pace = this.users.get(user);
		if (pace === undefined) {
			if (this.users.size >= 1000) this.forgetIdleUsers(span);
			pace = new UserPace();
			this.users.set(user, pace);
		}
		return pace;
	}

	private forgetIdleUsers(span: number) {
		const now = Date.now();
		for (const [user, pace] of this.users) {
			if (pace.isIdle(now, span) && pace.refusedAt <= now - 2 * span) this.users.delete(user);
		}
	}
}

const paceByApp = new Map<string, AppPace>();

/** The pace shared by all executions in this process that call the app at `appUrl`. */
export function paceFor(appUrl: string): AppPace {
	let pace = paceByApp.get(appUrl);
	if (pace === undefined) {
		pace = new AppPace();
		paceByApp.set(appUrl, pace);
	}
	return pace;
}

// Under a pace, items are checked only while fewer than this many checked ones wait to be sent:
// checking costs n8n's expression evaluation (3 ms an item on a busy machine), and it gives the
// event loop no turn while slots are free. 100 ahead held back the answer to the first token
// request by a second (W1: 1.4 s before the first DELETE, 0.56 s with 10); 20 still keep 200 ms of
// requests ready at 100 per second. Without a pace the run is bound by CPU alone, and checking in
// one go measured faster than interleaving.
const CHECKED_AHEAD_OF_PACE = 20;

/** Held by an item from before it is checked until it is sent or starts waiting for its user. */
export interface CheckSlot {
	release(): void;
}

/**
 * The schedule of one execution: at most `concurrency` requests in flight, and items checked only a
 * little ahead of the pace, all sent through the app's shared pace.
 */
export class ExecutionSchedule {
	private readonly inFlight: Semaphore;

	private readonly checkedAhead: Semaphore;

	constructor(
		private readonly pace: AppPace,
		limits: PacingLimits & { concurrency: number },
	) {
		this.inFlight = new Semaphore(limits.concurrency);
		const paced = limits.appPerSecond > 0 || limits.userLimit > 0;
		this.checkedAhead = new Semaphore(paced ? CHECKED_AHEAD_OF_PACE : Infinity);
	}

	/** Resolves once another item may be checked. */
	async slotToCheck(): Promise<CheckSlot> {
		await this.checkedAhead.acquire();
		let held = true;
		return {
			release: () => {
				if (held) this.checkedAhead.release();
				held = false;
			},
		};
	}

	/** Waits for the app's pace and the user's window; see AppPace.acquire. */
	async acquire(
		user: string | undefined,
		limits: PacingLimits,
		stopped: () => boolean,
		onUserWait?: () => void,
	): Promise<Grant | undefined> {
		return await this.pace.acquire(user, limits, stopped, onUserWait);
	}

	/** Runs `send` within the execution's concurrency, once the grant lets the request leave. */
	async inTurn<T>(grant: Grant, send: () => Promise<T>): Promise<{ sent: T } | undefined> {
		await this.inFlight.acquire();
		try {
			if (!(await grant.sending())) return undefined;
			return { sent: await send() };
		} finally {
			this.inFlight.release();
		}
	}
}
