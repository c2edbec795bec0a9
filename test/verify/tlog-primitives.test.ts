/** Merkle proofs, checkpoints, SETs and online-mode object ids, on real data and on generated trees. */
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CMS_OID, parseSignedData } from '../../src/cms/parse.js';
import { canonicalBody, hashedRekordV001 } from '../../src/rekor/body.js';
import { decodeTle } from '../../src/rekor/tle.js';
import { embeddedTrustedRoot } from '../../src/trust/embedded.js';
import type { TransparencyLogKey } from '../../src/trust/trusted-root.js';
import { keyHint, parseCheckpoint, verifyCheckpoint } from '../../src/verify/checkpoint.js';
import { leafHash, rootFromInclusionProof, verifyInclusion } from '../../src/verify/merkle.js';
import { signedObjectId } from '../../src/verify/online.js';
import { verifySet } from '../../src/verify/set.js';
import { auditPath, mth } from './helpers/forge.js';

const CORPUS = join(__dirname, '../fixtures/gitsign-corpus');
const index: { dir: string; oid: string; has_embedded_tlog: boolean }[] = JSON.parse(readFileSync(join(CORPUS, 'index.json'), 'utf8'));
const trust = embeddedTrustedRoot();

function realEntry(dir = 'sigstore_gitsign_commit_7550db4cf96b') {
  const sd = parseSignedData(readFileSync(join(CORPUS, dir, 'signature.pem'), 'utf8'));
  const si = sd.signerInfos[0];
  const tle = decodeTle(si.unsignedAttrs.get(CMS_OID.rekorTle)!.values[0].value);
  const body = canonicalBody(hashedRekordV001(createHash('sha256').update(si.signedAttrsSet!).digest(), si.signature, sd.certificates[0]));
  return { tle, body };
}

describe('RFC 6962 inclusion proofs', () => {
  test('each root is its own buffer (node hashes share one scratch input, never an output)', () => {
    const leaves = Array.from({ length: 8 }, (_, i) => Buffer.from(`leaf ${i}`));
    const first = rootFromInclusionProof(0n, 8n, leafHash(leaves[0]), auditPath(0, leaves));
    const copy = Buffer.from(first);
    const other = rootFromInclusionProof(0n, 7n, leafHash(leaves[0]), auditPath(0, leaves.slice(0, 7)));
    expect(other.equals(first)).toBe(false);
    expect(first.equals(copy)).toBe(true);
    expect(first.equals(mth(leaves))).toBe(true);
  });

  test('every index of every tree up to 33 leaves, against an independent MTH/PATH implementation', () => {
    for (let n = 1; n <= 33; n++) {
      const leaves = Array.from({ length: n }, (_, i) => Buffer.from(`leaf ${i}`));
      const root = mth(leaves);
      for (let m = 0; m < n; m++) {
        const proof = auditPath(m, leaves);
        expect(rootFromInclusionProof(BigInt(m), BigInt(n), leafHash(leaves[m]), proof).equals(root)).toBe(true);
        if (n > 1) {
          // a wrong index or a wrong leaf must not reach the root
          const other = (m + 1) % n;
          expect(() => verifyInclusion(BigInt(other), BigInt(n), leafHash(leaves[m]), proof, root)).toThrow();
          expect(() => verifyInclusion(BigInt(m), BigInt(n), leafHash(Buffer.from('x')), proof, root)).toThrow();
        }
      }
    }
  });

  test('index outside the tree and wrong proof length are refused', () => {
    expect(() => rootFromInclusionProof(5n, 5n, Buffer.alloc(32), [])).toThrow(/outside the tree/);
    expect(() => rootFromInclusionProof(0n, 4n, Buffer.alloc(32), [Buffer.alloc(32)])).toThrow(/number of hashes/);
  });

  test('uint64-range indices work (BigInt)', () => {
    const size = (1n << 63n) + 5n;
    const index = size - 1n;
    // the rightmost leaf of such a tree has a proof of popcount(index >> inner) + inner hashes
    const inner = (index ^ (size - 1n)).toString(2).length - (index ^ (size - 1n) ? 0 : 1);
    const proofLen = inner + (index >> BigInt(inner)).toString(2).split('').filter((c) => c === '1').length;
    const hashes = Array.from({ length: proofLen }, (_, i) => createHash('sha256').update(String(i)).digest());
    const root = rootFromInclusionProof(index, size, leafHash(Buffer.from('x')), hashes);
    expect(root).toHaveLength(32);
  });

  test('the real corpus proofs reach their checkpoint roots, at the shard-local index', () => {
    for (const e of index.filter((x) => x.has_embedded_tlog)) {
      const { tle, body } = realEntry(e.dir);
      const p = tle.inclusionProof!;
      expect(p.logIndex).not.toBe(tle.logIndex); // shard-local vs global
      const cp = parseCheckpoint(p.checkpoint);
      expect(cp.size).toBe(p.treeSize);
      verifyInclusion(p.logIndex, cp.size, leafHash(body), p.hashes, cp.rootHash);
      expect(() => verifyInclusion(tle.logIndex, cp.size, leafHash(body), p.hashes, cp.rootHash)).toThrow();
    }
  });
});

