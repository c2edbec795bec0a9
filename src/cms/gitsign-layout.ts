/**
 * What a git signature may look like: the layout gitsign writes (gitsign-protocol.md §2.2),
 * checked after the generic CMS parse so that anything else is refused before any
 * cryptography runs. The rules and why each is safe to hold real gitsign output to (every
 * signature of test/fixtures/gitsign-corpus has exactly this shape):
 *
 * - SignedData version 1 (RFC 5652 §5.1: id-data content, only v1 SignerInfos, no other
 *   certificate formats); SignerInfo version 1 with issuerAndSerialNumber. The v3 /
 *   subjectKeyIdentifier variant finds the signer by a key hint rather than by issuer and
 *   serial, and gitsign never writes it.
 * - At most MAX_SIGNATURE_CERTS certificates (gitsign writes the leaf, or intermediate + leaf).
 * - digestAlgorithm SHA-256/384/512; signatureAlgorithm named with its hash (ecdsa-with-SHA*,
 *   sha*WithRSAEncryption) and that hash equal to the digest algorithm, or rsaEncryption (RFC
 *   3370 §3.2: the digest algorithm says the hash). id-ecPublicKey names a key, not a
 *   signature algorithm (RFC 5753 §2.1.1 requires ecdsa-with-SHA*): refused. No parameters
 *   beyond NULL where the RFCs allow one; SignedData.digestAlgorithms is exactly the signer's.
 * - Signed attributes exactly contentType, messageDigest and (optionally) signingTime, each
 *   once, in DER SET OF order (X.690 §11.6).
 * - Unsigned attributes: the Rekor entry (…57264.3.1) and an RFC 3161 token (…9.16.2.14), each
 *   at most once. gitsign's Jan-2023 pre-release wrote …57264.3.0–3.8 with 3.1 a string;
 *   that whole set is accepted (as online mode: it holds no proof). Anything else is refused,
 *   so no part of a signature goes unread.
 */
import { GitsealError } from '../errors.js';
import { children, parseDer } from '../util/der.js';
import { OID } from '../x509/oids.js';
import { CMS_OID, isNull, type SignedData } from './parse.js';

/** gitsign writes one or two; see src/verify/chain.ts MAX_UNTRUSTED_CERTS for the path side. */
export const MAX_SIGNATURE_CERTS = 4;

const DIGEST_NAME: Record<string, string> = {
  [CMS_OID.sha256]: 'sha256',
  [CMS_OID.sha384]: 'sha384',
  [CMS_OID.sha512]: 'sha512',
};

/** Signature algorithms a git signature may name, with the hash each implies (undefined: the digest algorithm's). */
const SIGNATURE_ALGORITHMS: Record<string, string | undefined> = {
  [OID.ecdsaWithSha256]: 'sha256',
  [OID.ecdsaWithSha384]: 'sha384',
  [OID.ecdsaWithSha512]: 'sha512',
  [OID.sha256WithRsa]: 'sha256',
  [OID.sha384WithRsa]: 'sha384',
  [OID.sha512WithRsa]: 'sha512',
  [OID.rsaEncryption]: undefined,
};

const SIGNED_ATTRS = new Set<string>([CMS_OID.contentType, CMS_OID.messageDigest, CMS_OID.signingTime]);
const PRE_RELEASE = /^1\.3\.6\.1\.4\.1\.57264\.3\.[0-8]$/;

/** "issuer DER | serial octets" of a certificate, read by structure; undefined when it is not a certificate. */
function issuerSerialKey(der: Buffer): string | undefined {
  try {
    const tbs = children(children(parseDer(der))[0]);
    const i = tbs[0]?.tag === 0xa0 ? 1 : 0;
    return `${tbs[i + 2].raw.toString('base64')}|${tbs[i].value.toString('base64')}`;
  } catch {
    return undefined;
  }
}

function bad(msg: string): never {
  throw new GitsealError('BAD_CMS', `invalid git signature: ${msg}`);
}

