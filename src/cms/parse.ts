/**
 * CMS SignedData parsing (RFC 5652 §5) for gitsign-style detached signatures.
 * Strict and size-limited: this runs on untrusted input from git objects.
 * The signer certificate is located by IssuerAndSerialNumber, never by position.
 */
import { GitsealError } from '../errors.js';
import {
  checkStrictDer,
  children,
  decodeInteger,
  expectChildren,
  expectTag,
  parseDer,
  readOid,
  TAG,
  type Tlv,
} from '../util/der.js';
import { decodeSinglePem } from '../util/pem.js';
import { subjectKeyId, type Certificate } from '../x509/certificate.js';

/** gitsign signatures are ~1–2 KB, ~8 KB with a TSA token; anything beyond 64 KiB is refused. */
export const MAX_SIGNATURE_BYTES = 64 * 1024;
const MAX_CERTS = 10;
const MAX_SIGNERS = 4;
const MAX_ATTRS = 16;

export const CMS_OID = {
  signedData: '1.2.840.113549.1.7.2',
  data: '1.2.840.113549.1.7.1',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  timeStampToken: '1.2.840.113549.1.9.16.2.14',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  /** gitsign offline mode: binary protobuf TransparencyLogEntry. */
  rekorTle: '1.3.6.1.4.1.57264.3.1',
} as const;

export interface Attribute {
  oid: string;
  /** The values inside the attribute's SET OF, raw DER each. */
  values: Tlv[];
}

export interface SignerInfo {
  version: number;
  /** sid IssuerAndSerialNumber: raw DER Name and serial content octets. */
  sid: { issuer: Buffer; serialRaw: Buffer; serial: bigint } | { subjectKeyId: Buffer };
  digestAlgorithm: string;
  /** The AlgorithmIdentifier parameters, when present (raw DER), for digestAlgorithm and signatureAlgorithm. */
  digestAlgorithmParams?: Buffer;
  signatureAlgorithmParams?: Buffer;
  /** signedAttrs exactly as received, with the [0] IMPLICIT tag (0xA0). */
  signedAttrsRaw?: Buffer;
  /** The same bytes re-tagged as SET (0x31): what the signature covers (RFC 5652 §5.4). */
  signedAttrsSet?: Buffer;
  signedAttrs: Map<string, Attribute>;
  /** Each signed attribute's DER, in the order received (DER requires SET OF order). */
  signedAttrsOrder?: Buffer[];
  signatureAlgorithm: string;
  signature: Buffer;
  unsignedAttrs: Map<string, Attribute>;
}

export interface SignedData {
  /** The whole ContentInfo DER. */
  der: Buffer;
  version: number;
  digestAlgorithms: string[];
  /** Whether any of digestAlgorithms carries parameters other than NULL. */
  digestAlgorithmsHaveParams?: boolean;
  eContentType: string;
  /** True when eContent is absent (git signatures are always detached). */
  detached: boolean;
  /** The encapsulated content octets when present (e.g. the TSTInfo of an RFC 3161 token). */
  eContent?: Buffer;
  /** DER certificates in the order they appear. */
  certificates: Buffer[];
  signerInfos: SignerInfo[];
}

function bad(msg: string): never {
  throw new GitsealError('BAD_CMS', `invalid CMS signature: ${msg}`);
}

/** The DER bytes of a signature given as PEM "SIGNED MESSAGE" text or as raw DER. */
export function signatureDer(input: string | Buffer): Buffer {
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
  if (size > MAX_SIGNATURE_BYTES * 2) throw new GitsealError('INPUT_TOO_LARGE', 'signature larger than 64 KiB');
  let der: Buffer;
  if (Buffer.isBuffer(input) && input[0] === 0x30) der = input;
  // Exactly one "SIGNED MESSAGE" block and nothing else but whitespace: a second block (say a
  // PGP signature in a second gpgsig header, which git concatenates) is not silently skipped.
  else der = decodeSinglePem(typeof input === 'string' ? input : input.toString('latin1'), 'SIGNED MESSAGE');
  if (der.length > MAX_SIGNATURE_BYTES) throw new GitsealError('INPUT_TOO_LARGE', 'signature larger than 64 KiB');
  return der;
}

/** AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL } → [oid, raw parameters]. */
function algorithmIdentifier(t: Tlv | undefined, what: string): [string, Buffer | undefined] {
  const f = expectChildren(t, TAG.SEQUENCE, what);
  if (f.length < 1 || f.length > 2) bad(`${what} must be an algorithm and at most one parameter`);
  return [readOid(f[0], what), f[1]?.raw];
}

/** True for the DER NULL (05 00). */
export function isNull(raw: Buffer | undefined): boolean {
  return raw !== undefined && raw.length === 2 && raw[0] === TAG.NULL && raw[1] === 0;
}

function parseAttributes(t: Tlv, what: string): Map<string, Attribute> {
  const out = new Map<string, Attribute>();
  const list = children(t);
  if (list.length > MAX_ATTRS) bad(`too many ${what}`);
  for (const a of list) {
    const f = expectChildren(a, TAG.SEQUENCE, what);
    if (f.length !== 2) bad(`${what}: an attribute must be a type and a value set`);
    const oid = readOid(f[0], `${what} type`);
    // RFC 5652 §5.3: signed attributes MUST NOT repeat a type; we hold unsigned ones to the same rule.
    if (out.has(oid)) bad(`${what}: attribute ${oid} appears twice`);
    out.set(oid, { oid, values: expectChildren(f[1], TAG.SET, `${what} values`) });
  }
  return out;
}

function parseSignerInfo(t: Tlv): SignerInfo {
  const f = expectChildren(t, TAG.SEQUENCE, 'SignerInfo');
  let i = 0;
  const version = Number(decodeInteger(expectTag(f[i++], TAG.INTEGER, 'SignerInfo.version').value));
  const sidT = f[i++];
  let sid: SignerInfo['sid'];
  if (sidT?.tag === TAG.SEQUENCE && version === 1) {
    const s = children(sidT);
    if (s.length !== 2) bad('IssuerAndSerialNumber must have two fields');
    const issuer = expectTag(s[0], TAG.SEQUENCE, 'sid.issuer').raw;
    const serialT = expectTag(s[1], TAG.INTEGER, 'sid.serialNumber');
    sid = { issuer, serialRaw: serialT.value, serial: decodeInteger(serialT.value) };
  } else if (sidT?.tag === 0x80 && version === 3) {
    sid = { subjectKeyId: sidT.value };
  } else bad('SignerInfo version and sid do not match (RFC 5652 §5.3)');
  const [digestAlgorithm, digestAlgorithmParams] = algorithmIdentifier(f[i++], 'digestAlgorithm');
  let signedAttrsRaw: Buffer | undefined;
  let signedAttrsSet: Buffer | undefined;
  let signedAttrs = new Map<string, Attribute>();
  let signedAttrsOrder: Buffer[] | undefined;
  if (f[i]?.tag === 0xa0) {
    const sa = f[i++];
    signedAttrsRaw = sa.raw;
    signedAttrsSet = Buffer.concat([Buffer.from([TAG.SET]), sa.raw.subarray(1)]);
    signedAttrs = parseAttributes(sa, 'signed attributes');
    signedAttrsOrder = children(sa).map((a) => a.raw);
  }
  const [signatureAlgorithm, signatureAlgorithmParams] = algorithmIdentifier(f[i++], 'signatureAlgorithm');
  const signature = expectTag(f[i++], TAG.OCTET_STRING, 'signature').value;
  let unsignedAttrs = new Map<string, Attribute>();
  if (f[i]?.tag === 0xa1) unsignedAttrs = parseAttributes(f[i++], 'unsigned attributes');
  if (i !== f.length) bad('unexpected fields after SignerInfo.signature');
  return {
    version,
    sid,
    digestAlgorithm,
    digestAlgorithmParams,
    signatureAlgorithmParams,
    signedAttrsRaw,
    signedAttrsSet,
    signedAttrs,
    signedAttrsOrder,
    signatureAlgorithm,
    signature,
    unsignedAttrs,
  };
}

