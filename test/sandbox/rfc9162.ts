// RFC 9162 §2.1.3.2 / §2.1.4.2 proof verification, written from the RFC text and
// independently of src/verify/merkle.ts and packages/sandbox/src/rekor/merkle.ts, so the tests
// of the sandbox logs check their proofs with code the services do not share.
import { createHash } from 'node:crypto';

/** RFC 6962 §2.1 interior node hash: SHA-256(0x01 || left || right). */
const node = (l: Buffer, r: Buffer) => createHash('sha256').update(Buffer.from([1])).update(l).update(r).digest();

/** RFC 9162 §2.1.3.2: the root an inclusion proof leads to; throws when the proof has the wrong length. */
export function rootFromInclusion(index: number, size: number, leaf: Buffer, proof: Buffer[]): Buffer {
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) throw new Error('proof too long');
    if (fn % 2 === 1 || fn === sn) {
      r = node(p, r);
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn >>= 1; sn >>= 1; }
    } else r = node(r, p);
    fn >>= 1;
    sn >>= 1;
  }
  if (sn !== 0) throw new Error('proof too short');
  return r;
}

/** RFC 9162 §2.1.3.2: does `proof` show leaf `index` of a tree of `size` with root `root`? */
export function verifyInclusion(index: number, size: number, leaf: Buffer, proof: Buffer[], root: Buffer): boolean {
  if (index >= size) return false;
  try {
    return rootFromInclusion(index, size, leaf, proof).equals(root);
  } catch {
    return false;
  }
}

/** RFC 9162 §2.1.4.2: does `proof` show the tree of size `first` is a prefix of the one of size `second`? */
export function verifyConsistency(first: number, second: number, firstRoot: Buffer, secondRoot: Buffer, proof: Buffer[]): boolean {
  if (first === second) return proof.length === 0 && firstRoot.equals(secondRoot);
  if (proof.length === 0) return false;
  let c = [...proof];
  if ((first & (first - 1)) === 0) c = [firstRoot, ...c];
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) { fn >>= 1; sn >>= 1; }
  let fr = c[0];
  let sr = c[0];
  for (const x of c.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = node(x, fr);
      sr = node(x, sr);
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn >>= 1; sn >>= 1; }
    } else sr = node(sr, x);
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 && fr.equals(firstRoot) && sr.equals(secondRoot);
}
