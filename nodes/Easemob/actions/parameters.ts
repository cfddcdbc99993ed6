import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

/**
 * Checks shared by the operations' fields. Whatever goes into a path or a query string is text that
 * is not blank and holds whole Unicode characters, so that it can be encoded faithfully; the
 * transport encodes it, and so nothing a field holds can change which endpoint is called.
 */

// Half of a UTF-16 surrogate pair on its own: no URL or JSON text can carry it faithfully.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** An ID field, with the words its messages use. */
export interface IdField {
	name: string;
	label: string;
	/** What to set it to: "the user ID of the user whose … ". */
	holds: string;
	/** What it is, after "a": "user ID". */
	kind: string;
}

export function hasLoneSurrogate(text: string): boolean {
	return LONE_SURROGATE.test(text);
}

/** A user, group or conversation ID: text, or a number from an expression, that is not blank. */
export function idParameter(context: IExecuteFunctions, field: IdField, itemIndex: number): string {
	const { name, label, holds, kind } = field;
	const value = context.getNodeParameter(name, itemIndex);
	if (typeof value === 'number' && Number.isFinite(value)) return String(value);
	if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
		throw new NodeOperationError(context.getNode(), `${label} is empty: set it to ${holds}`, {
			itemIndex,
			description:
				`Item ${itemIndex} has no ${label}: the field or its expression gave ` +
				`${JSON.stringify(value) ?? 'undefined'}.`,
		});
	}
	if (typeof value !== 'string') {
		throw new NodeOperationError(
			context.getNode(),
			`${label} must be text (a ${kind}), not ${Array.isArray(value) ? 'a list' : typeof value}`,
			{
				itemIndex,
				description: `Item ${itemIndex} gave ${label} the value ${JSON.stringify(value)}.`,
			},
		);
	}
	if (hasLoneSurrogate(value)) {
		throw new NodeOperationError(
			context.getNode(),
			`${label} contains an incomplete Unicode character: give the whole ID, it was probably cut short`,
			{
				itemIndex,
				description:
					`Item ${itemIndex} gave ${label} text with half of a surrogate pair, which usually means it was ` +
					`cut at the wrong place.`,
			},
		);
	}
	return value;
}

/**
 * An ID that is a path segment of its own. `.` and `..` would be read as path steps, not as an ID,
 * by every HTTP client, even percent-encoded; in a query string or a body they are plain text.
 */
export function pathIdParameter(context: IExecuteFunctions, field: IdField, itemIndex: number): string {
	const value = idParameter(context, field, itemIndex);
	if (value === '.' || value === '..') {
		throw new NodeOperationError(
			context.getNode(),
			`${field.label} "${value}" is not a valid ${field.kind}: set it to ${field.holds}`,
			{ itemIndex },
		);
	}
	return value;
}

/** The Username field every operation shows; `description` says whose ID it is and what happens to them. */
export function usernameField(description: string, placeholder = 'e.g. alice'): INodeProperties {
	return {
		displayName: 'Username',
		name: 'username',
		type: 'string',
		required: true,
		default: '',
		placeholder,
		description,
	};
}

/** The Channel field of a conversation's operations; `description` says what happens to the conversation. */
export function channelField(description: string): INodeProperties {
	return {
		displayName: 'Channel',
		name: 'channel',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'e.g. user2',
		description,
	};
}

export const CONVERSATION_TYPES = ['chat', 'groupchat'] as const;

export type ConversationType = (typeof CONVERSATION_TYPES)[number];

/** The Conversation Type field, as the operations that name a conversation show it. */
export function conversationTypeField(purpose: string): INodeProperties {
	return {
		displayName: 'Conversation Type',
		name: 'type',
		type: 'options',
		options: [
			{ name: 'One-to-One Chat', value: 'chat', description: 'A conversation with one other user' },
			{ name: 'Group Chat', value: 'groupchat', description: 'A group conversation' },
		],
		default: 'chat',
		description:
			`Whether the ${purpose} is with one other user or a group. In an AI tool, to let the model choose, ` +
			`switch to an expression: {{ $fromAI('type', 'Conversation type: chat for a one-to-one conversation, ` +
			`groupchat for a group conversation', 'string') }}.`,
	};
}

export function conversationType(context: IExecuteFunctions, itemIndex: number): ConversationType {
	const type = context.getNodeParameter('type', itemIndex);
	if (typeof type !== 'string' || !(CONVERSATION_TYPES as readonly string[]).includes(type)) {
		throw new NodeOperationError(
			context.getNode(),
			`Conversation Type must be "chat" (one-to-one) or "groupchat" (group), not ` +
			`${JSON.stringify(type) ?? String(type)}`,
			{
				itemIndex,
				description:
					'Use chat when Channel is another user\'s ID and groupchat when it is a group ID. An expression, ' +
					'$fromAI included, must give one of these two words exactly, in lower case.',
			},
		);
	}
	return type as ConversationType;
}

/** A boolean field or option, which an expression must give as a real boolean. */
export function booleanValue(
	context: IExecuteFunctions,
	value: unknown,
	label: string,
	itemIndex: number,
	example: string,
): boolean {
	if (typeof value !== 'boolean') {
		throw new NodeOperationError(
			context.getNode(),
			`${label} must be true or false, not ${JSON.stringify(value) ?? String(value)}`,
			{
				itemIndex,
				description: `An expression must give a boolean, e.g. {{ ${example} }}.`,
			},
		);
	}
	return value;
}
