import { createHmac, randomInt } from 'node:crypto';

/** The Chat service and its app privilege, as Agora's AccessToken2 numbers them. */
const CHAT_SERVICE = 5;
const CHAT_APP_PRIVILEGE = 2;
const VERSION = '007';

/** Agora refuses app tokens that live longer than a day. */
export const MAX_AGORA_TOKEN_LIFETIME = 86_400;
export const MIN_AGORA_TOKEN_LIFETIME = 60;

const MAX_STORED_BLOCK = 0xffff;
const ADLER_MODULUS = 65_521;

export interface AgoraAppTokenInput {
	appId: string;
	appCertificate: string;
	/** Seconds since the epoch. */
	issueTs: number;
	/** 1 to 99,999,999; mixed into the signing key so that two tokens of one second differ. */
	salt: number;
	/** Lifetime in seconds, counted from issueTs. */
	expire: number;
}

function u16(value: number): Buffer {
	const buffer = Buffer.alloc(2);
	buffer.writeUInt16LE(value);
	return buffer;
}

function u32(value: number): Buffer {
	const buffer = Buffer.alloc(4);
	buffer.writeUInt32LE(value);
	return buffer;
}

function bytes(value: Buffer): Buffer {
	return Buffer.concat([u16(value.length), value]);
}

function hmac(key: Buffer, message: Buffer | string): Buffer {
	return createHmac('sha256', key).update(message).digest();
}

function adler32(data: Buffer): number {
	let a = 1;
	let b = 0;
	// 5,552 bytes is the most that can be summed before b may pass 2^32 (zlib's NMAX).
	for (let start = 0; start < data.length; start += 5552) {
		const end = Math.min(start + 5552, data.length);
		for (let i = start; i < end; i++) {
			a += data[i];
			b += a;
		}
		a %= ADLER_MODULUS;
		b %= ADLER_MODULUS;
	}
	return ((b << 16) | a) >>> 0;
}

/**
 * A zlib stream (RFC 1950) holding `data` in stored, uncompressed deflate blocks: n8n does not
 * allow node:zlib in a community node, and every inflater reads stored blocks. The token stays
 * small, so compressing it would gain a few bytes at most.
 */
export function zlibStored(data: Buffer): Buffer {
	const parts: Buffer[] = [Buffer.from([0x78, 0x01])];
	let offset = 0;
	do {
		const length = Math.min(MAX_STORED_BLOCK, data.length - offset);
		const last = offset + length >= data.length;
		const header = Buffer.alloc(5);
		header[0] = last ? 0x01 : 0x00;
		header.writeUInt16LE(length, 1);
		header.writeUInt16LE(~length & 0xffff, 3);
		parts.push(header, data.subarray(offset, offset + length));
		offset += length;
	} while (offset < data.length);
	const checksum = Buffer.alloc(4);
	checksum.writeUInt32BE(adler32(data));
	parts.push(checksum);
	return Buffer.concat(parts);
}

/** The data of a zlib stream made only of stored blocks (as zlibStored writes), else undefined. */
function readZlibStored(stream: Buffer): Buffer | undefined {
	if (stream.length < 2 || stream[0] !== 0x78 || stream[1] !== 0x01) return undefined;
	const parts: Buffer[] = [];
	let offset = 2;
	for (;;) {
		if (offset + 5 > stream.length || (stream[offset] & 0xfe) !== 0) return undefined;
		const last = stream[offset] === 0x01;
		const length = stream.readUInt16LE(offset + 1);
		if ((~length & 0xffff) !== stream.readUInt16LE(offset + 3) || offset + 5 + length > stream.length) return undefined;
		parts.push(stream.subarray(offset + 5, offset + 5 + length));
		offset += 5 + length;
		if (last) break;
	}
	const data = Buffer.concat(parts);
	return offset + 4 === stream.length && stream.readUInt32BE(offset) === adler32(data) ? data : undefined;
}

/**
 * Whether `token`, as this builder writes tokens, was signed for `appId` with `appCertificate`;
 * undefined for a token it cannot read, which only the server can judge.
 */
export function isAgoraTokenSignedWith(token: string, appId: string, appCertificate: string): boolean | undefined {
	if (!token.startsWith(VERSION)) return undefined;
	const content = readZlibStored(Buffer.from(token.slice(VERSION.length), 'base64'));
	if (content === undefined || content.length < 2) return undefined;
	const signatureLength = content.readUInt16LE(0);
	const info = content.subarray(2 + signatureLength);
	if (info.length < 2 + 12) return undefined;
	const idLength = info.readUInt16LE(0);
	if (info.length < 2 + idLength + 12) return undefined;
	const tokenAppId = info.subarray(2, 2 + idLength).toString('utf8');
	const issueTs = info.readUInt32LE(2 + idLength);
	const salt = info.readUInt32LE(2 + idLength + 8);
	const signingKey = hmac(u32(salt), hmac(u32(issueTs), appCertificate));
	return tokenAppId === appId && hmac(signingKey, info).equals(content.subarray(2, 2 + signatureLength));
}

/** The signed content of an AccessToken2 Chat app token, before zlib and base64. */
export function agoraAppTokenContent({ appId, appCertificate, issueTs, salt, expire }: AgoraAppTokenInput): Buffer {
	const signingKey = hmac(u32(salt), hmac(u32(issueTs), appCertificate));
	const info = Buffer.concat([
		bytes(Buffer.from(appId, 'utf8')),
		u32(issueTs),
		u32(expire),
		u32(salt),
		u16(1),
		u16(CHAT_SERVICE),
		u16(1),
		u16(CHAT_APP_PRIVILEGE),
		u32(expire),
		// An app token names no user.
		bytes(Buffer.alloc(0)),
	]);
	return Buffer.concat([bytes(hmac(signingKey, info)), info]);
}

/** An AccessToken2 (`007…`) app token for Agora Chat's REST API, signed here with the App Certificate. */
export function buildAgoraAppToken(input: AgoraAppTokenInput): string {
	return VERSION + zlibStored(agoraAppTokenContent(input)).toString('base64');
}

/** A token issued now with a fresh salt, valid for `lifetimeSeconds`. */
export function newAgoraAppToken(appId: string, appCertificate: string, lifetimeSeconds: number): string {
	return buildAgoraAppToken({
		appId,
		appCertificate,
		issueTs: Math.floor(Date.now() / 1000),
		salt: randomInt(1, 100_000_000),
		expire: lifetimeSeconds,
	});
}
