import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import type { EasemobCall, SuccessShape } from '../../transport';
import { UNKNOWN_USER } from '../hints';
import { optionsCollection, withRequestDetails } from '../requestOptions';
import type { PreparedItem } from '../types';
import { USER_CALLS, userItem, userField, usernameFor } from './common';

/** Activate alone answers without the envelope's entities: `{"action":"activate user",…}`. */
const ACTIVATED: SuccessShape = {
	notConfirmed: (body) => {
		const { action } = body as { action?: unknown };
		return typeof action === 'string' && action.toLowerCase() === 'activate user'
			? undefined
			: `action is ${JSON.stringify(action ?? null)}, not "activate user"`;
	},
};

export const call: EasemobCall = {
	budget: USER_CALLS,
	// Activating an active user leaves them active, as one activation does.
	resendAfterLostAnswer: true,
	success: ACTIVATED,
	hints: [UNKNOWN_USER],
};

const properties: INodeProperties[] = [
	userField('to unban', 'They can log in again at once'),
	optionsCollection(call),
];

export const description = updateDisplayOptions({ show: { resource: ['user'], operation: ['activate'] } }, properties);

const USERNAME = usernameFor('the user ID of the user to unban');

export function prepare(this: IExecuteFunctions, itemIndex: number): PreparedItem {
	const { username, options } = userItem(this, USERNAME, itemIndex);
	return {
		requests: [{ method: 'POST', segments: ['users', username, 'activate'] }],
		output: (responses) => withRequestDetails({ username, activated: true }, responses, options),
	};
}
