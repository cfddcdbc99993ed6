// `npm run bench`: the benchmarks of issues 4 and 9. Runs each workload in a real n8n against the
// local sandbox, with this package's Easemob node and with n8n's HTTP Request node set up as a user
// would without it, prints what each run did and, on a full run, rewrites the results in
// docs/benchmarks.md. W1–W3 and W5 run in one n8n process (`n8n execute`), W4 and W6 in queue mode
// (main, 2 workers, Redis, PostgreSQL: scripts/n8n/queue.mjs), started by calls to published webhooks.
//
//   node scripts/bench.mjs [--only W1,W2]     (expects `npm run build` to have run)
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import {
	LOG_DIR,
	N8N_VERSION,
	createQueue,
	NODE_TYPE,
	NODE_VERSION,
	REPO_DIR,
	n8nWithPackage,
	nodeOutput,
	provision,
	sandboxCredential,
	seconds,
	startSandbox,
} from './n8n/index.mjs';

/** @type {{ DEFAULTS: typeof import('../test/sandbox/server.js').DEFAULTS, generateSeed: typeof import('../test/sandbox/server.js').generateSeed }} */
const { DEFAULTS, generateSeed } = createRequire(import.meta.url)('../test/sandbox/server.js');

const DOC = join(REPO_DIR, 'docs', 'benchmarks.md');
const DOC_START = '<!-- bench:start -->';
const DOC_END = '<!-- bench:end -->';
// W1 and W2 must finish within this multiple of the time Easemob's limits allow at best.
const SLACK = 1.15;
const TOKEN_NODE = 'Get token';
const DELETE_NODE = 'Delete conversation';
// Every seeded user also holds this conversation, which no item names: it must survive every run.
const KEEP = 'keep';
const TRIGGER = 'Run now';
// W5's other client: the customer's own backend spending part of the app's budget, on users of its own.
const BACKEND_USERS = 2000;
const BACKEND_PREFIX = 'backend';
const BACKEND_AGENT = 'n8n-nodes-easemob-bench-backend';
// The other client stops by itself after this long, should the run it accompanies never end.
const BACKEND_MAX_MS = 300_000;
// W7's retention policy: the generated histories hold messages 22.5, 67.5, 112.5 and 157.5 days old.
const RETENTION_DAYS = 90;
const RETENTION_SEED = { users: 1000, messages: 4, days: 180 };

/**
 * `executions`: in queue mode, the items of each execution, all started together; `backendPerSecond`:
 * deletes per second W5's other client sends; `bound`: issue 9's bounds, instead of issue 4's.
 * @typedef {{ username: string, channel: string, type: 'chat' }} Item
 * @typedef {{ slack?: number, extraMs?: number, max429Share?: number }} Bound
 * `operation`: the Easemob node's parameters besides its options, the one-way delete if not given;
 * `seed`, `done` and `kept`: the sandbox's data, whether an item's work is done in its state, and whether
 * everything no item names is intact (by default: each item names a conversation to delete, and `KEEP` stays).
 * @typedef {import('../test/sandbox/server.js').UserState} UserState
 * @typedef {{ id: string, title: string, items: Item[], executions?: Item[][], floorMs?: number, backendPerSecond?: number,
 *   bound?: Bound, contenders?: string[], sandbox: import('../test/sandbox/server.js').SandboxSettings,
 *   nodeOptions: Record<string, number>, operation?: Record<string, unknown>,
 *   seed?: import('../test/sandbox/server.js').Seed, done?: (users: Record<string, UserState>, item: Item) => boolean,
 *   kept?: (users: Record<string, UserState>) => boolean }} Workload
 */

