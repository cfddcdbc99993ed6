import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import * as conversation from './actions/conversation/Conversation.resource';
import * as messageHistory from './actions/messageHistory/MessageHistory.resource';
import { router } from './actions/router';
import * as user from './actions/user/User.resource';

export class Easemob implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Easemob',
		name: 'easemob',
		icon: { light: 'file:easemob.svg', dark: 'file:easemob.dark.svg' },
		group: ['output'],
		version: 1,
		subtitle: '={{ $parameter["operation"] + ": " + $parameter["resource"] }}',
		description: 'Manage conversations, message history and users in Easemob (环信) instant messaging',
		defaults: { name: 'Easemob' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'easemobApi', required: true }],
		properties: [
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'Conversation', value: 'conversation' },
					{ name: 'Message History', value: 'messageHistory' },
					{ name: 'User', value: 'user' },
				],
				default: 'conversation',
			},
			...conversation.description,
			...messageHistory.description,
			...user.description,
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
