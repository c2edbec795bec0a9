/**
 * The sandbox timestamp authority's keys and certificates, persisted in
 * DIR/tsa/ (0600 files, 0700 directory): a self-signed P-384 root and a P-256
 * signing leaf whose only extended key usage is id-kp-timeStamping, marked
 * critical as RFC 3161 §2.3 requires.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { GitsealError } from '../../errors.js';
import { decodePem, encodePem } from '../../util/pem.js';
import { parseCertificate } from '../../x509/certificate.js';
import { verifyIssuedBy } from '../../x509/signature.js';
import { ensurePrivateDir, readIfExists, withDirLock, writePrivateFile } from '../ct/private-files.js';
import {
  authorityKeyId,
  basicConstraints,
  buildCertificate,
  extKeyUsage,
  keyUsage,
  octetString,
  OID,
  randomSerial,
  subjectKeyId,
  wholeSeconds,
  type NameSpec,
} from '../fulcio/x509-build.js';

export const TSA_ROOT_NAME: NameSpec = { organization: 'gitseal-sandbox', commonName: 'sandbox-tsa-root' };
export const TSA_LEAF_NAME: NameSpec = { organization: 'gitseal-sandbox', commonName: 'sandbox-tsa' };
export const OID_TIME_STAMPING = '1.3.6.1.5.5.7.3.8';
const LIFETIME_MS = 10 * 365 * 24 * 3600 * 1000;

export interface TsaKeys {
  /** DER certificates. */
  leaf: Buffer;
  root: Buffer;
  leafKey: KeyObject;
  /** The root's notBefore: the start of the TSA's validity in a trusted root. */
  createdAt: Date;
}

/** Open (creating on first use) the TSA in `dir` (normally DIR/tsa). */
export function openTsaKeys(dir: string, now: Date = new Date()): TsaKeys {
  ensurePrivateDir(dir);
  const files = withDirLock(dir, 'tsa', () => {
    const [rootPem, leafKeyPem, leafPem] = ['root.pem', 'leaf.key', 'leaf.pem'].map((f) => readIfExists(dir, f));
    if (rootPem && leafKeyPem && leafPem) return { rootPem, leafKeyPem, leafPem };
    return createTsaFiles(dir, now);
  });
  const root = decodePem(files.rootPem.toString('utf8'), 'CERTIFICATE');
  const leaf = decodePem(files.leafPem.toString('utf8'), 'CERTIFICATE');
  const leafKey = createPrivateKey(files.leafKeyPem);
  const leafCert = parseCertificate(leaf);
  const rootCert = parseCertificate(root);
  if (!leafCert.spki.equals(createPublicKey(leafKey).export({ type: 'spki', format: 'der' })) || !verifyIssuedBy(leafCert, rootCert)) {
    throw new GitsealError('CONFIG', `the sandbox TSA files in ${dir} do not belong together; remove the directory to start afresh`);
  }
  return { leaf, root, leafKey, createdAt: rootCert.notBefore };
}

function createTsaFiles(dir: string, now: Date) {
  const notBefore = wholeSeconds(now);
  const notAfter = new Date(notBefore.getTime() + LIFETIME_MS);
  const rootKey = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const leafKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rootSpki = rootKey.publicKey.export({ type: 'spki', format: 'der' });
  const leafSpki = leafKey.publicKey.export({ type: 'spki', format: 'der' });
  const rootSki = subjectKeyId(rootSpki);
  const root = buildCertificate(
    {
      serial: randomSerial(),
      issuer: TSA_ROOT_NAME,
      subject: TSA_ROOT_NAME,
      notBefore,
      notAfter,
      spki: rootSpki,
      extensions: [
        { oid: OID.keyUsage, critical: true, value: keyUsage([5, 6]) }, // keyCertSign, cRLSign
        { oid: OID.basicConstraints, critical: true, value: basicConstraints(true, 0) },
        { oid: OID.subjectKeyIdentifier, value: octetString(rootSki) },
      ],
    },
    rootKey.privateKey,
  );
  const leaf = buildCertificate(
    {
      serial: randomSerial(),
      issuer: TSA_ROOT_NAME,
      subject: TSA_LEAF_NAME,
      notBefore,
      notAfter,
      spki: leafSpki,
      extensions: [
        { oid: OID.keyUsage, critical: true, value: keyUsage([0]) }, // digitalSignature
        // RFC 3161 §2.3: exactly one EKU, id-kp-timeStamping, critical.
        { oid: OID.extKeyUsage, critical: true, value: extKeyUsage([OID_TIME_STAMPING]) },
        { oid: OID.subjectKeyIdentifier, value: octetString(subjectKeyId(leafSpki)) },
        { oid: OID.authorityKeyIdentifier, value: authorityKeyId(rootSki) },
      ],
    },
    rootKey.privateKey,
  );
  const out = {
    rootPem: Buffer.from(encodePem('CERTIFICATE', root)),
    leafKeyPem: Buffer.from(leafKey.privateKey.export({ type: 'pkcs8', format: 'pem' })),
    leafPem: Buffer.from(encodePem('CERTIFICATE', leaf)),
  };
  // The root key signs nothing after this; keep it anyway so the CA can be inspected or extended.
  writePrivateFile(dir, 'root.key', Buffer.from(rootKey.privateKey.export({ type: 'pkcs8', format: 'pem' })));
  writePrivateFile(dir, 'leaf.key', out.leafKeyPem);
  writePrivateFile(dir, 'leaf.pem', out.leafPem);
  writePrivateFile(dir, 'root.pem', out.rootPem); // last: marks the TSA as complete
  return out;
}

export const tsaDir = (sandboxDir: string) => join(sandboxDir, 'tsa');
