import type {
	ICredentialDataDecryptedObject,
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
} from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import * as conversation from './conversation/Conversation.resource';
import * as messageHistory from './messageHistory/MessageHistory.resource';
import { readRequestPolicy } from './requestOptions';
import type { EasemobOperation, PreparedItem } from './types';
import * as user from './user/User.resource';
import type { CheckSlot, EasemobResponse } from '../transport';
import { EasemobClient } from '../transport';
import { EasemobApiError } from '../transport/easemobError';

const operations: Record<string, Record<string, EasemobOperation>> = {
	conversation: { delete: conversation.delete },
	messageHistory: {
		deleteAllForUser: messageHistory.deleteAllForUser,
		deleteBeforeTime: messageHistory.deleteBeforeTime,
		deleteByIds: messageHistory.deleteByIds,
	},
	user: {
		get: user.get,
		delete: user.delete,
		deactivate: user.deactivate,
		activate: user.activate,
		forceLogout: user.forceLogout,
	},
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
 * Checks each item and sends its requests, items concurrently and within the rate limits, an item's
 * own requests one after another, returning one output item per input item in input order. Checking
 * keeps just ahead of sending, so a large run does not wait for every item to be checked. Without
 * continue-on-fail the first failure, a bad item included, stops items not yet sent.
 */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const resource = this.getNodeParameter('resource', 0) as string;
	const operation = this.getNodeParameter('operation', 0) as string;
	const selected = operations[resource]?.[operation];
	if (selected === undefined) {
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
	const client = new EasemobClient(
		this,
		{ id: id ?? '', name, type: 'easemobApi', data: await this.getCredentials<ICredentialDataDecryptedObject>('easemobApi') },
		selected.call,
		readRequestPolicy(this, selected.call.budget),
		() => firstFailure !== undefined || this.getExecutionCancelSignal()?.aborted === true,
	);
	const send = async (prepared: PreparedItem, itemIndex: number, slot: CheckSlot) => {
		const responses: EasemobResponse[] = [];
		try {
			for (const request of prepared.requests) {
				// Only the first request held a slot among the items checked ahead.
				const response = await client.send(request, itemIndex, responses.length === 0 ? slot : undefined);
				if (response === undefined) return;
				responses.push(response);
			}
			output[itemIndex] = { json: prepared.output(responses), pairedItem: { item: itemIndex } };
		} catch (error) {
			const outcome = error instanceof EasemobApiError ? prepared.outputForFailure?.(error) : undefined;
			if (outcome !== undefined) {
				output[itemIndex] = { json: outcome, pairedItem: { item: itemIndex } };
				return;
			}
			const failure = asItemError(this, error, itemIndex);
			if (responses.length > 0 && prepared.doneBeforeFailure !== undefined) {
				failure.description = `${failure.description ?? ''} ${prepared.doneBeforeFailure(responses.length)}`.trim();
			}
			fail(failure, itemIndex);
		} finally {
			slot.release();
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
			sending.push(send(selected.prepare.call(this, itemIndex), itemIndex, slot));
		} catch (error) {
			slot.release();
			fail(error, itemIndex);
		}
	}
	await Promise.all(sending);
	if (firstFailure !== undefined) throw firstFailure;
	return [output];
}
