import type { ICredentialsDecrypted, IDataObject, IExecuteFunctions, IHttpRequestMethods } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import type { EasemobCall, FailureHint } from './call';
import type { EasemobApiError } from './easemobError';
import { retryLimitReached, toEasemobApiError, unconfirmedSuccess } from './easemobError';
import type { CheckSlot, Grant, PacingLimits } from './scheduling';
import { ExecutionSchedule, paceFor, sleepUnlessStopped } from './scheduling';
import { isAgoraCredential } from '../../../credentials/agoraAppToken';
import { appBaseUrl, newestToken } from '../../../credentials/easemobAppToken';

export type { EasemobBudget, EasemobCall, FailureHint, SuccessShape } from './call';

export interface EasemobRequest {
	method: IHttpRequestMethods;
	/** Path below `/{org}/{app}`, one entry per segment; each is percent-encoded here. */
	segments: string[];
	/** The query string's values, in order; each name and value is percent-encoded here. */
	query?: Record<string, string>;
	body?: IDataObject;
	/** The user this call counts against in Easemob's per-user rate limit, if it has one. */
	rateLimitedUser?: string;
	/** Hints for this request's failures, before the call's own: for messages that name the item's values. */
	hints?: FailureHint[];
}

export interface RequestPolicy extends PacingLimits {
	/** Requests in flight at once, per execution. */
	concurrency: number;
	/** Attempts per item, the first included, not counting 429s the pace answers for. */
	maxAttempts: number;
	/** Time an item may spend waiting between attempts, in all, not counting waits for its user's window. */
	maxRetryWaitMs: number;
	timeoutMs: number;
}

export interface EasemobResponse {
	body: unknown;
	attempts: number;
	/** Time spent waiting for the rate limits and between attempts. */
	waitedMs: number;
}

export type { CheckSlot } from './scheduling';

const FIRST_BACKOFF_MS = 1000;
// A token can be replaced while requests carry it: each such 401 is sent again, a few times at most.
const MAX_TOKEN_REPLACED_RESENDS = 2;
const MAX_BACKOFF_MS = 30_000;

/** Exponential backoff with jitter: the wait after failed attempt `attempt` (1-based). */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
	const ceiling = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (attempt - 1));
	return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** The app the credential names, however its Host is spelled; the raw fields if it names none. */
function appKey(credentials: ICredentialsDecrypted): string {
	const data = credentials.data ?? {};
	try {
		return appBaseUrl(data);
	} catch {
		// Every request will fail with the credential's own message; these share one pace meanwhile.
		return JSON.stringify([data.host, data.orgName, data.appName]);
	}
}

/**
 * The only code that talks to Easemob. The credential decides the host, org and app and adds the
 * token; a 401 makes n8n fetch a new token and send the request once more.
 */
/** The request's path and query, every segment, name and value percent-encoded, so none can change the endpoint. */
function relativeUrl(request: EasemobRequest): string {
	const path = request.segments.map((segment) => `/${encodeURIComponent(segment)}`).join('');
	const query = Object.entries(request.query ?? {})
		.map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
		.join('&');
	return query === '' ? path : `${path}?${query}`;
}

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
			url: relativeUrl(request),
			headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
			body: request.body,
			json: true,
			disableFollowRedirect: true,
			timeout: timeoutMs,
		},
		// Without it n8n reads and decrypts the credential from its database for every request,
		// which took most of the node's time in large runs.
		{ credentialsDecrypted: credentials },
	);
}

/** What one call did besides its answer: how often it went out, and with which token last. */
interface Sent {
	/** 2 when n8n sent it again itself, after a 401 and a new token. */
	sends: number;
	token: unknown;
}

/**
 * Sends an execution's requests for one operation's call within Easemob's rate limits: paced before
 * they are sent (the pace of the app and the call's budget is shared with other executions, and
 * adapts to Easemob's 429s), at most `concurrency` in flight, retried when Easemob says to try again
 * later, and taken as a success only when the answer says so as the call declares.
 */
export class EasemobClient {
	private readonly schedule: ExecutionSchedule;

	constructor(
		private readonly context: IExecuteFunctions,
		private readonly credentials: ICredentialsDecrypted,
		private readonly call: EasemobCall,
		private readonly policy: RequestPolicy,
		private readonly stopped: () => boolean,
	) {
		// Easemob counts each budget apart: calls of another budget do not slow this one down.
		this.schedule = new ExecutionSchedule(paceFor(JSON.stringify([appKey(credentials), call.budget.name])), policy);
	}

	/** Resolves once another item may be checked; its slot goes to `send`. */
	async slotToCheck(): Promise<CheckSlot> {
		return await this.schedule.slotToCheck();
	}

	/** Resolves with Easemob's answer, or rejects with an n8n error; undefined once stopped. */
	async send(request: EasemobRequest, itemIndex: number, slot?: CheckSlot): Promise<EasemobResponse | undefined> {
		let response: EasemobResponse | undefined;
		try {
			response = await this.sendWithRetries(request, itemIndex, slot);
		} finally {
			slot?.release();
		}
		if (response !== undefined) {
			const { body } = response;
			const isObject = typeof body === 'object' && body !== null;
			const notConfirmed = isObject ? this.call.success.notConfirmed(body) : undefined;
			if (!isObject || notConfirmed !== undefined) throw unconfirmedSuccess(this.context.getNode(), notConfirmed, itemIndex);
		}
		return response;
	}

