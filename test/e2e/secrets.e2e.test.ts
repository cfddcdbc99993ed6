// Issue 5 in the real n8n: after every failure path, neither the client secret, the Agora App
// Certificate nor any app token the sandbox issued or saw appears in what n8n printed (`n8n execute --rawOutput` and n8n's log) or in
// what it stored (every table of its database, executions included).
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

import { NODE_TYPE, sandboxAgoraCredential, sandboxCredential } from '../../scripts/n8n/index.mjs';
import type { Fault, Sandbox } from '../sandbox/server';
import { type N8n, setUp, startTokenRecorder } from './harness';

const SECRET = `YXA6e2eSecret${randomBytes(12).toString('hex')}`;
const WRONG_SECRET = `YXA6e2eWrongSecret${randomBytes(12).toString('hex')}`;
const CERTIFICATE = randomBytes(16).toString('hex');
const WRONG_CERTIFICATE = randomBytes(16).toString('hex');

const CREDENTIALS = {
	good: { id: 'e2eSecretCred001', name: 'Sandbox through the token recorder' },
	wrongSecret: { id: 'e2eSecretCred002', name: 'Sandbox with a wrong client secret' },
	closedPort: { id: 'e2eSecretCred003', name: 'A host on a closed port' },
	agora: { id: 'e2eSecretCred004', name: 'Agora Chat sandbox' },
	agoraWrongCertificate: { id: 'e2eSecretCred005', name: 'Agora Chat sandbox with a wrong App Certificate' },
};

type Credential = keyof typeof CREDENTIALS;

interface FailurePath {
	name: string;
	credential: Credential;
	/** Each path deletes for its own user, so that faults, which the sandbox matches by user, stay apart. */
	username: string;
	fault?: Fault;
	/** What the sandbox answered this path's deletes; none when no delete was sent. */
	deleteStatus?: number;
}

const PATHS: FailurePath[] = [
	{ name: 'Wrong client secret', credential: 'wrongSecret', username: 'alice' },
	{ name: '400', credential: 'good', username: 'user400', fault: { kind: 'status', status: 400 }, deleteStatus: 400 },
	{ name: '401 after a new token', credential: 'good', username: 'user401', fault: { kind: 'unauthorized' }, deleteStatus: 401 },
	{ name: '404', credential: 'good', username: 'nobody', deleteStatus: 404 },
	{ name: '429 resource_limited', credential: 'good', username: 'user429', fault: { kind: 'resource_limited' }, deleteStatus: 429 },
	{ name: '503, retries off', credential: 'good', username: 'user503', fault: { kind: 'status', status: 503 }, deleteStatus: 503 },
	{ name: 'Malformed JSON', credential: 'good', username: 'userJson', fault: { kind: 'malformed-json' }, deleteStatus: 200 },
	{ name: 'Connection refused', credential: 'closedPort', username: 'alice' },
	{ name: 'Agora: wrong App Certificate', credential: 'agoraWrongCertificate', username: 'carol', deleteStatus: 401 },
	{ name: 'Agora: 401 that persists', credential: 'agora', username: 'agora401', fault: { kind: 'unauthorized' }, deleteStatus: 401 },
	{ name: 'Agora: 404', credential: 'agora', username: 'nobodyAgora', deleteStatus: 404 },
];

