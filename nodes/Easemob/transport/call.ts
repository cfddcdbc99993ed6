/**
 * What an operation declares about its Easemob call, so that the transport, the pace and the error
 * messages follow it without knowing the operation.
 */

/** One of Easemob's rate limits, per App Key. */
export interface EasemobBudget {
	/** Operations naming the same budget share one pace per app; operations with other budgets do not. */
	name: string;
	/** Easemob's limit for the whole app, in calls per second. */
	appPerSecond: number;
	/** Easemob's limit per user, when the call has one. */
	perUser?: { limit: number; windowSeconds: number };
}

/** How Easemob says that a call succeeded; any other 2xx answer is not taken as a success. */
export interface SuccessShape {
	/** Undefined when `body` (a JSON object) says success, else what it says instead, for the message. */
	notConfirmed(body: object): string | undefined;
}

function field(path: string): (body: object) => unknown {
	const keys = path.split('.');
	return (body) => keys.reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], body);
}

function fieldIs(path: string, expected: string): SuccessShape {
	const read = field(path);
	return {
		notConfirmed: (body) => {
			const value = read(body);
			if (value === expected) return undefined;
			return `${path} is ${JSON.stringify(value ?? null)}, not ${JSON.stringify(expected)}`;
		},
	};
}

/** The one-way delete and other calls answering with Easemob's usual envelope and `data.result: "ok"`. */
export const RESULT_OK = fieldIs('data.result', 'ok');

/** The message-history ("roaming") calls: `{"requestStatusCode":"ok"}`, no envelope. */
export const REQUEST_STATUS_OK = fieldIs('requestStatusCode', 'ok');

/** Easemob's usual envelope, which names the `action` it did; the operation reads the rest. */
export const ENVELOPE: SuccessShape = {
	notConfirmed: (body) => {
		const action = field('action')(body);
		return typeof action === 'string' && action !== ''
			? undefined
			: `the answer is not Easemob's usual envelope: action is ${JSON.stringify(action ?? null)}`;
	},
};

/**
 * What to say about one of Easemob's failures that only some calls meet: the most specific hint wins
 * (one naming Easemob's error type or text over one naming the status alone), and an operation's hint
 * wins over the common one of the same kind.
 */
export interface FailureHint {
	/** The HTTP status; any when left out. */
	status?: number;
	/** Easemob's `error`, e.g. `illegal_argument`. */
	easemobError?: string;
	/** Matched against Easemob's `error_description`. */
	text?: RegExp;
	/** What to change, ending the message: an AI agent's model and n8n's error output see the message alone. */
	fix: string;
	/** The error's description: what the answer means, in more words. */
	hint: string;
}

/** Everything about an operation's call that the transport and the error messages go by. */
export interface EasemobCall {
	budget: EasemobBudget;
	/**
	 * Whether a request whose answer was lost (a timeout, a reset connection, a gateway's 502 or 504)
	 * may be sent again: true only when doing the call twice leaves the same result as doing it once.
	 */
	resendAfterLostAnswer: boolean;
	success: SuccessShape;
	hints: FailureHint[];
}