	private async sendWithRetries(
		request: EasemobRequest,
		itemIndex: number,
		slot: CheckSlot | undefined,
	): Promise<EasemobResponse | undefined> {
		for (const segment of request.segments) {
			// `.` and `..` stay dot segments even when percent-encoded and would move the request
			// to another path. Operations reject them with a clearer message; this is the backstop.
			if (segment === '' || segment === '.' || segment === '..') {
				throw new NodeOperationError(this.context.getNode(), `"${segment}" cannot be used in a request path`, {
					itemIndex,
				});
			}
		}
		const { policy, stopped } = this;
		let attempts = 0;
		// Attempts that count towards Max Attempts: not the 429s that the pace answers for.
		let counted = 0;
		let waitedMs = 0;
		let retryWaitMs = 0;
		let paceWaitCounts = false;
		let last: EasemobApiError | undefined;
		// Sent again at once when this process got a newer token while the item's was refused.
		let tokenReplacedResends = 0;
		const limitReached = (failure: EasemobApiError, limit: 'attempts' | 'wait') =>
			retryLimitReached(failure, { attempts, counted, waitedMs, limit, policy });
		for (;;) {
			const grant: Grant | undefined = await this.schedule.acquire(request.rateLimitedUser, policy, stopped, () =>
				slot?.release(),
			);
			if (grant === undefined) return undefined;
			slot?.release();
			waitedMs += grant.waitedMs;
			// Waits for the user's window are pacing, whatever the item went through before.
			if (paceWaitCounts) retryWaitMs += grant.waitedMs - grant.userWaitedMs;
			if (last !== undefined && retryWaitMs > policy.maxRetryWaitMs) {
				grant.unsent();
				throw limitReached(last, 'wait');
			}
			attempts += 1;
			const sent: Sent = { sends: 1, token: undefined };
			const outcome = await this.schedule.inTurn(grant, async () => await this.request(request, sent)).then(
				(done) => (done === undefined ? undefined : { body: done.sent }),
				(error: unknown) => ({ failure: this.failure(error, request, itemIndex) }),
			);
			if (outcome === undefined) {
				grant.unsent();
				return undefined;
			}
			if (!('failure' in outcome)) {
				grant.answered(sent.sends);
				return { body: outcome.body, attempts, waitedMs };
			}
			const { failure } = outcome;
			last = failure;
			if (
				failure.statusCode === 401 &&
				sent.token !== newestToken(this.credentials.data ?? {}) &&
				tokenReplacedResends < MAX_TOKEN_REPLACED_RESENDS
			) {
				grant.answered(sent.sends);
				tokenReplacedResends += 1;
				continue;
			}
			let delayMs: number;
			if (failure.rateLimited) {
				const refusal = grant.refused(sent.sends);
				// With retries turned off there is nothing to explain beyond Easemob's answer.
				if (policy.maxAttempts === 1) throw failure;
				if (refusal.kind === 'user') counted += 1;
				paceWaitCounts = refusal.kind !== 'user';
				delayMs = failure.retryAfterMs ?? (refusal.kind === 'unclear' ? refusal.retryAt - Date.now() : 0);
			} else {
				grant.answered(sent.sends);
				if (!failure.transient) throw failure;
				counted += 1;
				paceWaitCounts = false;
				delayMs = failure.retryAfterMs ?? backoffMs(counted);
			}
			if (counted >= policy.maxAttempts) throw attempts === 1 ? failure : limitReached(failure, 'attempts');
			delayMs = Math.max(0, delayMs);
			if (retryWaitMs + delayMs > policy.maxRetryWaitMs) throw limitReached(failure, 'wait');
			if (!(await sleepUnlessStopped(delayMs, stopped))) return undefined;
			retryWaitMs += delayMs;
			waitedMs += delayMs;
		}
	}

	private failure(thrown: unknown, request: EasemobRequest, itemIndex: number): EasemobApiError {
		const data = this.credentials.data;
		const call = request.hints === undefined ? this.call : { ...this.call, hints: [...request.hints, ...this.call.hints] };
		return toEasemobApiError(this.context.getNode(), thrown, itemIndex, call, isAgoraCredential(data) ? data : undefined);
	}

	/**
	 * Sends with a copy of the credential, so that when Easemob refuses the token, n8n hands the
	 * credential's preAuthentication the very token refused, not one another request has already
	 * put in its place. A renewed token then becomes the one the execution's next requests carry.
	 */
	private async request(request: EasemobRequest, sent: Sent): Promise<unknown> {
		const shared = this.credentials.data ?? {};
		const data = { ...shared };
		const carried = data.appToken;
		try {
			return await easemobApiRequest(this.context, request, this.policy.timeoutMs, { ...this.credentials, data });
		} finally {
			sent.token = data.appToken;
			if (data.appToken !== carried) {
				// n8n sends a request again only when it had a token that was refused.
				if (typeof carried === 'string' && carried !== '') sent.sends = 2;
				shared.appToken = data.appToken;
			}
		}
	}
}
