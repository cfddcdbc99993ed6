import type { IDataObject, IExecuteFunctions, IHttpRequestMethods } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { toEasemobApiError } from './easemobError';

export interface EasemobRequest {
	method: IHttpRequestMethods;
	/** Path below `/{org}/{app}`, one entry per segment; each is percent-encoded here. */
	segments: string[];
	body?: IDataObject;
}

/**
 * The only code that talks to Easemob. The credential decides the host, org and app and adds the
 * token; a 401 makes n8n fetch a new token and send the request once more.
 */
export async function easemobApiRequest(
	this: IExecuteFunctions,
	request: EasemobRequest,
	itemIndex: number,
): Promise<unknown> {
	for (const segment of request.segments) {
		// `.` and `..` stay dot segments even when percent-encoded and would move the request to
		// another path. Operations reject them with a clearer message; this is the backstop.
		if (segment === '' || segment === '.' || segment === '..') {
			throw new NodeOperationError(this.getNode(), `"${segment}" cannot be used in a request path`, {
				itemIndex,
			});
		}
	}
	try {
		return await this.helpers.httpRequestWithAuthentication.call(this, 'easemobApi', {
			method: request.method,
			url: request.segments.map((segment) => `/${encodeURIComponent(segment)}`).join(''),
			headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
			body: request.body,
			json: true,
			disableFollowRedirect: true,
		});
	} catch (error) {
		throw toEasemobApiError(this.getNode(), error, itemIndex);
	}
}
