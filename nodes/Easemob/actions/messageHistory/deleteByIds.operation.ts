import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { NodeOperationError, updateDisplayOptions } from 'n8n-workflow';

import {
	historyChannelField,
	historyConversation,
	MORE_THAN_50_IDS,
	notifyDevices,
	notifyDevicesOption,
	ROAMING_OFF,
	usernameField,
} from './common';
import type { EasemobCall, EasemobRequest } from '../../transport';
import { REQUEST_STATUS_OK } from '../../transport/call';
import { UNKNOWN_USER } from '../hints';
import { conversationTypeField, hasLoneSurrogate } from '../parameters';
import { optionsCollection, requestDetails, withRequestDetails } from '../requestOptions';
import type { PreparedItem } from '../types';

export const call: EasemobCall = {
	budget: { name: 'messageHistoryDeleteByIds', appPerSecond: 100 },
	// The same IDs again: messages already deleted are gone, and nothing else is touched.
	resendAfterLostAnswer: true,
	success: REQUEST_STATUS_OK,
	hints: [ROAMING_OFF, MORE_THAN_50_IDS, UNKNOWN_USER],
};

/** Easemob's most IDs in one call. */
const IDS_PER_CALL = 50;

const properties: INodeProperties[] = [
	usernameField(
		'User ID of the user whose copies of the messages are deleted. Only this user\'s copy goes: the other ' +
		'participants keep theirs.',
	),
	conversationTypeField('conversation'),
	historyChannelField,
	{
		displayName: 'Message IDs',
		name: 'messageIds',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'e.g. 1196186326338848700, 1196186326338848701',
		description:
			'IDs of the messages to delete from the user\'s history of the conversation, which cannot be restored: ' +
			'comma-separated text, or a list of IDs from an expression. Any number: the node sends them 50 per call, ' +
			'one call after another, and reports which IDs it sent. Give long IDs as text: as numbers they may not ' +
			'be exact.',
	},
	optionsCollection(call, [notifyDevicesOption]),
];

export const description = updateDisplayOptions(
	{ show: { resource: ['messageHistory'], operation: ['deleteByIds'] } },
	properties,
);

const HOLDS = 'the IDs of the messages to delete, comma-separated or as a list';

function typeName(value: unknown): string {
	return Array.isArray(value) ? 'a list' : value === null ? 'null' : typeof value;
}

/**
 * The item's message IDs: comma-separated text or a list of texts and numbers, each trimmed and
 * checked, in order of first appearance without repeats.
 */
function messageIds(context: IExecuteFunctions, itemIndex: number): string[] {
	const value = context.getNodeParameter('messageIds', itemIndex);
	const refuse = (message: string) =>
		new NodeOperationError(context.getNode(), message, {
			itemIndex,
			description: `Item ${itemIndex} gave Message IDs the value ${JSON.stringify(value) ?? String(value)}.`,
		});
	let entries: unknown[];
	if (typeof value === 'string') entries = value.trim() === '' ? [] : value.split(',');
	else if (Array.isArray(value)) entries = value;
	else if (typeof value === 'number') entries = [value];
	else if (value === undefined || value === null) entries = [];
	else throw refuse(`Message IDs must be comma-separated text or a list of IDs, not ${typeName(value)}`);
	if (entries.length === 0) throw refuse(`Message IDs is empty: set it to ${HOLDS}`);

	const ids = new Set<string>();
	entries.forEach((entry, k) => {
		const at = `at position ${k + 1}`;
		let id: string;
		if (typeof entry === 'number') {
			if (!Number.isSafeInteger(entry) || entry < 0) {
				throw refuse(
					Number.isInteger(entry) && entry > 0
						? `Message ID ${entry} ${at} is too long to be exact as a number: give the IDs as text`
						: `Message ID ${entry} ${at} is not a message ID: give whole numbers or text`,
				);
			}
			id = String(entry);
		} else if (typeof entry === 'string') {
			id = entry.trim();
		} else {
			throw refuse(`Message IDs must hold text or numbers, not ${typeName(entry)} ${at}`);
		}
		if (id === '') throw refuse(`Message IDs has an empty ID ${at}: remove the extra comma or the blank entry`);
		// Easemob splits the list at commas: one entry would be taken for several IDs.
		if (id.includes(',')) {
			throw refuse(`Message ID "${id}" ${at} contains a comma: give one ID per entry of the list`);
		}
		if (hasLoneSurrogate(id)) {
			throw refuse(
				`Message IDs has an incomplete Unicode character ${at}: give the whole ID, it was probably cut short`,
			);
		}
		ids.add(id);
	});
	return [...ids];
}

export function prepare(this: IExecuteFunctions, itemIndex: number): PreparedItem {
	const conversation = historyConversation(this, itemIndex);
	const { username, type, channel } = conversation;
	const ids = messageIds(this, itemIndex);
	const notify = notifyDevices(this, itemIndex);
	const options = requestDetails(this, itemIndex);
	const batches: string[][] = [];
	for (let start = 0; start < ids.length; start += IDS_PER_CALL) batches.push(ids.slice(start, start + IDS_PER_CALL));

	return {
		requests: batches.map(
			(batch): EasemobRequest => ({
				method: 'DELETE',
				segments: ['rest', 'message', 'roaming', conversation.path, 'user', username],
				query: { ...conversation.query, msgIdList: batch.join(','), isNotify: String(notify) },
			}),
		),
		output: (responses) => {
			const json = { deleted: true, username, type, channel, messageIds: ids, requests: responses.length };
			return withRequestDetails({ ...json, notifyDevices: notify }, responses, options, 'list');
		},
		doneBeforeFailure: (succeeded) => {
			const deleted = batches.slice(0, succeeded).flat();
			return (
				`Before this failure ${succeeded} of ${batches.length} calls succeeded, deleting ${deleted.length} ` +
				`of the ${ids.length} messages: ${deleted.join(', ')}. The other ${ids.length - deleted.length} were ` +
				'not deleted, or not confirmed.'
			);
		},
	};
}
