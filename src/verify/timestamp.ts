/**
 * RFC 3161 time-stamp tokens and Rekor v2 entries: the evidence of time and
 * inclusion for signatures whose log entry carries no signed entry timestamp.
 *
 * A token (unsigned attribute 1.2.840.113549.1.9.16.2.14, gitsign-protocol §2.7)
 * is a CMS SignedData over a TSTInfo (§2.4.2) whose messageImprint is the hash
 * of the CMS signature value. A verified token gives a trusted time; for Rekor
 * v2 (hashedrekord v0.0.2) entries it is the only one.
 */
import { createHash } from 'node:crypto';
import { GitsealError } from '../errors.js';
import { CMS_OID, findSignerCertificate, parseSignedData, singleValue, type SignedData, type SignerInfo } from '../cms/parse.js';
import type { TransparencyLogEntry } from '../rekor/tle.js';
import { inValidity, type TrustedRoot } from '../trust/trusted-root.js';
import { canonicalize } from '../util/canonical-json.js';
import { children, decodeInteger, decodeTime, expectChildren, expectTag, parseDer, readOid, TAG, type Tlv } from '../util/der.js';
import { getExtension, parseCertificate, type Certificate } from '../x509/certificate.js';
import { OID } from '../x509/oids.js';
import { unusualKey, verifyWithSpki } from '../x509/signature.js';
import { verifyChainTo } from './chain.js';
import { hashedRekordV002Body, verifyTlogEntry, type TlogVerification } from './tlog.js';

export const TSP_OID = {
  sha256: CMS_OID.sha256,
  sha384: CMS_OID.sha384,
  sha512: CMS_OID.sha512,
  tstInfo: CMS_OID.tstInfo,
  timeStampToken: CMS_OID.timeStampToken,
  timeStamping: OID.ekuTimeStamping,
} as const;

const HASHES: Record<string, string> = {
  [CMS_OID.sha256]: 'sha256',
  [CMS_OID.sha384]: 'sha384',
  [CMS_OID.sha512]: 'sha512',
};

export interface TstInfo {
  policy: string;
  hashAlgorithm: string;
  hashedMessage: Buffer;
  serial: bigint;
  genTime: Date;
  /** The accuracy of genTime in milliseconds (RFC 3161 §2.4.2), 0 when the token gives none. */
  accuracyMs: number;
  nonce?: bigint;
}

export interface TimeStampToken {
  signedData: SignedData;
  tstInfo: TstInfo;
}

function fail(msg: string): never {
  throw new GitsealError('TSA', msg);
}

/** RFC 3161 §2.4.2 TSTInfo. */
export function parseTstInfo(der: Buffer): TstInfo {
  const f = expectChildren(parseDer(der), TAG.SEQUENCE, 'TSTInfo');
  if (f.length < 5) fail('the timestamp is malformed (TSTInfo too short)');
  if (decodeInteger(expectTag(f[0], TAG.INTEGER, 'TSTInfo.version').value) !== 1n) fail('unsupported TSTInfo version');
  const policy = readOid(f[1], 'TSTInfo.policy');
  const mi = expectChildren(f[2], TAG.SEQUENCE, 'messageImprint');
  if (mi.length !== 2) fail('the timestamp is malformed (messageImprint)');
  const hashAlgorithm = readOid(children(expectTag(mi[0], TAG.SEQUENCE, 'hashAlgorithm'))[0], 'hashAlgorithm');
  const hashedMessage = expectTag(mi[1], TAG.OCTET_STRING, 'hashedMessage').value;
  const serial = decodeInteger(expectTag(f[3], TAG.INTEGER, 'serialNumber').value);
  const genTime = decodeTime(expectTag(f[4], TAG.GENERALIZED_TIME, 'genTime'));
  // accuracy (SEQUENCE), ordering (BOOLEAN), nonce (INTEGER), tsa [0], extensions [1] may follow, in that order.
  let i = 5;
  const accuracyMs = f[i]?.tag === TAG.SEQUENCE ? parseAccuracy(f[i++]) : 0;
  if (f[i]?.tag === TAG.BOOLEAN) i++;
  const nonce = f[i]?.tag === TAG.INTEGER ? decodeInteger(f[i++].value) : undefined;
  if (f[i]?.tag === 0xa0) i++;
  if (f[i]?.tag === 0xa1) i++;
  if (i !== f.length) fail('the timestamp is malformed (unexpected TSTInfo fields)');
  return { policy, hashAlgorithm, hashedMessage, serial, genTime, accuracyMs, nonce };
}