/** @type {Workload[]} */
const WORKLOADS = [
	{
		id: 'W1',
		title: '1,000 items, 1,000 different users',
		items: range(1000).map((i) => item(`user${i}`, 'peer')),
		floorMs: 10_000,
		sandbox: { latencyMs: 25, rateLimits: DEFAULTS.rateLimits },
		nodeOptions: {},
	},
	{
		id: 'W2',
		title: '15 items for one user, 5 per 10 s',
		items: range(15).map((i) => item('user0', `peer${i}`)),
		floorMs: 20_000,
		sandbox: { latencyMs: 25, rateLimits: { ...DEFAULTS.rateLimits, perUser: { limit: 5, windowMs: 10_000 } } },
		nodeOptions: { userRateWindow: 10 },
	},
	{
		id: 'W3',
		title: '5,000 items, no latency, limits off',
		items: range(5000).map((i) => item(`user${i}`, 'peer')),
		sandbox: { latencyMs: 0, rateLimits: false },
		nodeOptions: { appRateLimit: 0, userRateLimit: 0 },
	},
	queued({
		id: 'W4',
		title: 'queue mode, 2 workers: 4 executions × 500 items, 2,000 users, started together',
		executions: range(4).map((e) => range(500).map((i) => item(`user${e * 500 + i}`, 'peer'))),
		floorMs: 20_000,
		bound: { slack: 1.3, max429Share: 0.1 },
	}),
	{
		id: 'W5',
		title: "W1's 1,000 users while another client spends 50 deletes/s of the app",
		items: range(1000).map((i) => item(`user${i}`, 'peer')),
		floorMs: 20_000,
		backendPerSecond: 50,
		bound: { slack: 1.3, max429Share: 0.1 },
		sandbox: { latencyMs: 25, rateLimits: DEFAULTS.rateLimits },
		nodeOptions: {},
	},
	queued({
		id: 'W6',
		title: 'queue mode, 2 workers: 12 executions for one user, started together',
		executions: range(12).map((i) => [item('user0', `peer${i}`)]),
		// 5 per minute: the 6th can go no earlier than a minute after the 1st, the 11th two minutes.
		floorMs: 120_000,
		bound: { extraMs: 15_000 },
		contenders: ['easemob'],
	}),
	{
		id: 'W7',
		title: `retention: history older than ${RETENTION_DAYS} days in 1,000 conversations`,
		items: range(RETENTION_SEED.users).map((i) => item(`user${i}`, `user${(i + 1) % RETENTION_SEED.users}`)),
		// 100 per second for the app, this call's own budget; no limit per user.
		floorMs: 10_000,
		sandbox: { latencyMs: 25, rateLimits: DEFAULTS.rateLimits },
		nodeOptions: {},
		operation: {
			resource: 'messageHistory',
			operation: 'deleteBeforeTime',
			username: '={{ $json.username }}',
			type: '={{ $json.type }}',
			channel: '={{ $json.channel }}',
			before: `={{ $now.minus({ days: ${RETENTION_DAYS} }) }}`,
		},
		seed: generateSeed(RETENTION_SEED),
		// The two older messages gone, the two newer ones kept.
		done: (users, { username, channel }) => {
			const history = users[username]?.roaming.find((roaming) => roaming.channel === channel)?.history ?? [];
			const cut = Date.now() - RETENTION_DAYS * 86_400_000;
			return history.length === 2 && history.every((message) => message.timestamp > cut);
		},
		kept: (users) => Object.values(users).every((user) => user.conversations.length === 1),
		contenders: ['easemob'],
	},
];

/**
 * A queue-mode workload: Easemob's limits, 25 ms latency, default options.
 * @param {Omit<Workload, 'items' | 'sandbox' | 'nodeOptions'> & { executions: Item[][] }} workload
 * @returns {Workload}
 */
function queued(workload) {
	return { ...workload, items: workload.executions.flat(), sandbox: { latencyMs: 25, rateLimits: DEFAULTS.rateLimits }, nodeOptions: {} };
}

/**
 * @typedef {{ id: string, label: string, timed: string[], nodes: (workload: Workload, sandboxUrl: string) => Array<Record<string, unknown>> }} Contender
 * @type {Contender[]}
 */
const CONTENDERS = [
	{
		id: 'easemob',
		label: 'Easemob node (this package)',
		timed: [DELETE_NODE],
		nodes: (workload) => [
			{
				name: DELETE_NODE,
				type: NODE_TYPE,
				typeVersion: 1,
				parameters: {
					...(workload.operation ?? {
						resource: 'conversation',
						operation: 'delete',
						username: '={{ $json.username }}',
						type: '={{ $json.type }}',
						channel: '={{ $json.channel }}',
						deleteRoam: false,
					}),
					options: workload.nodeOptions,
				},
				credentials: { easemobApi: credentialRef(workload) },
			},
		],
	},
	{
		id: 'http',
		label: 'HTTP Request, default options',
		timed: [TOKEN_NODE, DELETE_NODE],
		nodes: (_, url) => [deleteRequest(url, {})],
	},
	{
		id: 'httpBatch',
		label: 'HTTP Request, Batching 100/s + Retry On Fail (5 tries, 5 s)',
		timed: [TOKEN_NODE, DELETE_NODE],
		nodes: (_, url) => [
			{
				...deleteRequest(url, { batching: { batch: { batchSize: 100, batchInterval: 1000 } } }),
				retryOnFail: true,
				maxTries: 5,
				waitBetweenTries: 5000,
			},
		],
	},
];

