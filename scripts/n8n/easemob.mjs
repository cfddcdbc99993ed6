// What the demo, `npm start` and the end-to-end tests share about this package: its examples,
// the sandbox standing in for Easemob, and an n8n with the package installed.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { createInstance, packPackage } from './instance.mjs';

export const REPO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The node's type as users get it from npm: `<package name>.<node name>`. */
export const NODE_TYPE = 'n8n-nodes-easemob.easemob';

export const EXAMPLES = {
	schedule: 'delete-conversations-on-schedule.json',
	webhook: 'delete-conversation-webhook.json',
	forgetUser: 'forget-user.json',
	retention: 'retention-policy.json',
	aiAgent: 'ai-agent-tool.json',
	mcpServer: 'mcp-server.json',
};

/** n8n's Webhook node. */
export const WEBHOOK_TYPE = 'n8n-nodes-base.webhook';

/** The type n8n gives the node as an AI tool (it derives it from `usableAsTool`). */
export const TOOL_TYPE = `${NODE_TYPE}Tool`;

/** The node that deletes, in both examples. */
export const DELETE_NODE = 'Delete conversation';

/** The name the examples' credential gets when it points at the sandbox. */
export const SANDBOX_CREDENTIAL_NAME = 'Easemob sandbox (local)';

/** The name the webhooks' Header Auth credential gets in `npm start`, and the header it asks for. */
export const WEBHOOK_CREDENTIAL_NAME = 'Webhook caller key (local)';
export const WEBHOOK_HEADER = 'X-Webhook-Key';

/** The Agora Chat credential `npm start` adds beside it when the sandbox is in Agora mode. */
export const AGORA_SANDBOX_CREDENTIAL = { id: 'agoraSandboxCred', name: 'Agora Chat sandbox (local)' };

/** The account `npm start` creates, so that the editor opens on its sign-in page. */
export const OWNER = { email: 'demo@example.com', password: 'Easemob-Demo-1', firstName: 'Demo', lastName: 'User' };

/** @type {typeof import('../../test/sandbox/server.js').startSandbox} */
export const startSandbox = createRequire(import.meta.url)('../../test/sandbox/server.js').startSandbox;

/** @param {string} file a name from EXAMPLES @returns {{ id: string, name: string, nodes: Array<Record<string, any>>, [key: string]: unknown }} */
export function readExample(file) {
	return JSON.parse(readFileSync(join(REPO_DIR, 'examples', file), 'utf8'));
}

/**
 * The examples whose webhook starts an Easemob node, which deletes: each one requires the caller to
 * send the header of its Header Auth credential, and `npm start` publishes each one.
 */
export const DELETING_WEBHOOKS = Object.values(EXAMPLES).filter((file) => {
	const types = readExample(file).nodes.map((node) => node.type);
	return types.includes(WEBHOOK_TYPE) && types.includes(NODE_TYPE);
});

/** The credential the examples refer to, by id and name. */
export function exampleCredentialRef() {
	const node = readExample(EXAMPLES.schedule).nodes.find((candidate) => candidate.type === NODE_TYPE);
	return /** @type {{ id: string, name: string }} */ (node?.credentials.easemobApi);
}

/** The Header Auth credential the deleting webhook examples refer to, by id and name. */
export function webhookCredentialRef() {
	return /** @type {{ id: string, name: string }} */ (webhookNode(EXAMPLES.webhook).credentials.httpHeaderAuth);
}

/**
 * A Header Auth credential for `n8n import:credentials`: a webhook that uses it runs only for
 * requests that carry `header: value`.
 * @param {{ id: string, name: string, header?: string, value: string }} options
 */
export function headerAuthCredential({ id, name, header = WEBHOOK_HEADER, value }) {
	return { id, name, type: 'httpHeaderAuth', data: { name: header, value } };
}

/**
 * An Easemob API credential for `n8n import:credentials` that points at a sandbox. Without an
 * app token: n8n fetches one on first use and keeps it in the credential.
 * @param {import('../../test/sandbox/server.js').Sandbox} sandbox
 * @param {{ id: string, name: string, clientSecret?: string }} options
 */