/**
 * Accuracy ::= SEQUENCE { seconds INTEGER OPTIONAL, millis [0] INTEGER (1..999) OPTIONAL,
 * micros [1] INTEGER (1..999) OPTIONAL } (RFC 3161 §2.4.2), in milliseconds.
 */
function parseAccuracy(t: Tlv): number {
  const a = children(t);
  let k = 0;
  let ms = 0;
  const part = (tag: number, min: bigint, max: bigint | undefined, unit: number) => {
    if (a[k]?.tag !== tag) return;
    const v = decodeInteger(a[k++].value);
    if (v < min || (max !== undefined && v > max)) fail('the timestamp is malformed (accuracy out of range)');
    ms += Number(v) * unit;
  };
  part(TAG.INTEGER, 0n, undefined, 1000);
  part(0x80, 1n, 999n, 1);
  part(0x81, 1n, 999n, 0.001);
  if (k !== a.length) fail('the timestamp is malformed (accuracy)');
  if (!Number.isFinite(ms)) fail('the timestamp is malformed (accuracy out of range)');
  return ms;
}

/** Parse a DER TimeStampToken (ContentInfo) into its SignedData and TSTInfo; checks structure only. */
export function parseTimeStampToken(token: Buffer): TimeStampToken {
  let sd: SignedData;
  try {
    sd = parseSignedData(token);
  } catch (e) {
    return fail(`the timestamp token is malformed: ${(e as Error).message}`);
  }
  if (sd.eContentType !== CMS_OID.tstInfo || !sd.eContent) fail('the timestamp token does not hold a TSTInfo');
  if (sd.signerInfos.length !== 1) fail('the timestamp token must have exactly one signer');
  try {
    return { signedData: sd, tstInfo: parseTstInfo(sd.eContent) };
  } catch (e) {
    if (e instanceof GitsealError && e.code !== 'TSA') fail(`the timestamp is malformed: ${e.message}`);
    throw e;
  }
}

/** True when the token's messageImprint is the hash of `data` (RFC 3161 §2.4.2). */
export function imprintMatches(info: TstInfo, data: Buffer): boolean {
  const h = HASHES[info.hashAlgorithm];
  return h !== undefined && createHash(h).update(data).digest().equals(info.hashedMessage);
}

/** RFC 5035 id-aa-signingCertificateV2, RFC 2634 id-aa-signingCertificate (SHA-1 ESSCertID). */
const ESS_V2 = '1.2.840.113549.1.9.16.2.47';
const ESS_V1 = '1.2.840.113549.1.9.16.2.12';
const SHA1 = '1.3.14.3.2.26';

/**
 * RFC 3161 §2.4.1 requires the ESS signing-certificate attribute: it puts the
 * signer certificate's hash under the TSA's signature, so the certificate
 * cannot be swapped for another with the same key. The first certID names the signer.
 */
