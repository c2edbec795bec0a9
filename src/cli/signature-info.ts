/**
 * What `gitseal show` reports about a signed object, computed from bytes
 * alone (nothing is verified here; `gitseal verify` does that): the signer
 * certificate's identity, issuer, validity and CI claims, its embedded SCTs,
 * and the embedded Rekor entry. (gitsign's in-toto statement: in-toto.ts.)
 */
import { createHash } from 'node:crypto';
import { CMS_OID, findSignerCertificate, parseSignedData, singleValue } from '../cms/parse.js';
import { decodeTle } from '../rekor/tle.js';
import { decodeTime, TAG } from '../util/der.js';
import { encodePem } from '../util/pem.js';
import type { SignedObject } from '../git/object.js';
import {
  embeddedScts,
  extKeyUsage,
  fingerprintSha1,
  fulcioClaims,
  fulcioIssuer,
  parseCertificate,
  signerIdentity,
  type Certificate,
} from '../x509/certificate.js';
import { GitsealError } from '../errors.js';

export interface CertificateInfo {
  identity: string | null;
  oidcIssuer: string | null;
  notBefore: string;
  notAfter: string;
  serial: string;
  issuer: string;
  fingerprintSha1: string;
  codeSigning: boolean;
  /** Fulcio claim extensions (GitHub workflow, CI build claims) by name. */
  claims: Record<string, string>;
  scts: Array<{ logId: string; timestamp: string }>;
  pem: string;
}

export interface TlogInfo {
  logIndex: string;
  logId: string;
  kind: string;
  integratedTime: string | null;
  hasSignedEntryTimestamp: boolean;
  inclusionProof: { logIndex: string; treeSize: string; rootHash: string; hashes: number; checkpoint: boolean } | null;
}

export interface SignatureInfo {
  oid: string;
  type: 'commit' | 'tag';
  signed: boolean;
  /** Signing time claimed by the signer's clock (CMS signingTime; not trusted). */
  signingTime: string | null;
  messageDigestMatches: boolean | null;
  certificate: CertificateInfo | null;
  tlog: TlogInfo | null;
  timestamped: boolean;
}

function certInfo(c: Certificate): CertificateInfo {
  const claims: Record<string, string> = {};
  for (const [k, v] of Object.entries(fulcioClaims(c))) if (v !== undefined) claims[k] = v;
  return {
    identity: signerIdentity(c) ?? null,
    oidcIssuer: fulcioIssuer(c) ?? null,
    notBefore: c.notBefore.toISOString(),
    notAfter: c.notAfter.toISOString(),
    serial: c.serial.toString(16),
    issuer: c.issuerString,
    fingerprintSha1: fingerprintSha1(c),
    codeSigning: (extKeyUsage(c) ?? []).includes('1.3.6.1.5.5.7.3.3'),
    claims,
    scts: embeddedScts(c).map((s) => ({ logId: s.logId.toString('hex'), timestamp: new Date(Number(s.timestamp)).toISOString() })),
    pem: encodePem('CERTIFICATE', c.der),
  };
}

/** Details of one signed (or unsigned) object. Throws BAD_CMS / BAD_CERTIFICATE on malformed signatures. */
export function signatureInfo(oid: string, obj: SignedObject): SignatureInfo {
  const base: SignatureInfo = {
    oid,
    type: obj.type,
    signed: obj.signature !== undefined,
    signingTime: null,
    messageDigestMatches: null,
    certificate: null,
    tlog: null,
    timestamped: false,
  };
  if (!obj.signature) return base;
  const text = obj.signature.toString('latin1');
  if (!text.includes('-----BEGIN SIGNED MESSAGE-----') && !text.includes('-----BEGIN CMS-----')) {
    const kind = /-----BEGIN ([A-Z ]+)-----/.exec(text)?.[1] ?? 'unknown';
    throw new GitsealError('BAD_CMS', `${obj.type} ${oid.slice(0, 12)} carries a ${kind} signature, not a gitsign/gitseal x509 one`);
  }
  const sd = parseSignedData(obj.signature.toString('latin1'));
  const si = sd.signerInfos[0]!;
  const certs = sd.certificates.map(parseCertificate);
  const leaf = findSignerCertificate(si, certs);
  const st = singleValue(si.signedAttrs, CMS_OID.signingTime, 'signingTime');
  const md = singleValue(si.signedAttrs, CMS_OID.messageDigest, 'messageDigest');
  const tleAttr = singleValue(si.unsignedAttrs, CMS_OID.rekorTle, 'Rekor entry');
  let tlog: TlogInfo | null = null;
  if (tleAttr && tleAttr.tag === TAG.OCTET_STRING) {
    try {
      const e = decodeTle(tleAttr.value);
      tlog = {
        logIndex: e.logIndex.toString(),
        logId: e.logId.toString('hex'),
        kind: `${e.kind} ${e.version}`,
        integratedTime: e.integratedTime > 0n ? new Date(Number(e.integratedTime) * 1000).toISOString() : null,
        hasSignedEntryTimestamp: !!e.signedEntryTimestamp?.length,
        inclusionProof: e.inclusionProof
          ? {
              logIndex: e.inclusionProof.logIndex.toString(),
              treeSize: e.inclusionProof.treeSize.toString(),
              rootHash: e.inclusionProof.rootHash.toString('hex'),
              hashes: e.inclusionProof.hashes.length,
              checkpoint: e.inclusionProof.checkpoint.length > 0,
            }
          : null,
      };
    } catch {
      tlog = null; // the pre-release Jan-2023 layout stores other data under this OID: treat as no entry
    }
  }
  return {
    ...base,
    signingTime: st ? decodeTime(st).toISOString() : null,
    messageDigestMatches: md ? md.value.equals(createHash('sha256').update(obj.payload).digest()) : null,
    certificate: leaf ? certInfo(leaf) : null,
    tlog,
    timestamped: si.unsignedAttrs.has(CMS_OID.timeStampToken),
  };
}
