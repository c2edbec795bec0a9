/**
 * The sandbox v2 log's identity: an Ed25519 key (PKCS#8, 0600, DIR/rekor-v2/)
 * and its C2SP signed-note key id, which the trusted root publishes as the
 * log's `logId` (sigstore-services.md §2.4): for Ed25519,
 * SHA-256(name || 0x0A || 0x01 || 32-byte public key), full length; the
 * first 4 bytes are the key hint on checkpoint signature lines.
 */
import { createHash, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { loadOrCreateLogKey } from '../shared/log-key-files.js';

export interface V2LogIdentity {
  privateKey: KeyObject;
  /** DER SubjectPublicKeyInfo. */
  publicKeyDer: Buffer;
  /** C2SP key name (= checkpoint origin). */
  name: string;
  /** Full SHA-256 C2SP key id. */
  keyId: Buffer;
  createdAt: Date;
}

/** C2SP signed-note key id for an Ed25519 key: signature type 0x01. */
export function ed25519KeyId(name: string, publicKeyDer: Buffer): Buffer {
  const raw = publicKeyDer.subarray(publicKeyDer.length - 32);
  return createHash('sha256').update(Buffer.concat([Buffer.from(name, 'utf8'), Buffer.from([0x0a, 0x01]), raw])).digest();
}

/** Ed25519 over the note bytes (RFC 8032 PureEdDSA: no prehash). */
export function signNote(id: V2LogIdentity, note: Buffer): Buffer {
  return sign(null, note, id.privateKey);
}

export function loadOrCreateV2Identity(dir: string, name: string, now = new Date()): V2LogIdentity {
  const { privateKey, meta } = loadOrCreateLogKey(dir, { now, generate: () => generateKeyPairSync('ed25519').privateKey, meta: (createdAt) => ({ createdAt }) });
  const createdAt = new Date((meta as { createdAt?: string }).createdAt ?? '');
  if (Number.isNaN(createdAt.getTime()) || privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`${dir} is damaged`);
  const publicKeyDer = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  return { privateKey, publicKeyDer, name, keyId: ed25519KeyId(name, publicKeyDer), createdAt };
}
