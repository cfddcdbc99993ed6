import type { ICredentialDataDecryptedObject, INode, JsonObject } from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';

import { agoraRefusal, isAgoraCredential } from '../../../credentials/agoraAppToken';
import { networkFailureInWords, tokenErrorIn } from '../../../credentials/easemobAppToken';

/** An Easemob failure with what the router, retries and error items need to know about it. */
export class EasemobApiError extends NodeApiError {
	constructor(
		node: INode,
		details: {
			message: string;
			hint: string;
			itemIndex: number;
			statusCode?: number;
			easemobError?: string;
			transient: boolean;
			retryAfterMs?: number;
		},
	) {
		super(
			node,
			{ statusCode: details.statusCode ?? null, easemobError: details.easemobError ?? null } as JsonObject,
			{
				message: details.message,
				description: details.hint,
				httpCode: details.statusCode === undefined ? undefined : String(details.statusCode),
				itemIndex: details.itemIndex,
			},
		);
		this.statusCode = details.statusCode;
		this.easemobError = details.easemobError;
		this.transient = details.transient;
		this.retryAfterMs = details.retryAfterMs;
	}

	readonly statusCode?: number;

	/** Easemob's `error` field, e.g. `illegal_argument` or `reach_limit`. */
	readonly easemobError?: string;

	/** Whether the same request may succeed if sent again later. */
	readonly transient: boolean;

	readonly retryAfterMs?: number;
}

const HINTS: Record<string, string> = {
	invalid_request_body:
		'Easemob could not read the request. Check that Channel is text, Type is chat or groupchat and Delete Roaming Messages is true or false.',
	illegal_argument: 'One of the fields has a value Easemob does not accept; the message above names it.',
	unauthorized:
		'Easemob refused the app token even after n8n fetched a new one. Check that the app is enabled in the Easemob console and that the credential\'s Host is the cluster the app lives on.',
	auth_bad_access_token:
		'Easemob did not recognise the app token even after n8n fetched a new one. Check that the credential\'s Host is the cluster the app lives on.',
	service_resource_not_found:
		'Easemob has no such user in this app. Check the Username: it is the user ID (not the nickname) of a user of the app named in the credential.',
	organization_application_not_found: 'Check the credential\'s Org Name and App Name (App Key = OrgName#AppName) and Host.',
	reach_limit:
		'Easemob\'s rate limit was hit (this call allows 5 per minute per user and 100 per second per app). Fewer items per user per minute, or a later retry, will get through.',
	resource_limited:
		'Your Easemob plan\'s quota for this feature is used up, so retrying will not help. Check the plan and usage in the Easemob console.',
};

function hintForStatus(status: number): string {
	if (status === 401) return HINTS.unauthorized;
	if (status === 403) return 'Easemob does not allow this operation for your app. Check that the feature is enabled for the app and its plan in the Easemob console.';
	if (status === 404) return HINTS.service_resource_not_found;
	if (status === 429) return HINTS.reach_limit;
	if (status >= 500) return 'Easemob had a problem on its side. Try again later; if it persists, check Easemob\'s service status.';
	if (status >= 300 && status < 400) return 'Easemob answered with a redirect, which n8n does not follow with your token. Check the credential\'s Host (usually https:// and the cluster shown in the console).';
	return 'Check the fields against the Easemob REST API documentation.';
}

const CREDENTIAL_AT_FAULT = 'The credential needs fixing, not the fields';

// What to change, short enough for the message itself: an AI agent hands its model the message
// only, and "Continue (using error output)" keeps nothing else, so the fix cannot live in the
// description alone.
const FIXES: Record<string, string> = {
	invalid_request_body:
		'Easemob could not read the request: Channel must be text, Conversation Type "chat" or "groupchat", Delete Roaming Messages true or false',
	illegal_argument: 'Correct the field Easemob names',
	unauthorized: `${CREDENTIAL_AT_FAULT}: check that the app is enabled and that Host is the app's cluster`,
	auth_bad_access_token: `${CREDENTIAL_AT_FAULT}: check that Host is the app's cluster`,
	service_resource_not_found: 'This app has no such user: check the Username (a user ID, not a nickname)',
	organization_application_not_found: `${CREDENTIAL_AT_FAULT}: check its Org Name, App Name and Host`,
	reach_limit:
		'Easemob\'s rate limit was hit (5 calls per minute per user, 100 per second per app): try this user again in a minute',
	resource_limited: 'The app\'s Easemob plan quota for this is used up: retrying will not help until the plan allows more',
};

function fixForStatus(status: number): string {
	if (status === 401) return FIXES.unauthorized;
	if (status === 403) return 'Easemob does not allow this for the app: enable the feature for it in the Easemob console';
	if (status === 404) return FIXES.service_resource_not_found;
	if (status === 429) return FIXES.reach_limit;
	if (status >= 500) return 'A problem on Easemob\'s side: try again later';
	if (status >= 300 && status < 400) return `${CREDENTIAL_AT_FAULT}: Host must be the app's REST host, usually with https://`;
	return 'Check the fields against the Easemob REST API documentation';
}

/** Two sentences as one message, without a doubled full stop. */
function sentences(first: string, second: string): string {
	return `${first.replace(/\.$/, '')}. ${second}`;
}

const TRANSIENT_NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'ECONNABORTED', 'EPIPE', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);

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
 * What went wrong with the request, from what n8n's helpers threw. n8n 2.x wraps the HTTP
 * client's error as the `cause` of a NodeApiError. n8n 1.x drops that error and keeps only the
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