const { values: args } = parseArgs({ options: { only: { type: 'string' } } });
const only = args.only?.toUpperCase().split(',');
const workloads = WORKLOADS.filter((workload) => only === undefined || only.includes(workload.id));
if (workloads.length === 0) throw new Error(`--only names no workload; there are ${WORKLOADS.map((w) => w.id).join(', ')}`);

const started = Date.now();
const loadBefore = loadavg()[0];
const runtime = await provision({ log: console.log });
const sandbox = await startSandbox();
/** @type {Array<ReturnType<typeof measure>>} */
const results = [];
try {
	const inOneProcess = workloads.filter((workload) => workload.executions === undefined);
	const inQueue = workloads.filter((workload) => workload.executions !== undefined);
	if (inOneProcess.length > 0) await runInOneProcess(inOneProcess);
	if (inQueue.length > 0) await runInQueue(inQueue);
} finally {
	await sandbox.close();
}
// In the order of WORKLOADS and CONTENDERS, whichever n8n ran them.
results.sort((a, b) => WORKLOADS.indexOf(a.workload) - WORKLOADS.indexOf(b.workload) || CONTENDERS.indexOf(a.contender) - CONTENDERS.indexOf(b.contender));

const checks = bounds(results);
const report = [
	`Measured ${new Date().toISOString().slice(0, 10)} with \`npm run bench\`${only ? ` (\`--only ${only.join(',')}\`)` : ''}: ` +
		`n8n ${N8N_VERSION} on Node ${NODE_VERSION}, ${availableParallelism()} cores (${cpus()[0]?.model.trim()}), ` +
		`load average ${loadBefore.toFixed(1)} before and ${loadavg()[0].toFixed(1)} after; the whole benchmark took ${seconds(Date.now() - started)}.`,
	'',
	'| workload | contender | wall time | ratio to floor | succeeded | failed | duplicate deletes | 429s | requests | token requests | run |',
	'|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
	...results.map((result) => `| ${row(result).join(' | ')} |`),
	'',
	...results.flatMap(({ workload, contender, backend }) =>
		backend === undefined
			? []
			: [
					`- ${workload.id}, ${contender.label}: the other client sent ${backend.sent} deletes during the run, ` +
						`${backend.accepted} accepted, ${backend.answered429} answered 429 (not in the table's counts).`,
				],
	),
	...(results.some(({ backend }) => backend !== undefined) ? [''] : []),
	'Where the wall time went, by the sandbox\'s clock (when the DELETEs arrived):',
	'',
	'| workload | contender | before the first DELETE | first to last DELETE | after the last DELETE |',
	'|---|---|---:|---:|---:|',
	...results.map(({ workload, contender, phases }) => `| ${workload.id} | ${contender.label} | ${phases.map(secondsText).join(' | ')} |`),
	'',
	'What must hold, for the Easemob node:',
	'',
	...checks.map(({ ok, text }) => `- ${ok ? 'holds' : '**does not hold**'}: ${text}`),
].join('\n');
console.log(`\n${report}`);
if (only === undefined) {
	const doc = readFileSync(DOC, 'utf8');
	const [before, rest] = doc.split(DOC_START);
	const after = rest?.split(DOC_END)[1];
	if (after === undefined) throw new Error(`${DOC} lacks the ${DOC_START} … ${DOC_END} block to fill in`);
	writeFileSync(DOC, `${before}${DOC_START}\n${report}\n${DOC_END}${after}`);
	console.log(`\nWritten to ${DOC}.`);
}
process.exitCode = checks.every(({ ok }) => ok) ? 0 : 1;

/** @param {Workload} workload */
function contendersOf(workload) {
	return CONTENDERS.filter((contender) => workload.contenders === undefined || workload.contenders.includes(contender.id));
}

