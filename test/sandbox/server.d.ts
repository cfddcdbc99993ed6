// Declarations for server.js, a local Easemob REST sandbox (see that file).

export type ConversationType = 'chat' | 'groupchat';

export interface Conversation {
	channel: string;
	type: ConversationType;
}

/** One message of a user's copy of a conversation's history. */
export interface Message {
	/** 18 or 19 decimal digits, as Easemob's message IDs. */
	msgId: string;
	/** ms since the epoch. */
	timestamp: number;
}

/** One user's copy of one conversation's history ("roaming messages"). Listed only while it holds a message. */
export interface RoamingHistory {
	channel: string;
	type: ConversationType;
	/** How many messages `history` holds. */
	messages: number;
	/** Oldest first. */
	history: Message[];
}

/** A user as Easemob's user entity has them, with their conversation list and history. */
export interface UserState {
	uuid: string;
	/** ms since the epoch. */
	created: number;
	/** ms since the epoch; a ban or unban sets it. */
	modified: number;
	/** Only when set. */
	nickname?: string;
	/** false = banned (deactivated). */
	activated: boolean;
	/** Logged in on some device; a ban or a force logout sets it false. */
	online: boolean;
	conversations: Conversation[];
	roaming: RoamingHistory[];
}

export interface GroupState {
	owner: string;
	/** The owner included. */
	members: string[];
}

/**
 * A history given either message by message (`history`) or as `messages` messages spread evenly
 * over the `days` days (default 30) before the sandbox started, each in the middle of its share; the
 * same conversation seeded for both its users gets the same message IDs and timestamps.
 */
export interface SeedHistory {
	channel: string;
	type: ConversationType;
	messages?: number;
	days?: number;
	/** Wins over `messages` and `days`. */
	history?: Message[];
}

/**
 * Every field is optional: `uuid` is derived from the username, `created` (and `modified`) is when
 * the sandbox started, `activated` true, `online` false, the lists empty. A state from `state()` is
 * a seed that gives that state back.
 */
export interface SeedUser {
	uuid?: string;
	created?: number;
	modified?: number;
	nickname?: string;
	activated?: boolean;
	online?: boolean;
	conversations?: Conversation[];
	roaming?: SeedHistory[];
}

export interface Seed {
	users: Record<string, SeedUser>;
	/** Groups and their owners: deleting a user deletes the groups they own. The owner is added to `members`. */
	groups?: Record<string, { owner: string; members?: string[] }>;
}

/**
 * What `generateSeed` (and `POST /_sandbox/seed`) builds: users `${prefix}0` … `${prefix}${users - 1}`,
 * each with `conversations` conversations of `type` holding `messages` messages over the `days` days
 * before the sandbox started (as a seed's `messages` and `days`). One-to-one: user i's peers are
 * users i + 1, i + 2, … (wrapping round). Groups: 100000000000000, 100000000000001, …, owned by
 * `${prefix}0`, every user a member.
 */
export interface SeedSpec {
	/** 1 to 100000. */
	users: number;
	/** Per user. Default 1; for 'chat', fewer than `users`. */
	conversations?: number;
	/** Default 'chat'. */
	type?: ConversationType;
	/** Per conversation. Default 10. */
	messages?: number;
	/** Default 180. */
	days?: number;
	/** Default 'user'. */
	prefix?: string;
}

export interface SandboxState {
	users: Record<string, UserState>;
	groups: Record<string, GroupState>;
}

/** The API calls the sandbox answers, named by what they do. */
export type Endpoint =
	| 'token'
	| 'conversation.delete'
	| 'history.all'
	| 'history.chat.time'
	| 'history.group.time'
	| 'history.chat.ids'
	| 'history.group.ids'
	| 'user.list'
	| 'user.get'
	| 'user.delete'
	| 'user.deactivate'
	| 'user.activate'
	| 'user.disconnect';

/**
 * Easemob's rate-limit budgets: the one-way delete's ('conversation': per user and per app), each
 * history endpoint's own (named as the endpoint), and the one all user calls share ('user').
 */