/**
 * The one place that turns what n8n's HTTP helpers threw into an n8n error. It reads only the
 * status, Easemob's error body and Retry-After, never the request, so no token or secret is kept.
 */
export function toEasemobApiError(
	node: INode,
	thrown: unknown,
	itemIndex: number,
	credentials?: ICredentialDataDecryptedObject,
): EasemobApiError {
	if (thrown instanceof EasemobApiError) return thrown;
	const tokenError = tokenErrorIn(thrown);
	if (tokenError !== undefined) {
		return new EasemobApiError(node, {
			message: tokenError.message,
			hint: 'n8n could not get an app token with this credential. Open the credential and use its Test button.',
			itemIndex,
			transient: tokenError.transient,
		});
	}
	const failure = httpFailureIn(thrown);
	const response = failure.response;
	if (response?.status === undefined) {
		const code = failure.code;
		if (code === undefined) {
			return new EasemobApiError(node, {
				message: sentences(`The request to Easemob failed: ${failure.message ?? String(thrown)}`, 'Try again; report it if it persists'),
				hint: 'This is not an answer from Easemob. If it persists, report it with the message above.',
				itemIndex,
				transient: false,
			});
		}
		return new EasemobApiError(node, {
			message: sentences(
				`Could not reach Easemob: ${networkFailureInWords(code)}`,
				code === 'ENOTFOUND'
					? `${CREDENTIAL_AT_FAULT}: check the spelling of its Host`
					: 'Check the credential\'s Host and that n8n can reach it; a later try may work',
			),
			hint:
				code === 'ENOTFOUND'
					? `The credential's Host does not resolve (${code}). Check its spelling against the Easemob console.`
					: `The connection failed before Easemob answered (${code}). Check the credential's Host and that n8n can reach it; a retry may help.`,
			itemIndex,
			transient: TRANSIENT_NETWORK_CODES.has(code),
		});
	}
	const status = response.status;
	const body = parseBody(response.data);
	const easemobError = typeof body?.error === 'string' ? body.error : undefined;
	const text = typeof body?.error_description === 'string' ? body.error_description : undefined;
	const answer = `${status}${easemobError ? ` ${easemobError}` : ''}${text ? `: ${text}` : ''}`;
	// n8n has already signed a new token and sent the request again by the time a 401 gets here.
	const agora =
		status === 401 && credentials !== undefined && isAgoraCredential(credentials) ? agoraRefusal(credentials, answer) : undefined;
	return new EasemobApiError(node, {
		message:
			agora?.message ??
			sentences(`Easemob answered ${answer}`, (easemobError && FIXES[easemobError]) ?? fixForStatus(status)),
		hint: agora?.hint ?? (easemobError && HINTS[easemobError]) ?? hintForStatus(status),
		itemIndex,
		statusCode: status,
		easemobError,
		transient: (status === 429 && easemobError !== 'resource_limited') || status >= 500,
		retryAfterMs: retryAfterMs(response.headers),
	});
}

/** Ends the retries of an item: which limit stopped them, and what to change. */
export function retryLimitReached(
	last: EasemobApiError,
	how: {
		attempts: number;
		/** Attempts that count towards Max Attempts: not the 429s the pace answers for. */
		counted: number;
		waitedMs: number;
		limit: 'attempts' | 'wait';
		policy: { maxAttempts: number; maxRetryWaitMs: number };
	},
): EasemobApiError {
	const seconds = (ms: number) => Math.round(ms / 100) / 10;
	const uncounted =
		how.limit === 'attempts' && how.attempts > how.counted
			? ` (${how.counted} counted; 429s the pace answers for are not)`
			: '';
	const attempts = `${how.attempts} attempt${how.attempts === 1 ? '' : 's'}${uncounted}`;
	const stopped = `Stopped after ${attempts} over ${seconds(how.waitedMs)} s`;
	const limit =
		how.limit === 'attempts'
			? `Max Attempts (${how.policy.maxAttempts}) was reached`
			: `waiting again would pass Max Retry Wait (${seconds(how.policy.maxRetryWaitMs)} s)`;
	return new EasemobApiError(last.node, {
		message: sentences(
			last.message,
			`${stopped} because ${limit}; to keep trying for longer, raise Max Attempts or Max Retry Wait in the node's Options`,
		),
		hint: `${last.description ?? ''} To keep trying for longer, raise Max Attempts or Max Retry Wait in the node's Options.`.trim(),
		itemIndex: last.context.itemIndex as number,
		statusCode: last.statusCode,
		easemobError: last.easemobError,
		transient: false,
	});
}

/** For a 2xx whose body does not say `data.result: "ok"`, Easemob's only sign of success. */
export function unconfirmedSuccess(node: INode, body: unknown, itemIndex: number): EasemobApiError {
	const result = typeof body === 'object' && body !== null ? (body as { data?: { result?: unknown } }).data?.result : undefined;
	return new EasemobApiError(node, {
		message: sentences(
			typeof body === 'object' && body !== null
				? `Easemob did not confirm success (data.result is ${JSON.stringify(result ?? null)}, not "ok")`
				: 'Easemob answered with a body that is not JSON, so success cannot be confirmed',
			'The change may not have been made: try again',
		),
		hint: 'The change may not have been made. Run the item again; if this persists, contact Easemob support.',
		itemIndex,
		statusCode: 200,
		transient: false,
	});
}