describe('checkpoints (signed notes)', () => {
  const rekor = trust.tlogs[0];

  test('a real Rekor v1 checkpoint verifies with the public-good key, and not with the v2 key', () => {
    const { tle } = realEntry();
    const cp = verifyCheckpoint(tle.inclusionProof!.checkpoint, rekor);
    expect(cp.origin).toMatch(/^rekor\.sigstore\.dev - \d+$/);
    expect(cp.extensions).toEqual([]); // newer Rekor v1 checkpoints carry no Timestamp line
    expect(cp.signatures[0].name).toBe('rekor.sigstore.dev');
    expect(cp.signatures[0].keyHint.equals(rekor.logId.subarray(0, 4))).toBe(true);
    expect(() => verifyCheckpoint(tle.inclusionProof!.checkpoint, trust.tlogs[1])).toThrow(/not signed by the trusted/);
  });

  test('any change to the signed note breaks it', () => {
    const text = realEntry().tle.inclusionProof!.checkpoint;
    const lines = text.split('\n');
    lines[1] = String(BigInt(lines[1]) + 1n);
    expect(() => verifyCheckpoint(lines.join('\n'), rekor)).toThrow(/not signed/);
    expect(() => parseCheckpoint(text.replace('\n\n', '\n'))).toThrow(/invalid checkpoint/);
    expect(() => parseCheckpoint(text.replace('\u2014', '-'))).toThrow(/malformed signature line/);
  });

  test('C2SP Ed25519 note (Rekor v2 style): key id = SHA-256(name || 0x0A || 0x01 || key)', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const spki = publicKey.export({ type: 'spki', format: 'der' }) as Buffer;
    const name = 'log2025-test.example';
    const id = createHash('sha256').update(Buffer.concat([Buffer.from(name + '\n'), Buffer.from([1]), spki.subarray(12)])).digest();
    const log: TransparencyLogKey = { baseUrl: `https://${name}`, logId: id, publicKey: spki, keyDetails: 'PKIX_ED25519', validFor: { start: new Date(0) } };
    expect(keyHint(log, name).equals(id.subarray(0, 4))).toBe(true);
    const note = `${name}\n42\n${Buffer.alloc(32, 9).toString('base64')}\n`;
    const sig = sign(null, Buffer.from(note), privateKey);
    const witness = `\u2014 witness.example ${Buffer.concat([Buffer.alloc(4, 1), Buffer.alloc(64, 2)]).toString('base64')}\n`;
    const text = `${note}\n${witness}\u2014 ${name} ${Buffer.concat([id.subarray(0, 4), sig]).toString('base64')}\n`;
    const cp = verifyCheckpoint(text, log);
    expect(cp.size).toBe(42n);
    expect(cp.signatures).toHaveLength(2);
    // the real public-good v2 log id follows the same rule
    const v2 = trust.tlogs[1];
    const real = createHash('sha256').update(Buffer.concat([Buffer.from('log2025-1.rekor.sigstore.dev\n'), Buffer.from([1]), v2.publicKey.subarray(12)])).digest();
    expect(real.equals(v2.logId)).toBe(true);
  });
});

describe('signed entry timestamps', () => {
  test('real SET verifies; any field change fails', () => {
    const { tle, body } = realEntry();
    const base = { body, integratedTime: tle.integratedTime, logId: tle.logId, logIndex: tle.logIndex, signedEntryTimestamp: tle.signedEntryTimestamp! };
    expect(verifySet(base, trust).baseUrl).toBe('https://rekor.sigstore.dev');
    expect(() => verifySet({ ...base, integratedTime: base.integratedTime - 1n }, trust)).toThrow(/signed entry timestamp/);
    expect(() => verifySet({ ...base, logIndex: base.logIndex + 1n }, trust)).toThrow(/signed entry timestamp/);
    expect(() => verifySet({ ...base, body: Buffer.concat([body, Buffer.from(' ')]) }, trust)).toThrow(/signed entry timestamp/);
    expect(() => verifySet({ ...base, logId: Buffer.alloc(32) }, trust)).toThrow(/unknown transparency log/);
    // before the key's validFor start
    expect(() => verifySet({ ...base, integratedTime: 1000n }, trust)).toThrow(/not valid at/);
  });
});

describe('online-mode object ids (gitsign logs sha256 of this string)', () => {
  test.each(index.filter((e) => !e.has_embedded_tlog).map((e) => [e.dir, e] as const))('%s', (dir, e) => {
    const payload = readFileSync(join(CORPUS, dir, 'payload.bin'));
    const sig = readFileSync(join(CORPUS, dir, 'signature.pem'), 'utf8');
    expect(signedObjectId(payload, sig)).toBe(e.oid);
  });
});
