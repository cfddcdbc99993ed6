/** Plain HTTP to the local sandbox, for the tests of the sandbox itself (test/sandbox*.test.ts). */
import { startSandbox, type Sandbox, type SandboxOptions, type Seed } from '../sandbox/server';

export const JSON_TYPE = 'application/json;charset=UTF-8';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Fixed message times, so that a time-based delete has a known answer. */
export const T = 1_700_000_000_000;

/** `count` messages `${prefix}1`, `${prefix}2`, … one second apart from T + 1 s. */
export function messages(prefix: string, count: number) {
	return Array.from({ length: count }, (_, i) => ({ msgId: `${prefix}${i + 1}`, timestamp: T + (i + 1) * 1000 }));
}

const opened: Sandbox[] = [];

afterEach(async () => {
	await Promise.all(opened.splice(0).map(async (s) => await s.close()));
});

/** A sandbox closed after the test, on `seed` (undefined: seed.json), limits off unless the options set them. */
export async function start(seed: Seed | undefined, options: SandboxOptions = {}): Promise<Sandbox> {
	const sandbox = await startSandbox({ seed, rateLimits: false, ...options });
	opened.push(sandbox);
	return sandbox;
}

export interface Answer {
	status: number;
	headers: Headers;
	text: string;
	/** Parsed JSON (undefined when not JSON); `any` because assertions read arbitrary fields. */
	body: any;
}

export interface CallOptions {
	body?: unknown;
	raw?: string;
	token?: string;
	authorization?: string;
}

export async function call(s: Sandbox, method: string, path: string, options: CallOptions = {}): Promise<Answer> {
	const headers: Record<string, string> = { 'Content-Type': 'application/json' };
	const authorization = options.authorization ?? (options.token && `Bearer ${options.token}`);
	if (authorization) headers.Authorization = authorization;
	const res = await fetch(s.url + path, {
		method,
		headers,
		body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
	});
	const text = await res.text();
	let body: unknown;
	try {
		body = JSON.parse(text);
	} catch {
		body = undefined;
	}
	return { status: res.status, headers: res.headers, text, body };
}

export const appPath = (s: Sandbox) => `/${s.orgName}/${s.appName}`;

export const credentials = (s: Sandbox) => ({
	grant_type: 'client_credentials',
	client_id: s.clientId,
	client_secret: s.clientSecret,
});

export async function tokenFor(s: Sandbox, extra: object = {}): Promise<string> {
	const answer = await call(s, 'POST', `${appPath(s)}/token`, { body: { ...credentials(s), ...extra } });
	expect(answer.status).toBe(200);
	return answer.body.access_token as string;
}

/** An Easemob error body (§3). */
export function easemobError(error: string, description: string) {
	return { error, exception: expect.any(String), timestamp: expect.any(Number), duration: 0, error_description: description };
}

export const NOT_FOUND = easemobError('service_resource_not_found', 'Service resource not found');
export const REACH_LIMIT = easemobError('reach_limit', 'This request has reached api limit');

/** A user's conversation list and histories as "type channel" and "type channel: message IDs" strings. */
export function holdings(s: Sandbox, username: string) {
	const user = s.state().users[username];
	return {
		conversations: user.conversations.map((c) => `${c.type} ${c.channel}`),
		roaming: user.roaming.map((r) => `${r.type} ${r.channel}: ${r.history.map((m) => m.msgId).join(' ')}`),
	};
}