/** Parse a detached or attached CMS SignedData from PEM "SIGNED MESSAGE" text or DER. */
export function parseSignedData(input: string | Buffer): SignedData {
  const der = signatureDer(input);
  let ci: Tlv[];
  try {
    // DER everywhere, also in the parts no parser below reads (X.690 §10; src/util/der.ts).
    checkStrictDer(der);
    ci = expectChildren(parseDer(der), TAG.SEQUENCE, 'ContentInfo');
  } catch (e) {
    if (e instanceof GitsealError && e.code === 'BAD_DER') bad(e.message);
    throw e;
  }
  try {
    if (ci.length !== 2) bad('ContentInfo must have two fields');
    if (readOid(ci[0], 'contentType') !== CMS_OID.signedData) bad('not a SignedData');
    const wrap = expectChildren(ci[1], 0xa0, 'content');
    if (wrap.length !== 1) bad('content [0] must hold one element');
    const sd = expectChildren(wrap[0], TAG.SEQUENCE, 'SignedData');
    let i = 0;
    const version = Number(decodeInteger(expectTag(sd[i++], TAG.INTEGER, 'version').value));
    if (version < 1 || version > 5) bad(`unsupported SignedData version ${version}`);
    const digestAlgorithmIds = expectChildren(sd[i++], TAG.SET, 'digestAlgorithms').map((a) => algorithmIdentifier(a, 'DigestAlgorithmIdentifier'));
    const digestAlgorithms = digestAlgorithmIds.map(([oid]) => oid);
    const digestAlgorithmsHaveParams = digestAlgorithmIds.some(([, p]) => p !== undefined && !isNull(p));
    const eci = expectChildren(sd[i++], TAG.SEQUENCE, 'encapContentInfo');
    const eContentType = readOid(eci[0], 'eContentType');
    if (eci.length > 2) bad('encapContentInfo has extra fields');
    const detached = eci.length === 1;
    let eContent: Buffer | undefined;
    if (!detached) {
      const inner = expectChildren(eci[1], 0xa0, 'eContent');
      if (inner.length !== 1) bad('eContent [0] must hold one OCTET STRING');
      eContent = expectTag(inner[0], TAG.OCTET_STRING, 'eContent').value;
    }
    const certificates: Buffer[] = [];
    if (sd[i]?.tag === 0xa0) {
      for (const c of children(sd[i++])) {
        // Only plain certificates; attribute certificates and others ([1]..[3]) are refused.
        if (c.tag !== TAG.SEQUENCE) bad('unsupported certificate choice');
        certificates.push(c.raw);
      }
      if (certificates.length > MAX_CERTS) bad('too many certificates');
    }
    // crls: nothing would check them (Fulcio certificates live ten minutes and are not revoked
    // by CRL), and an unread field is a place to hide bytes: refused, as gitsign never writes one.
    if (sd[i]?.tag === 0xa1) bad('the crls field is not accepted');
    const sis = expectChildren(sd[i++], TAG.SET, 'signerInfos');
    if (i !== sd.length) bad('unexpected fields after signerInfos');
    if (sis.length === 0) bad('no signer');
    if (sis.length > MAX_SIGNERS) bad('too many signers');
    return {
      der: der,
      version,
      digestAlgorithms,
      digestAlgorithmsHaveParams,
      eContentType,
      detached,
      eContent,
      certificates,
      signerInfos: sis.map(parseSignerInfo),
    };
  } catch (e) {
    if (e instanceof GitsealError && e.code === 'BAD_DER') bad(e.message);
    throw e;
  }
}

/**
 * The certificate a SignerInfo names (RFC 5652 §5.3 sid): issuer Name DER and
 * serial number must both match. Undefined when none does.
 */
export function findSignerCertificate(si: SignerInfo, certs: Certificate[]): Certificate | undefined {
  const sid = si.sid;
  if ('subjectKeyId' in sid) {
    return certs.find((c) => {
      const ski = subjectKeyId(c);
      return ski !== undefined && ski.equals(sid.subjectKeyId);
    });
  }
  return certs.find((c) => c.serial === sid.serial && c.issuer.equals(sid.issuer));
}

/** The single value of an attribute, or undefined when absent; fails when it has several. */
export function singleValue(attrs: Map<string, Attribute>, oid: string, what: string): Tlv | undefined {
  const a = attrs.get(oid);
  if (!a) return undefined;
  if (a.values.length !== 1) bad(`${what} attribute must have exactly one value`);
  return a.values[0];
}
