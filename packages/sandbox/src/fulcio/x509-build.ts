/**
 * Certificate building for the sandbox CA with pkijs/asn1js (RFC 5280 §4.1).
 * pkijs lays out the TBSCertificate; node:crypto signs it, so no WebCrypto
 * engine set-up is needed and Ed25519/RSA subject keys pass through untouched.
 */
import { createHash, randomBytes, sign, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

export const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
} as const;

export interface ExtensionSpec {
  oid: string;
  critical?: boolean;
  /** The extnValue OCTET STRING's content (usually DER, raw bytes for Fulcio .1–.6). */
  value: Buffer;
}

export interface NameSpec {
  organization?: string;
  commonName?: string;
}

export interface CertificateSpec {
  serial: Buffer;
  issuer: NameSpec;
  subject: NameSpec;
  notBefore: Date;
  notAfter: Date;
  /** DER SubjectPublicKeyInfo of the subject key. */
  spki: Buffer;
  extensions: ExtensionSpec[];
}

/** A random positive serial of 20 octets (RFC 5280 §4.1.2.2; Fulcio uses 160 random bits). */
export function randomSerial(): Buffer {
  for (;;) {
    const b = randomBytes(20);
    b[0] &= 0x7f; // positive
    if (b[0] !== 0) return b; // minimal DER keeps all 20 octets
  }
}

/** RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING value. */
export function subjectKeyId(spki: Buffer): Buffer {
  const info = new pkijs.PublicKeyInfo({ schema: fromDer(spki, 'SubjectPublicKeyInfo') });
  return createHash('sha1').update(info.subjectPublicKey.valueBlock.valueHexView).digest();
}

/** Dates in certificates have whole seconds; DER times carry no fraction. */
export function wholeSeconds(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

function fromDer(der: Buffer, what: string): asn1js.AsnType {
  const parsed = asn1js.fromBER(new Uint8Array(der));
  if (parsed.offset === -1 || parsed.offset !== der.length) throw new Error(`${what} is not valid DER`);
  return parsed.result;
}

function toDer(schema: { toBER(sizeOnly?: boolean): ArrayBuffer }): Buffer {
  return Buffer.from(schema.toBER(false));
}

function name(n: NameSpec): pkijs.RelativeDistinguishedNames {
  // One attribute per RDN, O before CN, PrintableString: the layout Go's crypto/x509 writes.
  // (pkijs would put all attributes into a single multi-valued RDN.)
  const rdns: asn1js.Set[] = [];
  const add = (type: string, value: string) =>
    rdns.push(new asn1js.Set({ value: [new pkijs.AttributeTypeAndValue({ type, value: new asn1js.PrintableString({ value }) }).toSchema()] }));
  if (n.organization) add(OID.organization, n.organization);
  if (n.commonName) add(OID.commonName, n.commonName);
  const der = toDer(new asn1js.Sequence({ value: rdns }));
  return new pkijs.RelativeDistinguishedNames({ schema: fromDer(der, 'Name') });
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
function time(d: Date): pkijs.Time {
  return new pkijs.Time({ type: d.getUTCFullYear() < 2050 ? 0 : 1, value: wholeSeconds(d) });
}

/** Build and sign a certificate; the signature is ecdsa-with-SHA384 by `issuerKey` (P-384). */
export function buildCertificate(spec: CertificateSpec, issuerKey: KeyObject): Buffer {
  const cert = new pkijs.Certificate();
  cert.version = 2; // v3
  cert.serialNumber = new asn1js.Integer({ valueHex: new Uint8Array(spec.serial) });
  const alg = new pkijs.AlgorithmIdentifier({ algorithmId: OID.ecdsaWithSha384 }); // RFC 5758 §3.2: no parameters
  cert.signature = alg;
  cert.signatureAlgorithm = alg;
  cert.issuer = name(spec.issuer);
  cert.subject = name(spec.subject);
  cert.notBefore = time(spec.notBefore);
  cert.notAfter = time(spec.notAfter);
  cert.subjectPublicKeyInfo = new pkijs.PublicKeyInfo({ schema: fromDer(spec.spki, 'SubjectPublicKeyInfo') });
  cert.extensions = spec.extensions.map(
    (e) => new pkijs.Extension({ extnID: e.oid, critical: e.critical ?? false, extnValue: new Uint8Array(e.value).buffer }),
  );
  const tbs = toDer(cert.encodeTBS());
  const signature = sign('sha384', tbs, { key: issuerKey, dsaEncoding: 'der' });
  cert.tbsView = new Uint8Array(tbs);
  cert.signatureValue = new asn1js.BitString({ valueHex: new Uint8Array(signature) });
  return toDer(cert.toSchema(false));
}

// ---------------------------------------------------------------- extension values (RFC 5280 §4.2.1)

/** KeyUsage bits: digitalSignature(0), keyCertSign(5), cRLSign(6). */
export function keyUsage(bits: number[]): Buffer {
  let byte = 0;
  for (const b of bits) byte |= 0x80 >> b;
  // DER BIT STRING: trailing zero bits are dropped and counted as unused (X.690 §11.2.2).
  let unused = 0;
  while (unused < 8 && !(byte & (1 << unused))) unused++;
  return toDer(new asn1js.BitString({ valueHex: new Uint8Array([byte]), unusedBits: unused }));
}

export function basicConstraints(ca: boolean, pathLen?: number): Buffer {
  const bc = new pkijs.BasicConstraints(pathLen === undefined ? { cA: ca } : { cA: ca, pathLenConstraint: pathLen });
  return toDer(bc.toSchema());
}

export function extKeyUsage(purposes: string[]): Buffer {
  return toDer(new pkijs.ExtKeyUsage({ keyPurposes: purposes }).toSchema());
}

export function octetString(value: Buffer): Buffer {
  return toDer(new asn1js.OctetString({ valueHex: new Uint8Array(value) }));
}

export function authorityKeyId(keyId: Buffer): Buffer {
  const aki = new pkijs.AuthorityKeyIdentifier({ keyIdentifier: new asn1js.OctetString({ valueHex: new Uint8Array(keyId) }) });
  return toDer(aki.toSchema());
}

/** SubjectAltName with one rfc822Name ([1] IA5String) or URI ([6] IA5String). */
export function subjectAltName(san: { type: 'email' | 'uri'; value: string }): Buffer {
  const gn = new pkijs.GeneralName({ type: san.type === 'email' ? 1 : 6, value: san.value });
  return toDer(new pkijs.GeneralNames({ names: [gn] }).toSchema());
}

export function utf8String(value: string): Buffer {
  return toDer(new asn1js.Utf8String({ value }));
}

export function asn1Null(): Buffer {
  return toDer(new asn1js.Null());
}

/** The SubjectKeyIdentifier extension value of a DER certificate, if it has one. */
export function certificateSubjectKeyId(der: Buffer): Buffer | undefined {
  const cert = new pkijs.Certificate({ schema: fromDer(der, 'certificate') });
  const ext = cert.extensions?.find((e) => e.extnID === OID.subjectKeyIdentifier);
  if (!ext) return undefined;
  const inner = fromDer(Buffer.from(ext.extnValue.valueBlock.valueHexView), 'SubjectKeyIdentifier') as asn1js.OctetString;
  return Buffer.from(inner.valueBlock.valueHexView);
}

/** Certificate validity as Dates. */
export function certificateValidity(der: Buffer): { notBefore: Date; notAfter: Date } {
  const cert = new pkijs.Certificate({ schema: fromDer(der, 'certificate') });
  return { notBefore: cert.notBefore.value, notAfter: cert.notAfter.value };
}