/** Refuse any git signature that is not in gitsign's layout (see the file comment). */
export function checkGitSignatureLayout(sd: SignedData): void {
  if (sd.version !== 1) bad(`SignedData version ${sd.version} (gitsign writes version 1)`);
  if (sd.certificates.length > MAX_SIGNATURE_CERTS) {
    bad(`the signature carries ${sd.certificates.length} certificates; at most ${MAX_SIGNATURE_CERTS} are accepted (gitsign writes the leaf, or intermediate and leaf)`);
  }
  if (sd.signerInfos.length !== 1) bad('the signature must have exactly one signer');
  // The signer is found by issuer and serial (RFC 5652 §5.3), which a CA never gives two
  // certificates (RFC 5280 §4.1.2.2): two different ones naming the same pair are ambiguous.
  const named = new Map<string, string>();
  for (const der of sd.certificates) {
    const key = issuerSerialKey(der);
    if (key === undefined) continue; // malformed: the certificate parser says why
    const id = der.toString('base64');
    if (named.has(key) && named.get(key) !== id) bad('two different certificates carry the same issuer and serial number');
    named.set(key, id);
  }
  const si = sd.signerInfos[0];
  if (si.version !== 1 || !('issuer' in si.sid)) bad('the signer must be named by issuer and serial number (SignerInfo version 1)');
  const digest = DIGEST_NAME[si.digestAlgorithm];
  if (!digest) bad(`unsupported digest algorithm ${si.digestAlgorithm}`);
  if (!(si.signatureAlgorithm in SIGNATURE_ALGORITHMS)) {
    bad(
      si.signatureAlgorithm === OID.ecPublicKey
        ? 'the signature algorithm is id-ecPublicKey, a key type; ECDSA signatures name ecdsa-with-SHA* (RFC 5753 §2.1.1)'
        : `unsupported signature algorithm ${si.signatureAlgorithm}`,
    );
  }
  const implied = SIGNATURE_ALGORITHMS[si.signatureAlgorithm];
  if (implied !== undefined && implied !== digest) bad(`the signature algorithm hashes with ${implied} but the digest algorithm is ${digest}`);
  // Parameters: SHA-2 absent or NULL (RFC 5754 §2), ECDSA absent (RFC 5758 §3.2), RSA NULL (RFC 3370 §3.2).
  const ecdsa = si.signatureAlgorithm.startsWith('1.2.840.10045.4.3.');
  if (si.digestAlgorithmParams && !isNull(si.digestAlgorithmParams)) bad('the digest algorithm has parameters');
  if (si.signatureAlgorithmParams && (ecdsa || !isNull(si.signatureAlgorithmParams))) bad('the signature algorithm has parameters it does not take');
  // SignedData.digestAlgorithms lists the signers' digest algorithms (RFC 5652 §5.1): here, the one.
  if (sd.digestAlgorithms.length !== 1 || sd.digestAlgorithms[0] !== si.digestAlgorithm || sd.digestAlgorithmsHaveParams) {
    bad("SignedData.digestAlgorithms must name exactly the signer's digest algorithm");
  }
  if (!si.signedAttrsRaw) bad('the signature has no signed attributes');
  for (const oid of si.signedAttrs.keys()) if (!SIGNED_ATTRS.has(oid)) bad(`unexpected signed attribute ${oid}`);
  if (!si.signedAttrs.has(CMS_OID.contentType) || !si.signedAttrs.has(CMS_OID.messageDigest)) bad('the signed attributes must hold contentType and messageDigest');
  const order = si.signedAttrsOrder ?? [];
  for (let i = 1; i < order.length; i++) if (Buffer.compare(order[i - 1], order[i]) > 0) bad('the signed attributes are not in DER order (X.690 §11.6)');
  const unsigned = [...si.unsignedAttrs.keys()];
  const tle = si.unsignedAttrs.get(CMS_OID.rekorTle);
  const preRelease = tle !== undefined && tle.values.some((v) => v.tag !== 0x04);
  for (const oid of unsigned) {
    if (oid === CMS_OID.rekorTle || oid === CMS_OID.timeStampToken) continue;
    if (preRelease && PRE_RELEASE.test(oid)) continue;
    bad(`unknown unsigned attribute ${oid}`);
  }
}