/** @param {ReturnType<typeof measure>} result */
function printResult(result) {
	console.log(`${result.workload.id} ${result.contender.label}: ${row(result).slice(2).join(' | ')}`);
	if (result.status429 > 0) console.log(`  429s per second of the run: ${result.per429.join(' ')}`);
	for (const [worker, counts] of result.per429ByWorker) console.log(`  429s per second, worker ${worker + 1}: ${counts.join(' ')}`);
}

/** W1–W3 and W5: each run is its own `n8n execute` in one n8n user folder. @param {Workload[]} chosen */
async function runInOneProcess(chosen) {
	const instance = await n8nWithPackage(runtime, { name: 'bench' });
	try {
		// One credential per workload, imported without a token, so that each run of the Easemob node
		// must fetch its own: "exactly one token request" is then that run's own count.
		await instance.importCredentials(chosen.map((workload) => sandboxCredential(sandbox, credentialRef(workload))));
		await instance.importWorkflows(chosen.flatMap((workload) => contendersOf(workload).map((contender) => workflow(workload, contender, sandbox.url))));
		for (const workload of chosen) {
			for (const contender of contendersOf(workload)) {
				prepareSandbox(workload);
				const backend = workload.backendPerSecond === undefined ? undefined : await startBackend(workload.backendPerSecond);
				const { run } = await instance.execute(workflowId(workload, contender));
				const backendSent = await backend?.stop();
				const result = measure(workload, contender, timesOfRun(contender, run), {
					outputMatches: outputMatches(workload, run),
					outcome: run.data.resultData.error ? `stopped: ${run.data.resultData.error.message.slice(0, 60)}` : run.status,
					backendSent,
				});
				results.push(result);
				printResult(result);
			}
		}
	} finally {
		await instance.dispose();
	}
}

/**
 * W4 and W6: n8n in queue mode with 2 workers; each workload's executions start together, by
 * calls to its workflow's published webhook on main.
 * @param {Workload[]} chosen
 */
async function runInQueue(chosen) {
	const queue = await createQueue(runtime, { name: 'bench-queue', packageDir: REPO_DIR, workers: 2 });
	try {
		await queue.main.importCredentials(chosen.map((workload) => sandboxCredential(sandbox, credentialRef(workload))));
		const runs = chosen.flatMap((workload) => contendersOf(workload).map((contender) => ({ workload, contender })));
		await queue.main.importWorkflows(runs.map(({ workload, contender }) => workflow(workload, contender, sandbox.url)));
		for (const { workload, contender } of runs) await queue.main.publish(workflowId(workload, contender));
		await queue.start();
		for (const { workload, contender } of runs) await queue.waitForWebhook(webhookPath(workload, contender));
		for (const { workload, contender } of runs) {
			prepareSandbox(workload);
			const executions = await startTogether(queue, webhookPath(workload, contender), /** @type {Item[][]} */ (workload.executions));
			/** @type {Map<string, number>} */
			const statuses = new Map();
			for (const { status } of executions) statuses.set(status, (statuses.get(status) ?? 0) + 1);
			const failure = executions.find((execution) => execution.status !== 'success');
			const error = failure === undefined ? undefined : (await queue.runOf(failure.id)).resultData.error?.message;
			const result = measure(workload, contender, timesOfExecutions(executions), {
				outcome: [...statuses].map(([status, count]) => `${count} × ${status}`).join(', ') + (error ? ` (first: ${error.slice(0, 80)})` : ''),
				workerOfUser: await workerOfUsers(queue, executions),
			});
			results.push(result);
			printResult(result);
		}
	} finally {
		await queue.dispose();
	}
}

/** @param {Workload} workload */
function prepareSandbox(workload) {
	sandbox.configure(workload.sandbox);
	sandbox.reset(workload.seed ?? seed(workload.items, workload.backendPerSecond === undefined ? 0 : BACKEND_USERS));
}

/**
 * Calls the webhook once per list of items, all at once, and waits until n8n has recorded each
 * execution they started as finished.
 * @param {Awaited<ReturnType<typeof createQueue>>} queue @param {string} path @param {Item[][]} lists
 */
async function startTogether(queue, path, lists) {
	const before = new Set((await queue.executions()).map((execution) => execution.id));
	const answers = await Promise.all(
		lists.map((conversations) =>
			fetch(`${queue.main.url}/webhook/${path}`, {
				method: 'POST',
				headers: { 'Content-Type': 'application/json' },
				body: JSON.stringify({ conversations }),
			}).then((response) => response.status),
		),
	);
	if (answers.some((status) => status !== 200)) throw new Error(`The webhook answered ${answers.join(', ')}; n8n's log: ${queue.main.logFile}`);
	for (;;) {
		const mine = (await queue.executions()).filter((execution) => !before.has(execution.id));
		if (mine.length === lists.length && mine.every((execution) => execution.stoppedAt !== null)) return mine;
		await new Promise((resolve) => setTimeout(resolve, 500));
	}
}

