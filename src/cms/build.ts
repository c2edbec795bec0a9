/**
 * Builds the CMS SignedData gitsign writes (RFC 5652; byte layout in
 * gitsign-protocol.md §2.2), so gitsign, openssl and gpgsm read ours as theirs.
 * asn1js is loaded only here, on the signing path; the verify path parses with
 * src/util/der.ts. Certificates, names and the log entry go in as raw DER.
 */
import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import { GitsealError } from '../errors.js';
import { children, expectTag, parseDer, TAG } from '../util/der.js';

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

function toBuffer(ab: ArrayBuffer): Buffer {
  return Buffer.from(new Uint8Array(ab));
}

/** Embed already-encoded DER (certificate, name, token) as an asn1js element, bytes unchanged. */
function raw(der: Buffer): asn1js.AsnType {
  const r = asn1js.fromBER(new Uint8Array(der));
  // Re-encoding must give the same bytes, or the embedded signature/certificate would change.
  if (r.offset !== der.length || !toBuffer(r.result.toBER()).equals(der)) {
    throw new GitsealError('BAD_DER', 'an element to embed in the signature is not DER');
  }
  return r.result;
}
const oid = (v: string) => new asn1js.ObjectIdentifier({ value: v });
/** AlgorithmIdentifier with parameters ABSENT (RFC 5754 §2 for SHA-2, RFC 5758 §3.2 for ECDSA). */
const algorithm = (v: string) => new asn1js.Sequence({ value: [oid(v)] });

/** Attribute ::= SEQUENCE { attrType OID, attrValues SET OF AttributeValue } (RFC 5652 §5.3). */
function attribute(type: string, value: asn1js.AsnType): Buffer {
  return toBuffer(new asn1js.Sequence({ value: [oid(type), new asn1js.Set({ value: [value] })] }).toBER());
}

/** DER SET OF: elements sorted by their encodings (X.690 §11.6), as Go's encoding/asn1 does. */
function sortedDer(items: Buffer[]): Buffer[] {
  return [...items].sort(Buffer.compare);
}

/** UTCTime (RFC 5280 §4.1.2.5.1: YYMMDDHHMMSSZ, years 1950–2049), second precision like Go's time.Now().UTC(). */
function utcTime(d: Date): asn1js.UTCTime {
  const y = d.getUTCFullYear();
  if (y < 1950 || y > 2049) throw new GitsealError('INTERNAL', `signing time ${d.toISOString()} cannot be a UTCTime`);
  return new asn1js.UTCTime({ valueDate: new Date(Math.floor(d.getTime() / 1000) * 1000) });
}

/**
 * The signed attributes as the DER SET (tag 0x31) that ECDSA signs (RFC 5652 §5.4):
 * contentType = id-data, signingTime, messageDigest = SHA-256(payload).
 */
export function buildSignedAttributes(payload: Buffer, signingTime: Date): Buffer {
  const digest = createHash('sha256').update(payload).digest();
  const attrs = sortedDer([
    attribute(OID.contentType, oid(OID.data)),
    attribute(OID.signingTime, utcTime(signingTime)),
    attribute(OID.messageDigest, new asn1js.OctetString({ valueHex: new Uint8Array(digest) })),
  ]);
  return toBuffer(new asn1js.Set({ value: attrs.map(raw) }).toBER());
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
  const attrs = children(parseDer(p.signedAttrs)).map((a) => raw(a.raw));

  const unsigned: Buffer[] = [];
  if (p.tle) unsigned.push(attribute(OID.rekorTle, new asn1js.OctetString({ valueHex: new Uint8Array(p.tle) })));
  if (p.tst) unsigned.push(attribute(OID.timeStampToken, raw(p.tst)));

  const signerInfo: asn1js.AsnType[] = [
    new asn1js.Integer({ value: 1 }),
    new asn1js.Sequence({ value: [raw(issuer), raw(serial)] }),
    algorithm(OID.sha256),
    // signedAttrs [0] IMPLICIT SET OF Attribute: same content octets, tag 0xA0
    new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: attrs }),
    algorithm(OID.ecdsaWithSha256),
    new asn1js.OctetString({ valueHex: new Uint8Array(p.signature) }),
  ];
  if (unsigned.length) {
    signerInfo.push(
      new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 1 }, value: sortedDer(unsigned).map(raw) }),
    );
  }

  const signedData = new asn1js.Sequence({
    value: [
      new asn1js.Integer({ value: 1 }),
      new asn1js.Set({ value: [algorithm(OID.sha256)] }),
      // encapContentInfo: detached, eContent absent
      new asn1js.Sequence({ value: [oid(OID.data)] }),
      // certificates [0] IMPLICIT CertificateSet: the leaf only
      new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [raw(p.leaf)] }),
      new asn1js.Set({ value: [new asn1js.Sequence({ value: signerInfo })] }),
    ],
  });
  const contentInfo = new asn1js.Sequence({
    value: [oid(OID.signedData), new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [signedData] })],
  });
  return toBuffer(contentInfo.toBER());
}
