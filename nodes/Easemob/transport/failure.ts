/**
 * The one place that reads what went wrong with a request to Easemob, for the node's requests and the
 * credential's token requests alike: the answer's status, Easemob's error body and Retry-After, or the
 * network failure when no answer came, and from these whether trying again may help. It reads nothing
 * of the request, so no token or secret can end up in what it returns. Wording is left to the callers.
 */

// n8n 1.x wraps what preAuthentication throws in a NodeApiError that keeps the message but drops
// the error itself, so the node finds a token error again by its message.
const recentTokenErrors = new Map<string, EasemobTokenError>();
const KEPT_TOKEN_ERRORS = 100;

/** Thrown when the app token cannot be had; `transient` says whether trying again may help. */
export class EasemobTokenError extends Error {
	constructor(
		message: string,
		readonly transient: boolean,
	) {
		super(message);
		this.name = 'EasemobTokenError';
		recentTokenErrors.delete(message);
		recentTokenErrors.set(message, this);
		if (recentTokenErrors.size > KEPT_TOKEN_ERRORS) recentTokenErrors.delete(recentTokenErrors.keys().next().value!);
	}
}

export function isEasemobTokenError(error: unknown): error is EasemobTokenError {
	return error instanceof Error && error.name === 'EasemobTokenError';
}

/** The token error that `thrown` is or wraps, as n8n 2.x wraps it (`cause`) or n8n 1.x does. */
export function tokenErrorIn(thrown: unknown): EasemobTokenError | undefined {
	if (isEasemobTokenError(thrown)) return thrown;
	if (!(thrown instanceof Error)) return undefined;
	return isEasemobTokenError(thrown.cause) ? thrown.cause : recentTokenErrors.get(thrown.message);
}

const NETWORK_FAILURES: Record<string, string> = {
	ECONNREFUSED: 'the connection was refused',
	ECONNRESET: 'the connection was closed before an answer came',
	ETIMEDOUT: 'the connection timed out',
	ECONNABORTED: 'no answer came in time',
	ENOTFOUND: 'the host name does not resolve',
	EAI_AGAIN: 'the host name could not be looked up right now',
	EHOSTUNREACH: 'the host is unreachable',
	ENETUNREACH: 'the network is unreachable',
	EPIPE: 'the connection broke while sending',
};

/**
 * Words for a network error code. n8n replaces any error message that contains such a code with
 * a generic sentence of its own, so messages carry these words and never the code itself.
 */
export function networkFailureInWords(code: string | undefined): string {
	return (code && NETWORK_FAILURES[code]) ?? 'the request failed before any answer came';
}

// Failures a later try may get past. A host name that does not resolve is a typo until shown otherwise.
const TRANSIENT_NETWORK_CODES = new Set([
	'ECONNRESET',
	'ECONNREFUSED',
	'ETIMEDOUT',
	'ECONNABORTED',
	'EPIPE',
	'EAI_AGAIN',
	'ENETUNREACH',
	'EHOSTUNREACH',
]);
// Failures after the request may have reached Easemob: it may have been carried out, with no word of it.
// A reset or a timeout cannot tell whether the request had left; a gateway's 502 or 504 says that it
// lost Easemob's answer, not that Easemob did nothing.
const ANSWER_LOST_NETWORK_CODES = new Set(['ECONNRESET', 'ETIMEDOUT', 'ECONNABORTED', 'EPIPE']);
const ANSWER_LOST_STATUSES = new Set([502, 504]);

/** What went wrong, as far as what n8n's HTTP helpers threw tells. */
export interface EasemobFailure {
	/** The HTTP status, when an answer came. */
	status?: number;
	/** Easemob's `error`, e.g. `illegal_argument` or `reach_limit`. */
	easemobError?: string;
	/** Easemob's `error_description`. */
	text?: string;
	/** The network error's code when no answer came, e.g. ECONNRESET; undefined when it has none. */
	networkCode?: string;
	/** The thrown error's own message, for a failure that is neither an answer nor a network error. */
	message?: string;
	retryAfterMs?: number;
	/** Whether the same request may succeed if sent again later. */
	transient: boolean;
	/**
	 * Easemob's rate limit: 429 but for a used-up plan quota, and `reach_limit` whatever its status
	 * (an older page of Easemob's gives 403 for the message-history calls).
	 */
	rateLimited: boolean;
	/** Whether the request may have been carried out although no answer from Easemob came back. */
	answerLost: boolean;
}

interface HttpFailure {
	code?: string;
	message?: string;
	cause?: unknown;
	response?: { status?: number; data?: unknown; headers?: Record<string, unknown> };
}

function asFailure(value: unknown): HttpFailure {
	return typeof value === 'object' && value !== null ? (value as HttpFailure) : {};
}

/**
 * The HTTP client's error in what n8n's helpers threw. n8n 2.x wraps it as the `cause` of a
 * NodeApiError (its plain httpRequest throws it as it is). n8n 1.x drops it and keeps only the
 * status or network code (as `httpCode`) and the response body (as `context.data`), no headers.
 */
function httpFailureIn(thrown: unknown): HttpFailure {
	const outer = asFailure(thrown) as HttpFailure & { httpCode?: unknown; context?: { data?: unknown } };
	if (outer.cause !== undefined) {
		const cause = asFailure(outer.cause);
		return { ...cause, code: cause.code ?? outer.code };
	}
	if (outer.response !== undefined || typeof outer.httpCode !== 'string') return outer;
	return /^\d{3}$/.test(outer.httpCode)
		? { response: { status: Number(outer.httpCode), data: outer.context?.data } }
		: { code: outer.httpCode };
}

function parseBody(data: unknown): { error?: unknown; error_description?: unknown } | undefined {
	if (typeof data === 'object' && data !== null && !Array.isArray(data)) return data;
	if (typeof data !== 'string') return undefined;
	try {
		return parseBody(JSON.parse(data));
	} catch {
		return undefined;
	}
}

function retryAfterMs(headers: Record<string, unknown> | undefined): number | undefined {
	const value = headers?.['retry-after'];
	if (typeof value !== 'string' || value.trim() === '') return undefined;
	const seconds = Number(value);
	if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
	const at = Date.parse(value);
	return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** Reads what n8n's HTTP helpers threw for a request to Easemob. */
export function readFailure(thrown: unknown): EasemobFailure {
	const failure = httpFailureIn(thrown);
	const status = failure.response?.status;
	if (status === undefined) {
		const code = failure.code;
		return {
			networkCode: code,
			message: code === undefined ? (failure.message ?? String(thrown)) : undefined,
			transient: code !== undefined && TRANSIENT_NETWORK_CODES.has(code),
			rateLimited: false,
			answerLost: code !== undefined && ANSWER_LOST_NETWORK_CODES.has(code),
		};
	}
	const body = parseBody(failure.response?.data);
	const easemobError = typeof body?.error === 'string' ? body.error : undefined;
	const rateLimited = easemobError === 'reach_limit' || (status === 429 && easemobError !== 'resource_limited');
	return {
		status,
		easemobError,
		text: typeof body?.error_description === 'string' ? body.error_description : undefined,
		retryAfterMs: retryAfterMs(failure.response?.headers),
		transient: rateLimited || status >= 500,
		rateLimited,
		answerLost: ANSWER_LOST_STATUSES.has(status),
	};
}