/**
 * Which worker ran the execution that held each user's items: the worker by its log, the users by
 * the request body n8n stored with the execution.
 * @param {Awaited<ReturnType<typeof createQueue>>} queue @param {import('./n8n/queue.mjs').Execution[]} executions
 * @returns {Promise<Map<string, number>>}
 */
async function workerOfUsers(queue, executions) {
	const workerOf = queue.workerOf();
	const map = new Map();
	for (const { id } of executions) {
		const { runData } = (await queue.runOf(id)).resultData;
		for (const { username } of runData[TRIGGER][0].data.main[0][0].json.body.conversations) map.set(username, workerOf.get(id));
	}
	return map;
}

/** @param {number} n */
function range(n) {
	return Array.from({ length: n }, (_, i) => i);
}

/** @param {string} username @param {string} channel @returns {Item} */
function item(username, channel) {
	return { username, channel, type: 'chat' };
}

/** @param {Item[]} items @param {number} backendUsers @returns {import('../test/sandbox/server.js').Seed} */
function seed(items, backendUsers) {
	/** @type {import('../test/sandbox/server.js').Seed['users']} */
	const users = {};
	for (const { username, channel, type } of [...items, ...range(backendUsers).map((i) => item(`${BACKEND_PREFIX}${i}`, 'peer'))]) {
		users[username] ??= { conversations: [{ channel: KEEP, type: 'chat' }] };
		users[username].conversations?.push({ channel, type });
	}
	return { users };
}

/** @param {Workload} workload */
function credentialRef(workload) {
	return { id: `benchCred${workload.id}`.padEnd(16, '0'), name: `Easemob sandbox (bench ${workload.id})` };
}

/** @param {Workload} workload @param {Contender} contender */
function workflowId(workload, contender) {
	return `bench${workload.id}${contender.id}`.padEnd(16, '0');
}

/** Where a queue-mode workflow's webhook listens, below /webhook/. @param {Workload} workload @param {Contender} contender */
function webhookPath(workload, contender) {
	return `bench/${workflowId(workload, contender)}`;
}

/**
 * The DELETE per item as a user builds it with the HTTP Request node: the token from the first
 * node by expression, the body as JSON text with the item's fields filled in.
 * @param {string} url the sandbox @param {Record<string, unknown>} options
 */
function deleteRequest(url, options) {
	return httpRequest(DELETE_NODE, {
		method: 'DELETE',
		url: `=${url}/${DEFAULTS.orgName}/${DEFAULTS.appName}/users/{{ $json.username }}/user_channel`,
		sendHeaders: true,
		headerParameters: { parameters: [{ name: 'Authorization', value: `=Bearer {{ $('${TOKEN_NODE}').first().json.access_token }}` }] },
		sendBody: true,
		contentType: 'json',
		specifyBody: 'json',
		jsonBody: '={"channel": "{{ $json.channel }}", "type": "{{ $json.type }}", "delete_roam": false}',
		options,
	});
}

/** @param {string} name @param {Record<string, unknown>} parameters */
function httpRequest(name, parameters) {
	// 4.5 is the newest version n8n 2.41.1 offers, and what its editor adds.
	return { name, type: 'n8n-nodes-base.httpRequest', typeVersion: 4.5, parameters };
}

/**
 * Trigger → (HTTP contenders: Get token) → the items → the contender's delete. The items come
 * from a Set node and Split Out, as in examples/, and are the same for every contender.
 * @param {Workload} workload @param {Contender} contender @param {string} url
 */
