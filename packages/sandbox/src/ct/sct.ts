/**
 * RFC 6962 (Certificate Transparency v1) TLS encodings for precertificate SCTs.
 * Pure functions over bytes; the CT log in log.ts signs with them.
 */

/** RFC 6962 §3.2: Version v1(0), SignatureType certificate_timestamp(0), LogEntryType precert_entry(1). */
const SCT_VERSION_V1 = 0;
const SIGNATURE_TYPE_CERTIFICATE_TIMESTAMP = 0;
const LOG_ENTRY_TYPE_PRECERT = 1;
/** RFC 5246 §7.4.1.4.1: HashAlgorithm sha256(4), SignatureAlgorithm ecdsa(3). */
const HASH_SHA256 = 4;
const SIG_ECDSA = 3;

export interface Sct {
  logId: Buffer; // 32 bytes, sha256 of the log's DER SPKI
  timestamp: bigint; // milliseconds since the epoch
  extensions: Buffer; // CtExtensions, empty in v1
  signature: Buffer; // DER ECDSA signature
}

function uint(value: number | bigint, bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  let v = BigInt(value);
  if (v < 0n || v >= 1n << BigInt(bytes * 8)) throw new RangeError(`value does not fit in ${bytes} bytes`);
  for (let i = bytes - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** A TLS variable-length vector: `lenBytes` big-endian length prefix, then the data. */
function vector(data: Buffer, lenBytes: number): Buffer {
  return Buffer.concat([uint(data.length, lenBytes), data]);
}

/**
 * The bytes a log signs for a precertificate (RFC 6962 §3.2 `digitally-signed struct`):
 * version, signature_type, timestamp, entry_type, PreCert{issuer_key_hash, tbs<1..2^24-1>}, extensions.
 */
export function precertSignatureInput(p: { timestamp: bigint; issuerKeyHash: Buffer; tbs: Buffer; extensions?: Buffer }): Buffer {
  if (p.issuerKeyHash.length !== 32) throw new RangeError('issuer_key_hash must be 32 bytes');
  return Buffer.concat([
    uint(SCT_VERSION_V1, 1),
    uint(SIGNATURE_TYPE_CERTIFICATE_TIMESTAMP, 1),
    uint(p.timestamp, 8),
    uint(LOG_ENTRY_TYPE_PRECERT, 2),
    p.issuerKeyHash,
    vector(p.tbs, 3),
    vector(p.extensions ?? Buffer.alloc(0), 2),
  ]);
}

/** RFC 6962 §3.2 `SignedCertificateTimestamp`, TLS-serialized. */
export function serializeSct(sct: Sct): Buffer {
  return Buffer.concat([
    uint(SCT_VERSION_V1, 1),
    sct.logId,
    uint(sct.timestamp, 8),
    vector(sct.extensions, 2),
    uint(HASH_SHA256, 1),
    uint(SIG_ECDSA, 1),
    vector(sct.signature, 2),
  ]);
}

/**
 * RFC 6962 §3.3 `SignedCertificateTimestampList`: opaque SerializedSCT<1..2^16-1> list<1..2^16-1>.
 * The X.509 extension (OID 1.3.6.1.4.1.11129.2.4.2) wraps this in a further OCTET STRING.
 */
export function encodeSctList(scts: Sct[]): Buffer {
  if (scts.length === 0) throw new RangeError('an SCT list holds at least one SCT');
  return vector(Buffer.concat(scts.map((s) => vector(serializeSct(s), 2))), 2);
}
