/**
 * The sandbox log's identity: an ECDSA P-256 signing key (PKCS#8, 0600), the
 * log ID Rekor v1 publishes (SHA-256 of the DER SubjectPublicKeyInfo) and a
 * random Trillian-style tree ID, persisted so a restart on the same
 * directory serves the same log.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './files.js';

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

interface LogMeta {
  treeId: string;
  createdAt: string;
}

/** ECDSA P-256 with SHA-256, DER signature (what SETs and checkpoints carry). */
export function signWithLogKey(id: LogIdentity, data: Buffer): Buffer {
  return sign('sha256', data, id.privateKey);
}

export function loadOrCreateLogIdentity(dir: string, now = new Date()): LogIdentity {
  const keyPath = join(dir, 'key.pem');
  const metaPath = join(dir, 'log.json');
  let privateKey: KeyObject;
  let meta: LogMeta;
  if (existsSync(keyPath) && existsSync(metaPath)) {
    privateKey = createPrivateKey(readFileSync(keyPath));
    meta = JSON.parse(readFileSync(metaPath, 'utf8')) as LogMeta;
    if (!/^[0-9]+$/.test(meta.treeId) || Number.isNaN(Date.parse(meta.createdAt))) {
      throw new Error(`${metaPath} is damaged`);
    }
  } else {
    ({ privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' }));
    // Whole seconds: trusted roots carry RFC 3339 times, and SETs second-resolution integratedTime.
    const createdAt = new Date(Math.floor(now.getTime() / 1000) * 1000 - 60_000);
    meta = { treeId: (randomBytes(8).readBigUInt64BE() >> 1n || 1n).toString(), createdAt: createdAt.toISOString() };
    writeFileAtomic(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    writeFileAtomic(metaPath, JSON.stringify(meta, null, 2) + '\n');
  }
  const publicKeyDer = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  return {
    privateKey,
    publicKeyDer,
    logId: createHash('sha256').update(publicKeyDer).digest(),
    treeId: BigInt(meta.treeId),
    createdAt: new Date(meta.createdAt),
  };
}
