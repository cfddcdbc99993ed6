import type { ICredentialDataDecryptedObject } from 'n8n-workflow';

// Easemob's own rule for org and app names; it also keeps both to exactly one path segment.
const APP_KEY_PART = /^[A-Za-z0-9_-]+$/;

// A token that replaced a refused one and is refused within this time of being issued is refused
// for another reason than its age (a revoked app, another cluster): yet another one would not
// help, and Easemob bans accounts that ask for tokens too often.
const LEAST_TOKEN_AGE_MS = 1000;
// Requests refused with the old token, sent before its replacement came, are answered within about a round
// trip of each other; a replacement older than this is no longer known to be newer than the token refused.
const REPLACEMENT_REUSE_MS = 10_000;
// A token handed out this close to its end could expire before the request it goes with arrives.
const EXPIRY_MARGIN_MS = 1000;

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

function field(credentials: ICredentialDataDecryptedObject, name: string): string {
	const value = credentials[name];
	return typeof value === 'string' ? value.trim() : '';
}

/** `https://host/org/app` (or `http://` when the host says so), validated so nothing else can be reached. */
export function appBaseUrl(credentials: ICredentialDataDecryptedObject): string {
	const host = field(credentials, 'host');
	if (host === '') throw new EasemobTokenError('The credential\'s Host is empty', false);
	const candidate = host.includes('://') ? host : `https://${host}`;
	if (!URL.canParse(candidate)) {
		throw new EasemobTokenError(
			`The credential's Host "${host}" is not a valid host name; write it like a1.easemob.com`,
			false,
		);
	}
	const url = new URL(candidate);
	if (url.protocol !== 'https:' && url.protocol !== 'http:') {
		throw new EasemobTokenError(
			`The credential's Host must use https:// or http://, not ${url.protocol}`,
			false,
		);
	}
	if (url.username !== '' || url.password !== '' || url.pathname !== '/' || url.search !== '' || url.hash !== '') {
		throw new EasemobTokenError(
			`The credential's Host "${host}" must be a host name only (e.g. a1.easemob.com), without user, path, query or fragment`,
			false,
		);
	}
	const orgName = field(credentials, 'orgName');
	const appName = field(credentials, 'appName');
	for (const [label, value] of [
		['Org Name', orgName],
		['App Name', appName],
	]) {
		if (!APP_KEY_PART.test(value)) {
			throw new EasemobTokenError(
				`The credential's ${label} "${value}" is not valid: it may contain only letters, digits, "-" and "_" (the App Key is OrgName#AppName)`,
				false,
			);
		}
	}
	return `${url.origin}/${orgName}/${appName}`;
}

/** A token with its lifetime, when Easemob gives one (`expires_in`; 0 means it never expires). */
export interface FetchedToken {
	token: string;
	expiresInSeconds?: number;
}

interface SharedToken {
	pending?: Promise<string>;
	token?: string;
	fetchedAt: number;
	/** When to stop handing it out: a little before Easemob ends it. */
	expiresAt: number;
	/** Whether it was fetched because Easemob refused the one before. */
	replacedRefused: boolean;
}

const sharedTokens = new Map<string, SharedToken>();

function sharedTokenKey(credentials: ICredentialDataDecryptedObject): string {
	return JSON.stringify(
		['host', 'orgName', 'appName', 'realm', 'clientId', 'clientSecret', 'appId', 'appCertificate'].map((name) =>
			field(credentials, name),
		),
	);
}

/** The newest token this process got for the credential, unless it is known to have expired. */
export function newestToken(credentials: ICredentialDataDecryptedObject): string | undefined {
	const shared = sharedTokens.get(sharedTokenKey(credentials));
	return shared?.token !== undefined && Date.now() < shared.expiresAt ? shared.token : undefined;
}

/**
 * What preAuthentication answers when n8n finds the credential's token missing or refused (401):
 * `credentials.appToken` is then the token the refused request carried, since the node sends
 * each request with a copy of the credential. Concurrent refusals share one `fetchToken`, and a
 * token refused soon after this process replaced a refused one gets that replacement: so a process asks for
 * at most one token per expiry, however many requests and executions were using the old one.
 */
