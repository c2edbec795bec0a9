// RFC 6962 §2.1 Merkle tree: the sandbox log's incremental tree against a
// naive transcription of the RFC's recursive definitions, and against the
// RFC 9162 §2.1.3.2 / §2.1.4.2 verification algorithms.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { leafHash, MerkleTree, nodeHash } from '../../packages/sandbox/src/rekor/merkle.js';
import { verifyConsistency, verifyInclusion } from './rfc9162.js';

const sha = (...p: Buffer[]) => createHash('sha256').update(Buffer.concat(p)).digest();
const leafData = (i: number) => Buffer.from(`leaf ${i} ` + 'x'.repeat(i % 7), 'utf8');

// --- naive RFC 6962 §2.1 definitions, written straight from the text -------
function k(n: number): number {
  let p = 1;
  while (p * 2 < n) p *= 2;
  return p;
}
function mth(d: Buffer[]): Buffer {
  if (d.length === 0) return sha();
  if (d.length === 1) return sha(Buffer.from([0]), d[0]);
  const s = k(d.length);
  return sha(Buffer.from([1]), mth(d.slice(0, s)), mth(d.slice(s)));
}
function path(m: number, d: Buffer[]): Buffer[] {
  if (d.length === 1) return [];
  const s = k(d.length);
  return m < s ? [...path(m, d.slice(0, s)), mth(d.slice(s))] : [...path(m - s, d.slice(s)), mth(d.slice(0, s))];
}
function subproof(m: number, d: Buffer[], b: boolean): Buffer[] {
  if (m === d.length) return b ? [] : [mth(d)];
  const s = k(d.length);
  return m <= s ? [...subproof(m, d.slice(0, s), b), mth(d.slice(s))] : [...subproof(m - s, d.slice(s), false), mth(d.slice(0, s))];
}

const hex = (bs: Buffer[]) => bs.map((b) => b.toString('hex'));

describe('RFC 6962 hashing', () => {
  it('uses the 0x00 leaf and 0x01 node prefixes', () => {
    expect(leafHash(Buffer.from('a'))).toEqual(sha(Buffer.from([0]), Buffer.from('a')));
    const l = Buffer.alloc(32, 1);
    const r = Buffer.alloc(32, 2);
    expect(nodeHash(l, r)).toEqual(sha(Buffer.from([1]), l, r));
  });

  it('has the RFC 6962 empty-tree root and the well-known root of the RFC test vector leaves', () => {
    expect(new MerkleTree().root().toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    // Leaves of the RFC 6962 / certificate-transparency reference test tree (8 leaves);
    // root value from transparency-dev/merkle testonly/constants.go.
    const leaves = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) => Buffer.from(h, 'hex'));
    const t = new MerkleTree(leaves.map(leafHash));
    expect(t.root().toString('hex')).toBe('5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328');
    expect(t.root(1).toString('hex')).toBe('6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
  });
});

describe('MerkleTree against the naive RFC definitions, sizes 1..70', () => {
  const data = Array.from({ length: 70 }, (_, i) => leafData(i));
  const tree = new MerkleTree();
  for (const d of data) tree.appendLeafHash(leafHash(d));

  it('computes every historical root', () => {
    for (let n = 1; n <= 70; n++) expect(tree.root(n).toString('hex'), `size ${n}`).toBe(mth(data.slice(0, n)).toString('hex'));
  });

  it('computes every inclusion proof, and the proofs verify', () => {
    for (let n = 1; n <= 70; n++) {
      const root = mth(data.slice(0, n));
      for (let m = 0; m < n; m++) {
        const proof = tree.inclusionProof(m, n);
        expect(hex(proof), `PATH(${m}, D[${n}])`).toEqual(hex(path(m, data.slice(0, n))));
        expect(verifyInclusion(m, n, leafHash(data[m]), proof, root)).toBe(true);
      }
    }
  });

  it('computes every consistency proof, and the proofs verify', () => {
    for (let n = 1; n <= 70; n++) {
      for (let m = 1; m <= n; m++) {
        const proof = tree.consistencyProof(m, n);
        expect(hex(proof), `PROOF(${m}, D[${n}])`).toEqual(hex(subproof(m, data.slice(0, n), true)));
        expect(verifyConsistency(m, n, mth(data.slice(0, m)), mth(data.slice(0, n)), proof), `${m}→${n}`).toBe(true);
      }
    }
  });

  it('gives proofs that fail for the wrong leaf or a tampered path', () => {
    const root = tree.root(70);
    const proof = tree.inclusionProof(37, 70);
    expect(verifyInclusion(37, 70, leafHash(data[38]), proof, root)).toBe(false);
    const bad = proof.map((b) => Buffer.from(b));
    bad[2][0] ^= 1;
    expect(verifyInclusion(37, 70, leafHash(data[37]), bad, root)).toBe(false);
    const cons = tree.consistencyProof(20, 70);
    expect(verifyConsistency(21, 70, tree.root(21), root, cons)).toBe(false);
  });

  it('rejects indexes and sizes outside the tree', () => {
    expect(() => tree.inclusionProof(70, 70)).toThrow(RangeError);
    expect(() => tree.inclusionProof(0, 71)).toThrow(RangeError);
    expect(() => tree.consistencyProof(71, 70)).toThrow(RangeError);
    expect(() => tree.root(71)).toThrow(RangeError);
  });

  it('builds a large tree incrementally with proofs that still verify', () => {
    const big = new MerkleTree();
    const leaves: Buffer[] = [];
    for (let i = 0; i < 5000; i++) {
      const h = leafHash(Buffer.from(String(i)));
      leaves.push(h);
      big.appendLeafHash(h);
    }
    for (const [m, n] of [[0, 5000], [4999, 5000], [2047, 2049], [1234, 4321]]) {
      expect(verifyInclusion(m, n, leaves[m], big.inclusionProof(m, n), big.root(n))).toBe(true);
    }
    expect(verifyConsistency(1000, 5000, big.root(1000), big.root(5000), big.consistencyProof(1000, 5000))).toBe(true);
  });
});
