import type { ICredentialDataDecryptedObject, INode, JsonObject } from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';

import type { EasemobBudget, EasemobCall, FailureHint } from './call';
import type { EasemobFailure } from './failure';
import { networkFailureInWords, readFailure, tokenErrorIn } from './failure';

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
			rateLimited?: boolean;
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
		this.rateLimited = details.rateLimited ?? false;
		this.retryAfterMs = details.retryAfterMs;
	}

	readonly statusCode?: number;

	/** Easemob's `error` field, e.g. `illegal_argument` or `reach_limit`. */
	readonly easemobError?: string;

	/** Whether the same request may succeed if sent again later. */
	readonly transient: boolean;

	/** Easemob's rate limit was reached: the pace answers for it. */
	readonly rateLimited: boolean;

	readonly retryAfterMs?: number;
}

const CREDENTIAL_AT_FAULT = 'The credential needs fixing, not the fields';

/** "5 calls per minute per user, 100 per second per app", as Easemob states its limits. */
function limitsInWords(budget: EasemobBudget): { limits: string; userWindow?: string } {
	const app = `${budget.appPerSecond} per second per app`;
	if (budget.perUser === undefined) return { limits: `${budget.appPerSecond} calls per second per app` };
	const { limit, windowSeconds } = budget.perUser;
	const userWindow = windowSeconds === 60 ? 'a minute' : `${windowSeconds} seconds`;
	const per = windowSeconds === 60 ? 'minute' : `${windowSeconds} seconds`;
	return { limits: `${limit} calls per ${per} per user, ${app}`, userWindow };
}

function rateLimitHint(budget: EasemobBudget): Omit<FailureHint, 'status'> {
	const { limits, userWindow } = limitsInWords(budget);
	return userWindow === undefined
		? {
				fix: `Easemob's rate limit was hit (${limits}): try again in a moment`,
				hint:
					`Easemob's rate limit was hit (this call allows ${limits}). Other clients or n8n workers may be ` +
					`using the same app's budget; a later retry will get through.`,
			}
		: {
				fix: `Easemob's rate limit was hit (${limits}): try this user again in ${userWindow}`,
				hint:
					`Easemob's rate limit was hit (this call allows ${limits}). Fewer items per user per ` +
					`${userWindow.replace(/^a /, '')}, or a later retry, will get through.`,
			};
}

/** What every call may meet, whatever the operation: the credential, the app's plan, the limits. */
function commonHints(budget: EasemobBudget): FailureHint[] {
	const unauthorized = {
		fix: `${CREDENTIAL_AT_FAULT}: check that the app is enabled and that Host is the app's cluster`,
		hint:
			'Easemob refused the app token even after n8n fetched a new one. Check that the app is enabled in the ' +
			'Easemob console and that the credential\'s Host is the cluster the app lives on.',
	};
	const rateLimit = rateLimitHint(budget);
	return [
		{ status: 401, easemobError: 'unauthorized', ...unauthorized },
		{
			status: 401,
			easemobError: 'auth_bad_access_token',
			fix: `${CREDENTIAL_AT_FAULT}: check that Host is the app's cluster`,
			hint:
				'Easemob did not recognise the app token even after n8n fetched a new one. Check that the ' +
				'credential\'s Host is the cluster the app lives on.',
		},
		{
			easemobError: 'organization_application_not_found',
			fix: `${CREDENTIAL_AT_FAULT}: check its Org Name, App Name and Host`,
			hint: 'Check the credential\'s Org Name and App Name (App Key = OrgName#AppName) and Host.',
		},
		{ easemobError: 'reach_limit', ...rateLimit },
		{
			easemobError: 'resource_limited',
			fix: 'The app\'s Easemob plan quota for this is used up: retrying will not help until the plan allows more',
			hint:
				'Your Easemob plan\'s quota for this feature is used up, so retrying will not help. Check the plan ' +
				'and usage in the Easemob console.',
		},
		{ status: 401, ...unauthorized },
		{
			status: 403,
			fix: 'Easemob does not allow this for the app: enable the feature for it in the Easemob console',
			hint:
				'Easemob does not allow this operation for your app. Check that the feature is enabled for the app ' +
				'and its plan in the Easemob console.',
		},
		{
			status: 404,
			fix: 'Easemob has nothing by that name in this app: check the IDs in the fields',
			hint:
				'Easemob found nothing by the names in the fields in the app named in the credential. Check the IDs ' +
				'against the Easemob console.',
		},
		{ status: 429, ...rateLimit },
	];
}

function hintForStatus(status: number): Omit<FailureHint, 'status'> {
	if (status >= 500) {
		return {
			fix: 'A problem on Easemob\'s side: try again later',
			hint: 'Easemob had a problem on its side. Try again later; if it persists, check Easemob\'s service status.',
		};
	}
	if (status >= 300 && status < 400) {
		return {
			fix: `${CREDENTIAL_AT_FAULT}: Host must be the app's REST host, usually with https://`,
			hint:
				'Easemob answered with a redirect, which n8n does not follow with your token. Check the ' +
				'credential\'s Host (usually https:// and the cluster shown in the console).',
		};
	}
	return {
		fix: 'Check the fields against the Easemob REST API documentation',
		hint: 'Check the fields against the Easemob REST API documentation.',
	};
}

function matches(hint: FailureHint, failure: EasemobFailure): boolean {
	return (
		(hint.status === undefined || hint.status === failure.status) &&
		(hint.easemobError === undefined || hint.easemobError === failure.easemobError) &&
		(hint.text === undefined || (failure.text !== undefined && hint.text.test(failure.text)))
	);
}

