// The packed package in a real n8n, each workflow run by `n8n execute` in its own n8n process,
// against the Easemob sandbox. Every test has its own credential, so token counts are its own.
import { randomUUID } from 'node:crypto';

import { EXAMPLES, NODE_TYPE, nodeOutput, readExample, sandboxCredential } from '../../scripts/n8n/index.mjs';
import type { Sandbox, SandboxState, Seed } from '../sandbox/server';
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

const DAY = 86_400_000;
const HOUR = 3_600_000;
const STARTED = Date.now();
const message = (msgId: string, daysAgo: number) => ({ msgId, timestamp: STARTED - daysAgo * DAY });
const BEFORE = new Date(STARTED - 90 * DAY).toISOString();
const IVANS_GROUP = '228950233579522';

/** One user per new operation, so that the state after one run shows what each operation did. */
const OPERATIONS_SEED: Seed = {
	users: {
		erin: {
			conversations: [{ channel: 'heidi', type: 'chat' }, { channel: GROUP, type: 'groupchat' }],
			roaming: [{ channel: 'heidi', type: 'chat', messages: 3 }, { channel: GROUP, type: 'groupchat', messages: 4 }],
		},
		frank: {
			conversations: [{ channel: 'erin', type: 'chat' }],
			roaming: [
				{
					channel: 'erin',
					type: 'chat',
					history: [message('1100000000000000001', 200), message('1100000000000000002', 100), message('1100000000000000003', 10)],
				},
			],
		},
		grace: {
			roaming: [
				{
					channel: GROUP,
					type: 'groupchat',
					history: [message('1200000000000000001', 5), message('1200000000000000002', 4), message('1200000000000000003', 3)],
				},
			],
		},
		heidi: { nickname: 'Heidi', roaming: [{ channel: 'erin', type: 'chat', messages: 3 }] },
		ivan: {},
		judy: { online: true },
		mallory: { activated: false },
		oscar: { online: true },
	},
	groups: { [GROUP]: { owner: 'grace', members: ['erin'] }, [IVANS_GROUP]: { owner: 'ivan' } },
};

/** Each new operation once, on a branch of its own from one Manual Trigger, named as below. */
const OPERATIONS: Record<string, Record<string, unknown>> = {
	'Delete all history': { resource: 'messageHistory', operation: 'deleteAllForUser', username: 'erin' },
	'Delete history before': {
		resource: 'messageHistory',
		operation: 'deleteBeforeTime',
		username: 'frank',
		type: 'chat',
		channel: 'erin',
		before: BEFORE,
	},
	'Delete messages by ID': {
		resource: 'messageHistory',
		operation: 'deleteByIds',
		username: 'grace',
		type: 'groupchat',
		channel: GROUP,
		messageIds: '1200000000000000001,1200000000000000003',
	},
	'Get user': { resource: 'user', operation: 'get', username: 'heidi' },
	'Delete user': { resource: 'user', operation: 'delete', username: 'ivan' },
	'Deactivate user': { resource: 'user', operation: 'deactivate', username: 'judy' },
	'Activate user': { resource: 'user', operation: 'activate', username: 'mallory' },
	'Force logout': { resource: 'user', operation: 'forceLogout', username: 'oscar' },
};

