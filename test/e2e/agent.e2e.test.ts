// examples/ai-agent-tool.json in a real n8n: its AI Agent, OpenAI Chat Model and Easemob tool,
// started by a Manual Trigger instead of the chat, with the model's credential pointed at
// test/e2e/fakeModel.ts. The fake model asks for three tool calls in one conversation (an
// unknown user, a type that is neither chat nor groupchat, then a valid call) and records what
// n8n sent it, so the tests read the schema and the texts the model really received.
import {
	EXAMPLES,
	N8N_LINE,
	TOOL_TYPE,
	exampleCredentialRef,
	nodeOutput,
	readExample,
	sandboxCredential,
} from '../../scripts/n8n/index.mjs';
import type { Sandbox } from '../sandbox/server';
import { FIXES } from '../helpers/messages';
import { type ChatMessage, type FakeModel, type ToolSchema, startFakeModel } from './fakeModel';
import { AI_NODE_VERSIONS, aiExample, expectSuccess, holdings, type N8n, setUp } from './harness';

const GROUP = '228950233579521';
const CALLS = [
	{ username: 'nobody', type: 'chat', channel: 'alice' },
	{ username: 'alice', type: 'group', channel: GROUP },
	{ username: 'alice', type: 'groupchat', channel: GROUP },
];
const FINAL_ANSWER = 'I removed the group conversation from alice\'s list.';
const PROMPT = 'Remove the group 228950233579521 from alice\'s conversations.';
const API_KEY = 'sk-fake-model-key-0001';

let sandbox: Sandbox;
let n8n: N8n;
let model: FakeModel;
let result: Awaited<ReturnType<N8n['execute']>>;
const example = readExample(EXAMPLES.aiAgent);
const toolNode = example.nodes.find((node) => node.type === TOOL_TYPE)!;

/**
 * The example with a Manual Trigger in place of the chat, and the prompt set in the agent. n8n 1.x
 * stops the whole run at a tool's error instead of handing it to the model, unless the tool is set
 * to continue on error (as the README says): then the model gets the error item.
 */
function workflowToRun() {
	const workflow = aiExample(EXAMPLES.aiAgent);
	if (N8N_LINE === '1') workflow.nodes.find((node) => node.type === TOOL_TYPE)!.onError = 'continueRegularOutput';
	const chat = workflow.nodes.find((node) => node.type === '@n8n/n8n-nodes-langchain.chatTrigger')!;
	Object.assign(chat, { type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, parameters: {} });
	delete chat.webhookId;
	const agent = workflow.nodes.find((node) => node.type === '@n8n/n8n-nodes-langchain.agent')!;
	agent.parameters = { ...agent.parameters, promptType: 'define', text: PROMPT };
	return workflow;
}

/** The text n8n handed the model as the answer to tool call `n` (1-based). */
function toolResult(n: number): string {
	const messages: ChatMessage[] = model.requests.at(-1)?.body.messages ?? [];
	const message = messages.find((candidate) => candidate.role === 'tool' && candidate.tool_call_id === `call_${n}`);
	return String(message?.content);
}

/** The words in a tool result, which n8n may wrap in JSON (`[{"error": "…"}]`), one string per line. */
function words(result: string): string {
	const strings = (value: unknown): string[] =>
		typeof value === 'string' ? [value] : typeof value === 'object' && value !== null ? Object.values(value).flatMap(strings) : [];
	try {
		return strings(JSON.parse(result)).join('\n');
	} catch {
		return result;
	}
}

beforeAll(async () => {
	({ sandbox, n8n } = await setUp('e2e-agent'));
	model = await startFakeModel();
	const openAi = example.nodes.find((node) => node.type === '@n8n/n8n-nodes-langchain.lmChatOpenAi')!.credentials.openAiApi;
	await n8n.importCredentials([
		sandboxCredential(sandbox, exampleCredentialRef()),
		{ ...openAi, type: 'openAiApi', data: { apiKey: API_KEY, url: model.url } },
	]);
	const workflow = workflowToRun();
	await n8n.importWorkflows([workflow]);
	model.plan(CALLS, FINAL_ANSWER);
	result = await n8n.execute(workflow.id);
});

afterAll(async () => {
	await n8n?.dispose();
	await model?.close();
	await sandbox?.close();
});

const line = `n8n ${N8N_LINE}.x, AI Agent ${AI_NODE_VERSIONS['@n8n/n8n-nodes-langchain.agent']}${N8N_LINE === '1' ? ', tool set to continue on error' : ''}`;

test(`${line}: the run succeeds with the model's final answer`, () => {
	expectSuccess(result);
	expect(nodeOutput(result.run, 'AI Agent')).toEqual([{ output: FINAL_ANSWER }]);
	// Three tool calls, each answered before the next request, then the final answer.
	expect(model.requests).toHaveLength(4);
	expect(model.requests.every(({ authorization }) => authorization === `Bearer ${API_KEY}`)).toBe(true);
});

test('the model was offered one tool: the example\'s name and description, every parameter described, type naming chat and groupchat', () => {
	const tools = model.requests[0].body.tools as ToolSchema[];

	expect(tools).toHaveLength(1);
	const [{ function: tool }] = tools;
	expect(tool.name).toBe('Delete_conversation');
	expect(tool.description).toBe(toolNode.parameters.toolDescription);
	const parameters = tool.parameters as { properties: Record<string, { type: string; description: string }>; required: string[] };
	expect(parameters).toMatchObject({ type: 'object', required: ['username', 'type', 'channel'] });
	expect(Object.keys(parameters.properties)).toEqual(['username', 'type', 'channel']);
	for (const property of Object.values(parameters.properties)) {
		expect(property).toEqual({ type: 'string', description: expect.stringMatching(/.{40,}/) });
	}
	expect(parameters.properties.type.description).toMatch(/\bchat\b.*\bgroupchat\b/);
	expect(JSON.stringify(tools)).not.toMatch(/deleteRoam|delete_roam|Roaming/i);
});

test('an unknown user: the model is told that the app has no such user and to check the Username', () => {
	expect(words(toolResult(1))).toContain(`Easemob answered 404 service_resource_not_found: Service resource not found. ${FIXES.unknownUser}`);
});

test('a type that is neither chat nor groupchat: the model is told the two values, and nothing is sent to Easemob', () => {
	expect(words(toolResult(2))).toContain('Conversation Type must be "chat" (one-to-one) or "groupchat" (group), not "group"');
	const deletes = sandbox.requests().filter((request) => request.method === 'DELETE');
	expect(deletes.map((request) => [request.path.split('/')[4], (request.body as { type: string }).type])).toEqual([
		['nobody', 'chat'],
		['alice', 'groupchat'],
	]);
});

test('the valid call deleted the group conversation from alice\'s list and kept her history', () => {
	expect(JSON.parse(toolResult(3))).toEqual([{ deleted: true, username: 'alice', channel: GROUP, type: 'groupchat', deleteRoam: false }]);
	expect(holdings(sandbox, 'alice')).toEqual({
		conversations: ['chat bob', 'chat carol'],
		roaming: ['chat bob', 'chat carol', `groupchat ${GROUP}`],
	});
	expect(sandbox.counters()).toMatchObject({ deletes: 1, byStatus: { '404': 1 } });
});

test('no secret reaches the model: neither the client secret nor an app token', () => {
	const sent = JSON.stringify(model.requests.map(({ body }) => body));
	expect(sent).not.toContain(sandbox.clientSecret);
	expect(sent).not.toMatch(/YWMt|Bearer/);
});
