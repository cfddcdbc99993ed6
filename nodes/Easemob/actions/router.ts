import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import * as conversation from './conversation/Conversation.resource';
import { EasemobApiError } from '../transport/easemobError';

type OperationExecute = (this: IExecuteFunctions, itemIndex: number) => Promise<INodeExecutionData>;

const operations: Record<string, Record<string, OperationExecute>> = {
	conversation: { delete: conversation.delete.execute },
};

function errorJson(error: NodeApiError | NodeOperationError): IDataObject {
	const json: IDataObject = { error: error.message };
	if (error.description) json.description = error.description;
	if (error instanceof EasemobApiError) {
		if (error.statusCode !== undefined) json.statusCode = error.statusCode;
		if (error.easemobError !== undefined) json.easemobError = error.easemobError;
	}
	return json;
}

/** Runs the chosen operation once per input item, in order; one output item per input item. */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const resource = this.getNodeParameter('resource', 0) as string;
	const operation = this.getNodeParameter('operation', 0) as string;
	const execute = operations[resource]?.[operation];
	if (execute === undefined) {
		throw new NodeOperationError(this.getNode(), `The operation "${operation}" on "${resource}" is not supported`);
	}

	const output: INodeExecutionData[] = [];
	const items = this.getInputData();
	for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
		try {
			output.push(await execute.call(this, itemIndex));
		} catch (error) {
			const failure =
				error instanceof NodeApiError || error instanceof NodeOperationError
					? error
					: new NodeOperationError(this.getNode(), error as Error, { itemIndex });
			if (!this.continueOnFail()) throw failure;
			output.push({ json: errorJson(failure), pairedItem: { item: itemIndex } });
		}
	}
	return [output];
}