export async function sharedTokenFetch(
	credentials: ICredentialDataDecryptedObject,
	fetchToken: () => Promise<string | FetchedToken>,
): Promise<string> {
	const key = sharedTokenKey(credentials);
	const shared = sharedTokens.get(key);
	if (shared?.pending) return await shared.pending;
	const now = Date.now();
	const refused = typeof credentials.appToken === 'string' && credentials.appToken !== '';
	if (shared?.token !== undefined && now < shared.expiresAt) {
		// An execution that starts without a token takes the one this process already has.
		if (!refused) return shared.token;
		// After a refusal, only a token this process got in answer to a refusal, moments ago, is known to be newer
		// than the refused one: in queue mode the refused token may come from the database, written by another
		// worker after this process's own token, which is then as stale.
		const age = now - shared.fetchedAt;
		const reuseMs = shared.token === credentials.appToken ? LEAST_TOKEN_AGE_MS : REPLACEMENT_REUSE_MS;
		if (shared.replacedRefused && age < reuseMs) return shared.token;
	}
	const fetchedAt = now;
	const pending = fetchToken().then((fetched) => (typeof fetched === 'string' ? { token: fetched } : fetched));
	const token = pending.then((fetched) => fetched.token);
	sharedTokens.set(key, { pending: token, fetchedAt, expiresAt: Infinity, replacedRefused: refused });
	pending.then(
		({ token, expiresInSeconds }) =>
			sharedTokens.set(key, {
				token,
				fetchedAt,
				expiresAt: expiresInSeconds
					? fetchedAt + expiresInSeconds * 1000 - Math.min(EXPIRY_MARGIN_MS, expiresInSeconds * 100)
					: Infinity,
				replacedRefused: refused,
			}),
		() => sharedTokens.delete(key),
	);
	return await token;
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

interface HttpFailure {
	code?: string;
	response?: { status?: number; data?: unknown };
}

function easemobErrorBody(data: unknown): { error?: string; error_description?: string } {
	if (typeof data === 'object' && data !== null) return data as { error?: string; error_description?: string };
	if (typeof data === 'string') {
		try {
			return easemobErrorBody(JSON.parse(data));
		} catch {
			return {};
		}
	}
	return {};
}

/** Turns a failed token request into a message that says which credential field to fix. */
export function describeTokenFailure(
	error: unknown,
	credentials: ICredentialDataDecryptedObject,
): EasemobTokenError {
	if (isEasemobTokenError(error)) return error;
	const failure = (typeof error === 'object' && error !== null ? error : {}) as HttpFailure;
	const status = failure.response?.status;
	const where = `${field(credentials, 'orgName')}/${field(credentials, 'appName')} on ${field(credentials, 'host')}`;
	if (status === undefined) {
		return new EasemobTokenError(
			`Could not reach the Easemob host ${field(credentials, 'host')} to get an app token: ${networkFailureInWords(failure.code)}. Check the credential's Host and that n8n can reach it.`,
			failure.code !== 'ENOTFOUND',
		);
	}
	const body = easemobErrorBody(failure.response?.data);
	const detail = [status, body.error, body.error_description].filter(Boolean).join(' ');
	if (body.error === 'invalid_grant' || (status === 400 && /client_(id|secret)/.test(body.error_description ?? ''))) {
		return new EasemobTokenError(
			`Easemob rejected the Client ID or Client Secret for ${where} (${detail}). Copy both again from the app's details in the Easemob console.`,
			false,
		);
	}
	if (status === 404) {
		return new EasemobTokenError(
			`Easemob has no app ${where} (${detail}). Check the Org Name and App Name (App Key = OrgName#AppName) and that the Host is your app's cluster.`,
			false,
		);
	}
	if (status === 429 || status >= 500) {
		return new EasemobTokenError(`Easemob could not issue an app token right now (${detail}). Try again later.`, true);
	}
	return new EasemobTokenError(`Easemob refused the app token request for ${where} (${detail}).`, false);
}
