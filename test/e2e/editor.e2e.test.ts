// What `npm start` serves, driven in Debian's Chromium by Playwright: the editor with the packed
// package and the examples; and the published deleting webhooks, called with and without the
// header of their Header Auth credential.
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { type Browser, chromium, type Page } from 'playwright-core';

import {
	DELETING_WEBHOOKS,
	EXAMPLES,
	N8N_LINE,
	OWNER,
	SANDBOX_CREDENTIAL_NAME,
	WEBHOOK_TYPE,
	readExample,
	startEditor,
	webhookPath,
} from '../../scripts/n8n/index.mjs';
import type { Sandbox } from '../sandbox/server';
import { DELETE_NODE, holdings, type N8n, setUp } from './harness';

const CHROMIUM = '/usr/bin/chromium';
const DOCS = join(process.cwd(), 'docs');
const GROUP = '228950233579521';

/** For each deleting webhook, a request body it would act on if it were let through. */
const DELETING_BODIES: Record<string, Record<string, unknown>> = {
	[EXAMPLES.webhook]: { username: 'alice', conversationId: 'bob', conversationType: 'chat', deleteHistory: true },
	[EXAMPLES.forgetUser]: { username: 'alice' },
};

/**
 * The webhook example as the editor leaves it when imported where no credential has the id it
 * refers to: n8n's import drops such a reference, so the Webhook node has Header Auth but no
 * credential until the user picks one. Published anyway, as n8n's CLI allows.
 */
const NO_CREDENTIAL_PATH = 'e2e/no-header-credential';
const WITHOUT_CREDENTIAL = (() => {
	const workflow = readExample(EXAMPLES.webhook);
	workflow.id = 'e2eNoHeaderCred1';
	workflow.name = 'e2e webhook without its Header Auth credential';
	const hook = workflow.nodes.find((node) => node.type === WEBHOOK_TYPE)!;
	hook.webhookId = randomUUID();
	hook.parameters.path = NO_CREDENTIAL_PATH;
	delete hook.credentials;
	return workflow;
})();

let sandbox: Sandbox;
let n8n: N8n;
let browser: Browser;
let webhookKey: { header: string; value: string };

beforeAll(async () => {
	if (!existsSync(CHROMIUM)) throw new Error(`No ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium)`);
	({ sandbox, n8n } = await setUp('e2e-editor'));
	await n8n.importWorkflows([WITHOUT_CREDENTIAL]);
	await n8n.publish(WITHOUT_CREDENTIAL.id);
	webhookKey = await startEditor(n8n, sandbox);
	browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

afterAll(async () => {
	await browser?.close();
	await n8n?.dispose();
	await sandbox?.close();
});

beforeEach(() => sandbox.reset());

async function signIn(page: Page) {
	await page.goto(`${n8n.url}/signin`);
	await page.locator('input[name="emailOrLdapLoginId"]').fill(OWNER.email);
	await page.locator('input[name="password"]').fill(OWNER.password);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await page.waitForURL((url) => !url.pathname.startsWith('/signin'));
}

/** For the README, which shows the editor of the n8n that users get by default. */
async function screenshot(page: Page, file: string) {
	if (N8N_LINE !== '2') return;
	mkdirSync(DOCS, { recursive: true });
	await page.screenshot({ path: join(DOCS, file) });
}

test('in Chromium the editor shows the node, its fields and credential, and its Execute workflow button deletes in the sandbox', async () => {
	const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
	await signIn(page);
	await page.goto(`${n8n.url}/workflow/${readExample(EXAMPLES.schedule).id}`);
	const node = page.locator('[data-test-id="canvas-node"]').filter({ hasText: DELETE_NODE });
	await node.dblclick();

	expect(await page.locator('[data-test-id="node-credentials-select"] input').inputValue()).toBe(SANDBOX_CREDENTIAL_NAME);
	for (const field of ['username', 'type', 'channel', 'deleteRoam']) {
		expect(await page.locator(`[data-test-id="parameter-input-${field}"]`).innerText()).toContain(`{{ $json.${field} }}`);
	}
	await page.keyboard.press('Escape');

	await page.locator('[data-test-id="execute-workflow-button"]').click();
	await page.getByText('Workflow executed successfully').waitFor({ timeout: 60_000 });
	expect(sandbox.counters()).toMatchObject({ deletes: 5, tokenRequests: 1, errors: 0 });
	expect(holdings(sandbox, 'alice').conversations).toEqual(['chat carol']);
	expect(holdings(sandbox, 'bob').conversations).toEqual([]);
	expect(holdings(sandbox, 'carol').conversations).toEqual([]);

	// The screenshots are for the README: without the toast over the output.
	await page.locator('.el-notification__closeBtn').click();
	await page.locator('.el-notification').waitFor({ state: 'detached' });
	await screenshot(page, 'easemob-workflow.png');
	await node.dblclick();
	await page.locator('[data-test-id="output-panel"]').getByText('5 items').waitFor();
	await screenshot(page, 'easemob-node-panel.png');
});

/** POSTs JSON to a published webhook, with the given extra headers. */
function post(path: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
	return fetch(`${n8n.url}/webhook/${path}`, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json', ...headers },
		body: JSON.stringify(body),
	});
}

test.each(DELETING_WEBHOOKS)('%s without the header, or with a wrong value: 403, the sandbox unchanged and sent nothing', async (file) => {
	const before = sandbox.state();
	const body = DELETING_BODIES[file];
	if (body === undefined) throw new Error(`DELETING_BODIES has no request body for ${file}`);

	const withoutHeader = await post(webhookPath(file), body);
	const wrongValue = await post(webhookPath(file), body, { [webhookKey.header]: randomBytes(24).toString('base64url') });
	const valueInAnotherHeader = await post(webhookPath(file), body, { Authorization: webhookKey.value });

	expect([withoutHeader.status, wrongValue.status, valueInAnotherHeader.status]).toEqual([403, 403, 403]);
	expect(sandbox.state()).toEqual(before);
	expect(sandbox.requests()).toEqual([]);
});

test('a deleting webhook with Header Auth but no credential: 500 to every call, the right header included; nothing runs', async () => {
	const before = sandbox.state();
	const body = DELETING_BODIES[EXAMPLES.webhook];

	const withoutHeader = await post(NO_CREDENTIAL_PATH, body);
	const withHeader = await post(NO_CREDENTIAL_PATH, body, { [webhookKey.header]: webhookKey.value });

	expect([withoutHeader.status, withHeader.status]).toEqual([500, 500]);
	expect(await withHeader.text()).toBe('No authentication data defined on node!');
	expect(sandbox.state()).toEqual(before);
	expect(sandbox.requests()).toEqual([]);
});

test('with the header, the webhook example deletes the conversation a form posts, and answers 500 with why when it cannot', async () => {
	const url = `${n8n.url}/webhook/${webhookPath()}`;
	const key = { [webhookKey.header]: webhookKey.value };

	const form = await fetch(url, {
		method: 'POST',
		headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...key },
		body: 'username=alice&conversationId=bob&conversationType=chat&deleteHistory=yes',
	});
	expect(form.status).toBe(200);
	expect(await form.json()).toEqual({ deleted: true, username: 'alice', channel: 'bob', type: 'chat', deleteRoam: true });

	const unknownUser = await post(
		webhookPath(),
		{ username: 'nobody', conversationId: 'bob', conversationType: 'chat', deleteHistory: false },
		key,
	);
	expect(unknownUser.status).toBe(500);
	expect(await unknownUser.json()).toMatchObject({ statusCode: 404, easemobError: 'service_resource_not_found' });

	expect(holdings(sandbox, 'alice')).toEqual({
		conversations: ['chat carol', `groupchat ${GROUP}`],
		roaming: ['chat carol', `groupchat ${GROUP}`],
	});
	expect(sandbox.counters()).toMatchObject({ deletes: 1, byStatus: { '404': 1 } });
});

