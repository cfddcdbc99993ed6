import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import {
	DELETE_NODE,
	EXAMPLES,
	N8N_LINE,
	NODE_TYPE,
	n8nWithPackage,
	provision,
	readExample,
	startSandbox,
} from '../../scripts/n8n/index.mjs';
import type { Sandbox, SandboxOptions } from '../sandbox/server';

export type N8n = Awaited<ReturnType<typeof n8nWithPackage>>;

export interface Conversation {
	username: string;
	channel: string;
	type: 'chat' | 'groupchat';
	deleteRoam: boolean;
}

/** The sandbox (seed.json) and a fresh n8n with the packed package installed. */
export async function setUp(name: string, sandboxOptions: SandboxOptions = {}): Promise<{ sandbox: Sandbox; n8n: N8n }> {
	// `npm run test:e2e` provisions first, with progress on the console; this only finds the install.
	const runtime = await provision({ log: (line) => console.log(line) });
	const sandbox = await startSandbox(sandboxOptions);
	const n8n = await n8nWithPackage(runtime, { name });
	// Straight to the terminal, not through jest's console: where to look when an assertion fails.
	process.stdout.write(`${name}: n8n's log is ${n8n.logFile}\n`);
	return { sandbox, n8n };
}

/** A run that succeeded; when it did not, jest shows n8n's error message. */
export function expectSuccess({ ok, run }: Awaited<ReturnType<N8n['execute']>>) {
	expect(run.data.resultData.error?.message).toBeUndefined();
	expect(ok).toBe(true);
}

/**
 * examples/delete-conversations-on-schedule.json with its list of conversations and credential
 * replaced: the Easemob node still reads every parameter from the items by expressions.
 */
export function listWorkflow(
	id: string,
	credential: { id: string; name: string },
	conversations: Conversation[],
	{ continueOnFail = false } = {},
) {
	const workflow = readExample(EXAMPLES.schedule);
	workflow.id = id;
	workflow.name = `e2e ${id}`;
	for (const node of workflow.nodes) {
		if (node.name === 'Conversations to delete') node.parameters.jsonOutput = JSON.stringify({ conversations }, null, 2);
		if (node.type === NODE_TYPE) {
			node.credentials = { easemobApi: credential };
			if (continueOnFail) node.onError = 'continueRegularOutput';
		}
	}
	return workflow;
}

export { DELETE_NODE };

/** What the Easemob node puts out for a conversation it deleted. */
export function deleted(conversation: Conversation) {
	return { deleted: true, ...conversation };
}

/** The conversations and the roaming histories of `username`, as "type channel" strings. */
export function holdings(sandbox: Sandbox, username: string) {
	const user = sandbox.state().users[username];
	return {
		conversations: user.conversations.map((c) => `${c.type} ${c.channel}`),
		roaming: user.roaming.map((c) => `${c.type} ${c.channel}`),
	};
}

function readBody(request: IncomingMessage): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		request.on('data', (chunk: Buffer) => chunks.push(chunk));
		request.on('end', () => resolve(Buffer.concat(chunks)));
		request.on('error', reject);
	});
}

/** Sends a request that reached a proxy on to the sandbox, as it came. */
async function forward(sandbox: Sandbox, request: IncomingMessage, body: Buffer) {
	const answer = await fetch(`${sandbox.url}${request.url}`, {
		method: request.method,
		headers: Object.entries(request.headers).flatMap(([name, value]) =>
			['host', 'connection', 'content-length'].includes(name) || value === undefined ? [] : [[name, String(value)]],
		),
		body: body.length > 0 ? body : undefined,
	});
	return { status: answer.status, contentType: answer.headers.get('content-type') ?? 'application/json', text: await answer.text() };
}

async function listen(server: Server): Promise<{ url: string; close: () => Promise<void> }> {
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
		close: () => new Promise<void>((resolve) => server.close(() => resolve())),
	};
}

/**
 * A proxy in front of the sandbox that makes the app token expire in the middle of a run: when
 * the first delete has succeeded, every token issued so far expires before n8n sees that answer.
 * Deletes that arrive meanwhile wait, so they all meet the expired token however many requests
 * the node sends at once.
 */
export async function startExpiringProxy(sandbox: Sandbox): Promise<{ url: string; close: () => Promise<void> }> {
	let firstDelete: Promise<void> | undefined;
	const server: Server = createServer(async (request, response) => {
		const body = await readBody(request);
		let done: (() => void) | undefined;
		if (request.method === 'DELETE') {
			if (firstDelete === undefined) firstDelete = new Promise((resolve) => (done = resolve));
			else await firstDelete;
		}
		const answer = await forward(sandbox, request, body);
		if (done !== undefined) {
			if (answer.status >= 200 && answer.status < 300) sandbox.expireTokens();
			done();
		}
		response.writeHead(answer.status, { 'Content-Type': answer.contentType });
		response.end(answer.text);
	});
	return await listen(server);
}

/**
 * A proxy in front of the sandbox that notes every app token the sandbox hands out, which the
 * sandbox itself never reveals (its request log even redacts them), and every Agora token sent.
 */
export async function startTokenRecorder(sandbox: Sandbox): Promise<{ url: string; tokens: string[]; close: () => Promise<void> }> {
	const tokens: string[] = [];
	const server: Server = createServer(async (request, response) => {
		const signed = /^Bearer (007\S+)$/.exec(request.headers.authorization ?? '')?.[1];
		if (signed !== undefined && !tokens.includes(signed)) tokens.push(signed);
		const answer = await forward(sandbox, request, await readBody(request));
		if (request.method === 'POST' && request.url?.endsWith('/token') && answer.status === 200) tokens.push(JSON.parse(answer.text).access_token);
		response.writeHead(answer.status, { 'Content-Type': answer.contentType });
		response.end(answer.text);
	});
	return { ...(await listen(server)), tokens };
}

/**
 * The newest versions of the AI nodes that the n8n line under test has: the examples use 2.x's
 * (AI Agent 3.1, MCP Server Trigger 2.1); n8n 1.123.81 stops at 3 and 2.
 */
export const AI_NODE_VERSIONS: Record<string, number> =
	N8N_LINE === '1'
		? { '@n8n/n8n-nodes-langchain.agent': 3, '@n8n/n8n-nodes-langchain.mcpTrigger': 2, '@n8n/n8n-nodes-langchain.lmChatOpenAi': 1.3 }
		: { '@n8n/n8n-nodes-langchain.agent': 3.1, '@n8n/n8n-nodes-langchain.mcpTrigger': 2.1, '@n8n/n8n-nodes-langchain.lmChatOpenAi': 1.3 };

/** An example workflow with its AI nodes at the versions this n8n line has. */
export function aiExample(file: string) {
	const workflow = readExample(file);
	for (const node of workflow.nodes) node.typeVersion = AI_NODE_VERSIONS[node.type] ?? node.typeVersion;
	return workflow;
}
