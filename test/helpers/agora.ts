/** Agora Chat credentials for the unit tests, and a reader for the tokens the node sends. */
import { agoraVerifier, parseToken } from '../sandbox/agora';
import { appName } from './easemob';
import { CredentialStore } from './n8n';

/** Agora's official test vector (AgoraIO/Tools, DynamicKey/AgoraDynamicKey): every builder's tests use it. */
export const VECTOR = {
	appId: '970CA35de60c44645bbae8a215061b33',
	appCertificate: '5CFd2fd1755d40ecb72977518be15d3b',
	issueTs: 1111111,
	salt: 1,
	expire: 600,
	/** What the token's zlib stream holds (docs: easemob-api.md §6). */
	payloadHex:
		'20002d6e85c3436f1811bc2c43173bf34eaa047d5e896abd4ef54c654110c0fade502000393730434133356465363063343436343562626165386132313530363162333347f4100058020000010000000100050001000200580200000000',
	/** The token Agora's Node builder produces; its zlib compresses, so only the inflated bytes compare. */
	nodeToken:
		'007eJxTYNDNaz3snC8huEfHWdz6s98qltq4zqy9fl99Uh0FDvy6F6DAYGlu4OxobJqSamaQbGJiZmKalJSYapFoZGhqYGaYZGzs/kWAIYKJgYGRAYRZGRgZmMB8BgYArfIYaw==',
};

export const APP_ID = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
export const APP_CERTIFICATE = '0f1e2d3c4b5a69788796a5b4c3d2e1f0';

let projects = 0;

/**
 * An Agora Chat credential record for this test's app. Each gets an App ID of its own unless
 * given one, since the credential shares fresh tokens per App ID within the process.
 */
export function agoraStore(data: ConstructorParameters<typeof CredentialStore>[0] = {}): CredentialStore {
	projects += 1;
	const appId = `${APP_ID.slice(0, 24)}${projects.toString(16).padStart(8, '0')}`;
	return new CredentialStore({
		realm: 'agora',
		appName: appName(),
		clientId: '',
		clientSecret: '',
		appId,
		appCertificate: APP_CERTIFICATE,
		agoraTokenLifetime: 3600,
		...data,
	});
}

/** What a `Bearer 007…` header carries, read by the sandbox's parser; undefined when it is no token. */
export function tokenIn(authorization: string | string[] | undefined) {
	const token = typeof authorization === 'string' ? /^Bearer (007\S+)$/.exec(authorization)?.[1] : undefined;
	if (token === undefined) return undefined;
	const parsed = parseToken(token);
	return parsed && { token, ...parsed };
}

/** Whether `token` is a valid Chat app token for the App ID and certificate, as the sandbox judges it. */
export function verdictFor(token: string, appId: string, appCertificate = APP_CERTIFICATE) {
	const verifier = agoraVerifier({ appId, appCertificate });
	verifier.verify(token);
	return verifier.tokens()[0].verdict;
}
