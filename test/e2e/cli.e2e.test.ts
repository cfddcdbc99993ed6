// The packed package in a real n8n, each workflow run by `n8n execute` in its own n8n process,
// against the Easemob sandbox. Every test has its own credential, so token counts are its own.
import { nodeOutput, sandboxCredential } from '../../scripts/n8n/index.mjs';
import type { Sandbox } from '../sandbox/server';
import {
	type Conversation,
	DELETE_NODE,
	deleted,
	expectSuccess,
	holdings,
	listWorkflow,
	type N8n,
	setUp,
	startExpiringProxy,
} from './harness';

const GROUP = '228950233579521';
const aliceBob: Conversation = { username: 'alice', channel: 'bob', type: 'chat', deleteRoam: true };
const aliceGroup: Conversation = { username: 'alice', channel: GROUP, type: 'groupchat', deleteRoam: false };
const bobAlice: Conversation = { username: 'bob', channel: 'alice', type: 'chat', deleteRoam: false };
const bobGroup: Conversation = { username: 'bob', channel: GROUP, type: 'groupchat', deleteRoam: true };
const carolAlice: Conversation = { username: 'carol', channel: 'alice', type: 'chat', deleteRoam: true };
const unknownUser: Conversation = { username: 'nobody', channel: 'alice', type: 'chat', deleteRoam: false };
const FIVE = [aliceBob, aliceGroup, bobAlice, bobGroup, carolAlice];

const credential = (id: string) => ({ id, name: `Sandbox ${id}` });
const CREDENTIALS = {
	items: credential('e2eCredential001'),
	continue: credential('e2eCredential002'),
	twice: credential('e2eCredential003'),
	expiring: credential('e2eCredential004'),
	wrongSecret: credential('e2eCredential005'),
	batch: credential('e2eCredential006'),
	retried: credential('e2eCredential007'),
};
const WORKFLOWS = {
	items: listWorkflow('e2eWorkflow00001', CREDENTIALS.items, FIVE),
	continue: listWorkflow('e2eWorkflow00002', CREDENTIALS.continue, [aliceBob, unknownUser, carolAlice], { continueOnFail: true }),
	first: listWorkflow('e2eWorkflow00003', CREDENTIALS.twice, [aliceBob, aliceGroup]),
	second: listWorkflow('e2eWorkflow00004', CREDENTIALS.twice, [bobAlice, bobGroup]),
	expiring: listWorkflow('e2eWorkflow00005', CREDENTIALS.expiring, FIVE),
	wrongSecret: listWorkflow('e2eWorkflow00006', CREDENTIALS.wrongSecret, FIVE),
	batchA: listWorkflow('e2eWorkflow00007', CREDENTIALS.batch, [aliceBob, aliceGroup]),
	batchB: listWorkflow('e2eWorkflow00008', CREDENTIALS.batch, [bobAlice, carolAlice]),
	retried: listWorkflow('e2eWorkflow00009', CREDENTIALS.retried, [aliceBob, bobAlice]),
};

let sandbox: Sandbox;
let n8n: N8n;
let proxy: Awaited<ReturnType<typeof startExpiringProxy>>;

beforeAll(async () => {
	({ sandbox, n8n } = await setUp('e2e-cli'));
	proxy = await startExpiringProxy(sandbox);
	const expiring = sandboxCredential(sandbox, CREDENTIALS.expiring);
	await n8n.importCredentials([
		sandboxCredential(sandbox, CREDENTIALS.items),
		sandboxCredential(sandbox, CREDENTIALS.continue),
		sandboxCredential(sandbox, CREDENTIALS.twice),
		{ ...expiring, data: { ...expiring.data, host: proxy.url } },
		sandboxCredential(sandbox, { ...CREDENTIALS.wrongSecret, clientSecret: 'YXA6NotTheSecret' }),
		sandboxCredential(sandbox, CREDENTIALS.batch),
		sandboxCredential(sandbox, CREDENTIALS.retried),
	]);
	await n8n.importWorkflows(Object.values(WORKFLOWS));
});

afterAll(async () => {
	await n8n?.dispose();
	await proxy?.close();
	await sandbox?.close();
});

beforeEach(() => sandbox.reset());

