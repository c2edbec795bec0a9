/**
 * The sandbox log's identity: an ECDSA P-256 signing key (PKCS#8, 0600), the
 * log ID Rekor v1 publishes (SHA-256 of the DER SubjectPublicKeyInfo) and a
 * random Trillian-style tree ID, persisted so a restart on the same
 * directory serves the same log.
 */
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { loadOrCreateLogKey } from '../shared/log-key-files.js';

export interface LogIdentity {
  privateKey: KeyObject;
  /** DER SubjectPublicKeyInfo. */
  publicKeyDer: Buffer;
  /** sha256(publicKeyDer). */
  logId: Buffer;
  /** Positive int63, as Trillian allocates them. */
  treeId: bigint;
  /** When the key was made: the start of its validity in the trusted root. */
  createdAt: Date;
}

/** ECDSA P-256 with SHA-256, DER signature (what SETs and checkpoints carry). */
export function signWithLogKey(id: LogIdentity, data: Buffer): Buffer {
  return sign('sha256', data, id.privateKey);
}

export function loadOrCreateLogIdentity(dir: string, now = new Date()): LogIdentity {
  const { privateKey, meta, metaPath } = loadOrCreateLogKey(dir, {
    now,
    generate: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
    meta: (createdAt) => ({ treeId: (randomBytes(8).readBigUInt64BE() >> 1n || 1n).toString(), createdAt }),
  });
  const { treeId, createdAt } = meta as { treeId: string; createdAt: string };
  if (!/^[0-9]+$/.test(treeId) || Number.isNaN(Date.parse(createdAt))) {
    throw new Error(`${metaPath} is damaged`);
  }
  const publicKeyDer = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  return {
    privateKey,
    publicKeyDer,
    logId: createHash('sha256').update(publicKeyDer).digest(),
    treeId: BigInt(treeId),
    createdAt: new Date(createdAt),
  };
}
