/**
 * X.509 certificate parsing (RFC 5280 §4.1) on the zero-copy DER reader, plus
 * the extension helpers a Sigstore verifier needs. Hot path: node built-ins only.
 */
import { hash } from 'node:crypto';
import { GitsealError } from '../errors.js';
import {
  children,
  decodeBoolean,
  decodeInteger,
  decodeTime,
  expectChildren,
  expectTag,
  parseDer,
  readOid,
  TAG,
  type Tlv,
} from '../util/der.js';
import { nameToString } from './names.js';
import { FULCIO_CLAIMS_V2, GITHUB_WORKFLOW_V1, OID } from './oids.js';

/** Largest certificate accepted: Fulcio leaves are ~1 KB, CA certs ~0.7 KB. */
const MAX_CERT_BYTES = 16 * 1024;

export interface Extension {
  oid: string;
  critical: boolean;
  /** Content of extnValue (the DER the OCTET STRING wraps). */
  value: Buffer;
  /** The whole Extension SEQUENCE, for rebuilding the precertificate TBS. */
  raw: Buffer;
}

export interface Certificate {
  /** The whole certificate DER. */
  der: Buffer;
  /** tbsCertificate DER, what the issuer signed. */
  tbs: Buffer;
  version: number;
  serial: bigint;
  /** Serial content octets exactly as encoded (for IssuerAndSerialNumber matching). */
  serialRaw: Buffer;
  issuer: Buffer;
  issuerString: string;
  subject: Buffer;
  subjectString: string;
  notBefore: Date;
  notAfter: Date;
  /** SubjectPublicKeyInfo DER. */
  spki: Buffer;
  /** OID of the key algorithm in the SPKI. */
  keyAlgorithm: string;
  /** OID of the outer signatureAlgorithm (must equal the TBS one). */
  signatureAlgorithm: string;
  signature: Buffer;
  extensions: Extension[];
}

function bad(msg: string): never {
  throw new GitsealError('BAD_CERTIFICATE', `invalid certificate: ${msg}`);
}

/** AlgorithmIdentifier → OID; parameters must be absent or NULL. */
function algorithm(t: Tlv | undefined, what: string): { oid: string; params?: Tlv } {
  const parts = expectChildren(expectTag(t, TAG.SEQUENCE, what), TAG.SEQUENCE, what);
  if (parts.length < 1 || parts.length > 2) bad(`${what} has ${parts.length} fields`);
  return { oid: readOid(parts[0], what), params: parts[1] };
}

