import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import type { EasemobCall } from '../../transport';
import { RESULT_OK } from '../../transport/call';
import { UNKNOWN_USER } from '../hints';
import type { IdField } from '../parameters';
import {
	booleanValue,
	channelField,
	conversationType,
	conversationTypeField,
	idParameter,
	pathIdParameter,
	usernameField,
} from '../parameters';
import { optionsCollection, requestDetails, withRequestDetails } from '../requestOptions';
import type { PreparedItem } from '../types';

export const call: EasemobCall = {
	budget: { name: 'conversationDelete', appPerSecond: 100, perUser: { limit: 5, windowSeconds: 60 } },
	// Removing a conversation that is already gone leaves the list as one removal does.
	resendAfterLostAnswer: true,
	success: RESULT_OK,
	hints: [
		{
			status: 400,
			easemobError: 'invalid_request_body',
			fix: 'Easemob could not read the request: Channel must be text, Conversation Type "chat" or "groupchat", Delete Roaming Messages true or false',
			hint: 'Easemob could not read the request. Check that Channel is text, Type is chat or groupchat and Delete Roaming Messages is true or false.',
		},
		{
			status: 400,
			easemobError: 'illegal_argument',
			fix: 'Correct the field Easemob names',
			hint: 'One of the fields has a value Easemob does not accept; the message above names it.',
		},
		UNKNOWN_USER,
	],
};

const properties: INodeProperties[] = [
	usernameField(
		'User ID of the user whose conversation list loses the conversation. Only this user is affected: the other ' +
			'participants keep the conversation.',
		'e.g. user1',
	),
	conversationTypeField('conversation'),
	channelField(
		'ID of the conversation to remove: the other user\'s user ID for a one-to-one chat, the group ID for a group chat',
	),
	{
		displayName: 'Delete Roaming Messages',
		name: 'deleteRoam',
		type: 'boolean',
		default: false,
		description:
			'Whether to also delete this user\'s server-side message history ("roaming messages") of the conversation. This cannot be undone: the user can no longer pull those messages from the server. When off, the history stays and the user can still pull it.',
	},
	optionsCollection(call),
];

export const description = updateDisplayOptions(
	{ show: { resource: ['conversation'], operation: ['delete'] } },
	properties,
);

/** What each ID field holds, for messages that say what to put there. */
const USERNAME: IdField = {
	name: 'username',
	label: 'Username',
	holds: 'the user ID of the user whose conversation is to be deleted',
	kind: 'user ID',
};
const CHANNEL: IdField = {
	name: 'channel',
	label: 'Channel',
	holds: 'the other user\'s ID (Conversation Type chat) or the group ID (groupchat)',
	kind: 'user or group ID',
};

export function prepare(this: IExecuteFunctions, itemIndex: number): PreparedItem {
	const username = pathIdParameter(this, USERNAME, itemIndex);
	const channel = idParameter(this, CHANNEL, itemIndex);
	const type = conversationType(this, itemIndex);
	const deleteRoam = booleanValue(
		this,
		this.getNodeParameter('deleteRoam', itemIndex),
		'Delete Roaming Messages',
		itemIndex,
		'$json.deleteHistory === "yes"',
	);
	const options = requestDetails(this, itemIndex);

	return {
		requests: [
			{
				method: 'DELETE',
				segments: ['users', username, 'user_channel'],
				body: { channel, type, delete_roam: deleteRoam },
				rateLimitedUser: username,
			},
		],
		output: (responses) =>
			withRequestDetails({ deleted: true, username, channel, type, deleteRoam } as IDataObject, responses, options),
	};
}
