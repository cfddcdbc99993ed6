// Issue 9 in a real scaled-out n8n: main, two `n8n worker` processes, Redis and PostgreSQL
// (scripts/n8n/queue.mjs), the packed package in every n8n process, the sandbox with Easemob's
// limits on and 25 ms of latency. Executions start as users start them: several calls to one
// published webhook on main at once, each run by whichever worker takes it from the queue.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { createQueue, LOG_DIR, NODE_TYPE, provision, REPO_DIR, sandboxCredential, startSandbox } from '../../scripts/n8n/index.mjs';
import type { Sandbox, Seed } from '../sandbox/server';
import { startTokenRecorder } from './harness';

type Queue = Awaited<ReturnType<typeof createQueue>>;
type Execution = Awaited<ReturnType<Queue['executions']>>[number];
interface Item {
	username: string;
	channel: string;
	type: 'chat';
}

const SECRET = `YXA6queueSecret${randomBytes(12).toString('hex')}`;
const CREDENTIAL = { id: 'e2eQueueCred0001', name: 'Sandbox through the token recorder (queue mode)' };
const WORKFLOW_ID = 'e2eQueueFlow0001';
const WEBHOOK_PATH = 'e2e-queue/delete-conversations';
const DELETE_NODE = 'Delete conversation';
// Every seeded user also holds this conversation, which no item names: it must survive every run.
const KEEP = 'keep';

const items = (prefix: string, executions: number, perExecution: number): Item[][] =>
	Array.from({ length: executions }, (_, e) =>
		Array.from({ length: perExecution }, (_, i) => ({ username: `${prefix}${e}u${i}`, channel: 'peer', type: 'chat' as const })),
	);
const BULK = items('bulk', 4, 200);
// One user, one conversation per execution: 10 deletes against Easemob's 5 per minute for a user.
const ONE_USER = Array.from({ length: 10 }, (_, i) => [{ username: 'busy', channel: `peer${i}`, type: 'chat' as const }]);
const EXPIRING = items('expiring', 2, 150);

function seed(): Seed {
	const users: Seed['users'] = {};
	for (const { username, channel, type } of [...BULK, ...ONE_USER, ...EXPIRING].flat()) {
		users[username] ??= { conversations: [{ channel: KEEP, type: 'chat' }] };
		users[username].conversations?.push({ channel, type });
	}
	return { users };
}

/** Webhook (answers at once) → one item per conversation in the body → the Easemob node, default options. */
const WORKFLOW = {
	id: WORKFLOW_ID,
	name: 'e2e queue: delete the conversations in the request',
	nodes: [
		{
			id: randomUUID(),
			name: 'Deletion request',
			type: 'n8n-nodes-base.webhook',
			typeVersion: 2,
			position: [0, 0],
			webhookId: randomUUID(),
			parameters: { httpMethod: 'POST', path: WEBHOOK_PATH, responseMode: 'onReceived', options: {} },
		},
		{
			id: randomUUID(),
			name: 'One item per conversation',
			type: 'n8n-nodes-base.splitOut',
			typeVersion: 1,
			position: [220, 0],
			parameters: { fieldToSplitOut: 'body.conversations', options: {} },
		},
		{
			id: randomUUID(),
			name: DELETE_NODE,
			type: NODE_TYPE,
			typeVersion: 1,
			position: [440, 0],
			parameters: {
				resource: 'conversation',
				operation: 'delete',
				username: '={{ $json.username }}',
				type: '={{ $json.type }}',
				channel: '={{ $json.channel }}',
				deleteRoam: false,
				options: {},
			},
			credentials: { easemobApi: CREDENTIAL },
		},
	],
	connections: {
		'Deletion request': { main: [[{ node: 'One item per conversation', type: 'main', index: 0 }]] },
		'One item per conversation': { main: [[{ node: DELETE_NODE, type: 'main', index: 0 }]] },
	},
	settings: { executionOrder: 'v1' },
	pinData: {},
	active: false,
};

let sandbox: Sandbox;
let recorder: Awaited<ReturnType<typeof startTokenRecorder>>;
let queue: Queue;
const started: Execution[] = [];

beforeAll(async () => {
	const runtime = await provision({ log: (line) => console.log(line) });
	sandbox = await startSandbox({ clientSecret: SECRET, latencyMs: 25, seed: seed() });
	recorder = await startTokenRecorder(sandbox);
	queue = await createQueue(runtime, { name: 'e2e-queue', packageDir: REPO_DIR, workers: 2 });
	// Straight to the terminal, not through jest's console: where to look when an assertion fails.
	process.stdout.write(`e2e-queue: the logs are\n  ${queue.logFiles().join('\n  ')}\n`);
	const credential = sandboxCredential(sandbox, { ...CREDENTIAL, clientSecret: SECRET });
	await queue.main.importCredentials([{ ...credential, data: { ...credential.data, host: recorder.url } }]);
	await queue.main.importWorkflows([WORKFLOW]);
	await queue.main.publish(WORKFLOW_ID);
	await queue.start();
	await queue.waitForWebhook(WEBHOOK_PATH);
}, 600_000);

afterAll(async () => {
	// Kept for a closer look at a failure: when each request reached the sandbox and how it was answered.
	if (sandbox !== undefined) {
		const requests = sandbox.requests().map(({ at, method, path, status }) => ({ at, method, path, status }));
		writeFileSync(join(LOG_DIR, 'e2e-queue-requests.json'), JSON.stringify(requests));
	}
	await queue?.dispose();
	await recorder?.close();
	await sandbox?.close();
});

