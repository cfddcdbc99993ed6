// What the example workflows promise before anyone imports them: Easemob nodes set up with the
// node's own names, deleting webhooks that need a header, nodes that keep going past a failed item. How they behave in a real n8n against the
// sandbox is in test/e2e/ (editor.e2e for the webhooks).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { INodeProperties } from 'n8n-workflow';

import { Easemob } from '../nodes/Easemob/Easemob.node';

interface ExampleNode {
	name: string;
	type: string;
	onError?: string;
	parameters: Record<string, unknown>;
	credentials?: Record<string, { id: string; name: string }>;
}

const EXAMPLES_DIR = join(__dirname, '..', 'examples');
const EASEMOB = 'n8n-nodes-easemob.easemob';
const WEBHOOK = 'n8n-nodes-base.webhook';

const examples = readdirSync(EXAMPLES_DIR)
	.filter((file) => file.endsWith('.json'))
	.map((file) => {
		const { nodes } = JSON.parse(readFileSync(join(EXAMPLES_DIR, file), 'utf8')) as { nodes: ExampleNode[] };
		return { file, nodes };
	});
const deletingWebhooks = examples.filter(({ nodes }) =>
	[WEBHOOK, EASEMOB].every((type) => nodes.some((node) => node.type === type)),
);

test('two examples have a webhook that starts an Easemob node: the conversation webhook and forget-user', () => {
	expect(deletingWebhooks.map(({ file }) => file).sort()).toEqual(['delete-conversation-webhook.json', 'forget-user.json']);
});

test.each(deletingWebhooks)(
	'$file: its Webhook node has Header Auth and refers to the one Header Auth credential that npm start creates',
	({ nodes }) => {
		const webhook = nodes.find((node) => node.type === WEBHOOK)!;

		expect(webhook.parameters.authentication).toBe('headerAuth');
		expect(webhook.credentials).toEqual({ httpHeaderAuth: { id: 'webhookCallerKey', name: 'Webhook caller key' } });
	},
);

test.each(deletingWebhooks)('$file: its sticky note names Header Auth and asks for no authentication to be added', ({ nodes }) => {
	const notes = nodes.filter((node) => node.type === 'n8n-nodes-base.stickyNote').map((node) => node.parameters.content);

	expect(notes.join('\n')).toMatch(/Header Auth/);
	expect(notes.join('\n')).not.toMatch(/add authentication/i);
});

test.each(['forget-user.json', 'retention-policy.json'])(
	'%s: every Easemob node continues on error, so that a failed item still gets an output item',
	(file) => {
		const nodes = examples.find((example) => example.file === file)!.nodes.filter((node) => node.type === EASEMOB);

		expect(nodes.length).toBeGreaterThan(0);
		expect(nodes.map((node) => node.onError)).toEqual(nodes.map(() => 'continueRegularOutput'));
	},
);

/** The node's properties shown for a resource and an operation. */
function shownFor(resource: unknown, operation: unknown): INodeProperties[] {
	const shows = (property: INodeProperties, name: string, value: unknown) =>
		property.displayOptions?.show?.[name] === undefined || property.displayOptions.show[name]!.includes(value as string);
	return new Easemob().description.properties.filter(
		(property) => shows(property, 'resource', resource) && shows(property, 'operation', operation),
	);
}

const easemobNodes = examples.flatMap(({ file, nodes }) =>
	nodes.filter((node) => node.type === EASEMOB).map((node) => ({ file, node: node.name, parameters: node.parameters })),
);

test.each(easemobNodes)('$file, $node: its resource, operation, fields and options are ones the node shows for them', ({ parameters }) => {
	const { resource, operation, options = {}, ...fields } = parameters;
	const shown = shownFor(resource, operation);
	const choices = (name: string) => (shown.find((property) => property.name === name)?.options ?? []).map((option) => 'value' in option && option.value);
	const optionNames = shown
		.filter((property) => property.name === 'options')
		.flatMap((property) => (property.options ?? []).map((option) => option.name));

	expect(choices('resource')).toContain(resource);
	expect(choices('operation')).toContain(operation);
	expect(Object.keys(fields).filter((name) => !shown.some((property) => property.name === name))).toEqual([]);
	expect(Object.keys(options as object).filter((name) => !optionNames.includes(name))).toEqual([]);
});
