/**
 * Embedded Signed Certificate Timestamps (RFC 6962 §3.2, §3.3): each SCT signs
 * the *precertificate* TBS — the leaf's TBS without the SCT-list extension —
 * together with the SHA-256 of the issuer's SubjectPublicKeyInfo.
 */
import { hash, verify } from 'node:crypto';
import { GitsealError } from '../errors.js';
import { children, der, parseDer, tlv, TAG } from '../util/der.js';
import { inValidity, type TrustedRoot } from '../trust/trusted-root.js';
import { embeddedScts, parseCertificate, type Certificate } from '../x509/certificate.js';
import { OID } from '../x509/oids.js';
import { publicKeyFromSpki } from '../x509/signature.js';
import { memoKey, SuccessMemo } from '../x509/verified-memo.js';

/**
 * SCT signatures that verified, keyed by every byte the check reads: the log
 * key, the issuer key, the leaf TBS (the precertificate TBS is derived from it)
 * and the SCT's own fields. The log's validity window at `at` is checked every
 * time, outside the memo. Exported for tests.
 */
export const sctMemo = new SuccessMemo(4096);

/** How far before notBefore an SCT timestamp may lie (clock skew between Fulcio and the CT log). */
export const SCT_SKEW_MS = 60_000;

/** The leaf's tbsCertificate with the SCT-list extension removed, re-encoded in DER. */
export function precertificateTbs(leaf: Certificate): Buffer {
  const sctListOid = der.oid(OID.sctList).subarray(2);
  const fields = children(parseDer(leaf.tbs));
  const out: Buffer[] = [];
  for (const f of fields) {
    if (f.tag !== 0xa3) {
      out.push(f.raw);
      continue;
    }
    const exts = children(children(f)[0]).filter((e) => {
      const oid = children(e)[0];
      return !oid.value.equals(sctListOid);
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
  let issuerKeyHash: Buffer | undefined;
  let tbs: Buffer | undefined;
  let unknownLog = 0;
  let outside = 0;
  // The CT log saw the precertificate when it was issued: its timestamp lies inside the
  // certificate's validity. notBefore has whole seconds and the log's clock is not Fulcio's,
  // so up to SCT_SKEW_MS before notBefore is allowed; nothing after notAfter.
  const from = BigInt(cert.notBefore.getTime() - SCT_SKEW_MS);
  const to = BigInt(cert.notAfter.getTime());
  for (const sct of scts) {
    if (sct.version !== 0) continue;
    if (sct.timestamp < from || sct.timestamp > to) {
      outside++;
      continue;
    }
    const log = trust.ctlogs.find((l) => l.logId.equals(sct.logId) && inValidity(l.validFor, at));
    if (!log) {
      unknownLog++;
      continue;
    }
    // TLS HashAlgorithm sha256 = 4; SignatureAlgorithm rsa = 1, ecdsa = 3 (RFC 5246 §7.4.1.4.1).
    if (sct.hashAlgorithm !== 4 || (sct.signatureAlgorithm !== 3 && sct.signatureAlgorithm !== 1)) continue;
    const ts = Buffer.alloc(8);
    ts.writeBigUInt64BE(sct.timestamp);
    const key = memoKey('sct', log.publicKey, iss.spki, cert.tbs, ts, sct.extensions, Buffer.from([sct.hashAlgorithm, sct.signatureAlgorithm]), sct.signature);
    if (sctMemo.has(key)) return;
    issuerKeyHash ??= hash('sha256', iss.spki, 'buffer');
    tbs ??= precertificateTbs(cert);
    // RFC 6962 §3.2 digitally-signed struct, precert_entry (entry_type 1).
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
    let ok = false;
    try {
      ok = verify('sha256', signed, publicKeyFromSpki(log.publicKey), sct.signature);
    } catch {
      ok = false;
    }
    if (ok) {
      sctMemo.add(key);
      return;
    }
  }
  if (outside > 0 && outside + unknownLog === scts.length) {
    throw new GitsealError('SCT', "the certificate's SCT timestamp lies outside the certificate's validity");
  }
  if (unknownLog === scts.length) {
    throw new GitsealError('SCT', 'the certificate\'s SCT is from a CT log that is not trusted at that time');
  }
  throw new GitsealError('SCT', 'the certificate\'s embedded SCT signature is invalid');
}