export type Budget =
	| 'conversation'
	| 'history.all'
	| 'history.chat.time'
	| 'history.group.time'
	| 'history.chat.ids'
	| 'history.group.ids'
	| 'user';

export interface RateLimit {
	limit: number;
	windowMs: number;
}

export interface RateLimits {
	/** One-way delete, per username in the path. Default `{ limit: 5, windowMs: 60000 }`; `false` = off. */
	perUser?: RateLimit | false;
	/** One-way delete, per app. Default `{ limit: 100, windowMs: 1000 }`; `false` = off. */
	perApp?: RateLimit | false;
	/** Each history endpoint, per app, counted apart. Default `{ limit: 100, windowMs: 1000 }`; `false` = off. */
	history?: RateLimit | false;
	/** All user calls together, per app. Default `{ limit: 100, windowMs: 1000 }`; `false` = off. */
	userCalls?: RateLimit | false;
	/** `'fixed'` (default): windows aligned to multiples of windowMs since the epoch. */
	windows?: 'fixed' | 'sliding';
	/** Send `Retry-After` (whole seconds, rounded up) on a rate-limit 429. Default false. */
	retryAfter?: boolean;
}

export type FaultKind =
	| 'status'
	| 'reset'
	| 'slow'
	| 'malformed-json'
	| 'result-not-ok'
	| 'unauthorized'
	| 'resource_limited'
	| 'reach_limit';

/**
 * The first matching rule with `times` left replaces the normal answer; it changes no state and
 * uses no budget. 'result-not-ok' answers 200 with a body that is not the endpoint's success: the
 * one-way delete's `data.result` "failed", history's `requestStatusCode` "fail", force logout's
 * `data.result` false, activate's without `action`, the other user calls' with no entity.
 */
export interface Fault {
	kind: FaultKind;
	/**
	 * Which requests it hits: an endpoint, a budget ('conversation', 'user', or a history endpoint),
	 * 'history' (all five), 'any' (unknown routes too), or 'delete' (the one-way delete). Default 'delete'.
	 */
	on?: Endpoint | Budget | 'history' | 'delete' | 'any';
	/** Only requests for this (decoded) username in the path. */
	username?: string;
	/** How many more requests it hits; counts down. Default unlimited. */
	times?: number;
	/** For kind 'status'. Default 500. */
	status?: number;
	/** For kind 'slow'. Default 30000. */
	delayMs?: number;
}

export interface SandboxSettings {
	/** Delay before answering every API request (not `/_sandbox/`). Default 0. */
	latencyMs?: number;
	/**
	 * Defaults as documented on each field; `false` switches both limits off. Given to `configure`,
	 * the fields merge over the current limits, and the calls counted so far are forgotten.
	 */
	rateLimits?: RateLimits | false;
	/** Token lifetime when the token request has no `ttl`; 0 = never expires. Default 86400. */
	tokenTtlSeconds?: number;
	/** Replaces the whole rule list. */
	faults?: Fault[];
	/** false: the history endpoints answer 400 `service open exception` "this appKey not open message roaming". Default true. */
	messageRoaming?: boolean;
}

export interface SandboxOptions extends SandboxSettings {
	/** Default 0: a free port. */
	port?: number;
	/** Default '127.0.0.1'. */
	host?: string;
	orgName?: string;
	appName?: string;
	clientId?: string;
	clientSecret?: string;
	/**
	 * Agora Chat mode: also accept AccessToken2 (`007…`) app tokens signed for `appId` with
	 * `appCertificate`, answering 401 `auth_bad_access_token` for a bad one and 401 `unauthorized`
	 * for an expired one. Client ID and Secret keep working. Default false.
	 */
	agora?: boolean;
	/** Agora mode's App ID. Default DEFAULTS.appId. */
	appId?: string;
	/** Agora mode's App Certificate. Default DEFAULTS.appCertificate. */
	appCertificate?: string;
	/** Default: seed.json. Copied, never mutated. */
	seed?: Seed;
}

