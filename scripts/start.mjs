// `npm start`: n8n's editor with this package installed, the Easemob sandbox, a credential for it,
// the examples and a Header Auth credential for their webhooks, until Ctrl+C. Expects `npm run
// build` to have run.
import { createServer } from 'node:net';

import {
	AGORA_SANDBOX_CREDENTIAL,
	EXAMPLES,
	N8N_VERSION,
	OWNER,
	SANDBOX_CREDENTIAL_NAME,
	WEBHOOK_CREDENTIAL_NAME,
	n8nWithPackage,
	provision,
	readExample,
	startEditor,
	startSandbox,
	webhookPath,
} from './n8n/index.mjs';

const port = Number(process.env.N8N_PORT ?? 5678);
/** @param {string} line */
const say = (line) => console.log(line);

const runtime = await provision({ log: say });
await exitIfPortTaken(port);
// Agora mode accepts Client ID and Secret tokens as before, and adds an Agora Chat credential.
const sandbox = await startSandbox({ agora: true });
const instance = await n8nWithPackage(runtime, { name: 'editor', port });

let stopping = false;
/** @param {number} code */
async function stop(code) {
	if (stopping) return;
	stopping = true;
	say('\nStopping n8n and the sandbox…');
	await instance.dispose();
	await sandbox.close();
	process.exit(code);
}
process.once('SIGINT', () => stop(0));
process.once('SIGTERM', () => stop(0));

say(`Starting n8n ${N8N_VERSION} with the package (about half a minute)…`);
let webhookKey;
try {
	webhookKey = await startEditor(instance, sandbox);
} catch (error) {
	say(/** @type {Error} */ (error).message);
	await stop(1);
}

const webhook = (/** @type {string} */ file) => `${instance.url}/webhook/${webhookPath(file)}`;
const curlHeaders = `-H '${webhookKey.header}: ${webhookKey.value}' -H 'Content-Type: application/json'`;
const conversation = JSON.stringify({ username: 'alice', conversationId: 'bob', conversationType: 'chat', deleteHistory: true });
say(`
n8n's editor: ${instance.url}
  Sign in with  ${OWNER.email} / ${OWNER.password}

  ${instance.url}/workflow/${readExample(EXAMPLES.schedule).id}
      deletes a list of conversations: open it and press "Execute workflow"
  ${instance.url}/workflow/${readExample(EXAMPLES.retention).id}
      deletes a list of conversations' history older than 90 days: open it and press "Execute workflow"
  ${instance.url}/workflow/${readExample(EXAMPLES.webhook).id}
      published; deletes the conversation a form or CRM names, for callers that send the header:
      curl -X POST ${webhook(EXAMPLES.webhook)} ${curlHeaders} -d '${conversation}'
  ${instance.url}/workflow/${readExample(EXAMPLES.forgetUser).id}
      published; deletes a user's whole history, then the user, for callers that send the header:
      curl -X POST ${webhook(EXAMPLES.forgetUser)} ${curlHeaders} -d '{"username":"carol"}'

  The credential "${SANDBOX_CREDENTIAL_NAME}" points at the Easemob sandbox on ${sandbox.url}
      its users and counters: curl ${sandbox.url}/_sandbox/state
      back to the start:      curl -X POST ${sandbox.url}/_sandbox/reset
  "${WEBHOOK_CREDENTIAL_NAME}" is the webhooks' Header Auth: without the header n8n answers 403
      and runs nothing. Its value is new at every start.
  "${AGORA_SANDBOX_CREDENTIAL.name}" is an Agora Chat account (App ID and App Certificate) for it:
      pick it in the Easemob node to try the Agora path; the tokens seen: curl ${sandbox.url}/_sandbox/tokens

  n8n's log: ${instance.logFile}
Everything here is temporary: Ctrl+C stops n8n and the sandbox and deletes this n8n's data.`);

const code = await instance.waitForExit();
if (!stopping) {
	say(`\nn8n stopped by itself (exit code ${code}); see ${instance.logFile}`);
	await stop(1);
}

/** Fails early and clearly when another program (often another n8n) has the port. @param {number} wanted */
async function exitIfPortTaken(wanted) {
	const probe = createServer();
	const free = await new Promise((resolve) => {
		probe.once('error', () => resolve(false));
		probe.listen(wanted, '127.0.0.1', () => probe.close(() => resolve(true)));
	});
	if (!free) {
		say(`Port ${wanted} on 127.0.0.1 is in use (another n8n?). Stop that program, or set N8N_PORT to another port.`);
		process.exit(1);
	}
}
