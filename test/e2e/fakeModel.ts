/**
 * A stand-in for an OpenAI-compatible chat model (POST /v1/chat/completions) that n8n's OpenAI
 * Chat Model node can be pointed at by its credential's base URL. It follows a plan: while fewer
 * tool results than planned calls are in the conversation it asks for the next call, then it
 * answers in text. It records every request, so a test sees exactly what n8n told the model:
 * the tools' schemas and the text each tool call gave back.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChatMessage {
	role: 'system' | 'user' | 'assistant' | 'tool';
	content: string | null;
	tool_call_id?: string;
	tool_calls?: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }>;
}

export interface ToolSchema {
	type: 'function';
	function: { name: string; description?: string; parameters: Record<string, unknown>; strict?: boolean };
}

export interface ChatRequest {
	model: string;
	messages: ChatMessage[];
	tools?: ToolSchema[];
	stream?: boolean;
}

export interface FakeModel {
	/** Base URL for the `openAiApi` credential's `url`. */
	readonly url: string;
	/** Every request, in order, with the Authorization header it came with. */
	readonly requests: Array<{ body: ChatRequest; authorization?: string }>;
	/** The tool calls to ask for, in order, then the final answer's text. */
	plan(calls: Array<Record<string, unknown>>, finalAnswer: string): void;
	close(): Promise<void>;
}

function readJson(request: IncomingMessage): Promise<unknown> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		request.on('data', (chunk: Buffer) => chunks.push(chunk));
		request.on('end', () => {
			try {
				resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
			} catch (error) {
				reject(error);
			}
		});
		request.on('error', reject);
	});
}

/** The assistant's message as a whole reply, or as the chunks of a streamed one. */
function answer(response: ServerResponse, body: ChatRequest, message: ChatMessage) {
	const base = { id: `chatcmpl-${Date.now()}`, created: Math.floor(Date.now() / 1000), model: body.model };
	const finishReason = message.tool_calls ? 'tool_calls' : 'stop';
	if (body.stream !== true) {
		response.writeHead(200, { 'Content-Type': 'application/json' });
		response.end(
			JSON.stringify({
				...base,
				object: 'chat.completion',
				choices: [{ index: 0, message, finish_reason: finishReason }],
				usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 },
			}),
		);
		return;
	}
	const delta = message.tool_calls
		? { role: 'assistant', tool_calls: message.tool_calls.map((call, index) => ({ index, ...call })) }
		: { role: 'assistant', content: message.content };
	const chunk = (choice: object) => `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [choice] })}\n\n`;
	response.writeHead(200, { 'Content-Type': 'text/event-stream' });
	response.end(
		chunk({ index: 0, delta, finish_reason: null }) + chunk({ index: 0, delta: {}, finish_reason: finishReason }) + 'data: [DONE]\n\n',
	);
}

export async function startFakeModel(): Promise<FakeModel> {
	const requests: FakeModel['requests'] = [];
	let calls: Array<Record<string, unknown>> = [];
	let finalAnswer = '';
	const server = createServer(async (request, response) => {
		if (request.method !== 'POST' || !request.url?.endsWith('/chat/completions')) {
			response.writeHead(404, { 'Content-Type': 'application/json' });
			response.end(JSON.stringify({ error: { message: `No route ${request.method} ${request.url}` } }));
			return;
		}
		const body = (await readJson(request)) as ChatRequest;
		requests.push({ body, authorization: request.headers.authorization });
		const done = body.messages.filter((message) => message.role === 'tool').length;
		const tool = body.tools?.[0]?.function.name;
		if (done < calls.length && tool !== undefined) {
			answer(response, body, {
				role: 'assistant',
				content: null,
				tool_calls: [{ id: `call_${done + 1}`, type: 'function', function: { name: tool, arguments: JSON.stringify(calls[done]) } }],
			});
		} else {
			answer(response, body, { role: 'assistant', content: finalAnswer });
		}
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
		requests,
		plan(nextCalls, nextAnswer) {
			calls = nextCalls;
			finalAnswer = nextAnswer;
			requests.length = 0;
		},
		close: () => new Promise<void>((resolve) => server.close(() => resolve())),
	};
}
