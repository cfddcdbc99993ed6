import type { IDataObject } from 'n8n-workflow';

import type { EasemobRequest, EasemobResponse } from '../transport';

/** One item's call, checked and built before anything is sent. */
export interface PreparedCall {
	request: EasemobRequest;
	/** The output item's JSON from Easemob's answer; throws when the answer is not a success. */
	output(response: EasemobResponse): IDataObject;
}
