import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import type { EasemobBudget, SuccessShape } from '../../transport';
import type { IdField } from '../parameters';
import { pathIdParameter, usernameField } from '../parameters';
import type { RequestDetails } from '../requestOptions';

/** Easemob counts every user-management call of an app in one bucket, with no limit per user. */
export const USER_CALLS: EasemobBudget = { name: 'user', appPerSecond: 100 };

/** The user entity Easemob's envelope answers with, as the first of its `entities`. */
export function firstEntity(body: object): unknown {
	const { entities } = body as { entities?: unknown };
	return Array.isArray(entities) ? entities[0] : undefined;
}

/** Get, Delete and Deactivate answer with the user they read or changed as `entities[0]`. */
export const USER_ENTITY: SuccessShape = {
	notConfirmed: (body) => {
		const entity = firstEntity(body);
		return typeof entity === 'object' && entity !== null && !Array.isArray(entity)
			? undefined
			: `entities[0] is ${JSON.stringify(entity ?? null)}, not a user`;
	},
};

/**
 * The Username field of a user operation: `purpose` completes "of the user …", `consequence` says what
 * the operation does to them, for a model as much as for a person.
 */
export function userField(purpose: string, consequence?: string): INodeProperties {
	return usernameField(
		`User ID (not the nickname) of the user ${purpose}, e.g. alice${consequence === undefined ? '' : `. ${consequence}`}`,
	);
}

export interface UserItem {
	username: string;
	// Unknown User Is Deleted may come from an expression: Delete checks it.
	options: RequestDetails & { unknownUserIsDeleted?: unknown };
}

/** The item's Username, checked as every path segment is, and its Options. */
export function userItem(context: IExecuteFunctions, field: IdField, itemIndex: number): UserItem {
	const username = pathIdParameter(context, field, itemIndex);
	const options = context.getNodeParameter('options', itemIndex, {}) as UserItem['options'];
	return { username, options };
}

/** The words a Username check uses: `holds` completes "set it to …". */
export function usernameFor(holds: string): IdField {
	return { name: 'username', label: 'Username', holds, kind: 'user ID' };
}