/** Parse a DER certificate. Throws BAD_CERTIFICATE (or BAD_DER) on anything malformed. */
export function parseCertificate(der: Buffer): Certificate {
  if (der.length > MAX_CERT_BYTES) throw new GitsealError('INPUT_TOO_LARGE', 'certificate larger than 16 KiB');
  let root: Tlv;
  try {
    root = parseDer(der);
  } catch (e) {
    throw new GitsealError('BAD_CERTIFICATE', `invalid certificate: ${(e as Error).message}`, e);
  }
  const top = expectChildren(root, TAG.SEQUENCE, 'Certificate');
  if (top.length !== 3) bad('expected tbsCertificate, signatureAlgorithm, signatureValue');
  const [tbsT, sigAlgT, sigT] = top;
  const tbs = expectChildren(tbsT, TAG.SEQUENCE, 'tbsCertificate');
  let i = 0;
  let version = 1;
  if (tbs[i]?.tag === 0xa0) {
    const v = children(tbs[i++]);
    if (v.length !== 1) bad('bad version');
    version = Number(decodeInteger(expectTag(v[0], TAG.INTEGER, 'version').value)) + 1;
    if (version !== 3 && version !== 2) bad(`unsupported version ${version}`);
  }
  const serialT = expectTag(tbs[i++], TAG.INTEGER, 'serialNumber');
  const innerAlg = algorithm(tbs[i++], 'signature');
  const issuerT = expectTag(tbs[i++], TAG.SEQUENCE, 'issuer');
  const validity = expectChildren(expectTag(tbs[i++], TAG.SEQUENCE, 'validity'), TAG.SEQUENCE, 'validity');
  if (validity.length !== 2) bad('validity must hold notBefore and notAfter');
  const subjectT = expectTag(tbs[i++], TAG.SEQUENCE, 'subject');
  const spkiT = expectTag(tbs[i++], TAG.SEQUENCE, 'subjectPublicKeyInfo');
  const keyAlg = algorithm(children(spkiT)[0], 'subjectPublicKeyInfo.algorithm');
  // issuerUniqueID [1] / subjectUniqueID [2] are allowed and ignored.
  while (tbs[i] && (tbs[i].tag === 0x81 || tbs[i].tag === 0xa1 || tbs[i].tag === 0x82 || tbs[i].tag === 0xa2)) i++;
  const extensions: Extension[] = [];
  if (tbs[i]?.tag === 0xa3) {
    const wrap = children(tbs[i++]);
    if (wrap.length !== 1) bad('bad extensions wrapper');
    const seen = new Set<string>();
    for (const e of expectChildren(wrap[0], TAG.SEQUENCE, 'extensions')) {
      const f = expectChildren(e, TAG.SEQUENCE, 'extension');
      const oid = readOid(f[0], 'extnID');
      let critical = false;
      let k = 1;
      if (f[k]?.tag === TAG.BOOLEAN) {
        if (f[k].value.length !== 1 || (f[k].value[0] !== 0xff && f[k].value[0] !== 0)) bad('bad critical flag');
        critical = f[k].value[0] === 0xff;
        // critical is DEFAULT FALSE: DER leaves a default value out (X.690 §11.5).
        if (!critical) bad(`extension ${oid} spells out the default critical flag FALSE (not DER)`);
        k++;
      }
      const value = expectTag(f[k++], TAG.OCTET_STRING, 'extnValue').value;
      if (k !== f.length) bad(`extension ${oid} has extra fields`);
      // RFC 5280 §4.2: a certificate MUST NOT include more than one instance of an extension.
      if (seen.has(oid)) bad(`duplicate extension ${oid}`);
      seen.add(oid);
      extensions.push({ oid, critical, value, raw: e.raw });
    }
  }
  if (i !== tbs.length) bad('unexpected fields in tbsCertificate');
  const outerAlg = algorithm(sigAlgT, 'signatureAlgorithm');
  if (outerAlg.oid !== innerAlg.oid) bad('signatureAlgorithm differs from tbsCertificate.signature');
  const sigBits = expectTag(sigT, TAG.BIT_STRING, 'signatureValue').value;
  if (sigBits.length < 1 || sigBits[0] !== 0) bad('signature BIT STRING has unused bits');
  return {
    der: root.raw,
    tbs: tbsT.raw,
    version,
    serial: decodeInteger(serialT.value),
    serialRaw: serialT.value,
    issuer: issuerT.raw,
    issuerString: nameToString(issuerT),
    subject: subjectT.raw,
    subjectString: nameToString(subjectT),
    notBefore: decodeTime(validity[0]),
    notAfter: decodeTime(validity[1]),
    spki: spkiT.raw,
    keyAlgorithm: keyAlg.oid,
    signatureAlgorithm: outerAlg.oid,
    signature: sigBits.subarray(1),
    extensions,
  };
}

/**
 * Parsed certificates by exact DER (all its bytes, as a latin1 string, are the key,
 * so only identical bytes share a parse): range verification sees the same
 * CA certificates, and with the agent the same leaf, for every commit.
 * Bounded, oldest first out; a DER that fails to parse is never kept.
 * The returned objects are shared: read them, never change them.
 */
export const parsedCertificates = new Map<string, Certificate>();
const PARSED_MAX = 512;

/** parseCertificate, remembered for identical DER (see parsedCertificates). */
export function parseCertificateCached(der: Buffer): Certificate {
  const key = der.toString('latin1');
  const hit = parsedCertificates.get(key);
  if (hit) return hit;
  const c = parseCertificate(der);
  if (parsedCertificates.size >= PARSED_MAX) parsedCertificates.delete(parsedCertificates.keys().next().value as string);
  parsedCertificates.set(key, c);
  return c;
}

export function getExtension(cert: Certificate, oid: string): Extension | undefined {
  return cert.extensions.find((e) => e.oid === oid);
}

/** Lowercase hex SHA-1 of the DER: gitsign's key id / fingerprint. */
export function fingerprintSha1(cert: Certificate | Buffer): string {
  return hash('sha1', Buffer.isBuffer(cert) ? cert : cert.der, 'hex');
}

export function isValidAt(cert: Certificate, at: Date): boolean {
  const t = at.getTime();
  return t >= cert.notBefore.getTime() && t <= cert.notAfter.getTime();
}

// ------------------------------------------------------------ subjectAltName

export interface SubjectAltNames {
  emails: string[];
  uris: string[];
  dns: string[];
  /** OtherName values (type OID → UTF8String), e.g. Fulcio username identities. */
  otherNames: { oid: string; value: string }[];
}

