import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import type { EasemobCall, FailureHint } from '../../transport';
import type { EasemobApiError } from '../../transport/easemobError';
import { UNKNOWN_USER } from '../hints';
import { booleanValue } from '../parameters';
import { optionsCollection, withRequestDetails } from '../requestOptions';
import type { PreparedItem } from '../types';
import { USER_CALLS, USER_ENTITY, userItem, userField, usernameFor } from './common';

// How Easemob's delete may also say that there is no such user (§5 of the API notes).
const NO_USER_TEXT = 'User with id \\S+ does not exist';
// Easemob's text opens the message; the Username comes only after it, in the fix.
const NO_USER_MESSAGE = new RegExp(`^Easemob answered 400 management: ${NO_USER_TEXT}`);

export const call: EasemobCall = {
	budget: USER_CALLS,
	// A DELETE sent again after the first one deleted the user answers 404: the item would report a
	// user it has just deleted as unknown, or with Unknown User Is Deleted as never there. So when the
	// answer is lost the message says the user may be deleted, and nothing is sent again.
	resendAfterLostAnswer: false,
	success: USER_ENTITY,
	hints: [UNKNOWN_USER],
};

const properties: INodeProperties[] = [
	userField(
		'to delete',
		'This deletes the user for good, with every group and chat room they own and their contacts, messages and ' +
			'conversations; it cannot be undone. In an AI tool, take the ID from the trigger, not from the model',
	),
	optionsCollection(call, [
		{
			displayName: 'Unknown User Is Deleted',
			name: 'unknownUserIsDeleted',
			type: 'boolean',
			default: false,
			description:
				'Whether a user Easemob does not know counts as already deleted: the item outputs deleted true and ' +
				'existed false instead of failing. Useful when a flow may run twice for the same user.',
		},
	]),
];

export const description = updateDisplayOptions({ show: { resource: ['user'], operation: ['delete'] } }, properties);

const USERNAME = usernameFor('the user ID of the user to delete');

/** The messages for "no such user", which name the user and the option that accepts it. */
function unknownUserHints(username: string): FailureHint[] {
	const fix =
		`This app has no user ${JSON.stringify(username)}: check the Username (a user ID, not a nickname), ` +
		'or turn on the option Unknown User Is Deleted to count a missing user as already deleted';
	const hint =
		'Easemob has no such user in this app: it may have been deleted already. If that is an expected outcome ' +
		'(the flow may run twice for one user), turn on Unknown User Is Deleted in the Options.';
	return [
		{ status: 404, easemobError: 'service_resource_not_found', fix, hint },
		{ status: 400, easemobError: 'management', text: new RegExp(`^${NO_USER_TEXT}`), fix, hint },
	];
}

function isUnknownUser(failure: EasemobApiError): boolean {
	return failure.statusCode === 404
		? failure.easemobError === 'service_resource_not_found'
		: failure.statusCode === 400 &&
				failure.easemobError === 'management' &&
				NO_USER_MESSAGE.test(failure.message);
}

export function prepare(this: IExecuteFunctions, itemIndex: number): PreparedItem {
	const { username, options } = userItem(this, USERNAME, itemIndex);
	const unknownUserIsDeleted = booleanValue(
		this,
		options.unknownUserIsDeleted ?? false,
		'Unknown User Is Deleted',
		itemIndex,
		'$json.alreadyDeletedIsFine === true',
	);
	return {
		requests: [{ method: 'DELETE', segments: ['users', username], hints: unknownUserHints(username) }],
		output: (responses) => withRequestDetails({ deleted: true, username, existed: true }, responses, options),
		outputForFailure: (failure) =>
			unknownUserIsDeleted && isUnknownUser(failure) ? { deleted: true, username, existed: false } : undefined,
	};
}
