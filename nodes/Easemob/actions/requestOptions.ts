import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import type { EasemobBudget, EasemobCall, EasemobResponse, RequestPolicy } from '../transport';

/** User Rate Limit and User Rate Window, for a call that Easemob limits per user. */
function userRateFields({ limit, windowSeconds }: { limit: number; windowSeconds: number }): INodeProperties[] {
	return [
		{
			displayName: 'User Rate Limit',
			name: 'userRateLimit',
			type: 'number',
			typeOptions: { minValue: 0, numberPrecision: 0 },
			default: limit,
			description:
				`Most requests per user within the User Rate Window. Easemob allows ${limit} per ` +
				`${windowSeconds === 60 ? 'minute' : `${windowSeconds} seconds`} per user for this call. Items for a ` +
				`user at the limit wait their turn while other users' items go ahead. 0 turns the window off.`,
		},
		{
			displayName: 'User Rate Window (Seconds)',
			name: 'userRateWindow',
			type: 'number',
			typeOptions: { minValue: 1 },
			default: windowSeconds,
			description: 'Length of the window the User Rate Limit counts in',
		},
	];
}

/** The options every operation offers for how its requests are sent, with the call's own limits as defaults. */
function requestOptionFields(call: EasemobCall): INodeProperties[] {
	const { appPerSecond, perUser } = call.budget;
	const retried = call.resendAfterLostAnswer
		? 'cannot be reached'
		: 'cannot be reached before the request is sent (a request whose answer was lost is not sent again: the ' +
			'change may have been made)';
	return [
		{
			displayName: 'App Rate Limit (per Second)',
			name: 'appRateLimit',
			type: 'number',
			typeOptions: { minValue: 0 },
			default: appPerSecond,
			description:
				`Most requests per second this node sends to the app for this call, shared with every execution ` +
				`calling the same app in this n8n process. When Easemob answers "rate limit reached" (429) because ` +
				`other workers or clients use the same app, the node slows down below this and speeds up again ` +
				`gradually. Easemob allows ${appPerSecond} per second per app key for this call unless your plan ` +
				`says otherwise. 0 turns the pace off.`,
		},
		...(perUser === undefined ? [] : userRateFields(perUser)),
		{
			displayName: 'Requests in Parallel',
			name: 'concurrency',
			type: 'number',
			typeOptions: { minValue: 1, maxValue: 100, numberPrecision: 0 },
			default: 10,
			description:
				'Most requests waiting for Easemob\'s answer at once. More keeps the rate up over slow networks; the ' +
				'rate limits above still apply.',
		},
		{
			displayName: 'Max Attempts',
			name: 'maxAttempts',
			type: 'number',
			typeOptions: { minValue: 1, numberPrecision: 0 },
			default: 5,
			description:
				perUser === undefined
					? `Most times a request is sent when Easemob has a server error (5xx) or ${retried}. A 429 ` +
						`"rate limit reached" does not count: the node slows down and sends the request again. Other ` +
						`errors are never retried. 1 turns retries off.`
					: `Most times an item is sent when Easemob has a server error (5xx), ${retried}, or answers ` +
						`"rate limit reached" (429) for a user whose window is full. A 429 for the whole app does ` +
						`not count: the node slows down and sends the item again. Other errors are never retried. 1 ` +
						`turns retries off.`,
		},
		{
			displayName: 'Max Retry Wait (Seconds)',
			name: 'maxRetryWait',
			type: 'number',
			typeOptions: { minValue: 0 },
			default: 120,
			description:
				perUser === undefined
					? 'Most time a request waits between attempts, in all. Waits grow exponentially from about 1 ' +
						'second, or follow Easemob\'s Retry-After when it sends one; after a 429 the request waits ' +
						'for the slower pace.'
					: 'Most time an item waits between attempts, in all. Waits grow exponentially from about 1 ' +
						'second, or follow Easemob\'s Retry-After when it sends one; after a 429 the item waits for ' +
						'the slower pace. Waiting for the item\'s user\'s window, a full User Rate Window after a ' +
						'429 for a user whose window is full included, does not count here: Max Attempts bounds ' +
						'those 429s.',
		},
		{
			displayName: 'Timeout (Seconds)',
			name: 'timeout',
			type: 'number',
			typeOptions: { minValue: 1 },
			default: 30,
			description: call.resendAfterLostAnswer
				? 'How long to wait for Easemob to answer one request before treating it as failed (and retrying it)'
				: 'How long to wait for Easemob to answer one request before treating it as failed (it is not sent ' +
					'again: the change may have been made)',
		},
		{
			displayName: 'Include Attempts',
			name: 'includeAttempts',
			type: 'boolean',
			default: false,
			description:
				'Whether to add to each output item how many attempts it took and how long it waited (attempts, ' +
				'waitedMs)',
		},
	];
}

/** An operation's Options: its own first, then Include Easemob Response and how requests are sent. */
export function optionsCollection(call: EasemobCall, operationOptions: INodeProperties[] = []): INodeProperties {
	return {
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add option',
		default: {},
		options: [
			...operationOptions,
			{
				displayName: 'Include Easemob Response',
				name: 'includeResponse',
				type: 'boolean',
				default: false,
				description: 'Whether to add Easemob\'s full response to the output item',
			},
			...requestOptionFields(call),
		],
	};
}

/** How the execution's requests are sent, from the Options of its first item; read once per execution. */
export function readRequestPolicy(context: IExecuteFunctions, budget: EasemobBudget): RequestPolicy {
	const options = context.getNodeParameter('options', 0, {}) as Record<string, number | undefined>;
	// A call without a per-user limit has no user window, whatever the options kept from another operation say.
	const { perUser } = budget;
	return {
		appPerSecond: options.appRateLimit ?? budget.appPerSecond,
		userLimit: perUser === undefined ? 0 : (options.userRateLimit ?? perUser.limit),
		userWindowMs: perUser === undefined ? 0 : (options.userRateWindow ?? perUser.windowSeconds) * 1000,
		concurrency: Math.max(1, Math.floor(options.concurrency ?? 10)),
		maxAttempts: Math.max(1, Math.floor(options.maxAttempts ?? 5)),
		maxRetryWaitMs: (options.maxRetryWait ?? 120) * 1000,
		timeoutMs: (options.timeout ?? 30) * 1000,
	};
}

/** Include Easemob Response and Include Attempts, as an item's Options set them. */
export interface RequestDetails {
	includeResponse?: boolean;
	includeAttempts?: boolean;
}

/** The item's Options, for withRequestDetails. */
export function requestDetails(context: IExecuteFunctions, itemIndex: number): RequestDetails {
	return context.getNodeParameter('options', itemIndex, {}) as RequestDetails;
}

/**
 * What Include Easemob Response and Include Attempts add to an output item. With several requests
 * `response` lists Easemob's answers in order; attempts and waits are added up over the requests.
 */
export function withRequestDetails(
	json: IDataObject,
	responses: EasemobResponse[],
	options: RequestDetails,
	responseAs: 'one' | 'list' = 'one',
): IDataObject {
	if (options.includeResponse === true) {
		const bodies = responses.map((response) => response.body as IDataObject);
		json.response = responseAs === 'one' ? bodies[0] : bodies;
	}
	if (options.includeAttempts === true) {
		json.attempts = responses.reduce((sum, response) => sum + response.attempts, 0);
		json.waitedMs = responses.reduce((sum, response) => sum + response.waitedMs, 0);
	}
	return json;
}
