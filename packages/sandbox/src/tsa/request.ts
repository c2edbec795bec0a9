/**
 * Timestamp requests the sandbox TSA accepts:
 *  - RFC 3161 §2.4.1 TimeStampReq, DER, `application/timestamp-query` (§3.4 over HTTP);
 *  - the sigstore timestamp-authority JSON form
 *    `{artifactHash: base64, hashAlgorithm: 'sha256', nonce?, certificates?}`
 *    (sigstore-services.md §3.4), where artifactHash is already the imprint.
 */
import { children, decodeInteger, expectChildren, expectTag, parseDer, readOid, TAG } from '../gitseal/der.js';

export const HASH_OIDS = {
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
} as const;
export type HashName = keyof typeof HASH_OIDS;
const LENGTHS: Record<HashName, number> = { sha256: 32, sha384: 48, sha512: 64 };

export interface TimestampRequest {
  hash: HashName;
  hashedMessage: Buffer;
  /** The nonce's INTEGER content octets, echoed verbatim. */
  nonce?: Buffer;
  certReq: boolean;
  reqPolicy?: string;
}

/** A request the TSA understood but refuses: answered with a PKIStatus rejection and failInfo bit. */
export class TsaRejection extends Error {
  constructor(
    /** RFC 3161 §2.4.2 PKIFailureInfo bit: badAlg(0), badRequest(2), badDataFormat(5), unacceptedPolicy(15). */
    readonly failBit: number,
    message: string,
  ) {
    super(message);
  }
}

function hashByOid(oid: string): HashName | undefined {
  return (Object.keys(HASH_OIDS) as HashName[]).find((h) => HASH_OIDS[h] === oid);
}

function checkLength(hash: HashName, digest: Buffer): void {
  if (digest.length !== LENGTHS[hash]) throw new TsaRejection(5, `a ${hash} message imprint is ${LENGTHS[hash]} bytes, not ${digest.length}`);
}

/** Parse a DER TimeStampReq; malformed DER is a badDataFormat rejection. */
export function parseDerRequest(der: Buffer): TimestampRequest {
  let f;
  try {
    f = expectChildren(parseDer(der), TAG.SEQUENCE, 'TimeStampReq');
  } catch (e) {
    throw new TsaRejection(5, `the request is not a DER TimeStampReq (${(e as Error).message})`);
  }
  try {
    let i = 0;
    const version = decodeInteger(expectTag(f[i++], TAG.INTEGER, 'version').value);
    if (version !== 1n) throw new TsaRejection(2, `unsupported TimeStampReq version ${version}`);
    const mi = expectChildren(f[i++], TAG.SEQUENCE, 'messageImprint');
    const alg = expectChildren(mi[0], TAG.SEQUENCE, 'hashAlgorithm');
    const hash = hashByOid(readOid(alg[0], 'hashAlgorithm'));
    if (!hash) throw new TsaRejection(0, 'unsupported message imprint algorithm (use SHA-256, SHA-384 or SHA-512)');
    const hashedMessage = expectTag(mi[1], TAG.OCTET_STRING, 'hashedMessage').value;
    checkLength(hash, hashedMessage);
    const out: TimestampRequest = { hash, hashedMessage, certReq: false };
    if (f[i]?.tag === TAG.OID) out.reqPolicy = readOid(f[i++], 'reqPolicy');
    if (f[i]?.tag === TAG.INTEGER) out.nonce = f[i++].value;
    if (f[i]?.tag === TAG.BOOLEAN) out.certReq = f[i++].value[0] !== 0;
    if (f[i]?.tag === 0xa0) {
      // RFC 3161 §2.4.1: a TSA that does not recognise an extension must reject the request.
      if (children(f[i]).length > 0) throw new TsaRejection(16, 'request extensions are not supported');
      i++;
    }
    if (i !== f.length) throw new TsaRejection(5, 'unexpected fields in TimeStampReq');
    return out;
  } catch (e) {
    if (e instanceof TsaRejection) throw e;
    throw new TsaRejection(5, `malformed TimeStampReq: ${(e as Error).message}`);
  }
}

/** Parse the sigstore JSON request; problems are HTTP 400 messages. */
export function parseJsonRequest(body: unknown): TimestampRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new TsaRejection(5, 'the request must be a JSON object');
  const b = body as Record<string, unknown>;
  const hash = (b.hashAlgorithm ?? 'sha256') as string;
  if (typeof hash !== 'string' || !Object.hasOwn(HASH_OIDS, hash)) throw new TsaRejection(0, `unsupported hashAlgorithm ${JSON.stringify(b.hashAlgorithm)}`);
  if (typeof b.artifactHash !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(b.artifactHash)) {
    throw new TsaRejection(5, 'artifactHash must be the base64 message imprint');
  }
  const hashedMessage = Buffer.from(b.artifactHash, 'base64');
  checkLength(hash as HashName, hashedMessage);
  const out: TimestampRequest = { hash: hash as HashName, hashedMessage, certReq: b.certificates === true };
  if (b.nonce !== undefined && b.nonce !== null) {
    const n = typeof b.nonce === 'number' && Number.isSafeInteger(b.nonce) ? BigInt(b.nonce) : typeof b.nonce === 'string' && /^\d{1,40}$/.test(b.nonce) ? BigInt(b.nonce) : undefined;
    if (n === undefined || n < 0n) throw new TsaRejection(5, 'nonce must be a non-negative integer');
    let hex = n.toString(16);
    if (hex.length % 2) hex = '0' + hex;
    let raw = Buffer.from(hex, 'hex');
    if (raw[0] & 0x80) raw = Buffer.concat([Buffer.from([0]), raw]);
    out.nonce = raw;
  }
  if (typeof b.tsaPolicyOID === 'string') out.reqPolicy = b.tsaPolicyOID;
  return out;
}