describe('examples/forget-user.json, published, called with the header', () => {
	// Each reset revokes every token, and a token refused within a second of being issued is not
	// replaced (credentials/easemobAppToken.ts: Easemob bans accounts that ask too often). Tests
	// that each start with a refused token must leave it that second.
	beforeEach(async () => {
		await new Promise((resolve) => setTimeout(resolve, 1100));
		sandbox.reset();
	});

	const forget = (username: string) => post(webhookPath(EXAMPLES.forgetUser), { username }, { [webhookKey.header]: webhookKey.value });
	/** The Easemob calls the sandbox answered with success, in order, token requests aside. */
	const succeeded = () =>
		sandbox
			.requests()
			.filter((request) => request.status >= 200 && request.status < 300 && request.endpoint !== 'token')
			.map((request) => request.endpoint);

	test("a known user: 200, carol's history and carol gone, alice's copy of their conversation kept", async () => {
		const before = sandbox.state();

		const answer = await forget('carol');

		expect(answer.status).toBe(200);
		expect(await answer.json()).toEqual({
			forgotten: true,
			username: 'carol',
			historyDeleted: true,
			userDeleted: true,
			unknownUser: false,
			failedStep: null,
			error: null,
		});
		expect(sandbox.state().users.carol).toBeUndefined();
		expect(sandbox.state().users.alice).toEqual(before.users.alice);
		expect(succeeded()).toEqual(['history.all', 'user.delete']);
	});

	test('the same request sent again: 200 with unknownUser, nothing more deleted', async () => {
		await forget('carol');
		const before = sandbox.state();

		const answer = await forget('carol');

		expect(answer.status).toBe(200);
		expect(await answer.json()).toEqual({
			forgotten: true,
			username: 'carol',
			historyDeleted: false,
			userDeleted: false,
			unknownUser: true,
			failedStep: null,
			error: null,
		});
		expect(sandbox.state()).toEqual(before);
	});

	test('an app without message roaming: 500 naming the history step and its error; the user is kept', async () => {
		sandbox.configure({ messageRoaming: false });
		const before = sandbox.state();

		const answer = await forget('bob');

		expect(answer.status).toBe(500);
		expect(await answer.json()).toEqual({
			forgotten: false,
			username: 'bob',
			historyDeleted: false,
			userDeleted: false,
			unknownUser: false,
			failedStep: 'Delete all history',
			error: { message: expect.stringContaining('message roaming'), statusCode: 400, easemobError: 'service open exception' },
		});
		expect(sandbox.state()).toEqual(before);
		expect(sandbox.requests().map((request) => request.endpoint)).not.toContain('user.delete');
		expect(succeeded()).toEqual([]);
	});
});
