/**
 * Runs the real Easemob node inside n8n-core's real ExecuteContext, so parameters (expressions
 * included) are resolved by n8n and every request goes through n8n-core's HTTP helpers, where
 * nock or the local sandbox answer it. Only n8n's credential store is stood in for, by
 * `CredentialStore`, which keeps the rules n8n's CredentialsHelper follows for the token.
 */
import { ExecuteContext, RoutingNode } from 'n8n-core';
import type {
	ICredentialDataDecryptedObject,
	IDataObject,
	IExecuteData,
	IHttpRequestHelper,
	IHttpRequestOptions,
	INode,
	INodeExecutionData,
	INodeParameters,
	INodeType,
	IWorkflowExecuteAdditionalData,
} from 'n8n-workflow';
import { createRunExecutionData, ICredentialsHelper, Workflow } from 'n8n-workflow';

import { EasemobApi } from '../../credentials/EasemobApi.credentials';
import { Easemob } from '../../nodes/Easemob/Easemob.node';

export const CREDENTIALS = {
	host: 'a1.easemob.com',
	orgName: 'demo-org',
	appName: 'demo-app',
	clientId: 'YXA6TestClientId',
	clientSecret: 'YXA6TestClientSecretDoNotLeak',
	ttlMode: 'console',
	ttlSeconds: 5184000,
} as const;

/** Like n8n's credential record: it keeps the token between executions and hands out copies. */
export class CredentialStore {
	data: ICredentialDataDecryptedObject;

	constructor(data: Partial<ICredentialDataDecryptedObject> = {}) {
		this.data = { ...CREDENTIALS, appToken: '', ...data };
	}
}

const credentialType = new EasemobApi();

class CredentialsHelper extends ICredentialsHelper {
	constructor(private readonly store: CredentialStore) {
		super();
	}

	getParentTypes() {
		return [];
	}

	isCredentialUsableByNode() {
		return true;
	}

	async authenticate(credentials: ICredentialDataDecryptedObject, _type: string, options: IHttpRequestOptions) {
		return await credentialType.authenticate(credentials, options);
	}

	// n8n asks the credential for a token only when none is stored or a request answered 401,
	// and persists what it returns.
	async preAuthentication(
		helpers: IHttpRequestHelper,
		credentials: ICredentialDataDecryptedObject,
		_type: string,
		_node: INode,
		credentialsExpired: boolean,
	) {
		if (credentials.appToken !== '' && !credentialsExpired) return undefined;
		const output = await credentialType.preAuthentication.call(helpers, credentials);
		this.store.data = { ...this.store.data, ...output };
		return Object.assign(credentials, output);
	}

	async runPreAuthentication() {
		return undefined;
	}

	async getCredentials(): Promise<never> {
		throw new Error('not used by the node');
	}

	async getDecrypted() {
		return { ...this.store.data };
	}

	async updateCredentials() {}

	async updateCredentialsOauthTokenData() {}

	getCredentialsProperties() {
		return credentialType.properties;
	}
}

export interface RunOptions {
	parameters: INodeParameters;
	items?: IDataObject[];
	continueOnFail?: boolean;
	/** With continueOnFail: "Continue (using error output)" instead of "Continue". */
	errorOutput?: boolean;
	store?: CredentialStore;
	/** The workflow's time zone setting. */
	timezone?: string;
}

