// What `npm start` serves, driven in Debian's Chromium by Playwright: the editor with the packed
// package and both examples, and the published webhook example.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { type Browser, chromium, type Page } from 'playwright-core';

import { EXAMPLES, N8N_LINE, OWNER, SANDBOX_CREDENTIAL_NAME, readExample, startEditor, webhookPath } from '../../scripts/n8n/index.mjs';
import type { Sandbox } from '../sandbox/server';
import { DELETE_NODE, holdings, type N8n, setUp } from './harness';

const CHROMIUM = '/usr/bin/chromium';
const DOCS = join(process.cwd(), 'docs');
const GROUP = '228950233579521';

let sandbox: Sandbox;
let n8n: N8n;
let browser: Browser;

beforeAll(async () => {
	if (!existsSync(CHROMIUM)) throw new Error(`No ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium)`);
	({ sandbox, n8n } = await setUp('e2e-editor'));
	await startEditor(n8n, sandbox);
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

test('the published webhook example deletes the conversation a form posts, and answers 500 with the reason when it cannot', async () => {
	const url = `${n8n.url}/webhook/${webhookPath()}`;

	const form = await fetch(url, {
		method: 'POST',
		headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
		body: 'username=alice&conversationId=bob&conversationType=chat&deleteHistory=yes',
	});
	expect(form.status).toBe(200);
	expect(await form.json()).toEqual({ deleted: true, username: 'alice', channel: 'bob', type: 'chat', deleteRoam: true });

	const unknownUser = await fetch(url, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify({ username: 'nobody', conversationId: 'bob', conversationType: 'chat', deleteHistory: false }),
	});
	expect(unknownUser.status).toBe(500);
	expect(await unknownUser.json()).toMatchObject({ statusCode: 404, easemobError: 'service_resource_not_found' });

	expect(holdings(sandbox, 'alice')).toEqual({
		conversations: ['chat carol', `groupchat ${GROUP}`],
		roaming: ['chat carol', `groupchat ${GROUP}`],
	});
	expect(sandbox.counters()).toMatchObject({ deletes: 1, byStatus: { '404': 1 } });
});
