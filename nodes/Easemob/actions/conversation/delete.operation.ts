import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { NodeOperationError, updateDisplayOptions } from 'n8n-workflow';

import { unconfirmedSuccess } from '../../transport/easemobError';
import { requestOptionFields } from '../requestOptions';
import type { PreparedCall } from '../types';

const CONVERSATION_TYPES = ['chat', 'groupchat'];

// Half of a UTF-16 surrogate pair on its own: no URL or JSON text can carry it faithfully.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const properties: INodeProperties[] = [
	{
		displayName: 'Username',
		name: 'username',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'e.g. user1',
		description:
			'User ID of the user whose conversation list loses the conversation. Only this user is affected: the other participants keep the conversation.',
	},
	{
		displayName: 'Conversation Type',
		name: 'type',
		type: 'options',
		options: [
			{ name: 'One-to-One Chat', value: 'chat', description: 'A conversation with one other user' },
			{ name: 'Group Chat', value: 'groupchat', description: 'A group conversation' },
		],
		default: 'chat',
		description:
			'Whether the conversation is with one other user or a group. In an AI tool, to let the model choose, switch to an expression: {{ $fromAI(\'type\', \'Conversation type: chat for a one-to-one conversation, groupchat for a group conversation\', \'string\') }}.',
	},
	{
		displayName: 'Channel',
		name: 'channel',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'e.g. user2',
		description:
			'ID of the conversation to remove: the other user\'s user ID for a one-to-one chat, the group ID for a group chat',
	},
	{
		displayName: 'Delete Roaming Messages',
		name: 'deleteRoam',
		type: 'boolean',
		default: false,
		description:
			'Whether to also delete this user\'s server-side message history ("roaming messages") of the conversation. This cannot be undone: the user can no longer pull those messages from the server. When off, the history stays and the user can still pull it.',
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add option',
		default: {},
		options: [
			{
				displayName: 'Include Easemob Response',
				name: 'includeResponse',
				type: 'boolean',
				default: false,
				description: 'Whether to add Easemob\'s full response to the output item',
			},
			...requestOptionFields,
		],
	},
];

export const description = updateDisplayOptions(
	{ show: { resource: ['conversation'], operation: ['delete'] } },
	properties,
);

/** What each ID field holds, for messages that say what to put there. */
const ID_FIELDS = {
	username: { label: 'Username', holds: 'the user ID of the user whose conversation is to be deleted', kind: 'a user ID' },
	channel: {
		label: 'Channel',
		holds: 'the other user\'s ID (Conversation Type chat) or the group ID (groupchat)',
		kind: 'a user or group ID',
	},
};

/** A user or conversation ID: text, or a number from an expression, that is not blank. */
function idParameter(context: IExecuteFunctions, name: keyof typeof ID_FIELDS, itemIndex: number): string {
	const { label, holds, kind } = ID_FIELDS[name];
	const value = context.getNodeParameter(name, itemIndex);
	if (typeof value === 'number' && Number.isFinite(value)) return String(value);
	if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
		throw new NodeOperationError(context.getNode(), `${label} is empty: set it to ${holds}`, {
			itemIndex,
			description: `Item ${itemIndex} has no ${label}: the field or its expression gave ${JSON.stringify(value) ?? 'undefined'}.`,
		});
	}
	if (typeof value !== 'string') {
		throw new NodeOperationError(
			context.getNode(),
			`${label} must be text (${kind}), not ${Array.isArray(value) ? 'a list' : typeof value}`,
			{
				itemIndex,
				description: `Item ${itemIndex} gave ${label} the value ${JSON.stringify(value)}.`,
			},
		);
	}
	if (LONE_SURROGATE.test(value)) {
		throw new NodeOperationError(
			context.getNode(),
			`${label} contains an incomplete Unicode character: give the whole ID, it was probably cut short`,
			{
				itemIndex,
				description: `Item ${itemIndex} gave ${label} text with half of a surrogate pair, which usually means it was cut at the wrong place.`,
			},
		);
	}
	return value;
}

export function prepare(this: IExecuteFunctions, itemIndex: number): PreparedCall {
	const username = idParameter(this, 'username', itemIndex);
	// `.` and `..` would be read as path steps, not as a user, by every HTTP client.
	if (username === '.' || username === '..') {
		throw new NodeOperationError(
			this.getNode(),
			`Username "${username}" is not a valid user ID: set it to ${ID_FIELDS.username.holds}`,
			{ itemIndex },
		);
	}
	const channel = idParameter(this, 'channel', itemIndex);
	const type = this.getNodeParameter('type', itemIndex);
	if (typeof type !== 'string' || !CONVERSATION_TYPES.includes(type)) {
		throw new NodeOperationError(
			this.getNode(),
			`Conversation Type must be "chat" (one-to-one) or "groupchat" (group), not ${JSON.stringify(type) ?? String(type)}`,
			{
				itemIndex,
				description:
					'Use chat when Channel is another user\'s ID and groupchat when it is a group ID. An expression, $fromAI included, must give one of these two words exactly, in lower case.',
			},
		);
	}
	const deleteRoam = this.getNodeParameter('deleteRoam', itemIndex);
	if (typeof deleteRoam !== 'boolean') {
		throw new NodeOperationError(
			this.getNode(),
			`Delete Roaming Messages must be true or false, not ${JSON.stringify(deleteRoam) ?? String(deleteRoam)}`,
			{
				itemIndex,
				description: 'An expression must give a boolean, e.g. {{ $json.deleteHistory === "yes" }}.',
			},
		);
	}
	const options = this.getNodeParameter('options', itemIndex, {}) as {
		includeResponse?: boolean;
		includeAttempts?: boolean;
	};

	return {
		request: {
			method: 'DELETE',
			segments: ['users', username, 'user_channel'],
			body: { channel, type, delete_roam: deleteRoam },
			rateLimitedUser: username,
		},
		output: ({ body, attempts, waitedMs }) => {
			if ((body as { data?: IDataObject } | null)?.data?.result !== 'ok') {
				throw unconfirmedSuccess(this.getNode(), body, itemIndex);
			}
			const json: IDataObject = { deleted: true, username, channel, type, deleteRoam };
			if (options.includeResponse === true) json.response = body as IDataObject;
			if (options.includeAttempts === true) Object.assign(json, { attempts, waitedMs });
			return json;
		},
	};
}
