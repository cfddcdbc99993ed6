import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { NodeOperationError, tryToParseDateTime, updateDisplayOptions } from 'n8n-workflow';

import {
	historyChannelField,
	historyConversation,
	notifyDevices,
	notifyDevicesOption,
	ROAMING_OFF,
	usernameField,
} from './common';
import type { EasemobCall } from '../../transport';
import { REQUEST_STATUS_OK } from '../../transport/call';
import { UNKNOWN_USER } from '../hints';
import { conversationTypeField } from '../parameters';
import { optionsCollection, requestDetails, withRequestDetails } from '../requestOptions';
import type { PreparedItem } from '../types';

export const call: EasemobCall = {
	budget: { name: 'messageHistoryDeleteBeforeTime', appPerSecond: 100 },
	// The time is fixed when the item is checked: sent again, the call finds nothing more to delete.
	resendAfterLostAnswer: true,
	success: REQUEST_STATUS_OK,
	hints: [ROAMING_OFF, UNKNOWN_USER],
};

const properties: INodeProperties[] = [
	usernameField(
		'User ID of the user whose history of the conversation is deleted. Only this user\'s copy goes: the other ' +
		'participants keep theirs.',
	),
	conversationTypeField('conversation'),
	historyChannelField,
	{
		displayName: 'Before',
		name: 'before',
		type: 'dateTime',
		required: true,
		default: '',
		description:
			'Messages sent at or before this time are deleted from the user\'s history of the conversation, and ' +
			'cannot be restored; later ones stay. A conversation left empty also leaves the user\'s conversation ' +
			'list. An n8n date-time (e.g. {{ $now.minus({ days: 90 }) }}), ISO 8601 text (read in the workflow\'s ' +
			'time zone unless it has an offset such as Z) or epoch milliseconds.',
	},
	optionsCollection(call, [notifyDevicesOption]),
];

export const description = updateDisplayOptions(
	{ show: { resource: ['messageHistory'], operation: ['deleteBeforeTime'] } },
	properties,
);

// Epoch milliseconds below this are before March 1973, and as epoch seconds they are any time until 5138.
const LEAST_EPOCH_MS = 100_000_000_000;
// The last millisecond of the year 9999: anything later is no date Easemob keeps (microseconds, say).
const LATEST_EPOCH_MS = 253_402_300_799_999;

const ISO_DATE_TIME =
	/^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

const FORMS = 'an n8n date-time, ISO 8601 text like 2024-01-31T00:00:00Z, or epoch milliseconds';

interface LuxonDateTime {
	isLuxonDateTime: true;
	isValid: boolean;
	invalidReason: string | null;
	toMillis(): number;
}

function isLuxonDateTime(value: unknown): value is LuxonDateTime {
	return (
		typeof value === 'object' && value !== null && (value as { isLuxonDateTime?: unknown }).isLuxonDateTime === true
	);
}

function typeName(value: unknown): string {
	if (Array.isArray(value)) return 'a list';
	if (value instanceof Date) return 'a JavaScript Date (use $now, DateTime.fromJSDate(…) or .toISOString())';
	return typeof value;
}

/**
 * ISO 8601 text as epoch milliseconds: without an offset, in the workflow's time zone, as n8n's
 * date picker means it. Read by n8n's own date parser, and taken only when the date and time it
 * read are those written, so that no day rolls over (31 April) and no other format slips in.
 */
function isoTextMs(text: string, timeZone: string): number | undefined {
	const written = ISO_DATE_TIME.exec(text);
	if (written === null) return undefined;
	let parsed: ReturnType<typeof tryToParseDateTime>;
	try {
		parsed = tryToParseDateTime(text, timeZone);
	} catch {
		return undefined;
	}
	const [year, month, day, hour, minute, second] = written.slice(1).map((part) => Number(part ?? 0));
	const read = [parsed.year, parsed.month, parsed.day, parsed.hour, parsed.minute, parsed.second];
	const asWritten = read.every((part, k) => part === [year, month, day, hour, minute, second][k]);
	return asWritten ? parsed.toMillis() : undefined;
}

/** Before, as epoch milliseconds. */
function beforeMs(context: IExecuteFunctions, itemIndex: number): number {
	const value = context.getNodeParameter('before', itemIndex);
	const refuse = (message: string, description?: string) =>
		new NodeOperationError(context.getNode(), message, {
			itemIndex,
			description:
				description ?? `Item ${itemIndex} gave Before the value ${JSON.stringify(value) ?? String(value)}.`,
		});
	if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
		throw refuse(`Before is empty: set it to ${FORMS}; messages at or before it are deleted`);
	}
	if (isLuxonDateTime(value)) {
		if (!value.isValid) {
			throw refuse(`Before is an invalid date-time (${value.invalidReason ?? 'invalid'}): set it to ${FORMS}`);
		}
		return value.toMillis();
	}
	if (typeof value === 'number') {
		if (!Number.isInteger(value) || value < 0 || value > LATEST_EPOCH_MS) {
			throw refuse(`Before ${value} is not epoch milliseconds: set it to ${FORMS}`);
		}
		if (value < LEAST_EPOCH_MS) {
			throw refuse(
				`Before ${value} looks like epoch seconds, not milliseconds: multiply it by 1000, or set it to ` +
				`${FORMS}`,
				`As milliseconds it is ${new Date(value).toISOString()}, before any message Easemob keeps.`,
			);
		}
		return value;
	}
	if (typeof value === 'string') {
		const text = value.trim();
		if (/^\d+$/.test(text)) {
			throw refuse(
				`Before "${text}" is digits in text, which could be a date or a number: give epoch milliseconds as a ` +
				`number, e.g. {{ Number($json.before) }}, or ISO 8601 text like 2024-01-31T00:00:00Z`,
			);
		}
		const ms = isoTextMs(text, context.getTimezone());
		if (ms === undefined) throw refuse(`Before "${text}" is not an ISO 8601 date-time: set it to ${FORMS}`);
		return ms;
	}
	throw refuse(`Before must be ${FORMS}, not ${typeName(value)}`);
}

export function prepare(this: IExecuteFunctions, itemIndex: number): PreparedItem {
	const conversation = historyConversation(this, itemIndex);
	const { username, type, channel } = conversation;
	const before = beforeMs(this, itemIndex);
	const notify = notifyDevices(this, itemIndex);
	const options = requestDetails(this, itemIndex);

	return {
		requests: [
			{
				method: 'DELETE',
				segments: ['rest', 'message', 'roaming', conversation.path, 'user', username, 'time'],
				query: { ...conversation.query, delTime: String(before), isNotify: String(notify) },
			},
		],
		output: (responses) => {
			const json = { deleted: true, username, type, channel, before: new Date(before).toISOString() };
			return withRequestDetails({ ...json, notifyDevices: notify }, responses, options);
		},
	};
}
