import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import type { EasemobCall, EasemobRequest, EasemobResponse } from '../transport';
import type { EasemobApiError } from '../transport/easemobError';

/** One item's requests, checked and built before anything is sent. */
export interface PreparedItem {
	/** Sent one after another, each once the one before has succeeded; usually one. */
	requests: EasemobRequest[];
	/** The output item's JSON, from Easemob's answer to each request, in order. */
	output(responses: EasemobResponse[]): IDataObject;
	/**
	 * Added to the error's description when request `succeeded` (0-based) fails after the ones
	 * before it succeeded: what those have already done.
	 */
	doneBeforeFailure?(succeeded: number): string;
	/**
	 * The output item's JSON when an Easemob failure is the outcome the item asked for (a user already
	 * gone, for a delete told to take that as done); undefined raises the failure.
	 */
	outputForFailure?(failure: EasemobApiError): IDataObject | undefined;
}

/** One operation: its fields, what it declares about its Easemob call, and how it builds an item's requests. */
export interface EasemobOperation {
	call: EasemobCall;
	description: INodeProperties[];
	prepare(this: IExecuteFunctions, itemIndex: number): PreparedItem;
}
