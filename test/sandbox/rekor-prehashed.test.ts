// Signature checks over a bare digest (what Rekor does for hashedrekord):
// signatures made by node:crypto and by the openssl binary over the artifact
// must verify against the artifact's digest, and nothing else may.
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyPrehashed, type DigestAlgorithm } from '../../packages/sandbox/src/rekor/prehashed.js';
import { needs } from '../helpers/tools.js';

const digest = (alg: DigestAlgorithm, data: Buffer) => createHash(alg).update(data).digest();

needs('openssl').describe('verifyPrehashed', () => {
  const combos: [string, DigestAlgorithm][] = [
    ['P-256', 'sha256'],
    ['P-256', 'sha384'], // digest longer than the order: leftmost bits (SEC 1 §4.1.3)
    ['P-256', 'sha512'],
    ['P-384', 'sha384'],
    ['P-384', 'sha256'],
  ];
  for (const [curve, alg] of combos) {
    it(`ECDSA ${curve} with ${alg}: accepts node:crypto signatures, rejects wrong digests, keys and signatures`, () => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
      const other = generateKeyPairSync('ec', { namedCurve: curve }).publicKey;
      for (let i = 0; i < 8; i++) {
        const data = randomBytes(1 + i * 13);
        const sig = sign(alg, data, privateKey);
        const d = digest(alg, data);
        expect(verifyPrehashed(publicKey, alg, d, sig)).toBe(true);
        const flipped = Buffer.from(d);
        flipped[i] ^= 0x80;
        expect(verifyPrehashed(publicKey, alg, flipped, sig)).toBe(false);
        expect(verifyPrehashed(other, alg, d, sig)).toBe(false);
        const badSig = Buffer.from(sig);
        badSig[badSig.length - 1] ^= 1;
        expect(verifyPrehashed(publicKey, alg, d, badSig)).toBe(false);
      }
    });
  }

  it('accepts signatures made by the openssl binary (ECDSA P-256 and RSA PKCS#1 v1.5)', () => {
    const d = mkdtempSync(join(tmpdir(), 'gitseal-prehashed-'));
    try {
      writeFileSync(join(d, 'artifact'), 'an artifact for openssl\n');
      const artifact = readFileSync(join(d, 'artifact'));
      for (const [algo, opts] of [['EC', ['-pkeyopt', 'ec_paramgen_curve:P-256']], ['RSA', ['-pkeyopt', 'rsa_keygen_bits:2048']]] as const) {
        execFileSync('openssl', ['genpkey', '-algorithm', algo, ...opts, '-out', join(d, 'key.pem')], { stdio: 'ignore' });
        execFileSync('openssl', ['dgst', '-sha256', '-sign', join(d, 'key.pem'), '-out', join(d, 'sig'), join(d, 'artifact')]);
        const key = createPublicKey(createPrivateKey(readFileSync(join(d, 'key.pem'))));
        const sig = readFileSync(join(d, 'sig'));
        expect(verifyPrehashed(key, 'sha256', digest('sha256', artifact), sig), algo).toBe(true);
        expect(verifyPrehashed(key, 'sha256', digest('sha256', Buffer.from('other')), sig), algo).toBe(false);
        // the RSA DigestInfo names the algorithm: the same bytes under another name must fail
        if (algo === 'RSA') expect(verifyPrehashed(key, 'sha384', digest('sha384', artifact), sig)).toBe(false);
      }
    } finally {
      rmSync(d, { recursive: true });
    }
  });

  it('rejects malformed and out-of-range ECDSA signatures and wrong digest lengths', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const data = Buffer.from('x');
    const d = digest('sha256', data);
    const sig = sign('sha256', data, privateKey);
    expect(verifyPrehashed(publicKey, 'sha256', d, Buffer.from('not der'))).toBe(false);
    expect(verifyPrehashed(publicKey, 'sha256', d, Buffer.concat([sig, Buffer.from([0])]))).toBe(false);
    expect(verifyPrehashed(publicKey, 'sha256', d.subarray(0, 31), sig)).toBe(false);
    // r = 0, s = 1
    expect(verifyPrehashed(publicKey, 'sha256', d, Buffer.from('3006020100020101', 'hex'))).toBe(false);
    // r = n (the P-256 order)
    const n = Buffer.from('00ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex');
    const rn = Buffer.concat([Buffer.from([0x30, 2 + n.length + 3, 0x02, n.length]), n, Buffer.from('020101', 'hex')]);
    expect(verifyPrehashed(publicKey, 'sha256', d, rn)).toBe(false);
  });

  it('refuses key types it does not handle', () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    expect(() => verifyPrehashed(publicKey, 'sha256', Buffer.alloc(32), Buffer.alloc(64))).toThrow(RangeError);
  });
});
