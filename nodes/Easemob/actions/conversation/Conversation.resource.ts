import type { INodeProperties } from 'n8n-workflow';

import * as deleteForUser from './delete.operation';

export { deleteForUser as delete };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['conversation'] } },
		options: [
			{
				name: 'Delete for One User',
				value: 'delete',
				description:
					'Remove a conversation from one user\'s conversation list, optionally with that user\'s server-side history of it; other participants keep theirs',
				action: 'Delete a conversation for one user',
			},
		],
		default: 'delete',
	},
	...deleteForUser.description,
];