/** The operation's hints before the common ones, the specific ones before those naming a status alone. */
function hintFor(failure: EasemobFailure & { status: number }, call: Pick<EasemobCall, 'budget' | 'hints'>) {
	const common = commonHints(call.budget);
	const specific = (hint: FailureHint) => hint.easemobError !== undefined || hint.text !== undefined;
	return (
		call.hints.find((hint) => specific(hint) && matches(hint, failure)) ??
		common.find((hint) => specific(hint) && matches(hint, failure)) ??
		call.hints.find((hint) => matches(hint, failure)) ??
		common.find((hint) => matches(hint, failure)) ??
		hintForStatus(failure.status)
	);
}

// Said instead of "try again" when the call must not be done twice and no answer says whether it was done.
const NOT_RESENT = {
	fix: 'The call may have gone through, so it is not sent again: check its result before running the item again',
	hint:
		'No answer from Easemob came back, so whether it carried the call out is unknown, and this call must not be ' +
		'done twice. Check its result (in the Easemob console, or with another call) before running the item again.',
};

/** Two sentences as one message, without a doubled full stop. */
function sentences(first: string, second: string): string {
	return `${first.replace(/\.$/, '')}. ${second}`;
}

/**
 * The message for a 401 that persists after n8n built a new token for an Agora Chat account: the
 * token is signed locally, so only the App ID, the App Certificate or the cluster can be wrong.
 */
function agoraRefusal(credentials: ICredentialDataDecryptedObject, answer: string): { message: string; hint: string } {
	const host = typeof credentials.host === 'string' ? credentials.host.trim() : '';
	return {
		message:
			`Agora Chat refused a freshly signed app token (${answer}). Check the credential's App ID and App ` +
			`Certificate (copy both again from your project in Agora Console) and that the Host is your app's REST ` +
			`API domain (${host} now; Agora Chat's are a41.chat.agora.io, a61.chat.agora.io and a71.chat.agora.io).`,
		hint:
			'A token signed with another project\'s App Certificate, or sent to another cluster, is refused. Open ' +
			'the credential and use its Test button.',
	};
}

/**
 * Turns what n8n's HTTP helpers threw for one of the operation's requests into an n8n error whose
 * message ends with what to change. `agoraCredentials` is the credential when it is an Agora Chat
 * account, whose refused tokens have their own causes.
 */
export function toEasemobApiError(
	node: INode,
	thrown: unknown,
	itemIndex: number,
	call: Pick<EasemobCall, 'budget' | 'hints' | 'resendAfterLostAnswer'>,
	agoraCredentials?: ICredentialDataDecryptedObject,
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
	const failure = readFailure(thrown);
	const notResent = failure.answerLost && !call.resendAfterLostAnswer;
	const { status } = failure;
	if (status === undefined) {
		const code = failure.networkCode;
		if (code === undefined) {
			return new EasemobApiError(node, {
				message: sentences(`The request to Easemob failed: ${failure.message}`, 'Try again; report it if it persists'),
				hint: 'This is not an answer from Easemob. If it persists, report it with the message above.',
				itemIndex,
				transient: false,
			});
		}
		let fix = 'Check the credential\'s Host and that n8n can reach it; a later try may work';
		let hint =
			`The connection failed before Easemob answered (${code}). Check the credential's Host and that n8n can ` +
			`reach it; a retry may help.`;
		if (code === 'ENOTFOUND') {
			fix = `${CREDENTIAL_AT_FAULT}: check the spelling of its Host`;
			hint = `The credential's Host does not resolve (${code}). Check its spelling against the Easemob console.`;
		} else if (notResent) {
			({ fix, hint } = NOT_RESENT);
		}
		return new EasemobApiError(node, {
			message: sentences(`Could not reach Easemob: ${networkFailureInWords(code)}`, fix),
			hint,
			itemIndex,
			transient: failure.transient && !notResent,
		});
	}
	const { easemobError, text } = failure;
	const answer = `${status}${easemobError ? ` ${easemobError}` : ''}${text ? `: ${text}` : ''}`;
	// n8n has already signed a new token and sent the request again by the time a 401 gets here.
	const agora = status === 401 && agoraCredentials !== undefined ? agoraRefusal(agoraCredentials, answer) : undefined;
	const { fix, hint } = notResent ? NOT_RESENT : hintFor({ ...failure, status }, call);
	return new EasemobApiError(node, {
		message: agora?.message ?? sentences(`Easemob answered ${answer}`, fix),
		hint: agora?.hint ?? hint,
		itemIndex,
		statusCode: status,
		easemobError,
		transient: failure.transient && !notResent,
		rateLimited: failure.rateLimited,
		retryAfterMs: failure.retryAfterMs,
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
			`${stopped} because ${limit}; to keep trying for longer, raise Max Attempts or Max Retry Wait in the ` +
			`node's Options`,
		),
		hint: `${last.description ?? ''} To keep trying for longer, raise Max Attempts or Max Retry Wait in the node's Options.`.trim(),
		itemIndex: last.context.itemIndex as number,
		statusCode: last.statusCode,
		easemobError: last.easemobError,
		transient: false,
	});
}

/**
 * For a 2xx that does not say success as the call's SuccessShape has it: `why` is what the answer
 * says instead, undefined when the body is not JSON.
 */
export function unconfirmedSuccess(node: INode, why: string | undefined, itemIndex: number): EasemobApiError {
	return new EasemobApiError(node, {
		message: sentences(
			why === undefined
				? 'Easemob answered with a body that is not JSON, so success cannot be confirmed'
				: `Easemob did not confirm success (${why})`,
			'The change may not have been made: try again',
		),
		hint: 'The change may not have been made. Run the item again; if this persists, contact Easemob support.',
		itemIndex,
		statusCode: 200,
		transient: false,
	});
}
