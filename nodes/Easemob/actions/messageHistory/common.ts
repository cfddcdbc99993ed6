import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import type { FailureHint } from '../../transport';
import type { ConversationType, IdField } from '../parameters';
import { booleanValue, channelField, conversationType, idParameter, pathIdParameter } from '../parameters';

export { usernameField } from '../parameters';

/** What the message-history operations share: the user, the conversation and its query, the hints. */

export const USERNAME: IdField = {
	name: 'username',
	label: 'Username',
	holds: 'the user ID of the user whose message history is to be deleted',
	kind: 'user ID',
};

const CHANNEL: IdField = {
	name: 'channel',
	label: 'Channel',
	holds: 'the other user\'s ID (Conversation Type chat) or the group ID (groupchat)',
	kind: 'user or group ID',
};

export const historyChannelField = channelField(
	'ID of the conversation: the other user\'s user ID for a one-to-one chat, the group ID for a group chat',
);

export const notifyDevicesOption: INodeProperties = {
	displayName: 'Notify Devices',
	name: 'notifyDevices',
	type: 'boolean',
	default: true,
	description:
		'Whether to tell the user\'s devices that are online, so that they remove the deleted messages too. Devices ' +
		'that are offline find the messages gone from the server either way.',
};

/** Notify Devices, a real boolean; on unless turned off. */
export function notifyDevices(context: IExecuteFunctions, itemIndex: number): boolean {
	const options = context.getNodeParameter('options', itemIndex, {}) as { notifyDevices?: unknown };
	if (options.notifyDevices === undefined) return true;
	return booleanValue(context, options.notifyDevices, 'Notify Devices', itemIndex, '$json.notify !== "no"');
}

export interface HistoryConversation {
	username: string;
	type: ConversationType;
	channel: string;
	/**
	 * Where the conversation goes in the path and the query: Easemob names a one-to-one conversation by
	 * the peer's user ID (`chat`, `userId`) and a group conversation by the group ID (`group`, `groupId`).
	 */
	path: string;
	query: Record<string, string>;
}

/** The item's user and conversation, checked in that order, as the conversation-history calls send them. */
export function historyConversation(context: IExecuteFunctions, itemIndex: number): HistoryConversation {
	const username = pathIdParameter(context, USERNAME, itemIndex);
	const type = conversationType(context, itemIndex);
	const channel = idParameter(context, CHANNEL, itemIndex);
	return type === 'chat'
		? { username, type, channel, path: 'chat', query: { userId: channel } }
		: { username, type, channel, path: 'group', query: { groupId: channel } };
}

export const ROAMING_OFF: FailureHint = {
	text: /not open message roaming/i,
	fix:
		'The app has no message roaming, so Easemob keeps no history to delete: ask Easemob to enable message ' +
		'roaming for the app',
	hint:
		'Easemob keeps users\' message history on the server ("message roaming") only for apps it is enabled for, ' +
		'and it is not enabled for this one. Ask Easemob (in the console or through support) to enable it; until ' +
		'then these calls fail.',
};

export const MORE_THAN_50_IDS: FailureHint = {
	text: /greater than 50/i,
	fix:
		'Easemob refused more than 50 message IDs in one call, and the node sends at most 50: report this with the ' +
		'IDs',
	hint:
		'Easemob deletes at most 50 messages by ID per call, and the node splits the IDs into calls of at most 50, ' +
		'so Easemob counted the IDs differently. Report it with the Message IDs of the item.',
};