function executeContext(nodeType: INodeType, options: RunOptions): ExecuteContext {
	const node: INode = {
		id: 'easemob-node',
		name: 'Easemob',
		type: nodeType.description.name,
		typeVersion: 1,
		position: [0, 0],
		parameters: options.parameters,
		credentials: { easemobApi: { id: 'cred-1', name: 'Easemob account' } },
		onError: options.continueOnFail ? (options.errorOutput ? 'continueErrorOutput' : 'continueRegularOutput') : 'stopWorkflow',
	};
	const workflow = new Workflow({
		id: 'wf-1',
		nodes: [node],
		connections: {},
		active: false,
		settings: options.timezone === undefined ? undefined : { timezone: options.timezone },
		nodeTypes: {
			getByName: () => nodeType,
			getByNameAndVersion: () => nodeType,
			getKnownTypes: () => ({}),
		},
	});
	const additionalData = {
		credentialsHelper: new CredentialsHelper(options.store ?? new CredentialStore()),
		currentNodeExecutionIndex: 0,
		restApiUrl: 'http://localhost:5678/rest',
		instanceBaseUrl: 'http://localhost:5678',
		webhookWaitingBaseUrl: 'http://localhost:5678/webhook-waiting',
		formWaitingBaseUrl: 'http://localhost:5678/form-waiting',
		variables: {},
	} as unknown as IWorkflowExecuteAdditionalData;
	const items = (options.items ?? [{}]).map((json) => ({ json }));
	const executeData: IExecuteData = { node, data: { main: [items] }, source: null };
	return new ExecuteContext(
		workflow,
		node,
		additionalData,
		'manual',
		createRunExecutionData(),
		0,
		items,
		{ main: [items] },
		executeData,
		[],
	);
}

/** Executes the Easemob node once over `items` and returns its single output. */
export async function runNode(options: RunOptions): Promise<INodeExecutionData[]> {
	const easemob = new Easemob();
	const [output] = await easemob.execute.call(executeContext(easemob, options));
	return output;
}

/**
 * The Easemob node's execute context over one empty item, for driving its transport directly with a
 * call declaration no operation makes; every request still goes through n8n-core's HTTP helpers.
 */
export function nodeContext(store: CredentialStore): ExecuteContext {
	return executeContext(new Easemob(), { parameters: {}, store });
}

/**
 * Runs the credential's test request the way n8n's credential tester does: as the routing
 * request of a stand-in node, through n8n-core's RoutingNode and the credential's own
 * preAuthentication and authenticate.
 */
export async function runCredentialTest(store: CredentialStore): Promise<void> {
	const testNode: INodeType = {
		description: {
			displayName: 'Credential Test',
			name: 'credentialTest',
			group: [],
			version: 1,
			description: '',
			defaults: {},
			inputs: ['main'],
			outputs: ['main'],
			credentials: [{ name: 'easemobApi', required: true }],
			properties: [
				{
					displayName: 'Temp',
					name: 'temp',
					type: 'string',
					routing: { request: credentialType.test!.request },
					default: '',
				},
			],
		},
	};
	const context = executeContext(testNode, { parameters: {}, store });
	await new RoutingNode(context, testNode, {
		id: 'cred-1',
		name: 'Easemob account',
		type: 'easemobApi',
		data: { ...store.data },
	}).runNode();
}

/** `this` for the credential's preAuthentication, with n8n-core's real httpRequest helper. */
export function credentialRequestHelper(): IHttpRequestHelper {
	const context = executeContext(new Easemob(), { parameters: {} });
	return { helpers: { httpRequest: context.helpers.httpRequest } };
}

/**
 * What n8n's credential tester (n8n 2.41.1, CredentialsTesterService.runRequestTest) shows for
 * the credential's test: its rules for an HTTP answer's status, then the status text or the
 * network code, else the error's own message.
 */
export async function credentialTestVerdict(store: CredentialStore): Promise<{ status: 'OK' | 'Error'; message: string }> {
	try {
		await runCredentialTest(store);
		return { status: 'OK', message: 'Connection successful!' };
	} catch (thrown) {
		const error = thrown as Error & { cause?: { response?: { status: number; statusText?: string }; code?: string } };
		const response = error.cause?.response;
		if (response) {
			for (const rule of credentialType.test?.rules ?? []) {
				if (rule.type === 'responseCode' && rule.properties.value === response.status) return { status: 'Error', message: rule.properties.message };
			}
			if (response.status < 199 || response.status > 299) {
				return { status: 'Error', message: response.statusText || `Received HTTP status code: ${response.status}` };
			}
		} else if (error.cause?.code) {
			return { status: 'Error', message: error.cause.code };
		}
		return { status: 'Error', message: error.message };
	}
}

/** The error `promise` rejects with; a promise that resolves fails the test. */
export async function failure(promise: Promise<unknown>): Promise<Error & { cause?: unknown }> {
	return (await promise.then(
		() => {
			throw new Error('expected a failure');
		},
		(e: unknown) => e,
	)) as Error & { cause?: unknown };
}
