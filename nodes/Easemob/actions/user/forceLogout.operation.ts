import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import type { EasemobCall, SuccessShape } from '../../transport';
import { UNKNOWN_USER } from '../hints';
import { optionsCollection, withRequestDetails } from '../requestOptions';
import type { PreparedItem } from '../types';
import { USER_CALLS, userItem, userField, usernameFor } from './common';

function result(body: object): unknown {
	return (body as { data?: { result?: unknown } }).data?.result;
}

/** Easemob says in `data.result` whether it logged the user out: either is an answer, anything else is not. */
const LOGOUT_ANSWERED: SuccessShape = {
	notConfirmed: (body) => {
		const value = result(body);
		return typeof value === 'boolean' ? undefined : `data.result is ${JSON.stringify(value ?? null)}, not true or false`;
	},
};

export const call: EasemobCall = {
	budget: USER_CALLS,
	// Logging out a user who is logged out leaves them so, as one logout does.
	resendAfterLostAnswer: true,
	success: LOGOUT_ANSWERED,
	hints: [UNKNOWN_USER],
};

const properties: INodeProperties[] = [
	userField(
		'to log out of every device',
		'They can log in again at once: to keep them out, use Deactivate (Ban)',
	),
	optionsCollection(call),
];

export const description = updateDisplayOptions({ show: { resource: ['user'], operation: ['forceLogout'] } }, properties);

const USERNAME = usernameFor('the user ID of the user to log out');

export function prepare(this: IExecuteFunctions, itemIndex: number): PreparedItem {
	const { username, options } = userItem(this, USERNAME, itemIndex);
	return {
		requests: [{ method: 'GET', segments: ['users', username, 'disconnect'] }],
		output: (responses) =>
			withRequestDetails({ username, loggedOut: result(responses[0].body as object) as boolean }, responses, options),
	};
}
