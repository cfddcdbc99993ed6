import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import type { EasemobCall } from '../../transport';
import { UNKNOWN_USER } from '../hints';
import { optionsCollection, withRequestDetails } from '../requestOptions';
import type { PreparedItem } from '../types';
import { firstEntity, USER_CALLS, USER_ENTITY, userItem, userField, usernameFor } from './common';

export const call: EasemobCall = {
	budget: USER_CALLS,
	// Reading a user changes nothing.
	resendAfterLostAnswer: true,
	success: USER_ENTITY,
	hints: [UNKNOWN_USER],
};

const properties: INodeProperties[] = [userField('to read'), optionsCollection(call)];

export const description = updateDisplayOptions({ show: { resource: ['user'], operation: ['get'] } }, properties);

const USERNAME = usernameFor('the user ID of the user to read');

export function prepare(this: IExecuteFunctions, itemIndex: number): PreparedItem {
	const { username, options } = userItem(this, USERNAME, itemIndex);
	return {
		requests: [{ method: 'GET', segments: ['users', username] }],
		output: (responses) =>
			withRequestDetails({ ...(firstEntity(responses[0].body as object) as IDataObject) }, responses, options),
	};
}
