// examples/mcp-server.json published in a real `n8n start`, driven by the official MCP client
// (@modelcontextprotocol/sdk) over Streamable HTTP, as a desktop assistant or IDE agent would.
import { randomBytes } from 'node:crypto';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { EXAMPLES, N8N_LINE, exampleCredentialRef, readExample, sandboxCredential } from '../../scripts/n8n/index.mjs';
import type { Sandbox } from '../sandbox/server';
import { FIXES } from '../helpers/messages';
import { AI_NODE_VERSIONS, aiExample, holdings, type N8n, setUp } from './harness';

const GROUP = '228950233579521';
const TOKEN = randomBytes(24).toString('base64url');
const example = readExample(EXAMPLES.mcpServer);
const trigger = example.nodes.find((node) => node.type === '@n8n/n8n-nodes-langchain.mcpTrigger')!;

let sandbox: Sandbox;
let n8n: N8n;
let client: Client;
let endpoint: URL;

type CallResult = { isError?: boolean; content: Array<{ type: string; text?: string }> };

/** The text of a tool call's answer. */
function text(result: CallResult): string {
	return result.content.map((part) => part.text ?? '').join('\n');
}

/**
 * Right after start-up n8n answers 404 on the MCP path until the published workflow's trigger is
 * registered; then a request without a session is refused with 400. Waits for that change.
 */
async function mcpPathRegistered(url: URL) {
	const deadline = Date.now() + 60_000;
	for (;;) {
		const response = await fetch(url, {
			method: 'POST',
			headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
			body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'ping' }),
		});
		await response.body?.cancel();
		if (response.status !== 404) return response.status;
		if (Date.now() > deadline) throw new Error(`${url} still answers 404 a minute after n8n started; n8n's log: ${n8n.logFile}`);
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
}

beforeAll(async () => {
	({ sandbox, n8n } = await setUp('e2e-mcp'));
	await n8n.importCredentials([
		sandboxCredential(sandbox, exampleCredentialRef()),
		{ ...trigger.credentials.httpBearerAuth, type: 'httpBearerAuth', data: { token: TOKEN } },
	]);
	const workflow = aiExample(EXAMPLES.mcpServer);
	await n8n.importWorkflows([workflow]);
	await n8n.publish(workflow.id);
	await n8n.start();
	endpoint = new URL(`${n8n.url}/mcp/${trigger.parameters.path}`);
	expect(await mcpPathRegistered(endpoint)).toBe(400);
	client = new Client({ name: 'n8n-nodes-easemob-e2e', version: '1.0.0' });
	await client.connect(
		new StreamableHTTPClientTransport(endpoint, { requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } } }),
	);
});

afterAll(async () => {
	await client?.close();
	await n8n?.dispose();
	await sandbox?.close();
});

beforeEach(() => sandbox.reset());

test(`n8n ${N8N_LINE}.x, MCP Server Trigger ${AI_NODE_VERSIONS[trigger.type]}: tools/list shows the tool, every parameter described, type naming chat and groupchat`, async () => {
	const { tools } = await client.listTools();

	expect(tools.map((tool) => tool.name)).toEqual(['Delete_conversation']);
	const [tool] = tools;
	expect(tool.description).toBe(example.nodes.find((node) => node.name === 'Delete conversation')!.parameters.toolDescription);
	const properties = tool.inputSchema.properties as Record<string, { type: string; description: string }>;
	expect(Object.keys(properties)).toEqual(['username', 'type', 'channel']);
	expect(tool.inputSchema.required).toEqual(['username', 'type', 'channel']);
	for (const property of Object.values(properties)) {
		expect(property).toEqual({ type: 'string', description: expect.stringMatching(/.{40,}/) });
	}
	expect(properties.type.description).toMatch(/\bchat\b.*\bgroupchat\b/);
});

test('tools/call with valid arguments: the conversation is deleted in the sandbox, history kept, and the answer says so', async () => {
	const result = (await client.callTool({
		name: 'Delete_conversation',
		arguments: { username: 'bob', type: 'groupchat', channel: GROUP },
	})) as CallResult;

	expect(result.isError).toBeFalsy();
	expect(JSON.parse(text(result))).toEqual([{ deleted: true, username: 'bob', channel: GROUP, type: 'groupchat', deleteRoam: false }]);
	expect(holdings(sandbox, 'bob')).toEqual({ conversations: ['chat alice'], roaming: ['chat alice', `groupchat ${GROUP}`] });
});

test('tools/call for an unknown user: isError, with the cause and what to check', async () => {
	const result = (await client.callTool({
		name: 'Delete_conversation',
		arguments: { username: 'nobody', type: 'chat', channel: 'alice' },
	})) as CallResult;

	expect(result.isError).toBe(true);
	expect(text(result)).toContain(`Easemob answered 404 service_resource_not_found: Service resource not found. ${FIXES.unknownUser}`);
	expect(sandbox.counters()).toMatchObject({ deletes: 0, byStatus: { '404': 1 } });
});

test('tools/call with a type that is neither chat nor groupchat: isError naming both values, nothing sent to Easemob', async () => {
	const result = (await client.callTool({
		name: 'Delete_conversation',
		arguments: { username: 'alice', type: 'group', channel: GROUP },
	})) as CallResult;

	expect(result.isError).toBe(true);
	expect(text(result)).toContain('Conversation Type must be "chat" (one-to-one) or "groupchat" (group), not "group"');
	expect(sandbox.requests().filter((request) => request.method === 'DELETE')).toEqual([]);
});

test('a client without the bearer token is refused before any tool runs', async () => {
	const response = await fetch(endpoint, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
		body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
	});

	expect(response.status).toBe(403);
	expect(sandbox.requests()).toEqual([]);
});
