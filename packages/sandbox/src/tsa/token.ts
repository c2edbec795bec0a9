/**
 * TimeStampResp / TimeStampToken encoding (RFC 3161 §2.4.2) on the DER
 * writer: a CMS SignedData (RFC 5652 §5) over a TSTInfo, signed by the TSA
 * leaf with ECDSA P-256/SHA-256, with the ESS signing-certificate-v2
 * attribute (RFC 5035) that RFC 3161 §2.4.1 requires.
 */
import { createHash, randomBytes, sign, type KeyObject } from 'node:crypto';
import { der, tlv, TAG } from '../gitseal/der.js';
import { parseCertificate } from '../gitseal/certificate.js';
import { HASH_OIDS, type TimestampRequest } from './request.js';

export const TSP = {
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  /** The Sigstore TSA policy OID (sigstore-services.md §1.2). */
  policy: '1.3.6.1.4.1.57264.2',
} as const;

export interface TokenInput {
  request: TimestampRequest;
  genTime: Date;
  leaf: Buffer;
  /** Certificates to include when the request asks for them (RFC 3161 §2.4.1 certReq). */
  chain: Buffer[];
  leafKey: KeyObject;
  serial?: Buffer;
  /** Fault injection for verifier tests: name this certificate in the ESS attribute instead of `leaf`. */
  essCert?: Buffer;
}

const alg = (oid: string) => der.seq(der.oid(oid));
const attribute = (oid: string, value: Buffer) => der.seq(der.oid(oid), der.setOf(value));

/**
 * GeneralizedTime in whole seconds. DER (X.690 §11.7) forbids trailing zeros in a
 * fraction, so ".120" must be written ".12" — which @sigstore/core's parser refuses
 * (it wants exactly three digits). Whole seconds are valid DER that every client reads;
 * the token's accuracy field is one second.
 */
function genTimeDer(d: Date): Buffer {
  const iso = d.toISOString();
  const s = iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso.slice(14, 16) + iso.slice(17, 19);
  return tlv(TAG.GENERALIZED_TIME, Buffer.from(s + 'Z', 'latin1'));
}

export function encodeTstInfo(t: TokenInput, serial: Buffer): Buffer {
  const parts = [
    der.int(1),
    der.oid(t.request.reqPolicy ?? TSP.policy),
    der.seq(alg(HASH_OIDS[t.request.hash]), der.octets(t.request.hashedMessage)),
    der.int(serial),
    genTimeDer(t.genTime),
    der.seq(der.int(1)), // accuracy: 1 second
  ];
  if (t.request.nonce) parts.push(tlv(TAG.INTEGER, t.request.nonce));
  return der.seq(...parts);
}

/** The TimeStampToken ContentInfo. */
export function encodeToken(t: TokenInput): Buffer {
  const serial = t.serial ?? (() => {
    const b = randomBytes(16);
    b[0] &= 0x7f;
    b[0] |= 0x01;
    return b;
  })();
  const tstInfo = encodeTstInfo(t, serial);
  const leaf = parseCertificate(t.leaf);
  const serialInt = tlv(TAG.INTEGER, leaf.serialRaw);
  // ESSCertIDv2 { hashAlgorithm DEFAULT sha256 (omitted), certHash, issuerSerial { [4] directoryName, serial } }
  const essFor = t.essCert ? parseCertificate(t.essCert) : leaf;
  const essCertId = der.seq(der.octets(createHash('sha256').update(essFor.der).digest()), der.seq(der.seq(tlv(0xa4, essFor.issuer)), tlv(TAG.INTEGER, essFor.serialRaw)));
  const signedAttrs = der.setOf(
    attribute(TSP.contentType, der.oid(TSP.tstInfo)),
    attribute(TSP.signingTime, der.utcTime(t.genTime)),
    attribute(TSP.messageDigest, der.octets(createHash('sha256').update(tstInfo).digest())),
    attribute(TSP.signingCertificateV2, der.seq(der.seq(essCertId))),
  );
  const signature = sign('sha256', signedAttrs, { key: t.leafKey, dsaEncoding: 'der' });
  const signerInfo = der.seq(
    der.int(1),
    der.seq(leaf.issuer, serialInt),
    alg(HASH_OIDS.sha256),
    Buffer.concat([Buffer.from([0xa0]), signedAttrs.subarray(1)]), // [0] IMPLICIT: same content octets
    alg(TSP.ecdsaWithSha256),
    der.octets(signature),
  );
  const sdParts = [
    der.int(3), // RFC 5652 §5.1: eContentType other than id-data
    der.setOf(alg(HASH_OIDS.sha256)),
    der.seq(der.oid(TSP.tstInfo), der.explicit(0, der.octets(tstInfo))),
  ];
  // CertificateSet is a SET OF: DER-sorted (X.690 §11.6).
  if (t.request.certReq) sdParts.push(tlv(0xa0, ...[...t.chain].sort(Buffer.compare)));
  sdParts.push(der.setOf(signerInfo));
  return der.seq(der.oid(TSP.signedData), der.explicit(0, der.seq(...sdParts)));
}

/** TimeStampResp { status granted, timeStampToken }. */
export function grantedResponse(token: Buffer): Buffer {
  return der.seq(der.seq(der.int(0)), token);
}

/** TimeStampResp { status rejection, statusString, failInfo } (RFC 3161 §2.4.2). */
export function rejectedResponse(failBit: number, text: string): Buffer {
  const bytes = Buffer.alloc(Math.floor(failBit / 8) + 1);
  bytes[Math.floor(failBit / 8)] = 0x80 >> failBit % 8;
  let unused = 0;
  const last = bytes[bytes.length - 1];
  while (unused < 7 && !(last & (1 << unused))) unused++;
  return der.seq(der.seq(der.int(2), der.seq(der.utf8(text)), der.bitString(bytes, unused)));
}
