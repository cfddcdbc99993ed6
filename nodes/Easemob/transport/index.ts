import type { ICredentialsDecrypted, IDataObject, IExecuteFunctions, IHttpRequestMethods } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { retryLimitReached, toEasemobApiError } from './easemobError';
import type { AppPacing, PacingLimits } from './pacing';
import { pacingFor, sleepUnlessStopped } from './pacing';

export interface EasemobRequest {
	method: IHttpRequestMethods;
	/** Path below `/{org}/{app}`, one entry per segment; each is percent-encoded here. */
	segments: string[];
	body?: IDataObject;
	/** The user this call counts against in Easemob's per-user rate limit, if it has one. */
	rateLimitedUser?: string;
}

export interface RequestPolicy extends PacingLimits {
	/** Requests in flight at once, per execution. */
	concurrency: number;
	/** Attempts per item, the first included. */
	maxAttempts: number;
	/** Time an item may spend waiting between attempts, in all. */
	maxRetryWaitMs: number;
	timeoutMs: number;
}

export interface EasemobResponse {
	body: unknown;
	attempts: number;
	/** Time spent waiting for the rate limits and between attempts. */
	waitedMs: number;
}

const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30_000;

/** Exponential backoff with jitter: the wait after failed attempt `attempt` (1-based). */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
	const ceiling = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (attempt - 1));
	return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * The only code that talks to Easemob. The credential decides the host, org and app and adds the
 * token; a 401 makes n8n fetch a new token and send the request once more.
 */
async function easemobApiRequest(
	context: IExecuteFunctions,
	request: EasemobRequest,
	timeoutMs: number,
	credentials: ICredentialsDecrypted,
): Promise<unknown> {
	return await context.helpers.httpRequestWithAuthentication.call(
		context,
		'easemobApi',
		{
			method: request.method,
			url: request.segments.map((segment) => `/${encodeURIComponent(segment)}`).join(''),
			headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
			body: request.body,
			json: true,
			disableFollowRedirect: true,
			timeout: timeoutMs,
		},
		// Without it n8n reads and decrypts the credential from its database for every request,
		// which took most of the node's time in large runs. n8n writes a renewed token into this
		// same object, so every request of the execution uses it.
		{ credentialsDecrypted: credentials },
	);
}

/**
 * Sends an execution's requests within Easemob's rate limits: paced before they are sent (the
 * pace is shared with other executions calling the same app), at most `concurrency` in flight,
 * and retried with backoff when Easemob says to try again later.
 */
export class EasemobClient {
	private inFlight = 0;

	private sending = 0;

	private waitingForUserWindow = 0;

	private readonly userWaits = {
		started: () => {
			this.waitingForUserWindow += 1;
			this.wakeWaiter();
		},
		ended: () => (this.waitingForUserWindow -= 1),
	};

	private waiterForRoom: (() => void) | undefined;

	private readonly queue: Array<() => void> = [];

	/** The pace of the app the credential names, shared with other executions using that app. */
	private readonly pacing: AppPacing;

	constructor(
		private readonly context: IExecuteFunctions,
		private readonly credentials: ICredentialsDecrypted,
		private readonly policy: RequestPolicy,
		private readonly stopped: () => boolean,
	) {
		const { host, orgName, appName } = credentials.data ?? {};
		this.pacing = pacingFor(JSON.stringify([host, orgName, appName]));
	}

	/**
	 * Resolves once fewer than `most` requests are being sent that their user's window already
	 * let through: work the app pace and the network will get to. Callers check more items only
	 * then, so that checking (n8n's expression evaluation is costly) does not crowd out sending.
	 * One caller at a time.
	 */
	async roomToSend(most: number): Promise<void> {
		while (this.sending - this.waitingForUserWindow >= most) {
			await new Promise<void>((resolve) => (this.waiterForRoom = resolve));
		}
	}

	private wakeWaiter() {
		const wake = this.waiterForRoom;
		this.waiterForRoom = undefined;
		wake?.();
	}

	/** Resolves with Easemob's answer, or rejects with an n8n error; undefined once stopped. */
	async send(request: EasemobRequest, itemIndex: number): Promise<EasemobResponse | undefined> {
		this.sending += 1;
		try {
			return await this.sendWithRetries(request, itemIndex);
		} finally {
			this.sending -= 1;
			this.wakeWaiter();
		}
	}

	private async sendWithRetries(request: EasemobRequest, itemIndex: number): Promise<EasemobResponse | undefined> {
		for (const segment of request.segments) {
			// `.` and `..` stay dot segments even when percent-encoded and would move the request
			// to another path. Operations reject them with a clearer message; this is the backstop.
			if (segment === '' || segment === '.' || segment === '..') {
				throw new NodeOperationError(this.context.getNode(), `"${segment}" cannot be used in a request path`, {
					itemIndex,
				});
			}
		}
		let waitedMs = 0;
		let retryWaitMs = 0;
		for (let attempt = 1; ; attempt++) {
			const grant = await this.pacing.acquire(request.rateLimitedUser, this.policy, this.stopped, this.userWaits);
			if (grant === undefined) return undefined;
			waitedMs += grant.waitedMs;
			const outcome = await this.whenFree(async () => await easemobApiRequest(this.context, request, this.policy.timeoutMs, this.credentials)).then(
				(body) => ({ body }),
				(error: unknown) => ({ failure: toEasemobApiError(this.context.getNode(), error, itemIndex, this.credentials.data) }),
			);
			grant.done();
			if (!('failure' in outcome)) return { body: outcome.body, attempts: attempt, waitedMs };

			const { failure } = outcome;
			if (!failure.transient) throw failure;
			if (attempt >= this.policy.maxAttempts) {
				// With retries turned off there is nothing to explain beyond Easemob's answer.
				throw attempt === 1
					? failure
					: retryLimitReached(failure, { attempts: attempt, waitedMs, limit: 'attempts', policy: this.policy });
			}
			const delayMs = failure.retryAfterMs ?? backoffMs(attempt);
			if (retryWaitMs + delayMs > this.policy.maxRetryWaitMs) {
				throw retryLimitReached(failure, { attempts: attempt, waitedMs, limit: 'wait', policy: this.policy });
			}
			if (!(await sleepUnlessStopped(delayMs, this.stopped))) return undefined;
			retryWaitMs += delayMs;
			waitedMs += delayMs;
		}
	}

	private async whenFree<T>(run: () => Promise<T>): Promise<T> {
		if (this.inFlight >= this.policy.concurrency) {
			await new Promise<void>((resolve) => this.queue.push(resolve));
		} else {
			this.inFlight += 1;
		}
		try {
			return await run();
		} finally {
			// Hand the slot straight to the next waiter, so inFlight never dips and overshoots.
			const next = this.queue.shift();
			if (next) next();
			else this.inFlight -= 1;
		}
	}
}