export function sandboxCredential(sandbox, { id, name, clientSecret = sandbox.clientSecret }) {
	return {
		id,
		name,
		type: 'easemobApi',
		data: {
			host: sandbox.url,
			orgName: sandbox.orgName,
			appName: sandbox.appName,
			clientId: sandbox.clientId,
			clientSecret,
			ttlMode: 'console',
		},
	};
}

/**
 * An Easemob API credential for an Agora Chat account (Account Type agora) that points at a
 * sandbox in Agora mode. Without an app token: the credential signs one on first use.
 * @param {import('../../test/sandbox/server.js').Sandbox} sandbox
 * @param {{ id: string, name: string, appCertificate?: string, agoraTokenLifetime?: number }} options
 */
export function sandboxAgoraCredential(sandbox, { id, name, appCertificate = sandbox.appCertificate, agoraTokenLifetime = 3600 }) {
	if (!sandbox.agora) throw new Error('sandboxAgoraCredential needs a sandbox started with { agora: true }');
	return {
		id,
		name,
		type: 'easemobApi',
		data: {
			realm: 'agora',
			host: sandbox.url,
			orgName: sandbox.orgName,
			appName: sandbox.appName,
			appId: sandbox.appId,
			appCertificate,
			agoraTokenLifetime,
		},
	};
}

/**
 * A fresh n8n with this repository's build packed and installed as a community package.
 * @param {import('./provision.mjs').Runtime} runtime
 * @param {{ name: string, port?: number }} options
 */
export async function n8nWithPackage(runtime, options) {
	const instance = await createInstance(runtime, options);
	try {
		await instance.installPackage(packPackage(REPO_DIR, instance.folder));
		return instance;
	} catch (error) {
		await instance.dispose();
		throw error;
	}
}

/**
 * What `npm start` serves: the examples other than the AI ones, with their credential pointing at
 * the sandbox (and, with the sandbox in Agora mode, an Agora Chat credential for it too), a Header
 * Auth credential with a new random value for the deleting webhooks, each of them published
 * (live), n8n started and its owner account created.
 * @param {Awaited<ReturnType<typeof n8nWithPackage>>} instance
 * @param {import('../../test/sandbox/server.js').Sandbox} sandbox
 * @returns {Promise<{ header: string, value: string }>} what a caller of the webhooks must send
 */
export async function startEditor(instance, sandbox) {
	const webhookKey = { header: WEBHOOK_HEADER, value: randomBytes(24).toString('base64url') };
	await instance.importCredentials([
		sandboxCredential(sandbox, { ...exampleCredentialRef(), name: SANDBOX_CREDENTIAL_NAME }),
		...(sandbox.agora ? [sandboxAgoraCredential(sandbox, AGORA_SANDBOX_CREDENTIAL)] : []),
		headerAuthCredential({ ...webhookCredentialRef(), name: WEBHOOK_CREDENTIAL_NAME, ...webhookKey }),
	]);
	const webhooks = DELETING_WEBHOOKS.map(readExample);
	await instance.importWorkflows([readExample(EXAMPLES.schedule), readExample(EXAMPLES.retention), ...webhooks]);
	for (const webhook of webhooks) await instance.publish(webhook.id);
	await instance.start();
	await instance.setupOwner(OWNER);
	return webhookKey;
}

/** An example's Webhook node. @param {string} file a name from EXAMPLES */
export function webhookNode(file) {
	const node = readExample(file).nodes.find((candidate) => candidate.type === WEBHOOK_TYPE);
	if (node === undefined) throw new Error(`examples/${file} has no Webhook node`);
	return node;
}

/** The path a webhook example listens on, below n8n's /webhook/. @param {string} [file] a name from EXAMPLES */
export function webhookPath(file = EXAMPLES.webhook) {
	return webhookNode(file).parameters.path;
}