function workflow(workload, contender, url) {
	const getToken = {
		...httpRequest(TOKEN_NODE, {
			method: 'POST',
			url: `${url}/${DEFAULTS.orgName}/${DEFAULTS.appName}/token`,
			sendBody: true,
			contentType: 'json',
			specifyBody: 'json',
			jsonBody: JSON.stringify({ grant_type: 'client_credentials', client_id: DEFAULTS.clientId, client_secret: DEFAULTS.clientSecret }),
			options: {},
		}),
		executeOnce: true,
	};
	// In queue mode the items come in the webhook's request body, one list per execution.
	const trigger =
		workload.executions === undefined
			? { name: TRIGGER, type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, parameters: {} }
			: {
					name: TRIGGER,
					type: 'n8n-nodes-base.webhook',
					typeVersion: 2,
					webhookId: randomUUID(),
					parameters: { httpMethod: 'POST', path: webhookPath(workload, contender), responseMode: 'onReceived', options: {} },
				};
	const conversations =
		workload.executions === undefined
			? JSON.stringify({ conversations: workload.items })
			: `={{ JSON.stringify({ conversations: $('${TRIGGER}').first().json.body.conversations }) }}`;
	const chain = [
		trigger,
		...(contender.timed.includes(TOKEN_NODE) ? [getToken] : []),
		{
			name: 'Conversations',
			type: 'n8n-nodes-base.set',
			typeVersion: 3.4,
			parameters: { mode: 'raw', jsonOutput: conversations, options: {} },
		},
		{ name: 'One item per conversation', type: 'n8n-nodes-base.splitOut', typeVersion: 1, parameters: { fieldToSplitOut: 'conversations', options: {} } },
		...contender.nodes(workload, url),
	];
	return {
		id: workflowId(workload, contender),
		name: `Benchmark ${workload.id}: ${contender.label}`,
		nodes: chain.map((node, index) => ({ id: randomUUID(), position: [index * 220, 0], ...node })),
		connections: Object.fromEntries(
			chain.slice(1).map((node, index) => [chain[index].name, { main: [[{ node: node.name, type: 'main', index: 0 }]] }]),
		),
		settings: { executionOrder: 'v1' },
		pinData: {},
		active: false,
	};
}

/**
 * A run in one n8n process: n8n's own executionTime of the timed nodes, and when the DELETE node ended.
 * @param {Contender} contender @param {import('./n8n/instance.mjs').Run} run @returns {{ ms: number, end: number }}
 */
function timesOfRun(contender, run) {
	const { runData } = run.data.resultData;
	const task = runData[DELETE_NODE]?.[0];
	// n8n's run data has startTime too, though the library's TaskData type leaves it out.
	const end = task ? /** @type {{ startTime: number }} */ (/** @type {unknown} */ (task)).startTime + task.executionTime : Number.NaN;
	return { ms: contender.timed.reduce((sum, name) => sum + (runData[name]?.[0]?.executionTime ?? Number.NaN), 0), end };
}

/**
 * Executions spread over workers: from the first one's start to the last one's stop, by n8n's
 * execution records (each worker's clock is this machine's).
 * @param {import('./n8n/queue.mjs').Execution[]} executions @returns {{ ms: number, end: number }}
 */
function timesOfExecutions(executions) {
	const first = Math.min(...executions.map((execution) => Date.parse(execution.startedAt ?? '')));
	const end = Math.max(...executions.map((execution) => Date.parse(execution.stoppedAt ?? '')));
	return { ms: end - first, end };
}

/** Whether the Easemob node put out one deleted item per input, in order. @param {Workload} workload @param {import('./n8n/instance.mjs').Run} run */
function outputMatches(workload, run) {
	const output = nodeOutput(run, DELETE_NODE);
	return (
		output.length === workload.items.length &&
		output.every(({ deleted, username, channel }, i) => deleted === true && username === workload.items[i].username && channel === workload.items[i].channel)
	);
}

/** How many of `requests` answered 429 in each second since `from`. @param {Array<{ at: number, status: number }>} requests @param {number} from */
function per429(requests, from) {
	/** @type {number[]} */
	const counts = [];
	for (const request of requests.filter((r) => r.status === 429)) {
		const second = Math.floor((request.at - from) / 1000);
		counts[second] = (counts[second] ?? 0) + 1;
	}
	return Array.from(counts, (count) => count ?? 0);
}

/** @param {string} path a delete's path @returns {string} */
function deleteUser(path) {
	return decodeURIComponent(path.split('/')[4]);
}

/**
 * What one run did, by its times and the sandbox (what was really deleted, the node's requests;
 * W5's other client's requests left out).
 * @param {Workload} workload @param {Contender} contender @param {{ ms: number, end: number }} times
 * @param {{ outcome: string, outputMatches?: boolean, backendSent?: number, workerOfUser?: Map<string, number> }} seen
 */
