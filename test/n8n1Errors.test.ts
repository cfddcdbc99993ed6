// n8n 1.x wraps what its HTTP helpers and the credential's preAuthentication throw in a NodeApiError
// that drops the original error (its `cause` stays undefined) and keeps only `httpCode` (a status or
// a network code), the response body as `context.data`, and the message. The end-to-end suite runs
// this in n8n 1.123.81 (`npm run test:e2e:n8n1`); these tests keep the mapping honest in `npm test`.
import type { INode } from 'n8n-workflow';

import { FIXES } from './helpers/messages';
import { call } from '../nodes/Easemob/actions/conversation/delete.operation';
import { toEasemobApiError } from '../nodes/Easemob/transport/easemobError';
import { EasemobTokenError } from '../nodes/Easemob/transport/failure';

const node: INode = { id: 'n', name: 'Easemob', type: 'easemob', typeVersion: 1, position: [0, 0], parameters: {} };

/** The shape of n8n-workflow 1.120's NodeApiError, as probed in n8n 1.123.81. */
function wrappedByN8n1(message: string, fields: { httpCode: string | null; context?: object }) {
	return Object.assign(new Error(message), { cause: undefined, context: {}, ...fields });
}

test('a status and Easemob body kept only as httpCode and context.data', () => {
	const error = toEasemobApiError(
		node,
		wrappedByN8n1('The resource you are requesting could not be found', {
			httpCode: '404',
			context: { data: { error: 'service_resource_not_found', error_description: 'Service resource not found' } },
		}),
		3,
		call,
	);

	expect(error.message).toBe(`Easemob answered 404 service_resource_not_found: Service resource not found. ${FIXES.unknownUser}`);
	expect(error).toMatchObject({ statusCode: 404, easemobError: 'service_resource_not_found', transient: false });
	expect(error.context.itemIndex).toBe(3);
});

test('a 503 without a body is transient', () => {
	const error = toEasemobApiError(node, wrappedByN8n1('The service was not able to process your request', { httpCode: '503' }), 0, call);

	expect(error).toMatchObject({ statusCode: 503, transient: true, message: "Easemob answered 503. A problem on Easemob's side: try again later" });
});

test('a network code kept as httpCode', () => {
	const error = toEasemobApiError(node, wrappedByN8n1('The connection to the server was closed unexpectedly', { httpCode: 'ECONNRESET' }), 0, call);

	expect(error).toMatchObject({ transient: true, message: `Could not reach Easemob: the connection was closed before an answer came. ${FIXES.retryOnNetwork}` });
});

test('a token error kept only by its message', () => {
	const tokenError = new EasemobTokenError('Could not reach the Easemob host a1.easemob.com to get an app token: the connection was refused.', true);

	const error = toEasemobApiError(node, wrappedByN8n1(tokenError.message, { httpCode: null }), 0, call);

	expect(error).toMatchObject({ message: tokenError.message, transient: true });
	expect(error.description).toMatch(/could not get an app token/);
});
