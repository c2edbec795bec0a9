/**
 * Builds the CMS SignedData gitsign writes (RFC 5652; byte layout in
 * gitsign-protocol.md §2.2), so gitsign, openssl and gpgsm read ours as theirs.
 * Certificates, names and the log entry go in as raw DER.
 *
 * Encoded with src/util/der.ts, not asn1js: this runs in the process git
 * spawns for every signature, and loading asn1js (with pvtsutils/pvutils, as
 * CommonJS through the ESM loader) cost ~45 ms CPU per `gitseal -bsau`,
 * measured with `node --cpu-prof` (issue "Speed", P3) — more than the rest of
 * the signing work. asn1js/pkijs remain in use in the sandbox package (packages/sandbox) only.
 */
import { createHash } from 'node:crypto';
import { GitsealError } from '../errors.js';
import { children, der, expectTag, parseDer, TAG, type Tlv } from '../util/der.js';

export const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  timeStampToken: '1.2.840.113549.1.9.16.2.14',
  sha256: '2.16.840.1.101.3.4.2.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  /** Rekor TransparencyLogEntry protobuf (gitsign offline mode). */
  rekorTle: '1.3.6.1.4.1.57264.3.1',
} as const;

/** Every constructed element down the tree must itself be strict DER (X.690 §10.1: definite, minimal lengths). */
function checkDerTree(t: Tlv): void {
  if (t.tag & 0x20) for (const c of children(t)) checkDerTree(c);
}

/**
 * Already-encoded DER (certificate, name, token) to embed unchanged. It must be
 * exactly one strict-DER element, or the embedded signature/certificate would
 * not be what a verifier re-reads.
 */
function raw(bytes: Buffer): Buffer {
  try {
    checkDerTree(parseDer(bytes));
  } catch {
    throw new GitsealError('BAD_DER', 'an element to embed in the signature is not DER');
  }
  return bytes;
}

/** AlgorithmIdentifier with parameters ABSENT (RFC 5754 §2 for SHA-2, RFC 5758 §3.2 for ECDSA). */
const algorithm = (v: string) => der.seq(der.oid(v));

/** Attribute ::= SEQUENCE { attrType OID, attrValues SET OF AttributeValue } (RFC 5652 §5.3). */
const attribute = (type: string, value: Buffer) => der.seq(der.oid(type), der.setOf(value));

/** UTCTime (RFC 5280 §4.1.2.5.1: YYMMDDHHMMSSZ, years 1950–2049), second precision like Go's time.Now().UTC(). */
function utcTime(d: Date): Buffer {
  const y = d.getUTCFullYear();
  if (y < 1950 || y > 2049) throw new GitsealError('INTERNAL', `signing time ${d.toISOString()} cannot be a UTCTime`);
  return der.utcTime(d);
}

/**
 * The signed attributes as the DER SET (tag 0x31) that ECDSA signs (RFC 5652 §5.4):
 * contentType = id-data, signingTime, messageDigest = SHA-256(payload). der.setOf
 * sorts the members by their encodings (X.690 §11.6), as Go's encoding/asn1 does.
 */
export function buildSignedAttributes(payload: Buffer, signingTime: Date): Buffer {
  const digest = createHash('sha256').update(payload).digest();
  return der.setOf(
    attribute(OID.contentType, der.oid(OID.data)),
    attribute(OID.signingTime, utcTime(signingTime)),
    attribute(OID.messageDigest, der.octets(digest)),
  );
}

/** issuer Name and serialNumber INTEGER of a certificate, as raw DER (RFC 5280 §4.1). */
function issuerAndSerial(leaf: Buffer): { issuer: Buffer; serial: Buffer } {
  try {
    const cert = children(parseDer(leaf));
    const tbs = children(expectTag(cert[0], TAG.SEQUENCE, 'tbsCertificate'));
    let i = 0;
    if (tbs[0]?.tag === 0xa0) i++; // [0] EXPLICIT version
    const serial = expectTag(tbs[i], TAG.INTEGER, 'serialNumber').raw;
    const issuer = expectTag(tbs[i + 2], TAG.SEQUENCE, 'issuer').raw;
    return { issuer, serial };
  } catch (e) {
    throw new GitsealError('BAD_CERTIFICATE', 'the signing certificate is not a valid X.509 certificate', e);
  }
}

export interface SignedDataParts {
  /** DER SET (0x31) from buildSignedAttributes — stored re-tagged as [0] IMPLICIT. */
  signedAttrs: Buffer;
  /** DER ECDSA-Sig-Value over signedAttrs. */
  signature: Buffer;
  /** DER leaf certificate; the only certificate included, as gitsign does. */
  leaf: Buffer;
  /** Binary TransparencyLogEntry protobuf (canonicalized_body cleared), for offline verification. */
  tle?: Buffer;
  /** RFC 3161 TimeStampToken (a DER ContentInfo). */
  tst?: Buffer;
}

/** The detached SignedData ContentInfo (RFC 5652 §3, §5) in gitsign's exact layout. */
export function assembleSignedData(p: SignedDataParts): Buffer {
  if (p.signedAttrs[0] !== TAG.SET) throw new GitsealError('INTERNAL', 'signed attributes must be a DER SET');
  const { issuer, serial } = issuerAndSerial(p.leaf);
  // The members as they are (already in DER SET order: they are what was signed).
  const attrs = children(parseDer(p.signedAttrs)).map((a) => raw(a.raw));

  const unsigned: Buffer[] = [];
  if (p.tle) unsigned.push(attribute(OID.rekorTle, der.octets(p.tle)));
  if (p.tst) unsigned.push(attribute(OID.timeStampToken, raw(p.tst)));

  const signerInfo: Buffer[] = [
    der.int(1),
    der.seq(raw(issuer), raw(serial)),
    algorithm(OID.sha256),
    // signedAttrs [0] IMPLICIT SET OF Attribute: same content octets, tag 0xA0
    der.implicitConstructed(0, Buffer.concat(attrs)),
    algorithm(OID.ecdsaWithSha256),
    der.octets(p.signature),
  ];
  // unsignedAttrs [1] IMPLICIT SET OF Attribute, in DER SET order (X.690 §11.6).
  if (unsigned.length) signerInfo.push(der.implicitConstructed(1, Buffer.concat(unsigned.sort(Buffer.compare))));

  const signedData = der.seq(
    der.int(1),
    der.setOf(algorithm(OID.sha256)),
    // encapContentInfo: detached, eContent absent
    der.seq(der.oid(OID.data)),
    // certificates [0] IMPLICIT CertificateSet: the leaf only
    der.implicitConstructed(0, raw(p.leaf)),
    der.setOf(der.seq(...signerInfo)),
  );
  return der.seq(der.oid(OID.signedData), der.explicit(0, signedData));
}
