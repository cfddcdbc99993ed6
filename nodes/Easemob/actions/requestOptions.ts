import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import type { RequestPolicy } from '../transport';

/** Options every operation offers for how its requests are sent; read once per execution. */
export const requestOptionFields: INodeProperties[] = [
	{
		displayName: 'App Rate Limit (per Second)',
		name: 'appRateLimit',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 100,
		description:
			'Most requests per second this node sends to the app, shared with every execution calling the same app in this n8n process. When Easemob answers "rate limit reached" (429) because other workers or clients use the same app, the node slows down below this and speeds up again gradually. Easemob allows 100 per second per app key unless your plan says otherwise. 0 turns the pace off.',
	},
	{
		displayName: 'User Rate Limit',
		name: 'userRateLimit',
		type: 'number',
		typeOptions: { minValue: 0, numberPrecision: 0 },
		default: 5,
		description:
			'Most requests per user within the User Rate Window. Easemob allows 5 per minute per user for this call. Items for a user at the limit wait their turn while other users\' items go ahead. 0 turns the window off.',
	},
	{
		displayName: 'User Rate Window (Seconds)',
		name: 'userRateWindow',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 60,
		description: 'Length of the window the User Rate Limit counts in',
	},
	{
		displayName: 'Requests in Parallel',
		name: 'concurrency',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: 100, numberPrecision: 0 },
		default: 10,
		description:
			'Most requests waiting for Easemob\'s answer at once. More keeps the rate up over slow networks; the rate limits above still apply.',
	},
	{
		displayName: 'Max Attempts',
		name: 'maxAttempts',
		type: 'number',
		typeOptions: { minValue: 1, numberPrecision: 0 },
		default: 5,
		description:
			'Most times an item is sent when Easemob has a server error (5xx), cannot be reached, or answers "rate limit reached" (429) for a user whose window is full. A 429 for the whole app does not count: the node slows down and sends the item again. Other errors are never retried. 1 turns retries off.',
	},
	{
		displayName: 'Max Retry Wait (Seconds)',
		name: 'maxRetryWait',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 120,
		description:
			'Most time an item waits between attempts, in all. Waits grow exponentially from about 1 second, or follow Easemob\'s Retry-After when it sends one; after a 429 the item waits for the slower pace. Waiting a full User Rate Window after a 429 for a user whose window is full does not count here: Max Attempts bounds those.',
	},
	{
		displayName: 'Timeout (Seconds)',
		name: 'timeout',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 30,
		description: 'How long to wait for Easemob to answer one request before treating it as failed (and retrying it)',
	},
	{
		displayName: 'Include Attempts',
		name: 'includeAttempts',
		type: 'boolean',
		default: false,
		description: 'Whether to add to each output item how many attempts it took and how long it waited (attempts, waitedMs)',
	},
];

export function readRequestPolicy(context: IExecuteFunctions): RequestPolicy {
	const options = context.getNodeParameter('options', 0, {}) as Record<string, number | undefined>;
	return {
		appPerSecond: options.appRateLimit ?? 100,
		userLimit: options.userRateLimit ?? 5,
		userWindowMs: (options.userRateWindow ?? 60) * 1000,
		concurrency: Math.max(1, Math.floor(options.concurrency ?? 10)),
		maxAttempts: Math.max(1, Math.floor(options.maxAttempts ?? 5)),
		maxRetryWaitMs: (options.maxRetryWait ?? 120) * 1000,
		timeoutMs: (options.timeout ?? 30) * 1000,
	};
}
