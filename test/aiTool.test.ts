// The Easemob tool as examples/ai-agent-tool.json and examples/mcp-server.json configure it, run
// with the arguments a model would give. n8n resolves `$fromAI(key)` from the tool call's
// arguments, which reach the node as its input item, as `items` does here. What the model is told
// (the schema) and real agents and MCP clients are in test/e2e/agent and test/e2e/mcp.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import nock from 'nock';
import type { FromAIArgument, INodeParameters } from 'n8n-workflow';
import { NodeOperationError, traverseNodeParameters } from 'n8n-workflow';

import { appPath, deleteEndpoint, freshStore, tokenEndpoint } from './helpers/easemob';
import { runNode } from './helpers/n8n';

function exampleTool(file: string): INodeParameters {
	const workflow = JSON.parse(readFileSync(join(__dirname, '..', 'examples', file), 'utf8'));
	return workflow.nodes.find((node: { type: string }) => node.type === 'n8n-nodes-easemob.easemobTool').parameters;
}

const toolParameters = exampleTool('ai-agent-tool.json');

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

test('both AI examples configure the tool alike: the model fills username, type and channel, each described', () => {
	expect(exampleTool('mcp-server.json')).toEqual(toolParameters);
	const fromAI: FromAIArgument[] = [];
	traverseNodeParameters(toolParameters, fromAI);

	expect(fromAI.map(({ key, type }) => [key, type])).toEqual([
		['username', 'string'],
		['type', 'string'],
		['channel', 'string'],
	]);
	expect(fromAI.every(({ description }) => (description ?? '').length > 40)).toBe(true);
	expect(fromAI.find(({ key }) => key === 'type')?.description).toMatch(/\bchat\b.*\bgroupchat\b/);
	// Erasing a user's history is never the model's choice.
	expect(toolParameters.deleteRoam).toBe(false);
});

test.each([
	['chat', 'bob'],
	['groupchat', '228950233579521'],
])('a model choosing type %s: DELETE /users/alice/user_channel with that type and delete_roam false', async (type, channel) => {
	tokenEndpoint();
	const del = deleteEndpoint();

	const output = await runNode({ store: freshStore(), parameters: toolParameters, items: [{ username: 'alice', type, channel }] });

	expect(del.seen).toHaveLength(1);
	expect(del.seen[0].path).toBe(`${appPath()}/users/alice/user_channel`);
	expect(del.seen[0].body).toEqual({ channel, type, delete_roam: false });
	expect(output.map((item) => item.json)).toEqual([{ deleted: true, username: 'alice', channel, type, deleteRoam: false }]);
});

test.each(['group', 'private', 'Chat', 'chatroom'])(
	'a model giving type "%s": refused before any request, with a message naming chat and groupchat',
	async (type) => {
		const token = tokenEndpoint();
		const del = deleteEndpoint();

		const error = await runNode({
			store: freshStore(),
			parameters: toolParameters,
			items: [{ username: 'alice', type, channel: 'bob' }],
		}).catch((e: unknown) => e);

		expect(error).toBeInstanceOf(NodeOperationError);
		expect((error as NodeOperationError).message).toBe(
			`Conversation Type must be "chat" (one-to-one) or "groupchat" (group), not "${type}"`,
		);
		expect(token.seen).toEqual([]);
		expect(del.seen).toEqual([]);
	},
);

test('a model giving a path as the username: one encoded path segment, no other URL', async () => {
	tokenEndpoint();
	const del = deleteEndpoint();

	await runNode({ store: freshStore(), parameters: toolParameters, items: [{ username: '../../admin?x=1#', type: 'chat', channel: 'bob' }] });

	expect(del.seen.map((request) => request.path)).toEqual([`${appPath()}/users/..%2F..%2Fadmin%3Fx%3D1%23/user_channel`]);
});