/**
 * Calls the webhook once per list of items, all at once, and waits until n8n has recorded every
 * execution they started as finished. While waiting, `during` may act on the run.
 */
async function runTogether(lists: Item[][], during?: () => Promise<void>): Promise<Execution[]> {
	const before = new Set((await queue.executions()).map((execution) => execution.id));
	const answers = await Promise.all(
		lists.map((conversations) =>
			fetch(`${queue.main.url}/webhook/${WEBHOOK_PATH}`, {
				method: 'POST',
				headers: { 'Content-Type': 'application/json' },
				body: JSON.stringify({ conversations }),
			}).then((response) => response.status),
		),
	);
	expect(answers).toEqual(lists.map(() => 200));
	const watching = during?.();
	for (;;) {
		const mine = (await queue.executions()).filter((execution) => !before.has(execution.id));
		if (mine.length === lists.length && mine.every((execution) => execution.stoppedAt !== null)) {
			await watching;
			started.push(...mine);
			return mine;
		}
		await new Promise((resolve) => setTimeout(resolve, 500));
	}
}

/** The items whose conversation is still in the sandbox, and users who lost one no item named. */
function leftOver(lists: Item[][]) {
	const { users } = sandbox.state();
	const flat = lists.flat();
	const has = (username: string, channel: string) => users[username].conversations.some((c) => c.channel === channel);
	return {
		notDeleted: flat.filter(({ username, channel }) => has(username, channel)).length,
		keptLost: [...new Set(flat.map(({ username }) => username))].filter((username) => !has(username, KEEP)),
	};
}

/** The executions that did not succeed, each with the error n8n stored for it. */
async function failed(executions: Execution[]) {
	return await Promise.all(
		executions
			.filter((execution) => execution.status !== 'success')
			.map(async ({ id, status }) => `${id} ${status}: ${(await queue.runOf(id)).resultData.error?.message}`),
	);
}

/** What the sandbox answered the deletes sent since `from` (an index into its request log). */
function deleteStatuses(from: number) {
	return sandbox
		.requests()
		.slice(from)
		.filter((request) => request.method === 'DELETE')
		.map((request) => request.status);
}

test('4 executions of 200 items started together: every conversation deleted, nothing else, every execution succeeded, and under 10 % of the deletes answered 429', async () => {
	const from = sandbox.requests().length;
	const executions = await runTogether(BULK);

	const statuses = deleteStatuses(from);
	const answered429 = statuses.filter((status) => status === 429).length;
	expect({ ...leftOver(BULK), failedExecutions: await failed(executions) }).toEqual({ notDeleted: 0, keptLost: [], failedExecutions: [] });
	expect(answered429).toBeLessThan(0.1 * statuses.length);
});

test('those 4 executions ran on the workers, on both of them, by the workers\' logs', () => {
	const bulk = started.slice(0, BULK.length);
	const workerOf = queue.workerOf();

	expect(bulk).toHaveLength(BULK.length);
	expect(bulk.filter((execution) => !workerOf.has(execution.id))).toEqual([]);
	expect(new Set(bulk.map((execution) => workerOf.get(execution.id)))).toEqual(new Set([0, 1]));
});

test('10 executions for one username started together: all 10 conversations deleted and every execution succeeded', async () => {
	const executions = await runTogether(ONE_USER);

	expect({ ...leftOver(ONE_USER), failedExecutions: await failed(executions) }).toEqual({ notDeleted: 0, keptLost: [], failedExecutions: [] });
});

test('app tokens expired by the sandbox mid-run: deletes answered 401, a new token fetched, every conversation deleted and every execution succeeded', async () => {
	const from = sandbox.requests().length;
	const deletesBefore = sandbox.counters().deletes;
	let tokensAtExpiry = 0;
	const expireMidRun = async () => {
		while (sandbox.counters().deletes < deletesBefore + 60) await new Promise((resolve) => setTimeout(resolve, 20));
		tokensAtExpiry = sandbox.counters().tokensIssued;
		const answer = await fetch(`${sandbox.url}/_sandbox/expire-tokens`, { method: 'POST' });
		expect(answer.status).toBe(200);
	};
	const executions = await runTogether(EXPIRING, expireMidRun);

	expect(deleteStatuses(from)).toContain(401);
	expect(sandbox.counters().tokensIssued).toBeGreaterThan(tokensAtExpiry);
	expect({ ...leftOver(EXPIRING), failedExecutions: await failed(executions) }).toEqual({ notDeleted: 0, keptLost: [], failedExecutions: [] });
});

test("after all those runs: neither the client secret nor any token in any table of n8n's database, nor in any log", () => {
	// At least the first token and the one after the expiry: the search has something to find.
	expect(recorder.tokens.length).toBeGreaterThanOrEqual(2);
	const secrets = [SECRET, ...recorder.tokens].flatMap((value) => [value, value.slice(0, 20), value.slice(-20)]);
	const expectNone = (text: string, where: string) =>
		expect({ where, found: secrets.filter((secret) => text.includes(secret)) }).toEqual({ where, found: [] });

	const database = queue.postgres.dump();
	// Every run's data is really in what is searched.
	expect(database.split('\n').filter((line) => line.startsWith('INSERT INTO public.execution_data ')).length).toBe(started.length);
	expectNone(database, "n8n's database");
	for (const logFile of queue.logFiles()) expectNone(readFileSync(logFile, 'utf8'), logFile);
	// And the search finds them where they are: in the token requests the sandbox received.
	expect(secrets.filter((secret) => JSON.stringify(sandbox.requests()).includes(secret))).toContain(SECRET);
});
