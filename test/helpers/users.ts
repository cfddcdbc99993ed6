/** nock stand-ins for Easemob's user endpoints, with the bodies its documentation gives. */
import nock from 'nock';

import type { SeenRequest } from './easemob';
import { appName, appPath, HOST } from './easemob';

export function userEntity(username: string, activated = true) {
	return {
		uuid: `4759aa70-0000-11ea-${username.length}`,
		type: 'user',
		created: 1542795196504,
		modified: 1542795196504,
		username,
		activated,
		nickname: `${username} (nickname)`,
	};
}

/** The usual envelope of the user endpoints, as Easemob answers `action` on `users/{username}…`. */
export function userEnvelope(action: string, entities: unknown[], extra: Record<string, unknown> = {}) {
	return {
		path: '/users',
		uri: `${HOST}${appPath()}/users`,
		timestamp: 1542795196504,
		organization: 'demo-org',
		application: '8be024f0-0000-0000-b697-5d598d5f8402',
		entities,
		action,
		...extra,
		duration: 3,
		applicationName: appName(),
	};
}

export type UserOperation = 'get' | 'delete' | 'deactivate' | 'activate' | 'forceLogout';

/** Each user operation's method, path below `users/{username}` and Easemob's success body. */
export const USER_CALLS: Record<UserOperation, { method: string; suffix: string; ok: (username: string) => object }> = {
	get: { method: 'GET', suffix: '', ok: (u) => userEnvelope('get', [userEntity(u)], { count: 1 }) },
	delete: { method: 'DELETE', suffix: '', ok: (u) => userEnvelope('delete', [userEntity(u)]) },
	deactivate: { method: 'POST', suffix: '/deactivate', ok: (u) => userEnvelope('Deactivate user', [userEntity(u, false)]) },
	activate: { method: 'POST', suffix: '/activate', ok: () => ({ action: 'activate user', timestamp: 1542795196504, duration: 9 }) },
	forceLogout: { method: 'GET', suffix: '/disconnect', ok: () => userEnvelope('get', [], { data: { result: true } }) },
};

/**
 * Answers the operation's call with `reply(username)` (Easemob's success by default) and records
 * what was sent; the username is read back from the path, decoded.
 */
export function userEndpoint(
	operation: UserOperation,
	reply: (username: string) => [number, nock.Body] = (username) => [200, USER_CALLS[operation].ok(username)],
	times = 1,
) {
	const { method, suffix } = USER_CALLS[operation];
	const seen: SeenRequest[] = [];
	const prefix = `${appPath()}/users/`;
	const scope = nock(HOST)
		.intercept((path) => {
			const rest = path.startsWith(prefix) ? path.slice(prefix.length) : '/';
			return rest.endsWith(suffix) && !rest.slice(0, rest.length - suffix.length).includes('/');
		}, method)
		.times(times)
		.reply(function (path, body) {
			seen.push({ method, path, headers: this.req.headers, body });
			return reply(decodeURIComponent(path.slice(prefix.length, path.length - suffix.length)));
		});
	return { scope, seen };
}
