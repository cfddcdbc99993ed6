import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import type { EasemobCall } from '../../transport';
import { UNKNOWN_USER } from '../hints';
import { optionsCollection, withRequestDetails } from '../requestOptions';
import type { PreparedItem } from '../types';
import { USER_CALLS, USER_ENTITY, userItem, userField, usernameFor } from './common';

export const call: EasemobCall = {
	budget: USER_CALLS,
	// Banning a banned user leaves them banned, as one ban does.
	resendAfterLostAnswer: true,
	success: USER_ENTITY,
	hints: [UNKNOWN_USER],
};

const properties: INodeProperties[] = [
	userField(
		'to ban',
		'The ban logs them out of every device at once and lasts until Activate; their data is kept',
	),
	optionsCollection(call),
];

export const description = updateDisplayOptions({ show: { resource: ['user'], operation: ['deactivate'] } }, properties);

const USERNAME = usernameFor('the user ID of the user to ban');

export function prepare(this: IExecuteFunctions, itemIndex: number): PreparedItem {
	const { username, options } = userItem(this, USERNAME, itemIndex);
	return {
		requests: [{ method: 'POST', segments: ['users', username, 'deactivate'] }],
		output: (responses) => withRequestDetails({ username, activated: false }, responses, options),
	};
}