/** RFC 5280 §4.2.1.6 GeneralNames. */
export function subjectAltNames(cert: Certificate): SubjectAltNames {
  const out: SubjectAltNames = { emails: [], uris: [], dns: [], otherNames: [] };
  const ext = getExtension(cert, OID.subjectAltName);
  if (!ext) return out;
  for (const gn of children(parseDer(ext.value))) {
    switch (gn.tag) {
      case 0x81:
        out.emails.push(gn.value.toString('latin1'));
        break;
      case 0x82:
        out.dns.push(gn.value.toString('latin1'));
        break;
      case 0x86:
        out.uris.push(gn.value.toString('latin1'));
        break;
      case 0xa0: {
        // otherName ::= SEQUENCE { type-id OID, value [0] EXPLICIT ANY }
        const [type, val] = children(gn);
        const oid = readOid(type, 'otherName type');
        const inner = val && val.tag === 0xa0 ? children(val)[0] : undefined;
        const value = inner && inner.tag === TAG.UTF8_STRING ? inner.value.toString('utf8') : '';
        out.otherNames.push({ oid, value });
        break;
      }
      default:
        break; // directoryName, iPAddress, …: not identities Fulcio issues
    }
  }
  return out;
}

/** The signer identity as cosign/gitsign show it: e-mail, else URI, else Fulcio OtherName. */
export function signerIdentity(cert: Certificate): string | undefined {
  const san = subjectAltNames(cert);
  return (
    san.emails[0] ?? san.uris[0] ?? san.otherNames.find((o) => o.oid === OID.fulcioOtherNameSan)?.value ?? undefined
  );
}

// ------------------------------------------------------------ Fulcio claims

/**
 * The value of a Fulcio extension defined as a DER UTF8String (…1.8 onwards). Anything else is
 * a malformed certificate, never "absent": a policy must not quietly see another value (or the
 * legacy one) instead.
 */
function utf8StringExt(ext: Extension): string {
  let t: Tlv;
  try {
    t = parseDer(ext.value);
  } catch {
    return bad(`extension ${ext.oid} is not DER`);
  }
  if (t.tag !== TAG.UTF8_STRING) bad(`extension ${ext.oid} must be a UTF8String, got tag 0x${t.tag.toString(16)}`);
  const s = t.value.toString('utf8');
  if (!Buffer.from(s, 'utf8').equals(t.value)) bad(`extension ${ext.oid} is not valid UTF-8`);
  return s;
}

/**
 * OIDC issuer: …57264.1.8 (DER UTF8String), else the legacy raw …57264.1.1. Fulcio writes both
 * with the same value; when both are present they must agree.
 */
export function fulcioIssuer(cert: Certificate): string | undefined {
  const v2 = getExtension(cert, OID.fulcioIssuerV2);
  const v1 = getExtension(cert, OID.fulcioIssuerV1);
  const v1s = v1 ? v1.value.toString('utf8') : undefined;
  if (!v2) return v1s;
  const v2s = utf8StringExt(v2);
  if (v1s !== undefined && v1s !== v2s) bad('the OIDC issuer extensions disagree (1.3.6.1.4.1.57264.1.1 and …1.8 name different issuers)');
  return v2s;
}

export type FulcioClaimName =
  | (typeof GITHUB_WORKFLOW_V1)[keyof typeof GITHUB_WORKFLOW_V1]
  | (typeof FULCIO_CLAIMS_V2)[keyof typeof FULCIO_CLAIMS_V2];

/** Every Fulcio claim extension present (…1.2–1.6 raw, …1.9–1.24 UTF8String), by name. */
export function fulcioClaims(cert: Certificate): Partial<Record<FulcioClaimName, string>> {
  const out: Partial<Record<FulcioClaimName, string>> = {};
  for (const e of cert.extensions) {
    if (e.oid in GITHUB_WORKFLOW_V1) out[GITHUB_WORKFLOW_V1[e.oid as keyof typeof GITHUB_WORKFLOW_V1]] = e.value.toString('utf8');
    else if (e.oid in FULCIO_CLAIMS_V2) out[FULCIO_CLAIMS_V2[e.oid as keyof typeof FULCIO_CLAIMS_V2]] = utf8StringExt(e);
  }
  return out;
}

// ------------------------------------------------------------ RFC 5280 extensions

/** §4.2.1.12 extended key usage OIDs, or undefined when the extension is absent. */
export function extKeyUsage(cert: Certificate): string[] | undefined {
  const ext = getExtension(cert, OID.extKeyUsage);
  if (!ext) return undefined;
  return expectChildren(parseDer(ext.value), TAG.SEQUENCE, 'extKeyUsage').map((t) => readOid(t, 'KeyPurposeId'));
}

