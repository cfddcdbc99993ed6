import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { ROAMING_OFF, USERNAME, usernameField } from './common';
import type { EasemobCall } from '../../transport';
import { REQUEST_STATUS_OK } from '../../transport/call';
import { UNKNOWN_USER } from '../hints';
import { pathIdParameter } from '../parameters';
import { optionsCollection, requestDetails, withRequestDetails } from '../requestOptions';
import type { PreparedItem } from '../types';

export const call: EasemobCall = {
	budget: { name: 'messageHistoryDeleteAll', appPerSecond: 100 },
	// Sent again, it deletes what the first call deleted plus whatever reached the user in between:
	// the same as one call made a little later, which the pace may make it anyway.
	resendAfterLostAnswer: true,
	success: REQUEST_STATUS_OK,
	hints: [ROAMING_OFF, UNKNOWN_USER],
};

const properties: INodeProperties[] = [
	usernameField(
		'User ID of the user whose whole message history on the server is deleted, in every conversation. Every ' +
		'conversation also leaves the user\'s conversation list, and nothing can be restored. Only this user\'s copy ' +
		'goes: the other participants keep theirs.',
	),
	optionsCollection(call),
];

export const description = updateDisplayOptions(
	{ show: { resource: ['messageHistory'], operation: ['deleteAllForUser'] } },
	properties,
);

export function prepare(this: IExecuteFunctions, itemIndex: number): PreparedItem {
	const username = pathIdParameter(this, USERNAME, itemIndex);
	const options = requestDetails(this, itemIndex);

	return {
		requests: [{ method: 'POST', segments: ['rest', 'message', 'roaming', 'user', username, 'delete', 'all'] }],
		output: (responses) => withRequestDetails({ deleted: true, username }, responses, options),
	};
}
