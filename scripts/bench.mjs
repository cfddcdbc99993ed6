// `npm run bench`: the benchmark of issue 4. Runs each workload in a real n8n against the local
// sandbox, with this package's Easemob node and with n8n's HTTP Request node set up as a user would
// without it, prints what each run did and, on a full run, rewrites the results in docs/benchmarks.md.
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

/** @type {{ DEFAULTS: typeof import('../test/sandbox/server.js').DEFAULTS }} */
const { DEFAULTS } = createRequire(import.meta.url)('../test/sandbox/server.js');

const DOC = join(REPO_DIR, 'docs', 'benchmarks.md');
const DOC_START = '<!-- bench:start -->';
const DOC_END = '<!-- bench:end -->';
// W1 and W2 must finish within this multiple of the time Easemob's limits allow at best.
const SLACK = 1.15;
const TOKEN_NODE = 'Get token';
const DELETE_NODE = 'Delete conversation';
// Every seeded user also holds this conversation, which no item names: it must survive every run.
const KEEP = 'keep';

/**
 * @typedef {{ username: string, channel: string, type: 'chat' }} Item
 * @typedef {{ id: string, title: string, items: Item[], floorMs?: number, sandbox: import('../test/sandbox/server.js').SandboxSettings, nodeOptions: Record<string, number> }} Workload
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
];

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
					resource: 'conversation',
					operation: 'delete',
					username: '={{ $json.username }}',
					type: '={{ $json.type }}',
					channel: '={{ $json.channel }}',
					deleteRoam: false,
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
const instance = await n8nWithPackage(runtime, { name: 'bench' });
/** @type {Array<Awaited<ReturnType<typeof measure>>>} */
const results = [];
try {
	// One credential per workload, imported without a token, so that each run of the Easemob node
	// must fetch its own: "exactly one token request" is then that run's own count.
	await instance.importCredentials(workloads.map((workload) => sandboxCredential(sandbox, credentialRef(workload))));
	await instance.importWorkflows(
		workloads.flatMap((workload) => CONTENDERS.map((contender) => workflow(workload, contender, sandbox.url))),
	);
	for (const workload of workloads) {
		for (const contender of CONTENDERS) {
			sandbox.configure(workload.sandbox);
			sandbox.reset(seed(workload.items));
			const { run } = await instance.execute(workflowId(workload, contender));
			const result = measure(workload, contender, run);
			results.push(result);
			console.log(`${workload.id} ${contender.label}: ${row(result).slice(2).join(' | ')}`);
		}
	}
} finally {
	await instance.dispose();
	await sandbox.close();
}