export interface KeyUsage {
  digitalSignature: boolean;
  keyCertSign: boolean;
  crlSign: boolean;
}

/** §4.2.1.3 key usage bits (named bits, MSB first), or undefined when absent. */
export function keyUsage(cert: Certificate): KeyUsage | undefined {
  const ext = getExtension(cert, OID.keyUsage);
  if (!ext) return undefined;
  const bits = expectTag(parseDer(ext.value), TAG.BIT_STRING, 'keyUsage').value;
  const b0 = bits.length > 1 ? bits[1] : 0;
  return { digitalSignature: !!(b0 & 0x80), keyCertSign: !!(b0 & 0x04), crlSign: !!(b0 & 0x02) };
}

/** §4.2.1.9 basic constraints; absent means "not a CA". */
export function basicConstraints(cert: Certificate): { ca: boolean; pathLen?: number } {
  const ext = getExtension(cert, OID.basicConstraints);
  if (!ext) return { ca: false };
  const f = expectChildren(parseDer(ext.value), TAG.SEQUENCE, 'basicConstraints');
  let ca = false;
  let k = 0;
  if (f[k]?.tag === TAG.BOOLEAN) {
    ca = decodeBoolean(f[k++]);
    if (!ca) bad('basicConstraints spells out the default cA FALSE (not DER)');
  }
  const pathLen = f[k]?.tag === TAG.INTEGER ? Number(decodeInteger(f[k].value)) : undefined;
  return { ca, pathLen };
}

/** §4.2.1.2 subject key identifier bytes. */
export function subjectKeyId(cert: Certificate): Buffer | undefined {
  const ext = getExtension(cert, OID.subjectKeyIdentifier);
  return ext ? expectTag(parseDer(ext.value), TAG.OCTET_STRING, 'subjectKeyIdentifier').value : undefined;
}

/** §4.2.1.1 authority key identifier keyIdentifier [0] bytes. */
export function authorityKeyId(cert: Certificate): Buffer | undefined {
  const ext = getExtension(cert, OID.authorityKeyIdentifier);
  if (!ext) return undefined;
  const k = expectChildren(parseDer(ext.value), TAG.SEQUENCE, 'authorityKeyIdentifier').find((t) => t.tag === 0x80);
  return k?.value;
}

// ------------------------------------------------------------ RFC 6962 SCTs

export interface EmbeddedSct {
  version: number;
  logId: Buffer;
  /** Milliseconds since the epoch. */
  timestamp: bigint;
  extensions: Buffer;
  hashAlgorithm: number;
  signatureAlgorithm: number;
  signature: Buffer;
}

/** RFC 6962 §3.3 SignedCertificateTimestampList (TLS encoding inside an OCTET STRING). */
export function embeddedScts(cert: Certificate): EmbeddedSct[] {
  const ext = getExtension(cert, OID.sctList);
  if (!ext) return [];
  const list = expectTag(parseDer(ext.value), TAG.OCTET_STRING, 'SCT list').value;
  const fail = (): never => bad('malformed SCT list');
  if (list.length < 2) fail();
  const total = list.readUInt16BE(0);
  if (total !== list.length - 2) fail();
  const out: EmbeddedSct[] = [];
  let p = 2;
  while (p < list.length) {
    if (p + 2 > list.length) fail();
    const len = list.readUInt16BE(p);
    p += 2;
    const end = p + len;
    if (end > list.length) fail();
    const s = list.subarray(p, end);
    // version(1) logID(32) timestamp(8) extensions<0..2^16-1> hash(1) sig(1) signature<0..2^16-1>
    if (s.length < 1 + 32 + 8 + 2) fail();
    let q = 0;
    const version = s[q++];
    const logId = s.subarray(q, q + 32);
    q += 32;
    const timestamp = s.readBigUInt64BE(q);
    q += 8;
    const extLen = s.readUInt16BE(q);
    q += 2;
    if (q + extLen + 4 > s.length) fail();
    const extensions = s.subarray(q, q + extLen);
    q += extLen;
    const hashAlgorithm = s[q++];
    const signatureAlgorithm = s[q++];
    const sigLen = s.readUInt16BE(q);
    q += 2;
    if (q + sigLen !== s.length) fail();
    out.push({ version, logId, timestamp, extensions, hashAlgorithm, signatureAlgorithm, signature: s.subarray(q) });
    p = end;
  }
  return out;
}