function operationsWorkflow(id: string, easemobApi: { id: string; name: string }) {
	const names = Object.keys(OPERATIONS);
	return {
		id,
		name: `e2e ${id}`,
		nodes: [
			{ id: randomUUID(), name: 'Run', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
			...names.map((name, index) => ({
				id: randomUUID(),
				name,
				type: NODE_TYPE,
				typeVersion: 1,
				position: [240, index * 200],
				parameters: { ...OPERATIONS[name], options: {} },
				credentials: { easemobApi },
			})),
		],
		connections: { Run: { main: [names.map((node) => ({ node, type: 'main', index: 0 }))] } },
		settings: { executionOrder: 'v1' },
		pinData: {},
		active: false,
	};
}

/** The conversations examples/retention-policy.json lists, with a user Easemob does not have put second. */
const RETENTION_LIST = [
	{ username: 'alice', type: 'chat', channel: 'bob' },
	{ username: 'nobody', type: 'chat', channel: 'alice' },
	...JSON.parse(readExample(EXAMPLES.retention).nodes.find((node) => node.name === 'Conversations to clean')!.parameters.jsonOutput)
		.conversations.slice(1),
];

function retentionWorkflow(id: string, easemobApi: { id: string; name: string }) {
	const workflow = readExample(EXAMPLES.retention);
	workflow.id = id;
	workflow.name = `e2e ${id}`;
	for (const node of workflow.nodes) {
		if (node.name === 'Conversations to clean') node.parameters.jsonOutput = JSON.stringify({ conversations: RETENTION_LIST });
		if (node.type === NODE_TYPE) node.credentials = { easemobApi };
	}
	return workflow;
}
const CREDENTIALS = {
	items: credential('e2eCredential001'),
	continue: credential('e2eCredential002'),
	twice: credential('e2eCredential003'),
	expiring: credential('e2eCredential004'),
	wrongSecret: credential('e2eCredential005'),
	batch: credential('e2eCredential006'),
	retried: credential('e2eCredential007'),
	operations: credential('e2eCredential008'),
	retention: credential('e2eCredential009'),
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
	operations: operationsWorkflow('e2eWorkflow00010', CREDENTIALS.operations),
	retention: retentionWorkflow('e2eWorkflow00011', CREDENTIALS.retention),
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
		sandboxCredential(sandbox, CREDENTIALS.operations),
		sandboxCredential(sandbox, CREDENTIALS.retention),
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

describe('each new operation once, in one run on a user of its own', () => {
	let before: SandboxState;
	let after: SandboxState;
	let run: Awaited<ReturnType<N8n['execute']>>;
	let counters: ReturnType<Sandbox['counters']>;
	let requests: ReturnType<Sandbox['requests']>;
	const output = (node: string) => nodeOutput(run.run, node);

	beforeAll(async () => {
		sandbox.reset(OPERATIONS_SEED);
		before = sandbox.state();
		run = await n8n.execute(WORKFLOWS.operations.id);
		after = sandbox.state();
		counters = sandbox.counters();
		requests = sandbox.requests();
	});

	test('the run succeeds with one token request and one successful call to each endpoint', () => {
		expectSuccess(run);
		expect(counters.tokenRequests).toBe(1);
		expect(counters.endpoints).toEqual({
			token: { requests: 1, ok: 1 },
			'history.all': { requests: 1, ok: 1 },
			'history.chat.time': { requests: 1, ok: 1 },
			'history.group.ids': { requests: 1, ok: 1 },
			'user.get': { requests: 1, ok: 1 },
			'user.delete': { requests: 1, ok: 1 },
			'user.deactivate': { requests: 1, ok: 1 },
			'user.activate': { requests: 1, ok: 1 },
			'user.disconnect': { requests: 1, ok: 1 },
		});
	});

	test("Message History → Delete All for a User: { deleted, username }; erin's list and whole history are gone, heidi keeps her copy", () => {
		expect(output('Delete all history')).toEqual([{ deleted: true, username: 'erin' }]);
		expect(after.users.erin).toMatchObject({ conversations: [], roaming: [] });
		expect(after.users.heidi.roaming).toEqual(before.users.heidi.roaming);
	});

	test("Message History → Delete Conversation History Before a Time: frank's copy keeps the message newer than Before only", () => {
		expect(output('Delete history before')).toEqual([
			{ deleted: true, username: 'frank', type: 'chat', channel: 'erin', before: BEFORE, notifyDevices: true },
		]);
		expect(after.users.frank.roaming.map((history) => history.history.map((m) => m.msgId))).toEqual([['1100000000000000003']]);
		expect(requests.find((request) => request.endpoint === 'history.chat.time')?.isNotify).toBe(true);
	});

	test("Message History → Delete Messages by ID: the two IDs sent in one call, grace's copy keeps the third message", () => {
		expect(output('Delete messages by ID')).toEqual([
			{
				deleted: true,
				username: 'grace',
				type: 'groupchat',
				channel: GROUP,
				messageIds: ['1200000000000000001', '1200000000000000003'],
				requests: 1,
				notifyDevices: true,
			},
		]);
		expect(after.users.grace.roaming.map((history) => history.history.map((m) => m.msgId))).toEqual([['1200000000000000002']]);
	});

	test("User → Get: Easemob's entity for heidi, activated and nickname included; heidi unchanged", () => {
		expect(output('Get user')).toEqual([
			expect.objectContaining({ username: 'heidi', activated: true, nickname: 'Heidi', uuid: before.users.heidi.uuid }),
		]);
		expect(after.users.heidi).toEqual(before.users.heidi);
	});

	test('User → Delete: { deleted, username, existed: true }; ivan and the group he owned are gone', () => {
		expect(output('Delete user')).toEqual([{ deleted: true, username: 'ivan', existed: true }]);
		expect(after.users.ivan).toBeUndefined();
		expect(after.groups[IVANS_GROUP]).toBeUndefined();
		expect(after.groups[GROUP]).toEqual(before.groups[GROUP]);
	});

	test('User → Deactivate (Ban): { username, activated: false }; judy is banned and logged out', () => {
		expect(output('Deactivate user')).toEqual([{ username: 'judy', activated: false }]);
		expect(after.users.judy).toMatchObject({ activated: false, online: false });
	});

	test('User → Activate: { username, activated: true }; mallory is no longer banned', () => {
		expect(output('Activate user')).toEqual([{ username: 'mallory', activated: true }]);
		expect(after.users.mallory.activated).toBe(true);
	});

	test('User → Force Logout: { username, loggedOut: true }; oscar is offline and still active', () => {
		expect(output('Force logout')).toEqual([{ username: 'oscar', loggedOut: true }]);
		expect(after.users.oscar).toMatchObject({ online: false, activated: true });
	});
});

test('examples/retention-policy.json with an unknown user second in its list: one error item, every other copy keeps only its last 90 days', async () => {
	const before = sandbox.state();
	const startedAt = Date.now();
	const result = await n8n.execute(WORKFLOWS.retention.id);
	const finishedAt = Date.now();
	const after = sandbox.state();

	expectSuccess(result);
	const outputs = nodeOutput(result.run, 'Delete old history');
	expect(outputs).toHaveLength(RETENTION_LIST.length);
	expect(outputs[1]).toMatchObject({ statusCode: 404, easemobError: 'service_resource_not_found' });
	const history = (state: SandboxState, { username, type, channel }: (typeof RETENTION_LIST)[number]) =>
		state.users[username].roaming.find((copy) => copy.type === type && copy.channel === channel)?.history ?? [];
	for (const [index, conversation] of RETENTION_LIST.entries()) {
		if (index === 1) continue;
		const cut = Date.parse(String(outputs[index].before));
		expect(outputs[index]).toEqual({ deleted: true, ...conversation, before: expect.any(String), notifyDevices: true });
		// 90 calendar days in n8n's timezone (America/New_York unless set): across a change of
		// daylight saving time that is an hour more or less than 90 × 24 hours.
		expect(cut).toBeGreaterThanOrEqual(startedAt - 90 * DAY - HOUR - 1000);
		expect(cut).toBeLessThanOrEqual(finishedAt - 90 * DAY + HOUR);
		expect(history(after, conversation)).toEqual(history(before, conversation).filter((m) => m.timestamp > cut));
	}
	// The seed's alice–bob history spans 180 days: the policy really removed messages.
	expect(history(after, RETENTION_LIST[0]).length).toBeLessThan(history(before, RETENTION_LIST[0]).length);
	expect(after.users.dave).toEqual(before.users.dave);
});
