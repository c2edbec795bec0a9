/**
 * Rekor v1 signed entry timestamp (the "inclusion promise"): the log's
 * signature over the RFC 8785 canonical JSON of
 * {body, integratedTime, logID, logIndex} (rekor pkg/api/entries.go signEntry).
 * This is the only source of a trustworthy integrated time for v1 entries.
 */
import { verify } from 'node:crypto';
import { GitsealError } from '../errors.js';
import { inValidity, type TransparencyLogKey, type TrustedRoot } from '../trust/trusted-root.js';
import { publicKeyFromSpki } from '../x509/signature.js';

export interface SetInput {
  /** Canonicalized entry body bytes (the base64 of these is signed). */
  body: Buffer;
  integratedTime: bigint;
  logId: Buffer;
  /** The global log index. */
  logIndex: bigint;
  signedEntryTimestamp: Buffer;
}

/**
 * The signed payload: canonicalize({ body, integratedTime, logID, logIndex }) (RFC 8785), written
 * out directly — keys already in order, base64 and hex never escaped, the integers as decimal
 * bigints (test/verify/canonical-fast.test.ts pins it to the generic path byte for byte).
 */
export function setPayload(e: Pick<SetInput, 'body' | 'integratedTime' | 'logId' | 'logIndex'>): Buffer {
  return Buffer.from(`{"body":"${e.body.toString('base64')}","integratedTime":${e.integratedTime},"logID":"${e.logId.toString('hex')}","logIndex":${e.logIndex}}`, 'latin1');
}

/** Verify against a trusted log key with the same logId valid at integratedTime; returns that key. */
export function verifySet(e: SetInput, trust: TrustedRoot): TransparencyLogKey {
  const at = new Date(Number(e.integratedTime) * 1000);
  // An int64 from the protobuf entry can lie outside what a Date holds (±8.64e15 ms).
  if (Number.isNaN(at.getTime())) throw new GitsealError('TLOG', `the log entry's integrated time ${String(e.integratedTime).slice(0, 24)} is out of range`);
  const candidates = trust.tlogs.filter((t) => t.logId.equals(e.logId));
  if (candidates.length === 0) throw new GitsealError('TLOG', `the log entry comes from an unknown transparency log (id ${e.logId.toString('hex').slice(0, 16)}…)`);
  const keys = candidates.filter((t) => inValidity(t.validFor, at));
  if (keys.length === 0) throw new GitsealError('TLOG', `the transparency log key was not valid at the entry's integrated time ${at.toISOString()}`);
  const payload = setPayload(e);
  for (const k of keys) {
    const key = publicKeyFromSpki(k.publicKey);
    let ok = false;
    try {
      ok = verify(key.asymmetricKeyType === 'ed25519' ? null : 'sha256', payload, key, e.signedEntryTimestamp);
    } catch {
      ok = false;
    }
    if (ok) return k;
  }
  throw new GitsealError('TLOG', 'the Rekor signed entry timestamp does not verify (log index, time or body altered)');
}