function measure(workload, contender, { ms, end }, { outcome, outputMatches, backendSent, workerOfUser }) {
	const { users } = sandbox.state();
	const all = sandbox.requests();
	const requests = all.filter((request) => request.headers['user-agent'] !== BACKEND_AGENT);
	const left = new Set(Object.entries(users).flatMap(([user, { conversations }]) => conversations.map((c) => `${user}/${c.channel}`)));
	const done = workload.done ?? ((_, { username, channel }) => !left.has(`${username}/${channel}`));
	const succeeded = workload.items.filter((it) => done(users, it)).length;
	const keptAll = workload.kept?.(users) ?? Object.keys(users).every((user) => left.has(`${user}/${KEEP}`));
	const deleteRequests = requests.filter((request) => request.method === 'DELETE');
	// The same deletion twice: the same path with the same conversation, in the body or the query.
	const deletes = deleteRequests
		.filter((request) => request.status === 200)
		.map((request) => `${request.path} ${JSON.stringify(request.body)} ${request.query.userId ?? request.query.groupId ?? ''}`);
	// Wall time in three parts, by when the DELETEs arrived: before the first (for the HTTP contenders
	// with their token node), from the first to the last, and after the last.
	const arrivals = deleteRequests.map((request) => request.at);
	const [first, last] = arrivals.length > 0 ? [Math.min(...arrivals), Math.max(...arrivals)] : [end, end];
	const from = requests[0]?.at ?? end;
	/** @type {Map<number, Array<{ at: number, status: number }>>} */
	const byWorker = new Map();
	for (const request of workerOfUser === undefined ? [] : deleteRequests) {
		const worker = workerOfUser?.get(deleteUser(request.path)) ?? -1;
		byWorker.set(worker, [...(byWorker.get(worker) ?? []), request]);
	}
	// Kept for a closer look: when each request arrived and how it was answered.
	writeFileSync(
		join(LOG_DIR, `bench-${workload.id}-${contender.id}.json`),
		JSON.stringify({ deleteNodeEnd: end, requests: all.map(({ at, method, path, status, headers }) => ({ at, method, path, status, agent: headers['user-agent'] })) }),
	);
	const backend = all.filter((request) => request.method === 'DELETE' && request.headers['user-agent'] === BACKEND_AGENT);
	return {
		workload,
		contender,
		ms,
		succeeded,
		failed: workload.items.length - succeeded,
		duplicates: deletes.length - new Set(deletes).size,
		keptAll,
		outputMatches,
		requests: requests.length,
		status429: requests.filter((request) => request.status === 429).length,
		tokenRequests: requests.filter((request) => request.method === 'POST' && request.path.endsWith('/token')).length,
		per429: per429(requests, from),
		per429ByWorker: [...byWorker].sort(([a], [b]) => a - b).map(([worker, list]) => /** @type {const} */ ([worker, per429(list, from)])),
		backend:
			backendSent === undefined
				? undefined
				: { sent: backendSent, accepted: backend.filter((request) => request.status === 200).length, answered429: backend.filter((request) => request.status === 429).length },
		phases: [ms - (end - first), last - first, end - last],
		outcome,
	};
}

/**
 * W5's other client, the customer's own backend: `perSecond` deletes per second on the same app,
 * on users of its own, each sent on time whatever the answers; it stops when told to, or by itself
 * after BACKEND_MAX_MS. Its requests carry BACKEND_AGENT, which is how they are told apart.
 * @param {number} perSecond @returns {Promise<{ stop: () => Promise<number> }>} `stop` resolves with how many it sent
 */
