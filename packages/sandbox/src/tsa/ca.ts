/**
 * The sandbox timestamp authority's keys and certificates, persisted in
 * DIR/tsa/ (0600 files, 0700 directory): a self-signed P-384 root and a P-256
 * signing leaf whose only extended key usage is id-kp-timeStamping, marked
 * critical as RFC 3161 §2.3 requires.
 */
import type { KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { certificateValidity, extKeyUsage, keyUsage, OID, type NameSpec } from '../fulcio/x509-build.js';
import { caValidity, certificatePem, issueFromRoot, KU_DIGITAL_SIGNATURE, newEcKey, openIssuedPair, privateKeyPem, selfSignedRoot } from '../shared/ca-keys.js';
import { loadOrCreateFiles, writePrivateFile } from '../shared/private-files.js';

export const TSA_ROOT_NAME: NameSpec = { organization: 'gitseal-sandbox', commonName: 'sandbox-tsa-root' };
export const TSA_LEAF_NAME: NameSpec = { organization: 'gitseal-sandbox', commonName: 'sandbox-tsa' };
export const OID_TIME_STAMPING = '1.3.6.1.5.5.7.3.8';

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
  const files = loadOrCreateFiles(dir, 'tsa', TSA_FILES, () => createTsaFiles(dir, now));
  const { root, cert: leaf, key: leafKey } = openIssuedPair({ root: files.rootPem, cert: files.leafPem, key: files.leafKeyPem }, 'TSA', dir);
  return { leaf, root, leafKey, createdAt: certificateValidity(root).notBefore };
}

/** The files the TSA needs at start-up; root.pem, written last, marks the set as complete. */
const TSA_FILES = { rootPem: 'root.pem', leafKeyPem: 'leaf.key', leafPem: 'leaf.pem' };

function createTsaFiles(dir: string, now: Date): Record<keyof typeof TSA_FILES, Buffer> {
  const validity = caValidity(now);
  const rootKey = newEcKey('P-384');
  const leafKey = newEcKey('P-256');
  const root = selfSignedRoot({ name: TSA_ROOT_NAME, key: rootKey, validity, pathLen: 0, authorityKeyId: false });
  const leaf = issueFromRoot({
    issuer: { name: TSA_ROOT_NAME, key: rootKey },
    subject: TSA_LEAF_NAME,
    key: leafKey,
    validity,
    extensions: [
      { oid: OID.keyUsage, critical: true, value: keyUsage([KU_DIGITAL_SIGNATURE]) },
      // RFC 3161 §2.3: exactly one EKU, id-kp-timeStamping, critical.
      { oid: OID.extKeyUsage, critical: true, value: extKeyUsage([OID_TIME_STAMPING]) },
    ],
  });
  const out = {
    rootPem: certificatePem(root),
    leafKeyPem: privateKeyPem(leafKey.privateKey),
    leafPem: certificatePem(leaf),
  };
  // The root key signs nothing after this; keep it anyway so the CA can be inspected or extended.
  writePrivateFile(dir, 'root.key', privateKeyPem(rootKey.privateKey));
  writePrivateFile(dir, TSA_FILES.leafKeyPem, out.leafKeyPem);
  writePrivateFile(dir, TSA_FILES.leafPem, out.leafPem);
  writePrivateFile(dir, TSA_FILES.rootPem, out.rootPem); // last: marks the TSA as complete
  return out;
}

export const tsaDir = (sandboxDir: string) => join(sandboxDir, 'tsa');
