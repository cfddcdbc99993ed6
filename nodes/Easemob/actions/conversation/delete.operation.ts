import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError, updateDisplayOptions } from 'n8n-workflow';

import { easemobApiRequest } from '../../transport';
import { unconfirmedSuccess } from '../../transport/easemobError';

const CONVERSATION_TYPES = ['chat', 'groupchat'];

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
		description: 'Whether the conversation is with one other user or a group',
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
		],
	},
];

export const description = updateDisplayOptions(
	{ show: { resource: ['conversation'], operation: ['delete'] } },
	properties,
);

/** A user or conversation ID: text, or a number from an expression, that is neither blank nor a dot segment. */
function idParameter(context: IExecuteFunctions, name: string, label: string, itemIndex: number): string {
	const value = context.getNodeParameter(name, itemIndex);
	if (typeof value === 'number' && Number.isFinite(value)) return String(value);
	if (typeof value !== 'string') {
		throw new NodeOperationError(context.getNode(), `${label} must be text, not ${value === null ? 'null' : typeof value}`, {
			itemIndex,
			description: `Item ${itemIndex} gave ${label} the value ${JSON.stringify(value) ?? String(value)}.`,
		});
	}
	if (value.trim() === '') {
		throw new NodeOperationError(context.getNode(), `${label} is empty`, {
			itemIndex,
			description: `Item ${itemIndex} has no ${label}. Check the field or the expression that fills it.`,
		});
	}
	if (value === '.' || value === '..') {
		throw new NodeOperationError(context.getNode(), `${label} "${value}" is not a valid ID`, { itemIndex });
	}
	return value;
}

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData> {
	const username = idParameter(this, 'username', 'Username', itemIndex);
	const channel = idParameter(this, 'channel', 'Channel', itemIndex);
	const type = this.getNodeParameter('type', itemIndex);
	if (typeof type !== 'string' || !CONVERSATION_TYPES.includes(type)) {
		throw new NodeOperationError(
			this.getNode(),
			`Conversation Type must be "chat" or "groupchat", not ${JSON.stringify(type) ?? String(type)}`,
			{ itemIndex },
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
	const { includeResponse } = this.getNodeParameter('options', itemIndex, {}) as { includeResponse?: boolean };

	const response = await easemobApiRequest.call(
		this,
		{
			method: 'DELETE',
			segments: ['users', username, 'user_channel'],
			body: { channel, type, delete_roam: deleteRoam },
		},
		itemIndex,
	);
	if ((response as { data?: IDataObject } | null)?.data?.result !== 'ok') {
		throw unconfirmedSuccess(this.getNode(), response, itemIndex);
	}

	const json: IDataObject = { deleted: true, username, channel, type, deleteRoam };
	if (includeResponse === true) json.response = response as IDataObject;
	return { json, pairedItem: { item: itemIndex } };
}
