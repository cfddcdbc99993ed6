// Agora Chat accounts in the real n8n: the packed package, an Easemob API credential with Account
// Type agora, and the sandbox in Agora mode, which checks every 007 token the credential signs.
// Every test has its own credential, so the tokens the sandbox sees are its own.
import { nodeOutput, sandboxAgoraCredential } from '../../scripts/n8n/index.mjs';
import type { Sandbox } from '../sandbox/server';
import { type Conversation, DELETE_NODE, deleted, expectSuccess, holdings, listWorkflow, type N8n, setUp } from './harness';

const GROUP = '228950233579521';
const FIVE: Conversation[] = [
	{ username: 'alice', channel: 'bob', type: 'chat', deleteRoam: true },
	{ username: 'alice', channel: GROUP, type: 'groupchat', deleteRoam: false },
	{ username: 'bob', channel: 'alice', type: 'chat', deleteRoam: false },
	{ username: 'bob', channel: GROUP, type: 'groupchat', deleteRoam: true },
	{ username: 'carol', channel: 'alice', type: 'chat', deleteRoam: true },
];

/** 32 hexadecimal characters, as the field wants, but not the sandbox's certificate. */
const WRONG_CERTIFICATE = '0f1e2d3c4b5a69788796a5b4c3d2e1f0';

const credential = (id: string) => ({ id, name: `Agora sandbox ${id}` });
const CREDENTIALS = {
	items: credential('e2eAgoraCred0001'),
	expiring: credential('e2eAgoraCred0002'),
	wrongCertificate: credential('e2eAgoraCred0003'),
};
const WORKFLOWS = {
	items: listWorkflow('e2eAgoraFlow0001', CREDENTIALS.items, FIVE),
	firstRun: listWorkflow('e2eAgoraFlow0002', CREDENTIALS.expiring, FIVE.slice(0, 2)),
	secondRun: listWorkflow('e2eAgoraFlow0003', CREDENTIALS.expiring, FIVE.slice(2)),
	wrongCertificate: listWorkflow('e2eAgoraFlow0004', CREDENTIALS.wrongCertificate, FIVE),
};

let sandbox: Sandbox;
let n8n: N8n;

beforeAll(async () => {
	({ sandbox, n8n } = await setUp('e2e-agora', { agora: true }));
	await n8n.importCredentials([
		sandboxAgoraCredential(sandbox, CREDENTIALS.items),
		sandboxAgoraCredential(sandbox, CREDENTIALS.expiring),
		sandboxAgoraCredential(sandbox, { ...CREDENTIALS.wrongCertificate, appCertificate: WRONG_CERTIFICATE }),
	]);
	await n8n.importWorkflows(Object.values(WORKFLOWS));
});

afterAll(async () => {
	await n8n?.dispose();
	await sandbox?.close();
});

beforeEach(() => sandbox.reset());

const verdicts = () => sandbox.agoraTokens().map((seen) => seen.verdict);

test('an Agora credential deletes several conversations with one signed token and no token request', async () => {
	const result = await n8n.execute(WORKFLOWS.items.id);

	expectSuccess(result);
	expect(nodeOutput(result.run, DELETE_NODE)).toEqual(FIVE.map(deleted));
	expect(holdings(sandbox, 'alice')).toEqual({ conversations: ['chat carol'], roaming: ['chat carol', `groupchat ${GROUP}`] });
	expect(holdings(sandbox, 'carol')).toEqual({ conversations: [], roaming: [] });
	expect(sandbox.counters()).toMatchObject({ deletes: 5, tokenRequests: 0, errors: 0 });
	expect(sandbox.agoraTokens().map(({ verdict, requests, appId }) => ({ verdict, requests, appId }))).toEqual([
		{ verdict: 'accepted', requests: 5, appId: sandbox.appId },
	]);
});

test('a token the sandbox expires between two runs is signed anew once, and the second run succeeds', async () => {
	const first = await n8n.execute(WORKFLOWS.firstRun.id);
	expectSuccess(first);
	sandbox.expireTokens();

	const second = await n8n.execute(WORKFLOWS.secondRun.id);

	expectSuccess(second);
	expect(nodeOutput(second.run, DELETE_NODE)).toEqual(FIVE.slice(2).map(deleted));
	// The second run found the first run's token in the credential, met the expiry, and signed one more.
	expect(verdicts()).toEqual(['expired', 'accepted']);
	expect(sandbox.counters()).toMatchObject({ deletes: 5, tokenRequests: 0 });
	expect(sandbox.counters().byStatus['401']).toBeGreaterThanOrEqual(1);
});

test('a wrong App Certificate fails the run with the message naming the App ID and App Certificate', async () => {
	const { ok, run } = await n8n.execute(WORKFLOWS.wrongCertificate.id);

	expect(ok).toBe(false);
	expect(run.data.resultData.error?.message).toMatch(
		/^Agora Chat refused a freshly signed app token \(401 auth_bad_access_token: Unable to authenticate\)\. Check the credential's App ID and App Certificate/,
	);
	expect(sandbox.counters()).toMatchObject({ deletes: 0, tokenRequests: 0 });
	expect(new Set(verdicts())).toEqual(new Set(['bad signature']));
});
