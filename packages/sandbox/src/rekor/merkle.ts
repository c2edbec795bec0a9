/**
 * RFC 6962 §2.1 Merkle tree hashing (same algorithms as RFC 9162 §2.1), for
 * the sandbox log. Leaves are kept as their hashes; complete, aligned
 * subtrees are cached level by level as leaves are appended, so the root,
 * inclusion proofs and consistency proofs for any tree size cost O(log n)
 * cache lookups instead of rehashing the log.
 */
import { createHash } from 'node:crypto';

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** RFC 6962 §2.1: MTH({d}) = SHA-256(0x00 || d). */
export function leafHash(data: Buffer): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(data).digest();
}

/** RFC 6962 §2.1: interior node SHA-256(0x01 || left || right). */
export function nodeHash(left: Buffer, right: Buffer): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/** The hash of an empty tree, MTH({}) = SHA-256(). */
export const EMPTY_ROOT = createHash('sha256').digest();

/** Largest power of two strictly smaller than n (n ≥ 2): the RFC's split point k. */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

export class MerkleTree {
  /** levels[h][i] = hash of the complete subtree of 2^h leaves starting at leaf i·2^h. */
  private readonly levels: Buffer[][] = [[]];

  constructor(leafHashes: Iterable<Buffer> = []) {
    for (const h of leafHashes) this.appendLeafHash(h);
  }

  get size(): number {
    return this.levels[0].length;
  }

  leafHashAt(index: number): Buffer {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) throw new RangeError(`no leaf ${index}`);
    return this.levels[0][index];
  }

  /** Append one leaf hash; completes whichever subtrees it closes. */
  appendLeafHash(h: Buffer): number {
    if (h.length !== 32) throw new RangeError('leaf hash must be 32 bytes');
    const index = this.levels[0].length;
    this.levels[0].push(h);
    let level = 0;
    let i = index;
    // A node at `level` closes its parent when it is a right child (odd position).
    while (i % 2 === 1) {
      const row = this.levels[level];
      const parent = nodeHash(row[i - 1], row[i]);
      level++;
      if (!this.levels[level]) this.levels[level] = [];
      this.levels[level].push(parent);
      i = (i - 1) / 2;
    }
    return index;
  }

  /** MTH(D[start:end]) for a range the RFC recursion can produce. */
  private subtree(start: number, end: number): Buffer {
    const n = end - start;
    if (n === 0) return EMPTY_ROOT;
    // Power-of-two sizes at aligned offsets are cached.
    if ((n & (n - 1)) === 0 && start % n === 0) {
      const level = Math.log2(n);
      return this.levels[level][start / n];
    }
    const k = split(n);
    return nodeHash(this.subtree(start, start + k), this.subtree(start + k, end));
  }

  private checkSize(size: number): void {
    if (!Number.isInteger(size) || size < 0 || size > this.size) {
      throw new RangeError(`tree size ${size} is outside 0..${this.size}`);
    }
  }

  /** Root hash of the first `size` leaves (default: the whole tree). */
  root(size = this.size): Buffer {
    this.checkSize(size);
    return this.subtree(0, size);
  }

  /**
   * RFC 6962 §2.1.1 audit path PATH(m, D[0:size]), ordered leaf to root
   * (the order Rekor and RFC 9162 §2.1.3.1 verifiers consume).
   */
  inclusionProof(index: number, size = this.size): Buffer[] {
    this.checkSize(size);
    if (!Number.isInteger(index) || index < 0 || index >= size) throw new RangeError(`leaf ${index} is not in a tree of size ${size}`);
    const path: Buffer[] = [];
    // Walk down from the root, collecting siblings; reversed at the end.
    let start = 0;
    let end = size;
    while (end - start > 1) {
      const k = split(end - start);
      if (index < start + k) {
        path.push(this.subtree(start + k, end));
        end = start + k;
      } else {
        path.push(this.subtree(start, start + k));
        start += k;
      }
    }
    return path.reverse();
  }

  /**
   * RFC 6962 §2.1.2 consistency proof PROOF(m, D[0:n]) between an older
   * tree of `first` leaves and a newer one of `second`, leaf to root.
   */
  consistencyProof(first: number, second = this.size): Buffer[] {
    this.checkSize(second);
    if (!Number.isInteger(first) || first < 0 || first > second) throw new RangeError(`cannot prove size ${first} against size ${second}`);
    if (first === 0 || first === second) return [];
    const out: Buffer[] = [];
    // SUBPROOF(m, D[start:end], b), iteratively; siblings collected top-down.
    let start = 0;
    let end = second;
    let m = first;
    let complete = true; // b in the RFC: whether D[start:start+m] is a subtree of the old tree's root
    while (m !== end - start) {
      const n = end - start;
      const k = split(n);
      if (m <= k) {
        out.push(this.subtree(start + k, end));
        end = start + k;
      } else {
        out.push(this.subtree(start, start + k));
        start += k;
        m -= k;
        complete = false;
      }
    }
    // m == n: the old tree's subtree itself is only needed when it is not the old root.
    if (!complete) out.push(this.subtree(start, end));
    return out.reverse();
  }
}
