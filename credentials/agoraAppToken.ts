import type { ICredentialDataDecryptedObject, INodeProperties } from 'n8n-workflow';

import { isAgoraTokenSignedWith, MAX_AGORA_TOKEN_LIFETIME, MIN_AGORA_TOKEN_LIFETIME, newAgoraAppToken } from './agoraToken';
import { EasemobTokenError } from './easemobAppToken';

/** What Agora Console shows for the App ID and the App Certificate. */
const AGORA_KEY = /^[0-9a-fA-F]{32}$/;

export const DEFAULT_AGORA_TOKEN_LIFETIME = 3600;

/** The credential's fields for Agora Chat accounts, shown when the Account Type is agora. */
export const agoraProperties: INodeProperties[] = [
	{
		displayName: 'App ID',
		name: 'appId',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'e.g. 970CA35de60c44645bbae8a215061b33',
		description: 'The App ID on your project\'s page in Agora Console (Projects), 32 hexadecimal characters',
		displayOptions: { show: { realm: ['agora'] } },
	},
	{
		displayName: 'App Certificate',
		name: 'appCertificate',
		type: 'string',
		typeOptions: { password: true },
		default: '',
		required: true,
		description:
			'The primary App Certificate on your project\'s page in Agora Console (Projects), 32 hexadecimal characters. n8n signs the app token with it locally; it is never sent.',
		displayOptions: { show: { realm: ['agora'] } },
	},
	{
		displayName: 'Token Lifetime (Seconds)',
		name: 'agoraTokenLifetime',
		type: 'number',
		typeOptions: { minValue: MIN_AGORA_TOKEN_LIFETIME, maxValue: MAX_AGORA_TOKEN_LIFETIME, numberPrecision: 0 },
		default: DEFAULT_AGORA_TOKEN_LIFETIME,
		description:
			'How long each app token n8n signs stays valid, from 60 to 86400 (one day, Agora\'s maximum). n8n keeps the token with this credential and signs a new one only when Agora Chat stops accepting it; a shorter lifetime limits what a leaked token allows.',
		displayOptions: { show: { realm: ['agora'] } },
	},
];

/** Whether the credential is an Agora Chat account (App ID and App Certificate). */
export function isAgoraCredential(credentials: ICredentialDataDecryptedObject | undefined): boolean {
	return credentials?.realm === 'agora';
}

function text(credentials: ICredentialDataDecryptedObject, name: string): string {
	const value = credentials[name];
	return typeof value === 'string' ? value.trim() : '';
}

function lifetime(credentials: ICredentialDataDecryptedObject): number {
	const value = credentials.agoraTokenLifetime;
	if (value === undefined || value === '' || value === null) return DEFAULT_AGORA_TOKEN_LIFETIME;
	const seconds = typeof value === 'number' ? value : Number(value);
	if (!Number.isInteger(seconds) || seconds < MIN_AGORA_TOKEN_LIFETIME || seconds > MAX_AGORA_TOKEN_LIFETIME) {
		throw new EasemobTokenError(
			`The credential's Token Lifetime (Seconds) must be a whole number from ${MIN_AGORA_TOKEN_LIFETIME} to ${MAX_AGORA_TOKEN_LIFETIME} (Agora's maximum, one day), not ${JSON.stringify(value)}`,
			false,
		);
	}
	return seconds;
}

/**
 * The App ID, App Certificate and token lifetime, checked. The certificate is never quoted:
 * a message may say only what is wrong with it.
 */
export function agoraFields(credentials: ICredentialDataDecryptedObject) {
	const appId = text(credentials, 'appId');
	const appCertificate = text(credentials, 'appCertificate');
	if (!AGORA_KEY.test(appId)) {
		throw new EasemobTokenError(
			appId === ''
				? "The credential's App ID is empty; copy it from your project in Agora Console"
				: `The credential's App ID "${appId}" is not valid: it must be the 32 hexadecimal characters Agora Console shows for the project`,
			false,
		);
	}
	if (!AGORA_KEY.test(appCertificate)) {
		throw new EasemobTokenError(
			appCertificate === ''
				? "The credential's App Certificate is empty; copy it from your project in Agora Console"
				: `The credential's App Certificate is not valid: it must be 32 hexadecimal characters (it has ${appCertificate.length} characters${/^[0-9a-fA-F]*$/.test(appCertificate) ? '' : ', not all hexadecimal'}); copy it again from your project in Agora Console`,
			false,
		);
	}
	return { appId, appCertificate, lifetimeSeconds: lifetime(credentials) };
}

// A token signed this recently cannot have expired (lifetimes start at 60 s), so when it is
// refused, its App ID, certificate or host is wrong and a newly signed one would be refused too.
// n8n may also hand the credential a token it has just been given back as the refused one.
const RESIGN_AFTER_MS = 10_000;

const recentlySigned = new Map<string, { token: string; signedAt: number }>();

/**
 * A Chat app token for the credential, signed here (Agora has no endpoint that hands one out),
 * or the one signed moments ago with the same fields: each new token is a credential write.
 */
export function agoraAppToken(credentials: ICredentialDataDecryptedObject): string {
	const { appId, appCertificate, lifetimeSeconds } = agoraFields(credentials);
	const app = ['host', 'orgName', 'appName'].map((name) => text(credentials, name));
	const key = JSON.stringify([...app, appId, appCertificate, lifetimeSeconds]);
	const recent = recentlySigned.get(key);
	if (recent !== undefined && Date.now() - recent.signedAt < RESIGN_AFTER_MS) return recent.token;
	const token = newAgoraAppToken(appId, appCertificate, lifetimeSeconds);
	recentlySigned.set(key, { token, signedAt: Date.now() });
	return token;
}

/**
 * The token a request carries. n8n keeps the stored token when the credential is edited, and
 * one signed with the previous App ID or certificate may still be accepted: sent, it would let
 * the Test button pass a mistyped certificate. Such a token is replaced by one signed for the
 * current fields; a token this code cannot read is left to the server to judge.
 */
export function agoraTokenForRequest(credentials: ICredentialDataDecryptedObject): string {
	const { appId, appCertificate } = agoraFields(credentials);
	const stored = typeof credentials.appToken === 'string' ? credentials.appToken : '';
	return isAgoraTokenSignedWith(stored, appId, appCertificate) === false ? agoraAppToken(credentials) : stored;
}