async function startBackend(perSecond) {
	const base = `${sandbox.url}/${DEFAULTS.orgName}/${DEFAULTS.appName}`;
	const headers = { 'Content-Type': 'application/json', 'User-Agent': BACKEND_AGENT };
	const body = { grant_type: 'client_credentials', client_id: DEFAULTS.clientId, client_secret: DEFAULTS.clientSecret };
	const { access_token: token } = await (await fetch(`${base}/token`, { method: 'POST', headers, body: JSON.stringify(body) })).json();
	const startedAt = Date.now();
	let sent = 0;
	let stopping = false;
	/** @type {Set<Promise<unknown>>} */
	const pending = new Set();
	const loop = (async () => {
		while (!stopping && Date.now() - startedAt < BACKEND_MAX_MS) {
			const user = `${BACKEND_PREFIX}${sent % BACKEND_USERS}`;
			const request = fetch(`${base}/users/${user}/user_channel`, {
				method: 'DELETE',
				headers: { ...headers, Authorization: `Bearer ${token}` },
				body: JSON.stringify({ channel: 'peer', type: 'chat', delete_roam: false }),
			}).then(
				(response) => response.arrayBuffer(),
				() => undefined,
			);
			pending.add(request);
			void request.finally(() => pending.delete(request));
			sent += 1;
			await new Promise((resolve) => setTimeout(resolve, Math.max(0, startedAt + (sent * 1000) / perSecond - Date.now())));
		}
		await Promise.all(pending);
	})();
	return {
		async stop() {
			stopping = true;
			await loop;
			return sent;
		},
	};
}

/** @param {ReturnType<typeof measure>} result */
function row({ workload, contender, ms, succeeded, failed, duplicates, status429, requests, tokenRequests, outcome }) {
	return [
		`${workload.id}: ${workload.title}`,
		contender.label,
		secondsText(ms),
		workload.floorMs ? `${(ms / workload.floorMs).toFixed(3)}` : '—',
		String(succeeded),
		String(failed),
		String(duplicates),
		String(status429),
		String(requests),
		String(tokenRequests),
		outcome.replaceAll('|', '\\|'),
	];
}

/** The bounds of issues 4 and 9, checked on the Easemob node's runs. @param {Array<ReturnType<typeof measure>>} all */
function bounds(all) {
	const checks = [];
	for (const result of all.filter((r) => r.contender.id === 'easemob')) {
		const { workload, ms } = result;
		const id = workload.id;
		const { bound } = workload;
		if (bound !== undefined && workload.floorMs !== undefined) {
			checks.push({
				ok: result.failed === 0 && result.keptAll,
				text:
					`${id}: every item deleted, nothing else (${result.succeeded} of ${workload.items.length} gone, ` +
					`other conversations ${result.keptAll ? 'intact' : 'touched'}; ${result.outcome})`,
			});
			if (bound.max429Share !== undefined) {
				const share = result.status429 / result.requests;
				checks.push({
					ok: share <= bound.max429Share,
					text: `${id}: 429s ≤ ${bound.max429Share * 100} % of the node's requests (${result.status429} of ${result.requests}, ${(share * 100).toFixed(1)} %)`,
				});
			}
			if (bound.slack !== undefined) {
				const limit = workload.floorMs * bound.slack;
				checks.push({ ok: ms <= limit, text: `${id}: wall time ≤ ${bound.slack} × floor (${secondsText(ms)} ≤ ${secondsText(limit)})` });
			}
			if (bound.extraMs !== undefined) {
				const limit = workload.floorMs + bound.extraMs;
				checks.push({ ok: ms <= limit, text: `${id}: wall time ≤ floor + ${secondsText(bound.extraMs)} (${secondsText(ms)} ≤ ${secondsText(limit)})` });
			}
		} else if (workload.floorMs !== undefined) {
			const limit = workload.floorMs * SLACK;
			checks.push(
				{
					ok: result.failed === 0 && result.keptAll && result.outputMatches,
					text:
						`${id}: every item deleted, nothing else (${result.succeeded} of ${workload.items.length} gone, ` +
						`other conversations ${result.keptAll ? 'intact' : 'touched'}, ` +
						`output ${result.outputMatches ? 'one deleted item per input, in order' : 'does not match the input'})`,
				},
				{ ok: result.duplicates === 0, text: `${id}: no duplicate deletes (${result.duplicates})` },
				{ ok: ms <= limit, text: `${id}: wall time ≤ ${SLACK} × floor (${secondsText(ms)} ≤ ${secondsText(limit)})` },
				{ ok: result.tokenRequests === 1, text: `${id}: exactly one token request (${result.tokenRequests})` },
			);
		} else {
			for (const other of all.filter((r) => r.workload === workload && r.contender.id !== 'easemob')) {
				checks.push({
					ok: ms <= other.ms,
					text: `${id}: no slower than ${other.contender.label} (${secondsText(ms)} ≤ ${secondsText(other.ms)})`,
				});
			}
		}
	}
	return checks;
}

/** @param {number} ms */
function secondsText(ms) {
	return `${(ms / 1000).toFixed(2)} s`;
}
