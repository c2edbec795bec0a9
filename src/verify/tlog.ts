/**
 * Transparency-log evidence for a signature: the embedded Rekor entry must be
 * for exactly this signature (we rebuild the body; the embedded entry has none),
 * its signed entry timestamp must verify (the only trusted source of time for
 * v1), and its inclusion proof must reach the root of a checkpoint signed by
 * the same trusted log.
 */
import { GitsealError } from '../errors.js';
import type { TransparencyLogEntry } from '../rekor/tle.js';
import { canonicalize } from '../util/canonical-json.js';
import { type TransparencyLogKey, type TrustedRoot } from '../trust/trusted-root.js';
import { verifyCheckpoint } from './checkpoint.js';
import { leafHash, verifyInclusion } from './merkle.js';
import { verifySet } from './set.js';

export interface TlogVerification {
  log: TransparencyLogKey;
  /** Global log index. */
  logIndex: bigint;
  /** From the verified SET; undefined for Rekor v2 entries (time must come from a TSA). */
  integratedTime?: Date;
  kind: string;
  version: string;
  /** Tree size of the verified checkpoint. */
  treeSize: bigint;
}

/** hashedrekord v0.0.2 body (rekor-tiles) as protobuf JSON, canonicalized. */
export function hashedRekordV002Body(digest: Buffer, signature: Buffer, leafDer: Buffer): Buffer {
  return Buffer.from(
    canonicalize({
      apiVersion: '0.0.2',
      kind: 'hashedrekord',
      spec: {
        hashedRekordV002: {
          data: { algorithm: 'SHA2_256', digest: digest.toString('base64') },
          signature: {
            content: signature.toString('base64'),
            verifier: { keyDetails: 'PKIX_ECDSA_P256_SHA_256', x509Certificate: { rawBytes: leafDer.toString('base64') } },
          },
        },
      },
    }),
    'utf8',
  );
}

function proofAgainstCheckpoint(entry: TransparencyLogEntry, body: Buffer, log: TransparencyLogKey, c2sp: boolean): bigint {
  const p = entry.inclusionProof;
  if (!p) throw new GitsealError('TLOG', 'the log entry has no inclusion proof');
  if (!p.checkpoint) throw new GitsealError('TLOG', 'the inclusion proof has no checkpoint');
  // Rekor v2's checkpoint is the only signed statement about the entry: it must be this log's
  // (origin and key name, C2SP tlog-checkpoint). A v1 entry is bound to its log by the SET; v1
  // origins ("<hostname> - <tree id>") name a shard by the server's configured hostname, which
  // the trusted root does not give, so they are not compared (nor by sigstore-go or sigstore-js).
  const cp = verifyCheckpoint(p.checkpoint, log, { c2sp });
  // The proof's own root and size are unauthenticated; they must agree with the signed checkpoint.
  if (p.treeSize !== 0n && p.treeSize !== cp.size) throw new GitsealError('TLOG', 'the inclusion proof is for a different tree size than its checkpoint');
  if (p.rootHash.length && !p.rootHash.equals(cp.rootHash)) throw new GitsealError('TLOG', 'the inclusion proof root differs from its checkpoint');
  // inclusionProof.logIndex is shard-local (v1), unlike the global entry.logIndex the SET signs.
  verifyInclusion(p.logIndex, cp.size, leafHash(body), p.hashes, cp.rootHash);
  return cp.size;
}

/**
 * Verify `entry` for the canonical `body` it must log. Throws GitsealError('TLOG')
 * naming the failed part.
 */
export function verifyTlogEntry(entry: TransparencyLogEntry, body: Buffer, trust: TrustedRoot): TlogVerification {
  if (entry.kind !== 'hashedrekord') throw new GitsealError('TLOG', `unsupported log entry kind ${JSON.stringify(entry.kind.slice(0, 40))}`);
  if (entry.version === '0.0.1') {
    if (!entry.signedEntryTimestamp || entry.signedEntryTimestamp.length === 0) {
      throw new GitsealError(
        'TLOG',
        'the hashedrekord v0.0.1 log entry has no signed entry timestamp, so its time cannot be trusted (Rekor v2 entries are v0.0.2 and need an RFC 3161 timestamp)',
      );
    }
    const log = verifySet(
      {
        body,
        integratedTime: entry.integratedTime,
        logId: entry.logId,
        logIndex: entry.logIndex,
        signedEntryTimestamp: entry.signedEntryTimestamp,
      },
      trust,
    );
    const treeSize = proofAgainstCheckpoint(entry, body, log, false);
    return {
      log,
      logIndex: entry.logIndex,
      integratedTime: new Date(Number(entry.integratedTime) * 1000),
      kind: entry.kind,
      version: entry.version,
      treeSize,
    };
  }
  if (entry.version === '0.0.2') {
    // No SET signs a v2 entry: its log_index field is the entry's own claim. rekor-tiles is one
    // tree, so the global index is the proof's index, which the Merkle path authenticates; an
    // entry naming another index would be shown as a fact nothing proves.
    const p = entry.inclusionProof;
    if (p && p.logIndex !== entry.logIndex) {
      throw new GitsealError('TLOG', `the log entry claims log index ${entry.logIndex} but its inclusion proof is for index ${p.logIndex}`);
    }
    const logs = trust.tlogs.filter((t) => t.logId.equals(entry.logId));
    if (logs.length === 0) throw new GitsealError('TLOG', 'the log entry comes from an unknown transparency log');
    let lastErr: unknown;
    for (const log of logs) {
      try {
        const treeSize = proofAgainstCheckpoint(entry, body, log, true);
        return { log, logIndex: entry.inclusionProof!.logIndex, kind: entry.kind, version: entry.version, treeSize };
      } catch (e) {
        lastErr = e;
      }
    }
    throw lastErr;
  }
  throw new GitsealError('TLOG', `unsupported hashedrekord version ${JSON.stringify(entry.version.slice(0, 40))}`);
}