function checkSigningCertificate(si: SignerInfo, cert: Certificate): void {
  const v2 = singleValue(si.signedAttrs, ESS_V2, 'signingCertificateV2');
  const attr = v2 ?? singleValue(si.signedAttrs, ESS_V1, 'signingCertificate');
  if (!attr) fail('the timestamp token has no ESS signing-certificate attribute (RFC 3161 §2.4.1)');
  const first = expectChildren(expectChildren(attr, TAG.SEQUENCE, 'SigningCertificate')[0], TAG.SEQUENCE, 'certs')[0];
  if (!first) fail('the timestamp token\'s signing-certificate attribute is empty');
  const f = expectChildren(first, TAG.SEQUENCE, 'ESSCertID');
  let k = 0;
  let alg: string = SHA1;
  if (v2) {
    alg = CMS_OID.sha256; // ESSCertIDv2.hashAlgorithm DEFAULT id-sha256
    if (f[k]?.tag === TAG.SEQUENCE) alg = readOid(children(f[k++])[0], 'ESSCertIDv2.hashAlgorithm');
  }
  const name = alg === SHA1 ? 'sha1' : HASHES[alg];
  const certHash = expectTag(f[k++], TAG.OCTET_STRING, 'ESSCertID.certHash').value;
  if (!name || !createHash(name).update(cert.der).digest().equals(certHash)) fail('the timestamp token\'s signing-certificate attribute names another certificate');
  if (f[k]) {
    // IssuerSerial { GeneralNames (directoryName [4]), serialNumber } (RFC 5035 §4)
    const [names, serial] = expectChildren(f[k], TAG.SEQUENCE, 'IssuerSerial');
    const dirNames = children(expectTag(names, TAG.SEQUENCE, 'IssuerSerial.issuer')).filter((g) => g.tag === 0xa4).map((g) => children(g)[0]?.raw);
    if (!dirNames.some((n) => n?.equals(cert.issuer)) || decodeInteger(expectTag(serial, TAG.INTEGER, 'IssuerSerial.serialNumber').value) !== cert.serial) {
      fail('the timestamp token\'s signing-certificate attribute names another issuer or serial number');
    }
  }
}

/** RFC 3161 §2.3: the TSA certificate's extended key usage is timeStamping only, and critical. */
function checkTsaEku(cert: Certificate): void {
  const e = getExtension(cert, OID.extKeyUsage);
  const purposes = e ? expectChildren(parseDer(e.value), TAG.SEQUENCE, 'extKeyUsage') : [];
  if (!e || !e.critical || purposes.length !== 1) fail('the timestamping certificate\'s extended key usage must be timeStamping only, marked critical (RFC 3161 §2.3)');
}

function signerAlgorithm(sigAlg: string, digest: string | undefined): string {
  if (sigAlg === OID.ecPublicKey) return digest === 'sha384' ? OID.ecdsaWithSha384 : digest === 'sha512' ? OID.ecdsaWithSha512 : OID.ecdsaWithSha256;
  if (sigAlg === OID.rsaEncryption) return digest === 'sha384' ? OID.sha384WithRsa : digest === 'sha512' ? OID.sha512WithRsa : OID.sha256WithRsa;
  return sigAlg;
}

/**
 * Verify a TimeStampToken over `data` (for gitsign: the CMS SignerInfo.signature)
 * against the timestamp authorities of `trust`. Returns the trusted time and the
 * TSA's URI. Throws GitsealError('TSA') naming what failed.
 */
