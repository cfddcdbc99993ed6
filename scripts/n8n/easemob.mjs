// What the demo, `npm start` and the end-to-end tests share about this package: its examples,
// the sandbox standing in for Easemob, and an n8n with the package installed.
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
	aiAgent: 'ai-agent-tool.json',
	mcpServer: 'mcp-server.json',
};

/** The type n8n gives the node as an AI tool (it derives it from `usableAsTool`). */
export const TOOL_TYPE = `${NODE_TYPE}Tool`;

/** The node that deletes, in both examples. */
export const DELETE_NODE = 'Delete conversation';

/** The name the examples' credential gets when it points at the sandbox. */
export const SANDBOX_CREDENTIAL_NAME = 'Easemob sandbox (local)';

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

/** The credential the examples refer to, by id and name. */
export function exampleCredentialRef() {
	const node = readExample(EXAMPLES.schedule).nodes.find((candidate) => candidate.type === NODE_TYPE);
	return /** @type {{ id: string, name: string }} */ (node?.credentials.easemobApi);
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
 * What `npm start` serves: both examples with their credential pointing at the sandbox (and,
 * with the sandbox in Agora mode, an Agora Chat credential for it too), the webhook example
 * published (live), n8n started and its owner account created.
 * @param {Awaited<ReturnType<typeof n8nWithPackage>>} instance
 * @param {import('../../test/sandbox/server.js').Sandbox} sandbox
 */
export async function startEditor(instance, sandbox) {
	const webhook = readExample(EXAMPLES.webhook);
	await instance.importCredentials([
		sandboxCredential(sandbox, { ...exampleCredentialRef(), name: SANDBOX_CREDENTIAL_NAME }),
		...(sandbox.agora ? [sandboxAgoraCredential(sandbox, AGORA_SANDBOX_CREDENTIAL)] : []),
	]);
	await instance.importWorkflows([readExample(EXAMPLES.schedule), webhook]);
	await instance.publish(webhook.id);
	await instance.start();
	await instance.setupOwner(OWNER);
}

/** The path the webhook example listens on, below n8n's /webhook/. */
export function webhookPath() {
	return readExample(EXAMPLES.webhook).nodes.find((node) => node.type === 'n8n-nodes-base.webhook')?.parameters.path;
}