test('several items with parameters from expressions: all deleted in the sandbox, outputs in order', async () => {
	const result = await n8n.execute(WORKFLOWS.items.id);

	expectSuccess(result);
	expect(nodeOutput(result.run, DELETE_NODE)).toEqual(FIVE.map(deleted));
	expect(holdings(sandbox, 'alice')).toEqual({ conversations: ['chat carol'], roaming: ['chat carol', `groupchat ${GROUP}`] });
	expect(holdings(sandbox, 'bob')).toEqual({ conversations: [], roaming: ['chat alice'] });
	expect(holdings(sandbox, 'carol')).toEqual({ conversations: [], roaming: [] });
	expect(sandbox.counters()).toMatchObject({ deletes: 5, tokenRequests: 1, errors: 0 });
});

test('a failing item with the node set to continue on error: one error item, the others deleted', async () => {
	const result = await n8n.execute(WORKFLOWS.continue.id);

	expectSuccess(result);
	const [first, failure, third] = nodeOutput(result.run, DELETE_NODE);
	expect(first).toEqual(deleted(aliceBob));
	expect(failure).toMatchObject({ statusCode: 404, easemobError: 'service_resource_not_found' });
	expect(failure.error).toEqual(expect.stringContaining('404'));
	expect(third).toEqual(deleted(carolAlice));
	expect(holdings(sandbox, 'alice').conversations).not.toContain('chat bob');
	expect(holdings(sandbox, 'carol').conversations).toEqual([]);
	expect(sandbox.counters()).toMatchObject({ deletes: 2, byStatus: { '404': 1 } });
});

test('two executions in a row: exactly one token request in total, the token is kept in the credential', async () => {
	const first = await n8n.execute(WORKFLOWS.first.id);
	const second = await n8n.execute(WORKFLOWS.second.id);

	expectSuccess(first);
	expectSuccess(second);
	expect(nodeOutput(second.run, DELETE_NODE)).toEqual([bobAlice, bobGroup].map(deleted));
	expect(sandbox.counters()).toMatchObject({ tokenRequests: 1, deletes: 4, errors: 0 });
});

test('a token that expires in the middle of a run: the run succeeds with exactly one new token request', async () => {
	const result = await n8n.execute(WORKFLOWS.expiring.id);

	expectSuccess(result);
	expect(nodeOutput(result.run, DELETE_NODE)).toEqual(FIVE.map(deleted));
	const counters = sandbox.counters();
	expect(counters.byStatus['401']).toBeGreaterThanOrEqual(1); // the expired token was really met
	expect(counters).toMatchObject({ tokenRequests: 2, deletes: 5 });
});

test('a wrong client secret: the execution fails with a message that names the credential problem', async () => {
	const { ok, run } = await n8n.execute(WORKFLOWS.wrongSecret.id);

	expect(ok).toBe(false);
	expect(run.data.resultData.error?.message).toMatch(/Client ID or Client Secret/);
	const { deletes, tokenRequests } = sandbox.counters();
	expect(deletes).toBe(0);
	// Easemob bans accounts that ask for tokens too often: a refused secret must not be retried per item.
	expect(tokenRequests).toBeLessThan(FIVE.length);
});

test('a 503 and a dropped connection: each request is sent again and the run succeeds', async () => {
	sandbox.configure({
		faults: [
			{ kind: 'status', status: 503, username: 'alice', times: 1 },
			{ kind: 'reset', username: 'bob', times: 1 },
		],
	});

	const result = await n8n.execute(WORKFLOWS.retried.id);

	expectSuccess(result);
	expect(nodeOutput(result.run, DELETE_NODE)).toEqual([aliceBob, bobAlice].map(deleted));
	expect(sandbox.counters()).toMatchObject({ deletes: 2, byStatus: { '503': 1 }, deletesByUser: { alice: 1, bob: 1 } });
	expect(sandbox.requests().filter((request) => request.method === 'DELETE')).toHaveLength(4);
});

test('several workflows in one n8n process (n8n execute-batch): each run and its timings are read back', async () => {
	const { runs, failed } = await n8n.executeBatch([WORKFLOWS.batchA.id, WORKFLOWS.batchB.id]);

	expect(failed).toEqual([]);
	expect(nodeOutput(runs.get(WORKFLOWS.batchA.id)!, DELETE_NODE)).toEqual([aliceBob, aliceGroup].map(deleted));
	expect(nodeOutput(runs.get(WORKFLOWS.batchB.id)!, DELETE_NODE)).toEqual([bobAlice, carolAlice].map(deleted));
	for (const run of runs.values()) {
		expect(run.data.resultData.runData[DELETE_NODE][0].executionTime).toEqual(expect.any(Number));
	}
	expect(sandbox.counters()).toMatchObject({ tokenRequests: 1, deletes: 4 });
});
