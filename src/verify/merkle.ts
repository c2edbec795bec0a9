/**
 * RFC 6962 §2.1 Merkle audit paths (as refined by RFC 9162 §2.1.3.2):
 * leaf = SHA-256(0x00 || entry), node = SHA-256(0x01 || left || right).
 * Indices are bigint: Rekor v2 uses the full uint64 range.
 */
import { hash } from 'node:crypto';
import { GitsealError } from '../errors.js';

export function leafHash(entry: Buffer): Buffer {
  const b = Buffer.allocUnsafe(1 + entry.length);
  b[0] = 0;
  entry.copy(b, 1);
  return hash('sha256', b, 'buffer');
}

/** 0x01 || left || right, written into one scratch buffer: one-shot hashing, no Hash object per node. */
const nodeInput = Buffer.alloc(65, 1);

function nodeHash(l: Buffer, r: Buffer): Buffer {
  // The result is a fresh buffer; the scratch input is only read by hash().
  if (l.length !== 32 || r.length !== 32) return hash('sha256', Buffer.concat([nodeInput.subarray(0, 1), l, r]), 'buffer');
  l.copy(nodeInput, 1);
  r.copy(nodeInput, 33);
  return hash('sha256', nodeInput, 'buffer');
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

function popCount(n: bigint): number {
  let c = 0;
  for (const ch of n.toString(2)) if (ch === '1') c++;
  return c;
}

/** The root an inclusion proof for `leaf` at `index` in a tree of `size` implies. */
export function rootFromInclusionProof(index: bigint, size: bigint, leaf: Buffer, proof: Buffer[]): Buffer {
  if (index < 0n || index >= size) throw new GitsealError('TLOG', `inclusion proof index ${index} is outside the tree of size ${size}`);
  const inner = bitLength(index ^ (size - 1n));
  const border = popCount(index >> BigInt(inner));
  if (proof.length !== inner + border) throw new GitsealError('TLOG', 'inclusion proof has the wrong number of hashes');
  if (proof.some((h) => h.length !== 32)) throw new GitsealError('TLOG', 'inclusion proof hash is not 32 bytes');
  let h = leaf;
  for (let i = 0; i < inner; i++) {
    h = (index >> BigInt(i)) & 1n ? nodeHash(proof[i], h) : nodeHash(h, proof[i]);
  }
  for (let i = inner; i < proof.length; i++) h = nodeHash(proof[i], h);
  return h;
}

/** Throws unless the proof takes `leaf` to `root`. */
export function verifyInclusion(index: bigint, size: bigint, leaf: Buffer, proof: Buffer[], root: Buffer): void {
  const got = rootFromInclusionProof(index, size, leaf, proof);
  if (!got.equals(root)) throw new GitsealError('TLOG', 'the inclusion proof does not lead to the checkpoint\'s root hash');
}
