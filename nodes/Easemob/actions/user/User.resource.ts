import type { INodeProperties } from 'n8n-workflow';

import * as activate from './activate.operation';
import * as deactivate from './deactivate.operation';
import * as deleteUser from './delete.operation';
import * as forceLogout from './forceLogout.operation';
import * as get from './get.operation';

export { activate, deactivate, deleteUser as delete, forceLogout, get };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['user'] } },
		options: [
			{
				name: 'Activate',
				value: 'activate',
				description: 'Lift a ban: the user can log in again',
				action: 'Activate a user',
			},
			{
				name: 'Deactivate (Ban)',
				value: 'deactivate',
				description:
					'Ban a user: logs them out of every device at once and keeps them out until Activate. Their data is kept.',
				action: 'Ban a user',
			},
			{
				name: 'Delete',
				value: 'delete',
				description:
					'Delete a user for good, with every group and chat room they own and their contacts, messages and ' +
					'conversations. Cannot be undone.',
				action: 'Delete a user',
			},
			{
				name: 'Force Logout',
				value: 'forceLogout',
				description: 'Log a user out of every device; they can log in again at once',
				action: 'Force a user to log out',
			},
			{
				name: 'Get',
				value: 'get',
				description: 'Get a user, with whether they are activated (not banned)',
				action: 'Get a user',
			},
		],
		default: 'get',
	},
	...get.description,
	...deleteUser.description,
	...deactivate.description,
	...activate.description,
	...forceLogout.description,
];