export function verifyTimestampToken(
  token: Buffer,
  data: Buffer,
  trust: TrustedRoot,
): { time: Date; tsa: string; tstInfo: TstInfo; signer: Certificate } {
  const { signedData: sd, tstInfo } = parseTimeStampToken(token);
  const si = sd.signerInfos[0];
  if (!imprintMatches(tstInfo, data)) fail('the timestamp is for different data (message imprint mismatch)');
  // The token's own signature (RFC 5652 §5.4): content type, digest of the TSTInfo, then the signature value.
  if (!si.signedAttrsSet) fail('the timestamp token has no signed attributes');
  const ct = singleValue(si.signedAttrs, CMS_OID.contentType, 'contentType');
  if (!ct || ct.tag !== TAG.OID || readOid(ct, 'contentType') !== CMS_OID.tstInfo) fail('the timestamp token has the wrong content type attribute');
  const md = singleValue(si.signedAttrs, CMS_OID.messageDigest, 'messageDigest');
  const digestName = HASHES[si.digestAlgorithm];
  if (!md || md.tag !== TAG.OCTET_STRING || !digestName || !createHash(digestName).update(sd.eContent!).digest().equals(md.value)) {
    fail('the timestamp token\'s message digest does not match its TSTInfo');
  }
  // The TSA certificate: embedded in the token (certReq), else the leaf of a trusted TSA chain.
  const embedded = sd.certificates.map((c) => parseCertificate(c));
  const trustedLeaves = trust.timestampAuthorities.map((t) => parseCertificate(t.certChain[0]));
  const signer = findSignerCertificate(si, [...embedded, ...trustedLeaves]);
  if (!signer) fail('the timestamp is not signed by a trusted timestamp authority (its certificate was not found)');
  const unusual = unusualKey(signer.spki);
  if (unusual) fail(`the timestamp token's signer holds ${unusual}`);
  if (!verifyWithSpki(signer.spki, signerAlgorithm(si.signatureAlgorithm, digestName), si.signedAttrsSet, si.signature)) {
    fail('the timestamp token\'s signature does not verify');
  }
  try {
    checkSigningCertificate(si, signer);
  } catch (e) {
    if (e instanceof GitsealError && e.code !== 'TSA') fail(`the timestamp token's signing-certificate attribute is malformed: ${e.message}`);
    throw e;
  }
  checkTsaEku(signer);
  // RFC 3161 §2.3: the TSA certificate chains to a trusted TSA, has the timeStamping EKU and is valid at genTime.
  let tsa: string;
  try {
    tsa = verifyChainTo(signer, sd.certificates, trust.timestampAuthorities, tstInfo.genTime, { eku: OID.ekuTimeStamping, what: 'timestamp authority' }).ca.uri;
  } catch (e) {
    if (!(e instanceof GitsealError)) throw e;
    if (/does not chain/.test(e.message)) fail('the timestamp is not signed by a trusted timestamp authority');
    return fail(`timestamp: ${e.message}`);
  }
  return { time: tstInfo.genTime, tsa, tstInfo, signer };
}

/** What a hashedrekord v0.0.2 entry must log: the artifact digest, signature and signing certificate. */
export interface RekorV2Material {
  digest: Buffer;
  signature: Buffer;
  leafDer: Buffer;
}

/**
 * Verify a Rekor v2 (rekor-tiles) hashedrekord v0.0.2 entry for `m`: body
 * binding, inclusion proof to a checkpoint signed by a trusted log (C2SP
 * signed note). v2 entries have no integrated time; the caller takes the time
 * from an RFC 3161 token and passes it as `at` to check the log key's validFor.
 */
export function verifyRekorV2Entry(entry: TransparencyLogEntry, m: RekorV2Material, trust: TrustedRoot, at?: Date): TlogVerification {
  if (entry.kind !== 'hashedrekord' || entry.version !== '0.0.2') {
    throw new GitsealError('TLOG', `expected a hashedrekord v0.0.2 entry, got ${entry.kind} ${entry.version}`);
  }
  const body = hashedRekordV002Body(m.digest, m.signature, m.leafDer);
  if (entry.canonicalizedBody) {
    // Compare canonically: a log may serialize the same entry with another key order or spacing.
    let logged: string | undefined;
    try {
      logged = canonicalize(JSON.parse(entry.canonicalizedBody.toString('utf8')));
    } catch {
      logged = undefined;
    }
    if (logged !== body.toString('utf8')) throw new GitsealError('TLOG', 'the log entry is for a different signature, digest or certificate');
  }
  // rekor-tiles proves the entry at its own index; a different proof index means a spliced proof.
  if (entry.inclusionProof && entry.inclusionProof.logIndex !== entry.logIndex) {
    throw new GitsealError('TLOG', 'the inclusion proof is for another log index than the entry');
  }
  const r = verifyTlogEntry(entry, body, trust);
  if (at && !inValidity(r.log.validFor, at)) {
    throw new GitsealError('TLOG', `the transparency log key was not trusted at ${at.toISOString()}`);
  }
  return r;
}