export interface BudgetCounters {
	/** Calls the budget let through (whatever came of them). */
	passed: number;
	/** Calls it answered 429 `reach_limit`. */
	refused: number;
	/** 'conversation' only: refusals with the user's window full, and with the app's (a call can count in both). */
	refusedPerUser?: number;
	refusedPerApp?: number;
}

export interface Counters {
	requests: number;
	tokenRequests: number;
	tokensIssued: number;
	/** Successful one-way deletes. */
	deletes: number;
	/** Messages the history calls removed. */
	messagesDeleted: number;
	status429: number;
	/** Every non-2xx answer, 429 included. */
	errors: number;
	byStatus: Record<string, number>;
	/** Successful one-way deletes per username. */
	deletesByUser: Record<string, number>;
	/** Per endpoint called ('other' for unknown routes): answers, and the 2xx ones among them. */
	endpoints: Partial<Record<Endpoint | 'other', { requests: number; ok: number }>>;
	/** Every budget, called or not. Faults use none. */
	budgets: Record<Budget, BudgetCounters>;
}

export interface LoggedRequest {
	method: string;
	/** Raw, still percent-encoded, without the query string. */
	path: string;
	query: Record<string, string>;
	/** Lower-cased names; `authorization`, when sent, reads 'Bearer <redacted>'. */
	headers: Record<string, string | string[] | undefined>;
	/** Parsed JSON, else the raw text, or null when empty. */
	body: unknown;
	/** 0 while unanswered, and for good when a 'reset' fault dropped the connection. */
	status: number;
	/** When it arrived, ms since the epoch. */
	at: number;
	endpoint: Endpoint | 'other';
	/** History by time or by ID, once the query was read: `isNotify` as the service took it (absent = true). */
	isNotify?: boolean;
}

export interface Sandbox {
	readonly url: string;
	readonly port: number;
	readonly orgName: string;
	readonly appName: string;
	readonly clientId: string;
	readonly clientSecret: string;
	/** Whether Agora mode is on; App ID and certificate are set only then. */
	readonly agora: boolean;
	readonly appId: string | undefined;
	readonly appCertificate: string | undefined;
	/** Every `007` token seen in Agora mode, first seen first (`GET /_sandbox/tokens` omits `token`). */
	agoraTokens(): AgoraTokenSeen[];
	state(): SandboxState;
	counters(): Counters;
	requests(): LoggedRequest[];
	/** Throws a TypeError on an invalid value. */
	configure(partial: SandboxSettings): void;
	/** Every token issued so far (and every Agora token seen so far) answers 401 `unauthorized` from now on. */
	expireTokens(): void;
	/** Back to the start seed (or `seed`, for this time only); clears counters, log, tokens, windows and faults. */
	reset(seed?: Seed): void;
	/** Closes the server and every socket, dropping requests still waiting. Safe to call twice. */
	close(): Promise<void>;
}

export interface Defaults {
	readonly orgName: string;
	readonly appName: string;
	readonly clientId: string;
	readonly clientSecret: string;
	readonly appId: string;
	readonly appCertificate: string;
	readonly tokenTtlSeconds: number;
	readonly rateLimits: Readonly<Required<RateLimits>>;
}

export declare const DEFAULTS: Defaults;

export declare function startSandbox(options?: SandboxOptions): Promise<Sandbox>;

/** Many users, conversations and messages for a benchmark: `sandbox.reset(generateSeed(spec))`. Throws a TypeError on a bad spec. */
export declare function generateSeed(spec: SeedSpec): Seed & { groups: NonNullable<Seed['groups']> };

export interface AgoraTokenSeen {
	token: string;
	/** The first 12 hex digits of the token's SHA-256. */
	fingerprint: string;
	length: number;
	/** From the token; null when it could not be read. */
	appId: string | null;
	issueTs: number | null;
	/** Lifetime in seconds from issueTs. */
	expire: number | null;
	salt: number | null;
	/** ms since the epoch. */
	firstSeen: number;
	/** Requests that carried it. */
	requests: number;
	/** How the last request carrying it was judged. */
	verdict: 'accepted' | 'expired' | 'bad signature' | 'other App ID' | 'not a Chat app token' | 'malformed';
}