/** A Manual Trigger feeding one Easemob node per path, each with fixed parameters. */
function failureWorkflow(id: string, paths: FailurePath[], onError?: (index: number) => string) {
	return {
		id,
		name: `e2e secrets ${id}`,
		nodes: [
			{ id: randomUUID(), name: 'Run now', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
			...paths.map((path, index) => ({
				id: randomUUID(),
				name: path.name,
				type: NODE_TYPE,
				typeVersion: 1,
				position: [300, index * 150],
				parameters: {
					resource: 'conversation',
					operation: 'delete',
					username: path.username,
					type: 'chat',
					channel: 'bob',
					deleteRoam: false,
					// One attempt: a 5xx fails at once instead of after the backoff schedule.
					options: { maxAttempts: 1 },
				},
				credentials: { easemobApi: CREDENTIALS[path.credential] },
				...(onError ? { onError: onError(index) } : {}),
			})),
		],
		connections: { 'Run now': { main: [paths.map((path) => ({ node: path.name, type: 'main', index: 0 }))] } },
		settings: { executionOrder: 'v1' },
		pinData: {},
		active: false,
	};
}

const STOPPING = PATHS.map((path, index) => failureWorkflow(`e2eSecretsStop0${index}`, [path]));
// Half the paths send failed items down the regular output, half down the error output.
const ON_ERROR = ['continueRegularOutput', 'continueErrorOutput'];
const CONTINUING = failureWorkflow('e2eSecretsGoOn01', PATHS, (index) => ON_ERROR[index % 2]);

let sandbox: Sandbox;
let n8n: N8n;
let recorder: Awaited<ReturnType<typeof startTokenRecorder>>;

async function closedPort(): Promise<number> {
	const server = createServer();
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as { port: number };
	await new Promise((resolve) => server.close(resolve));
	return port;
}

beforeAll(async () => {
	({ sandbox, n8n } = await setUp('e2e-secrets', { clientSecret: SECRET, agora: true, appCertificate: CERTIFICATE }));
	recorder = await startTokenRecorder(sandbox);
	sandbox.configure({ faults: PATHS.flatMap((path) => (path.fault ? [{ ...path.fault, username: path.username }] : [])) });
	const viaRecorder = (credential: Credential, clientSecret = SECRET) => {
		const imported = sandboxCredential(sandbox, { ...CREDENTIALS[credential], clientSecret });
		return { ...imported, data: { ...imported.data, host: recorder.url } };
	};
	const viaRecorderAgora = (credential: Credential, appCertificate: string) => {
		const imported = sandboxAgoraCredential(sandbox, { ...CREDENTIALS[credential], appCertificate });
		return { ...imported, data: { ...imported.data, host: recorder.url } };
	};
	const refused = sandboxCredential(sandbox, { ...CREDENTIALS.closedPort, clientSecret: SECRET });
	await n8n.importCredentials([
		viaRecorder('good'),
		viaRecorder('wrongSecret', WRONG_SECRET),
		{ ...refused, data: { ...refused.data, host: `http://127.0.0.1:${await closedPort()}` } },
		viaRecorderAgora('agora', CERTIFICATE),
		viaRecorderAgora('agoraWrongCertificate', WRONG_CERTIFICATE),
	]);
	await n8n.importWorkflows([...STOPPING, CONTINUING]);
});

afterAll(async () => {
	await n8n?.dispose();
	await recorder?.close();
	await sandbox?.close();
});

/** The secrets, every token issued or signed so far, and the ends of each, should a value be cut short. */
function secrets() {
	const agoraTokens = sandbox.agoraTokens().map((seen) => seen.token);
	return [SECRET, WRONG_SECRET, CERTIFICATE, WRONG_CERTIFICATE, ...recorder.tokens, ...agoraTokens].flatMap((value) => [value, value.slice(0, 20), value.slice(-20)]);
}

function expectNoSecrets(text: string, where: string) {
	expect({ where, found: secrets().filter((secret) => text.includes(secret)) }).toEqual({ where, found: [] });
}

/** The statuses the sandbox answered `username`'s deletes with, in order. */
function deleteStatuses(username: string) {
	return sandbox
		.requests()
		.filter((request) => request.method === 'DELETE' && request.path.includes(`/users/${username}/`))
		.map((request) => request.status);
}

test.each(PATHS.map((path, index) => [path.name, index] as const))(
	'%s, the node stopping on error: the run fails and n8n prints neither the secret nor a token',
	async (_name, index) => {
		const path = PATHS[index];
		const before = deleteStatuses(path.username).length;
		const { ok, run, stdout } = await n8n.execute(STOPPING[index].id);

		expect(ok).toBe(false);
		expect(run.data.resultData.runData[path.name]?.[0].error).toEqual(expect.objectContaining({ message: expect.any(String) }));
		const statuses = deleteStatuses(path.username).slice(before);
		if (path.deleteStatus === undefined) expect(statuses).toEqual([]);
		else expect(statuses.length > 0 && statuses.every((status) => status === path.deleteStatus)).toBe(true);
		expectNoSecrets(stdout, `n8n execute --rawOutput for "${path.name}"`);
	},
);

test('every path with the node continuing on error: one error item each, and neither the secret nor a token printed', async () => {
	const { ok, run, stdout } = await n8n.execute(CONTINUING.id);

	expect(ok).toBe(true);
	for (const [index, path] of PATHS.entries()) {
		const output = run.data.resultData.runData[path.name]?.[0].data?.main[index % 2] ?? [];
		expect({ path: path.name, items: output.map((item) => typeof item.json.error) }).toEqual({ path: path.name, items: ['string'] });
	}
	expectNoSecrets(stdout, 'n8n execute --rawOutput for the continue-on-error workflow');
});

test('after all those runs: neither the secret nor a token in n8n stored executions, database or log', () => {
	// Tokens were issued, and a 401 after a new token means at least two: the check has something to find.
	expect(recorder.tokens.length).toBeGreaterThanOrEqual(2);
	// And Agora tokens were signed, with the right certificate and with the wrong one.
	expect(recorder.tokens.filter((token) => token.startsWith('007')).length).toBeGreaterThanOrEqual(2);
	expect(new Set(sandbox.agoraTokens().map((seen) => seen.verdict))).toEqual(new Set(['accepted', 'bad signature']));
	const database = n8n.databaseText();
	// Every run's data is really in what is searched.
	expect(database.split('\n').filter((row) => row.startsWith('execution_data ')).length).toBe(STOPPING.length + 1);
	expectNoSecrets(database, "n8n's database");
	// And the search finds them where they are: in the token requests the sandbox received.
	expect(secrets().filter((secret) => JSON.stringify(sandbox.requests()).includes(secret))).toContain(SECRET);
	expectNoSecrets(readFileSync(n8n.logFile, 'utf8'), "n8n's log");
});
