/** nock stand-ins for Easemob's REST API, with the bodies its documentation gives. */
import nock from 'nock';

import { CredentialStore } from './n8n';

export const HOST = 'https://a1.easemob.com';

// Each test talks to an app of its own: the node shares rate-limit pacing per app and the
// credential shares fresh tokens per client within the process, and no test may inherit either.
let apps = 0;
beforeEach(() => {
	apps += 1;
});

export function appName(): string {
	return `demo-app-${apps}`;
}

export function appPath(): string {
	return `/demo-org/${appName()}`;
}

let clients = 0;

/** A credential record for this test's app, with a client ID of its own unless given one. */
export function freshStore(data: ConstructorParameters<typeof CredentialStore>[0] = {}): CredentialStore {
	clients += 1;
	return new CredentialStore({ appName: appName(), clientId: `YXA6Client${clients}`, ...data });
}

export function errorBody(error: string, description: string) {
	return {
		error,
		exception: 'com.easemob.rest.Exception',
		timestamp: 1542350943210,
		duration: 0,
		error_description: description,
	};
}

export function deleteOkBody(username: string) {
	return {
		path: '/users/user_channel',
		uri: `${HOST}${appPath()}/users/${encodeURIComponent(username)}/user_channel`,
		timestamp: 1638440544078,
		organization: 'demo-org',
		application: 'c3624975-0000-0000-9da2-ee91ed4c5a76',
		entities: [],
		action: 'delete',
		data: { result: 'ok' },
		duration: 3,
		applicationName: appName(),
	};
}

export interface SeenRequest {
	method: string;
	path: string;
	headers: Record<string, string | string[] | undefined>;
	body: unknown;
}

/** Answers token requests with `token` and records them. */
export function tokenEndpoint(token = 'YWMtFirstToken', times = 1) {
	const seen: SeenRequest[] = [];
	const scope = nock(HOST)
		.post(`${appPath()}/token`)
		.times(times)
		.reply(function (path, body) {
			seen.push({ method: 'POST', path, headers: this.req.headers, body });
			return [200, { access_token: token, expires_in: 5184000, application: '8be024f0-0000' }];
		});
	return { scope, seen };
}

/** Answers the one-way delete with `reply(username, body)` and records what was sent. */
export function deleteEndpoint(
	reply: (path: string, body: unknown) => [number, unknown] = (path) => [200, deleteOkBody(decodeURIComponent(path.split('/')[4]))],
	times = 1,
) {
	const seen: SeenRequest[] = [];
	const scope = nock(HOST)
		.delete(() => true)
		.times(times)
		.reply(function (path, body) {
			seen.push({ method: 'DELETE', path, headers: this.req.headers, body });
			return reply(path, body);
		});
	return { scope, seen };
}

/** What the message-history ("roaming") calls answer on success: no envelope. */
export function roamingOkBody() {
	return { requestStatusCode: 'ok', timestamp: 1700000000000 };
}

export interface SeenRoamingRequest extends SeenRequest {
	/** The path without its query. */
	pathname: string;
	/** The query's values, decoded. */
	query: Record<string, string>;
}

/**
 * Answers every `method` request below the app's message-history path with `reply(request)`, by
 * default `{"requestStatusCode":"ok"}`, and records what was sent, query decoded.
 */
export function roamingEndpoint(
	method: 'POST' | 'DELETE',
	reply: (request: SeenRoamingRequest) => [number, unknown] = () => [200, roamingOkBody()],
	times = 1,
) {
	const seen: SeenRoamingRequest[] = [];
	const roaming = /\/rest\/message\/roaming\//;
	const interceptor = method === 'POST' ? nock(HOST).post(roaming) : nock(HOST).delete(roaming);
	const scope = interceptor.times(times).reply(function (path, body) {
		const url = new URL(path, HOST);
		const request = {
			method,
			path,
			pathname: url.pathname,
			query: Object.fromEntries(url.searchParams),
			headers: this.req.headers,
			body,
		};
		seen.push(request);
		return reply(request) as [number, nock.Body];
	});
	return { scope, seen };
}

/** One delete as the model of Easemob's limits saw it. */
export interface LimitedDelete {
	at: number;
	username: string;
	status: number;
}

/**
 * Deletes answered after `latencyMs`, refused with `429 reach_limit` beyond `appLimit(now)` per
 * UTC second for the app, or beyond `userLimit` per `userWindowMs` (fixed windows too) for a user,
 * as Easemob counts them; every process of a test shares it, as they would share Easemob.
 */
export function limitedDeletes(options: {
	appLimit: (now: number) => number;
	userLimit?: number;
	userWindowMs?: number;
	latencyMs?: number;
}): LimitedDelete[] {
	const seen: LimitedDelete[] = [];
	const accepted = new Map<string, number>();
	const count = (key: string) => {
		accepted.set(key, (accepted.get(key) ?? 0) + 1);
	};
	nock(HOST)
		.delete(() => true)
		.times(Infinity)
		.reply((path, _body, callback) => {
			const now = Date.now();
			const username = decodeURIComponent(path.split('/')[4]);
			const appKey = `app:${Math.floor(now / 1000)}`;
			const userKey = `user:${username}:${Math.floor(now / (options.userWindowMs ?? 60_000))}`;
			const refused =
				(accepted.get(appKey) ?? 0) >= options.appLimit(now) ||
				(options.userLimit !== undefined && (accepted.get(userKey) ?? 0) >= options.userLimit);
			if (!refused) {
				count(appKey);
				count(userKey);
			}
			seen.push({ at: now, username, status: refused ? 429 : 200 });
			const answer: [number, nock.Body] = refused
				? [429, errorBody('reach_limit', 'This request has reached api limit')]
				: [200, deleteOkBody(username)];
			setTimeout(() => callback(null, answer), options.latencyMs ?? 20);
		});
	return seen;
}
