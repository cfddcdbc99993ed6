/** The AccessToken2 app token builder, against Agora's published test vector and Node's own inflater. */
import { inflateSync } from 'node:zlib';

import { buildAgoraAppToken, isAgoraTokenSignedWith, newAgoraAppToken, zlibStored } from '../credentials/agoraToken';
import { APP_CERTIFICATE, APP_ID, VECTOR, verdictFor } from './helpers/agora';
import { parseToken } from './sandbox/agora';

const inflated = (token: string) => inflateSync(Buffer.from(token.slice(3), 'base64'));

describe('AccessToken2 app token: the official vector', () => {
	const token = buildAgoraAppToken(VECTOR);

	test('starts with version 007 and is standard base64 with padding', () => {
		expect(token.slice(0, 3)).toBe('007');
		expect(token.slice(3)).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
		expect(Buffer.from(token.slice(3), 'base64').toString('base64')).toBe(token.slice(3));
	});

	test('its zlib stream inflates to exactly the 94 bytes of the reference payload', () => {
		const payload = inflated(token);

		expect(payload).toHaveLength(94);
		expect(payload.toString('hex')).toBe(VECTOR.payloadHex);
	});

	test("Agora's own Node vector string inflates to the same 94 bytes", () => {
		expect(inflated(VECTOR.nodeToken).toString('hex')).toBe(inflated(token).toString('hex'));
	});

	test('the sandbox, reading tokens on its own, finds the vector\'s fields, and a signature that only the vector\'s certificate matches', () => {
		expect(parseToken(token)).toMatchObject({ appId: VECTOR.appId, issueTs: 1111111, salt: 1, expire: 600 });
		// issueTs 1111111 is in 1970: a valid signature on an expired token.
		expect(verdictFor(token, VECTOR.appId, VECTOR.appCertificate)).toBe('expired');
		expect(verdictFor(token, VECTOR.appId, APP_CERTIFICATE)).toBe('bad signature');
	});
});

describe('AccessToken2 app token: a token signed now', () => {
	test('is 143 characters for a 32-character App ID, names the App ID, the lifetime and a salt in 1..99999999', () => {
		const before = Math.floor(Date.now() / 1000);
		const token = newAgoraAppToken(APP_ID, APP_CERTIFICATE, 3600);
		const after = Math.floor(Date.now() / 1000);

		expect(token).toHaveLength(143);
		const parsed = parseToken(token)!;
		expect(parsed.appId).toBe(APP_ID);
		expect(parsed.expire).toBe(3600);
		expect(parsed.issueTs).toBeGreaterThanOrEqual(before);
		expect(parsed.issueTs).toBeLessThanOrEqual(after);
		expect(parsed.salt).toBeGreaterThanOrEqual(1);
		expect(parsed.salt).toBeLessThanOrEqual(99_999_999);
		expect([...parsed.services.entries()]).toEqual([[5, { privileges: new Map([[2, 3600]]), userId: '' }]]);
		expect(verdictFor(token, APP_ID)).toBe('accepted');
	});

	test('two tokens signed in the same second differ (salt)', () => {
		const tokens = new Set(Array.from({ length: 20 }, () => newAgoraAppToken(APP_ID, APP_CERTIFICATE, 600)));

		expect(tokens.size).toBe(20);
	});
});

describe('zlib stream of stored deflate blocks', () => {
	test.each([0, 1, 65_535, 65_536, 2 * 65_535 + 7])('%i bytes round-trip through Node\'s inflater', (size) => {
		const data = Buffer.alloc(size);
		for (let i = 0; i < size; i++) data[i] = (i * 131 + (i >> 8)) & 0xff;

		const stream = zlibStored(data);

		expect(inflateSync(stream).equals(data)).toBe(true);
		// Header 78 01, 5 bytes per block of at most 65,535, 4 bytes of Adler-32.
		const blocks = Math.max(1, Math.ceil(size / 65_535));
		expect(stream).toHaveLength(2 + 5 * blocks + size + 4);
		expect([...stream.subarray(0, 2)]).toEqual([0x78, 0x01]);
	});

	test('a changed byte breaks the Adler-32 check, so the checksum is really computed', () => {
		const stream = zlibStored(Buffer.from('agora chat'));
		stream[stream.length - 1] ^= 1;

		expect(() => inflateSync(stream)).toThrow(/incorrect data check/);
	});
});

describe('isAgoraTokenSignedWith: whether a stored token belongs to the fields beside it', () => {
	const token = newAgoraAppToken(APP_ID, APP_CERTIFICATE, 600);

	test('true for the App ID and certificate it was signed with', () => {
		expect(isAgoraTokenSignedWith(token, APP_ID, APP_CERTIFICATE)).toBe(true);
		expect(isAgoraTokenSignedWith(buildAgoraAppToken(VECTOR), VECTOR.appId, VECTOR.appCertificate)).toBe(true);
	});

	test('false for another certificate or another App ID', () => {
		expect(isAgoraTokenSignedWith(token, APP_ID, VECTOR.appCertificate)).toBe(false);
		expect(isAgoraTokenSignedWith(token, VECTOR.appId, APP_CERTIFICATE)).toBe(false);
	});

	test("undefined for what it cannot read: Agora's own (compressed) token, an Easemob token, a cut or altered one", () => {
		expect(isAgoraTokenSignedWith(VECTOR.nodeToken, VECTOR.appId, VECTOR.appCertificate)).toBeUndefined();
		expect(isAgoraTokenSignedWith('YWMtSomeEasemobToken', APP_ID, APP_CERTIFICATE)).toBeUndefined();
		expect(isAgoraTokenSignedWith(token.slice(0, 80), APP_ID, APP_CERTIFICATE)).toBeUndefined();
		const altered = Buffer.from(token.slice(3), 'base64');
		altered[40] ^= 1;
		expect(isAgoraTokenSignedWith(`007${altered.toString('base64')}`, APP_ID, APP_CERTIFICATE)).toBeUndefined();
	});
});
