import type { ICredentialDataDecryptedObject } from 'n8n-workflow';

import { EasemobTokenError, isEasemobTokenError, networkFailureInWords, readFailure } from '../nodes/Easemob/transport/failure';

export { EasemobTokenError };

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

/** Turns a failed token request into a message that says which credential field to fix. */
export function describeTokenFailure(
	error: unknown,
	credentials: ICredentialDataDecryptedObject,
): EasemobTokenError {
	if (isEasemobTokenError(error)) return error;
	const failure = readFailure(error);
	const { status } = failure;
	const where = `${field(credentials, 'orgName')}/${field(credentials, 'appName')} on ${field(credentials, 'host')}`;
	if (status === undefined) {
		return new EasemobTokenError(
			`Could not reach the Easemob host ${field(credentials, 'host')} to get an app token: ${networkFailureInWords(failure.networkCode)}. Check the credential's Host and that n8n can reach it.`,
			failure.transient,
		);
	}
	const detail = [status, failure.easemobError, failure.text].filter(Boolean).join(' ');
	if (failure.easemobError === 'invalid_grant' || (status === 400 && /client_(id|secret)/.test(failure.text ?? ''))) {
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
	if (failure.transient) {
		return new EasemobTokenError(`Easemob could not issue an app token right now (${detail}). Try again later.`, true);
	}
	return new EasemobTokenError(`Easemob refused the app token request for ${where} (${detail}).`, false);
}
