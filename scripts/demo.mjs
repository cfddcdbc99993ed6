// `npm run demo`: runs examples/delete-conversations-on-schedule.json in a real n8n against a
// local Easemob sandbox and prints what happened. Expects `npm run build` to have run.
import { isDeepStrictEqual } from 'node:util';

import {
	DELETE_NODE,
	EXAMPLES,
	N8N_VERSION,
	NODE_VERSION,
	exampleCredentialRef,
	n8nWithPackage,
	nodeOutput,
	provision,
	readExample,
	sandboxCredential,
	seconds,
	startSandbox,
} from './n8n/index.mjs';

const LIST_NODE = 'One item per conversation';

const started = Date.now();
/** @param {string} line */
const say = (line) => console.log(line);

say(`Easemob node demo: examples/${EXAMPLES.schedule} in n8n ${N8N_VERSION} (Node ${NODE_VERSION}), against a local Easemob sandbox.\n`);

say('1/4 Provisioning n8n…');
const runtime = await provision({ log: say });
const provisionMs = Date.now() - started;
say(`    ready: ${runtime.n8nDir}`);

const sandbox = await startSandbox();
say(`2/4 Easemob sandbox on ${sandbox.url} (app ${sandbox.orgName}#${sandbox.appName})`);

say('3/4 Installing the packed package into a fresh n8n and importing the credential and workflow…');
const setupStarted = Date.now();
const instance = await n8nWithPackage(runtime, { name: 'demo' });
let failed = true;
try {
	const workflow = readExample(EXAMPLES.schedule);
	await instance.importCredentials([sandboxCredential(sandbox, exampleCredentialRef())]);
	await instance.importWorkflows([workflow]);

	const setupMs = Date.now() - setupStarted;
	say(`4/4 n8n execute --id=${workflow.id}…\n`);
	const before = sandbox.state();
	const executeStarted = Date.now();
	const { ok, run } = await instance.execute(workflow.id);
	const executeMs = Date.now() - executeStarted;
	const after = sandbox.state();
	const counters = sandbox.counters();

	const inputs = nodeOutput(run, LIST_NODE);
	const outputs = nodeOutput(run, DELETE_NODE);
	const task = run.data.resultData.runData[DELETE_NODE]?.[0];
	say(`Items through "${DELETE_NODE}" (${inputs.length} in, ${outputs.length} out):`);
	inputs.forEach((input, index) => {
		const output = outputs[index];
		const result =
			output?.deleted === true
				? `deleted${output.deleteRoam ? ', history too' : ', history kept'}`
				: `FAILED: ${output?.error ?? 'no output item'}`;
		say(`  ${index + 1}. ${pad(input.username, 6)} ${pad(input.type, 9)} ${pad(input.channel, 16)} ${result}`);
	});
	const runError = run.data.resultData.error;
	if (runError) say(`\nThe run failed: ${runError.message}${runError.description ? `\n  ${runError.description}` : ''}`);

	say('\nSandbox, before → after:');
	for (const [user, was] of Object.entries(before.users)) {
		const now = after.users[user];
		if (now === undefined) say(`  ${pad(user, 6)} deleted`);
		else if (isDeepStrictEqual(was, now)) say(`  ${pad(user, 6)} unchanged`);
		else {
			say(`  ${pad(user, 6)} conversations ${change(was.conversations, now.conversations)}`);
			say(`  ${pad('', 6)} history       ${change(was.roaming, now.roaming)}; messages ${messages(was)} → ${messages(now)}`);
		}
	}
	const refused = Object.entries(counters.budgets).filter(([, budget]) => budget.refused > 0);
	say(
		`\nEasemob calls: ${counters.tokenRequests} token request${counters.tokenRequests === 1 ? '' : 's'}, ` +
			`${counters.deletes} deletes, ${counters.errors} errors (${counters.requests} requests in all); ` +
			`rate-limited: ${refused.length === 0 ? 'none' : refused.map(([name, { refused: n }]) => `${n} by ${name}`).join(', ')}`,
	);
	const runMs = Date.parse(run.stoppedAt) - Date.parse(run.startedAt);
	say(
		`Time: ${seconds(Date.now() - started)} in all: provisioning ${seconds(provisionMs)}, setting up n8n ${seconds(setupMs)}, ` +
			`n8n execute ${seconds(executeMs)} (the run itself ${runMs} ms, the Easemob node ${task?.executionTime ?? '?'} ms).`,
	);
	failed = !ok || outputs.length !== inputs.length || outputs.some((output) => output.deleted !== true);
	if (failed) say(`\nThe demo did not delete everything. n8n's log: ${instance.logFile}`);
} catch (error) {
	say(`\n${/** @type {Error} */ (error).message}`);
} finally {
	await instance.dispose();
	await sandbox.close();
}
process.exitCode = failed ? 1 : 0;

/** @param {unknown} text @param {number} width */
function pad(text, width) {
	return String(text).padEnd(width);
}

/** @param {{ roaming: Array<{ messages: number }> }} user */
function messages(user) {
	return user.roaming.reduce((sum, history) => sum + history.messages, 0);
}

/**
 * "3 → 1, removed chat bob, groupchat 228950233579521"
 * @param {Array<{ channel: string, type: string }>} was @param {Array<{ channel: string, type: string }>} now
 */
function change(was, now) {
	const key = (/** @type {{ channel: string, type: string }} */ c) => `${c.type} ${c.channel}`;
	const kept = new Set(now.map(key));
	const removed = was.map(key).filter((entry) => !kept.has(entry));
	return `${was.length} → ${now.length}${removed.length > 0 ? `, removed ${removed.join(', ')}` : ''}`;
}
