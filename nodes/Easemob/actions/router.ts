import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import * as conversation from './conversation/Conversation.resource';
import { readRequestPolicy } from './requestOptions';
import type { PreparedCall } from './types';
import { EasemobClient } from '../transport';
import { EasemobApiError } from '../transport/easemobError';

type Prepare = (this: IExecuteFunctions, itemIndex: number) => PreparedCall;

const operations: Record<string, Record<string, Prepare>> = {
	conversation: { delete: conversation.delete.prepare },
};

type ItemError = NodeApiError | NodeOperationError;

function asItemError(context: IExecuteFunctions, error: unknown, itemIndex: number): ItemError {
	return error instanceof NodeApiError || error instanceof NodeOperationError
		? error
		: new NodeOperationError(context.getNode(), error as Error, { itemIndex });
}

function errorItem(error: ItemError, itemIndex: number): INodeExecutionData {
	const json: IDataObject = { error: error.message };
	if (error.description) json.description = error.description;
	if (error instanceof EasemobApiError) {
		if (error.statusCode !== undefined) json.statusCode = error.statusCode;
		if (error.easemobError !== undefined) json.easemobError = error.easemobError;
	}
	return { json, pairedItem: { item: itemIndex } };
}

/**
 * Checks every item first, so bad input stops the run before anything is deleted, then sends
 * the items' requests concurrently and returns one output item per input item, in input order.
 */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const resource = this.getNodeParameter('resource', 0) as string;
	const operation = this.getNodeParameter('operation', 0) as string;
	const prepare = operations[resource]?.[operation];
	if (prepare === undefined) {
		throw new NodeOperationError(this.getNode(), `The operation "${operation}" on "${resource}" is not supported`);
	}
	const continueOnFail = this.continueOnFail();
	const items = this.getInputData();
	const output: INodeExecutionData[] = new Array(items.length);

	const calls: Array<PreparedCall | undefined> = items.map((_, itemIndex) => {
		try {
			return prepare.call(this, itemIndex);
		} catch (error) {
			const failure = asItemError(this, error, itemIndex);
			if (!continueOnFail) throw failure;
			output[itemIndex] = errorItem(failure, itemIndex);
			return undefined;
		}
	});

	const credentials = await this.getCredentials('easemobApi');
	const appKey = JSON.stringify([credentials.host, credentials.orgName, credentials.appName]);
	let firstFailure: ItemError | undefined;
	const cancelled = this.getExecutionCancelSignal();
	const client = new EasemobClient(
		this,
		appKey,
		readRequestPolicy(this),
		() => firstFailure !== undefined || cancelled?.aborted === true,
	);

	await Promise.all(
		calls.map(async (call, itemIndex) => {
			if (call === undefined) return;
			try {
				const response = await client.send(call.request, itemIndex);
				if (response !== undefined) output[itemIndex] = { json: call.output(response), pairedItem: { item: itemIndex } };
			} catch (error) {
				const failure = asItemError(this, error, itemIndex);
				if (continueOnFail) output[itemIndex] = errorItem(failure, itemIndex);
				else firstFailure ??= failure;
			}
		}),
	);
	if (firstFailure !== undefined) throw firstFailure;
	return [output];
}
