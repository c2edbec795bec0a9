/**
 * What the sandbox's two certificate authorities (Fulcio's CA in fulcio/ca.ts, the TSA in
 * tsa/ca.ts) have in common: fresh EC keys, a ten-year validity, a self-signed root, PEM
 * files, and the start-up check that the files on disk belong together.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { GitsealError } from '../gitseal/errors.js';
import { decodePem, encodePem } from '../gitseal/pem.js';
import { certificateParts } from '../ct/precert.js';
import {
  authorityKeyId,
  basicConstraints,
  buildCertificate,
  keyUsage,
  octetString,
  OID,
  randomSerial,
  subjectKeyId,
  wholeSeconds,
  type ExtensionSpec,
  type NameSpec,
} from '../fulcio/x509-build.js';

const CA_LIFETIME_MS = 10 * 365 * 24 * 3600 * 1000;

// RFC 5280 §4.2.1.3 KeyUsage bit numbers.
export const KU_DIGITAL_SIGNATURE = 0;
export const KU_KEY_CERT_SIGN = 5;
export const KU_CRL_SIGN = 6;

export interface EcKey {
  privateKey: KeyObject;
  /** DER SubjectPublicKeyInfo. */
  spki: Buffer;
}

export function newEcKey(namedCurve: 'P-256' | 'P-384'): EcKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
  return { privateKey, spki: publicKey.export({ type: 'spki', format: 'der' }) };
}

/** A CA made at `now`: from the whole second (trusted roots carry RFC 3339 times), ten years. */
export function caValidity(now: Date): { notBefore: Date; notAfter: Date } {
  const notBefore = wholeSeconds(now);
  return { notBefore, notAfter: new Date(notBefore.getTime() + CA_LIFETIME_MS) };
}

/**
 * A self-signed root certificate: critical keyCertSign+cRLSign usage, critical CA basic
 * constraints with `pathLen`, its subject key id, and (when `authorityKeyId` is set, as
 * public-good's Fulcio root has it) the same id as authority key id.
 */
export function selfSignedRoot(o: { name: NameSpec; key: EcKey; validity: { notBefore: Date; notAfter: Date }; pathLen: number; authorityKeyId: boolean }): Buffer {
  const ski = subjectKeyId(o.key.spki);
  return buildCertificate(
    {
      serial: randomSerial(),
      issuer: o.name,
      subject: o.name,
      ...o.validity,
      spki: o.key.spki,
      extensions: [
        { oid: OID.keyUsage, critical: true, value: keyUsage([KU_KEY_CERT_SIGN, KU_CRL_SIGN]) },
        { oid: OID.basicConstraints, critical: true, value: basicConstraints(true, o.pathLen) },
        { oid: OID.subjectKeyIdentifier, value: octetString(ski) },
        ...(o.authorityKeyId ? [{ oid: OID.authorityKeyIdentifier, value: authorityKeyId(ski) }] : []),
      ],
    },
    o.key.privateKey,
  );
}

/**
 * A certificate for `subject` (key `key`) signed by the root `issuer`: `extensions`, then the
 * subject key id and the root's key id as authority key id (RFC 5280 §4.2.1.1, §4.2.1.2).
 */
export function issueFromRoot(o: {
  issuer: { name: NameSpec; key: EcKey };
  subject: NameSpec;
  key: EcKey;
  validity: { notBefore: Date; notAfter: Date };
  extensions: ExtensionSpec[];
}): Buffer {
  return buildCertificate(
    {
      serial: randomSerial(),
      issuer: o.issuer.name,
      subject: o.subject,
      ...o.validity,
      spki: o.key.spki,
      extensions: [
        ...o.extensions,
        { oid: OID.subjectKeyIdentifier, value: octetString(subjectKeyId(o.key.spki)) },
        { oid: OID.authorityKeyIdentifier, value: authorityKeyId(subjectKeyId(o.issuer.key.spki)) },
      ],
    },
    o.issuer.key.privateKey,
  );
}

/** PKCS#8 PEM of a private key, as the sandbox stores it (0600). */
export function privateKeyPem(key: KeyObject): Buffer {
  return Buffer.from(key.export({ type: 'pkcs8', format: 'pem' }));
}

export function certificatePem(der: Buffer): Buffer {
  return Buffer.from(encodePem('CERTIFICATE', der));
}

/**
 * Decode a root certificate, a certificate it issued and that certificate's private key from
 * the PEM files of a CA directory. A restart must find matching files (the key is the one in
 * the certificate, the certificate is signed by the root); otherwise a CONFIG error naming
 * `what` (CA, TSA) and `dir`.
 */
export function openIssuedPair(pems: { root: Buffer; cert: Buffer; key: Buffer }, what: string, dir: string): { root: Buffer; cert: Buffer; key: KeyObject } {
  const root = decodePem(pems.root.toString('utf8'), 'CERTIFICATE');
  const cert = decodePem(pems.cert.toString('utf8'), 'CERTIFICATE');
  const key = createPrivateKey(pems.key);
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const rootKey = createPublicKey({ key: certificateParts(root).spki, format: 'der', type: 'spki' });
  if (!certificateParts(cert).spki.equals(spki) || !new X509Certificate(cert).verify(rootKey)) {
    throw new GitsealError('CONFIG', `the sandbox ${what} files in ${dir} do not belong together; remove the directory to start afresh`);
  }
  return { root, cert, key };
}
