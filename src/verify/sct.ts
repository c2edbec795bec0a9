/**
 * Embedded Signed Certificate Timestamps (RFC 6962 §3.2, §3.3): each SCT signs
 * the *precertificate* TBS — the leaf's TBS without the SCT-list extension —
 * together with the SHA-256 of the issuer's SubjectPublicKeyInfo.
 */
import { createHash, verify } from 'node:crypto';
import { GitsealError } from '../errors.js';
import { children, der, parseDer, tlv, TAG } from '../util/der.js';
import { inValidity, type TrustedRoot } from '../trust/trusted-root.js';
import { embeddedScts, parseCertificate, type Certificate } from '../x509/certificate.js';
import { OID } from '../x509/oids.js';
import { publicKeyFromSpki } from '../x509/signature.js';

/** The leaf's tbsCertificate with the SCT-list extension removed, re-encoded in DER. */
export function precertificateTbs(leaf: Certificate): Buffer {
  const fields = children(parseDer(leaf.tbs));
  const out: Buffer[] = [];
  for (const f of fields) {
    if (f.tag !== 0xa3) {
      out.push(f.raw);
      continue;
    }
    const exts = children(children(f)[0]).filter((e) => {
      const oid = children(e)[0];
      return !oid.value.equals(der.oid(OID.sctList).subarray(2));
    });
    out.push(tlv(0xa3, tlv(TAG.SEQUENCE, ...exts.map((e) => e.raw))));
  }
  return tlv(TAG.SEQUENCE, ...out);
}

function u24(n: number): Buffer {
  return Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/**
 * Require at least one embedded SCT from a CT log in `trust` whose key is
 * valid at `at`, with a valid signature. Throws GitsealError('SCT').
 */
export function verifyEmbeddedSct(leaf: Buffer | Certificate, issuer: Buffer | Certificate, trust: TrustedRoot, at: Date): void {
  const cert = Buffer.isBuffer(leaf) ? parseCertificate(leaf) : leaf;
  const iss = Buffer.isBuffer(issuer) ? parseCertificate(issuer) : issuer;
  const scts = embeddedScts(cert);
  if (scts.length === 0) throw new GitsealError('SCT', 'the signing certificate has no embedded SCT (certificate transparency)');
  const issuerKeyHash = createHash('sha256').update(iss.spki).digest();
  const tbs = precertificateTbs(cert);
  let unknownLog = 0;
  for (const sct of scts) {
    if (sct.version !== 0) continue;
    const log = trust.ctlogs.find((l) => l.logId.equals(sct.logId) && inValidity(l.validFor, at));
    if (!log) {
      unknownLog++;
      continue;
    }
    // RFC 6962 §3.2 digitally-signed struct, precert_entry (entry_type 1).
    const ts = Buffer.alloc(8);
    ts.writeBigUInt64BE(sct.timestamp);
    const signed = Buffer.concat([
      Buffer.from([0, 0]), // sct_version v1, signature_type certificate_timestamp
      ts,
      u16(1),
      issuerKeyHash,
      u24(tbs.length),
      tbs,
      u16(sct.extensions.length),
      sct.extensions,
    ]);
    // TLS HashAlgorithm sha256 = 4; SignatureAlgorithm rsa = 1, ecdsa = 3 (RFC 5246 §7.4.1.4.1).
    if (sct.hashAlgorithm !== 4 || (sct.signatureAlgorithm !== 3 && sct.signatureAlgorithm !== 1)) continue;
    let ok = false;
    try {
      ok = verify('sha256', signed, publicKeyFromSpki(log.publicKey), sct.signature);
    } catch {
      ok = false;
    }
    if (ok) return;
  }
  if (unknownLog === scts.length) {
    throw new GitsealError('SCT', 'the certificate\'s SCT is from a CT log that is not trusted at that time');
  }
  throw new GitsealError('SCT', 'the certificate\'s embedded SCT signature is invalid');
}
