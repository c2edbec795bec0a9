/**
 * Precertificate handling (RFC 6962 §3.1): a precertificate is the final
 * certificate with a critical poison extension (OID 1.3.6.1.4.1.11129.2.4.3,
 * value ASN.1 NULL) where the SCT list will go. The log signs the TBSCertificate
 * with the poison removed, which is also what a verifier rebuilds by removing the
 * SCT list extension from the final certificate.
 */
import { children, decodeOid, expectTag, parseDer, TAG, tlv, type Tlv } from '../gitseal/der.js';

export const OID_CT_POISON = '1.3.6.1.4.1.11129.2.4.3';
export const OID_CT_SCT_LIST = '1.3.6.1.4.1.11129.2.4.2';

/** Where the pieces of a certificate sit, as DER slices of the input. */
export interface CertificateParts {
  tbs: Buffer;
  signatureAlgorithm: string;
  signature: Buffer; // BIT STRING content without the unused-bits octet
  spki: Buffer;
  extensions: { oid: string; critical: boolean; raw: Buffer }[];
}

/** Split a DER certificate (RFC 5280 §4.1) into the parts CT needs. */
export function certificateParts(cert: Buffer): CertificateParts {
  const [tbsT, algT, sigT] = children(expectTag(parseDer(cert), TAG.SEQUENCE, 'Certificate'));
  const tbsFields = children(expectTag(tbsT, TAG.SEQUENCE, 'TBSCertificate'));
  const hasVersion = tbsFields[0]?.tag === 0xa0;
  const spkiT = expectTag(tbsFields[hasVersion ? 6 : 5], TAG.SEQUENCE, 'SubjectPublicKeyInfo');
  const extsT = tbsFields.find((t) => t.tag === 0xa3);
  const extensions = extsT ? children(expectTag(children(extsT)[0], TAG.SEQUENCE, 'Extensions')).map(extensionInfo) : [];
  const bits = expectTag(sigT, TAG.BIT_STRING, 'signatureValue').value;
  return {
    tbs: tbsT.raw,
    signatureAlgorithm: decodeOid(expectTag(children(expectTag(algT, TAG.SEQUENCE, 'AlgorithmIdentifier'))[0], TAG.OID, 'algorithm').value),
    signature: bits.subarray(1),
    spki: spkiT.raw,
    extensions,
  };
}

function extensionInfo(ext: Tlv): { oid: string; critical: boolean; raw: Buffer } {
  const f = children(expectTag(ext, TAG.SEQUENCE, 'Extension'));
  const critical = f.length === 3 && f[1].tag === TAG.BOOLEAN && f[1].value[0] !== 0;
  return { oid: decodeOid(expectTag(f[0], TAG.OID, 'extnID').value), critical, raw: ext.raw };
}

/**
 * The TBSCertificate of `cert` with the extension `oid` removed, re-encoded in DER.
 * Every other byte is kept as is, so the result matches what the issuer signed
 * apart from that one extension.
 */
export function tbsWithoutExtension(cert: Buffer, oid: string): Buffer {
  const tbsT = children(parseDer(cert))[0];
  const fields = children(tbsT);
  const out: Buffer[] = [];
  for (const f of fields) {
    if (f.tag !== 0xa3) {
      out.push(f.raw);
      continue;
    }
    const kept = children(children(f)[0]).filter((e) => extensionInfo(e).oid !== oid);
    // RFC 5280 §4.1: if present, the extensions SEQUENCE holds at least one extension.
    if (kept.length > 0) out.push(tlv(0xa3, tlv(TAG.SEQUENCE, ...kept.map((e) => e.raw))));
  }
  return tlv(TAG.SEQUENCE, ...out);
}
