import type {
	ICredentialDataDecryptedObject,
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
} from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import * as conversation from './conversation/Conversation.resource';
import { readRequestPolicy } from './requestOptions';
import type { PreparedCall } from './types';
import type { CheckSlot } from '../transport';
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

/**
 * n8n sends an item to the node's error output ("Continue (using error output)") only when its
 * JSON holds nothing but `error`, and when an item carries an `error` object n8n replaces its JSON
 * with the message alone. So the status and Easemob's error type go on the item only for the
 * regular output, and the item never carries the error object.
 */
function errorItem(error: ItemError, itemIndex: number, toErrorOutput: boolean): INodeExecutionData {
	const json: IDataObject = { error: error.message };
	if (!toErrorOutput) {
		if (error.description) json.description = error.description;
		if (error instanceof EasemobApiError) {
			if (error.statusCode !== undefined) json.statusCode = error.statusCode;
			if (error.easemobError !== undefined) json.easemobError = error.easemobError;
		}
	}
	return { json, pairedItem: { item: itemIndex } };
}

/**
 * Checks each item and sends its request, concurrently and within the rate limits, returning
 * one output item per input item in input order. Checking keeps just ahead of sending, so a
 * large run does not wait for every item to be checked. Without continue-on-fail the first
 * failure, a bad item included, stops items not yet sent.
 */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const resource = this.getNodeParameter('resource', 0) as string;
	const operation = this.getNodeParameter('operation', 0) as string;
	const prepare = operations[resource]?.[operation];
	if (prepare === undefined) {
		throw new NodeOperationError(this.getNode(), `The operation "${operation}" on "${resource}" is not supported`);
	}
	const continueOnFail = this.continueOnFail();
	const toErrorOutput = this.getNode().onError === 'continueErrorOutput';
	const items = this.getInputData();
	const output: INodeExecutionData[] = new Array(items.length);
	let firstFailure: ItemError | undefined;
	const fail = (error: unknown, itemIndex: number) => {
		const failure = asItemError(this, error, itemIndex);
		if (continueOnFail) output[itemIndex] = errorItem(failure, itemIndex, toErrorOutput);
		else firstFailure ??= failure;
	};

	const { id, name } = this.getNode().credentials?.easemobApi ?? { id: null, name: '' };
	const policy = readRequestPolicy(this);
	const client = new EasemobClient(
		this,
		{ id: id ?? '', name, type: 'easemobApi', data: await this.getCredentials<ICredentialDataDecryptedObject>('easemobApi') },
		policy,
		() => firstFailure !== undefined || this.getExecutionCancelSignal()?.aborted === true,
	);
	const send = async (call: PreparedCall, itemIndex: number, slot: CheckSlot) => {
		try {
			const response = await client.send(call.request, itemIndex, slot);
			if (response !== undefined) output[itemIndex] = { json: call.output(response), pairedItem: { item: itemIndex } };
		} catch (error) {
			fail(error, itemIndex);
		}
	};

	const sending: Array<Promise<void>> = [];
	for (let itemIndex = 0; itemIndex < items.length && firstFailure === undefined; itemIndex++) {
		const slot = await client.slotToCheck();
		if (firstFailure !== undefined) {
			slot.release();
			break;
		}
		try {
			sending.push(send(prepare.call(this, itemIndex), itemIndex, slot));
		} catch (error) {
			slot.release();
			fail(error, itemIndex);
		}
	}
	await Promise.all(sending);
	if (firstFailure !== undefined) throw firstFailure;
	return [output];
}
