import type { INodeProperties } from 'n8n-workflow';

import * as deleteAllForUser from './deleteAllForUser.operation';
import * as deleteBeforeTime from './deleteBeforeTime.operation';
import * as deleteByIds from './deleteByIds.operation';

export { deleteAllForUser, deleteBeforeTime, deleteByIds };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['messageHistory'] } },
		options: [
			{
				name: 'Delete All for a User',
				value: 'deleteAllForUser',
				description:
					'Delete all of one user\'s server-side message history; every conversation also leaves the ' +
					'user\'s conversation list, and nothing can be restored. Other participants keep theirs.',
				action: 'Delete all message history of a user',
			},
			{
				name: 'Delete Conversation History Before a Time',
				value: 'deleteBeforeTime',
				description:
					'Delete one user\'s server-side history of a conversation up to a time, for good; other ' +
					'participants keep theirs',
				action: 'Delete conversation history of a user before a time',
			},
			{
				name: 'Delete Messages by ID',
				value: 'deleteByIds',
				description:
					'Delete chosen messages from one user\'s server-side history of a conversation, for good; other ' +
					'participants keep theirs',
				action: 'Delete messages of a user by ID',
			},
		],
		default: 'deleteAllForUser',
	},
	...deleteAllForUser.description,
	...deleteBeforeTime.description,
	...deleteByIds.description,
];
