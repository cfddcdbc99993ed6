// Declarations for server.js, a local Easemob REST sandbox (see that file).

export type ConversationType = 'chat' | 'groupchat';

export interface Conversation {
	channel: string;
	type: ConversationType;
}

export interface RoamingHistory {
	channel: string;
	type: ConversationType;
	messages: number;
}

export interface UserState {
	conversations: Conversation[];
	roaming: RoamingHistory[];
}

/** A missing `conversations` or `roaming` list is read as empty. */
export interface Seed {
	users: Record<string, Partial<UserState>>;
}

export interface SandboxState {
	users: Record<string, UserState>;
}

export interface RateLimit {
	limit: number;
	windowMs: number;
}

export interface RateLimits {
	/** Per username in the delete path. Default `{ limit: 5, windowMs: 60000 }`; `false` = off. */
	perUser?: RateLimit | false;
	/** Per app. Default `{ limit: 100, windowMs: 1000 }`; `false` = off. */
	perApp?: RateLimit | false;
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

/** The first matching rule with `times` left replaces the normal answer; it changes no state. */
export interface Fault {
	kind: FaultKind;
	/** Which requests it hits. Default 'delete'; 'any' also hits unknown routes. */
	on?: 'delete' | 'token' | 'any';
	/** Only deletes for this (decoded) username. */
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

export interface Counters {
	requests: number;
	tokenRequests: number;
	tokensIssued: number;
	/** Successful deletes. */
	deletes: number;
	status429: number;
	/** Every non-2xx answer, 429 included. */
	errors: number;
	byStatus: Record<string, number>;
	deletesByUser: Record<string, number>;
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
