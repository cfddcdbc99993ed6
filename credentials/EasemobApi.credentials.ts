import type {
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IDataObject,
	IHttpRequestHelper,
	IHttpRequestOptions,
	INodeProperties,
} from 'n8n-workflow';

import {
	appBaseUrl,
	describeTokenFailure,
	EasemobTokenError,
	sharedTokenFetch,
} from './easemobAppToken';

export class EasemobApi implements ICredentialType {
	name = 'easemobApi';

	displayName = 'Easemob API';

	icon = { light: 'file:easemob.svg', dark: 'file:easemob.dark.svg' } as const;

	documentationUrl = 'https://doc.easemob.com/document/server-side/easemob_app_token.html';

	properties: INodeProperties[] = [
		{
			displayName: 'Host',
			name: 'host',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'e.g. a1.easemob.com',
			description:
				'REST API host of your app, shown in the Easemob console under the app\'s service overview. Public clusters: a1.easemob.com (China 1), a31.easemob.com (China 2), a1-sgp.easemob.com (Singapore 1), a61.easemob.com (Singapore 2), a41.easemob.com (US East 1), a71.easemob.com (Germany 2); Agora Chat: a41/a61/a71.chat.agora.io. HTTPS is used unless you write http://, which sends the app token unencrypted: use it only for a local test server.',
		},
		{
			displayName: 'Org Name',
			name: 'orgName',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'e.g. 1112230101123456',
			description: 'The part of the App Key before the # (App Key = OrgName#AppName)',
		},
		{
			displayName: 'App Name',
			name: 'appName',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'e.g. demo',
			description: 'The part of the App Key after the #',
		},
		{
			displayName: 'Client ID',
			name: 'clientId',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'e.g. YXA6...',
			description: 'Client ID from the app\'s details in the Easemob console',
		},
		{
			displayName: 'Client Secret',
			name: 'clientSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description: 'Client Secret from the app\'s details in the Easemob console',
		},
		{
			displayName: 'Token Lifetime',
			name: 'ttlMode',
			type: 'options',
			options: [
				{
					name: 'Console Setting',
					value: 'console',
					description: 'Let Easemob apply the lifetime configured in its console',
				},
				{
					name: 'Custom',
					value: 'custom',
					description: 'Ask for a specific lifetime',
				},
			],
			default: 'console',
			description:
				'How long the app token n8n fetches stays valid. n8n keeps the token with this credential and fetches a new one only when Easemob stops accepting it.',
		},
		{
			displayName: 'Token Lifetime (Seconds)',
			name: 'ttlSeconds',
			type: 'number',
			typeOptions: { minValue: 0, numberPrecision: 0 },
			default: 5184000,
			description: 'Lifetime of the app token in seconds. 0 means the token never expires.',
			displayOptions: { show: { ttlMode: ['custom'] } },
		},
		{
			displayName: 'App Token',
			name: 'appToken',
			type: 'hidden',
			typeOptions: { expirable: true, password: true },
			default: '',
		},
	];

	async preAuthentication(this: IHttpRequestHelper, credentials: ICredentialDataDecryptedObject) {
		const appToken = await sharedTokenFetch(credentials, async () => {
			const body: IDataObject = {
				grant_type: 'client_credentials',
				client_id: credentials.clientId,
				client_secret: credentials.clientSecret,
			};
			if (credentials.ttlMode === 'custom') body.ttl = credentials.ttlSeconds;
			try {
				const response = (await this.helpers.httpRequest({
					method: 'POST',
					url: `${appBaseUrl(credentials)}/token`,
					headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
					body,
					json: true,
					disableFollowRedirect: true,
				})) as IDataObject;
				if (typeof response?.access_token !== 'string' || response.access_token === '') {
					throw new EasemobTokenError(
						'Easemob answered the token request without an access token. Check that the Host is the Easemob REST host shown in the console.',
						false,
					);
				}
				const expiresIn = response.expires_in;
				return { token: response.access_token, expiresInSeconds: typeof expiresIn === 'number' ? expiresIn : undefined };
			} catch (error) {
				throw describeTokenFailure(error, credentials);
			}
		});
		return { appToken };
	}

	// A function rather than a generic header rule so that the host, org and app, validated in
	// one place, decide where every request goes: callers only ever pass a path.
	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> {
		return {
			...requestOptions,
			baseURL: appBaseUrl(credentials),
			headers: { ...requestOptions.headers, Authorization: `Bearer ${credentials.appToken}` },
		};
	}

	// Fetching the token proves the host, org, app, client ID and secret; listing one user proves
	// the token is accepted.
	test: ICredentialTestRequest = {
		request: {
			method: 'GET',
			url: '/users',
			qs: { limit: 1 },
			disableFollowRedirect: true,
		},
	};
}