const checks = bounds(results);
const report = [
	`Measured ${new Date().toISOString().slice(0, 10)} with \`npm run bench\`${only ? ` (\`--only ${only.join(',')}\`)` : ''}: ` +
		`n8n ${N8N_VERSION} on Node ${NODE_VERSION}, ${availableParallelism()} cores (${cpus()[0]?.model.trim()}), ` +
		`load average ${loadBefore.toFixed(1)} before and ${loadavg()[0].toFixed(1)} after; the whole benchmark took ${seconds(Date.now() - started)}.`,
	'',
	'| workload | contender | wall time | ratio to floor | succeeded | failed | duplicate deletes | 429s | token requests | run |',
	'|---|---|---:|---:|---:|---:|---:|---:|---:|---|',
	...results.map((result) => `| ${row(result).join(' | ')} |`),
	'',
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

/** @param {number} n */
function range(n) {
	return Array.from({ length: n }, (_, i) => i);
}

/** @param {string} username @param {string} channel @returns {Item} */
function item(username, channel) {
	return { username, channel, type: 'chat' };
}

/** @param {Item[]} items @returns {import('../test/sandbox/server.js').Seed} */
function seed(items) {
	/** @type {import('../test/sandbox/server.js').Seed['users']} */
	const users = {};
	for (const { username, channel, type } of items) {
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
	const chain = [
		{ name: 'Run now', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, parameters: {} },
		...(contender.timed.includes(TOKEN_NODE) ? [getToken] : []),
		{
			name: 'Conversations',
			type: 'n8n-nodes-base.set',
			typeVersion: 3.4,
			parameters: { mode: 'raw', jsonOutput: JSON.stringify({ conversations: workload.items }), options: {} },
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
 * What one run did, by n8n's run data (time, output) and the sandbox (what was really deleted).
 * @param {Workload} workload @param {Contender} contender @param {import('./n8n/instance.mjs').Run} run
 */
function measure(workload, contender, run) {
	const { runData, error } = run.data.resultData;
	const ms = contender.timed.reduce((sum, name) => sum + (runData[name]?.[0]?.executionTime ?? Number.NaN), 0);
	const { users } = sandbox.state();
	const counters = sandbox.counters();
	const requests = sandbox.requests();
	const left = new Set(Object.entries(users).flatMap(([user, { conversations }]) => conversations.map((c) => `${user}/${c.channel}`)));
	const succeeded = workload.items.filter(({ username, channel }) => !left.has(`${username}/${channel}`)).length;
	const keptAll = Object.keys(users).every((user) => left.has(`${user}/${KEEP}`));
	const deletes = requests
		.filter((request) => request.method === 'DELETE' && request.status === 200)
		.map((request) => `${decodeURIComponent(request.path.split('/')[4])}/${/** @type {{ channel: string }} */ (request.body).channel}`);
	const output = nodeOutput(run, DELETE_NODE);
	const outputMatches =
		output.length === workload.items.length &&
		output.every(({ deleted, username, channel }, i) => deleted === true && username === workload.items[i].username && channel === workload.items[i].channel);
	// Wall time in three parts, by when the DELETEs arrived: before the first (for the HTTP contenders
	// with their token node), from the first to the last, and after the last.
	const task = runData[DELETE_NODE]?.[0];
	// n8n's run data has startTime too, though the library's TaskData type leaves it out.
	const end = task ? /** @type {{ startTime: number }} */ (/** @type {unknown} */ (task)).startTime + task.executionTime : Number.NaN;
	const arrivals = requests.filter((request) => request.method === 'DELETE').map((request) => request.at);
	const [first, last] = arrivals.length > 0 ? [Math.min(...arrivals), Math.max(...arrivals)] : [end, end];
	// Kept for a closer look: when each request arrived and how it was answered.
	writeFileSync(
		join(LOG_DIR, `bench-${workload.id}-${contender.id}.json`),
		JSON.stringify({ deleteNodeEnd: end, requests: requests.map(({ at, method, path, status }) => ({ at, method, path, status })) }),
	);
	return {
		workload,
		contender,
		ms,
		succeeded,
		failed: workload.items.length - succeeded,
		duplicates: deletes.length - new Set(deletes).size,
		keptAll,
		outputMatches,
		status429: counters.status429,
		tokenRequests: counters.tokenRequests,
		phases: [ms - (end - first), last - first, end - last],
		outcome: error ? `stopped: ${error.message.slice(0, 60)}` : run.status,
	};
}

/** @param {ReturnType<typeof measure>} result */
function row({ workload, contender, ms, succeeded, failed, duplicates, status429, tokenRequests, outcome }) {
	return [
		`${workload.id}: ${workload.title}`,
		contender.label,
		secondsText(ms),
		workload.floorMs ? `${(ms / workload.floorMs).toFixed(3)}` : '—',
		String(succeeded),
		String(failed),
		String(duplicates),
		String(status429),
		String(tokenRequests),
		outcome.replaceAll('|', '\\|'),
	];
}

/** The bounds of issue 4, checked on the Easemob node's runs. @param {Array<ReturnType<typeof measure>>} all */
function bounds(all) {
	const checks = [];
	for (const result of all.filter((r) => r.contender.id === 'easemob')) {
		const { workload, ms } = result;
		const id = workload.id;
		if (workload.floorMs !== undefined) {
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
