/**
 * Public keys are imported on one of two paths (src/x509/signature.ts): P-256/P-384/P-521 as a
 * JWK on OpenSSL 3.0 (Node 20), the DER SPKI otherwise (Node 24, other keys). Whatever the path,
 * a malformed key is refused with the same BAD_CERTIFICATE, and a few things OpenSSL's DER
 * decoder lets through (trailing bytes, long-form lengths, unused bits, compressed and hybrid
 * points) are refused before either path. Run on Node 20 and Node 24.
 */
import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { isGitsealError } from '../../src/errors.js';
import { publicKeyFromSpki, unusualKey, verifyWithSpki } from '../../src/x509/signature.js';
import { OID } from '../../src/x509/oids.js';

const CURVES = {
  'P-256': { name: 'prime256v1', size: 32, p: 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n, b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn },
  'P-384': {
    name: 'secp384r1',
    size: 48,
    p: 2n ** 384n - 2n ** 128n - 2n ** 96n + 2n ** 32n - 1n,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
  },
} as const;

function modPow(a: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  a %= m;
  while (e > 0n) {
    if (e & 1n) r = (r * a) % m;
    a = (a * a) % m;
    e >>= 1n;
  }
  return r;
}

const LAX = new Set(['a compressed point', 'a hybrid point', 'a trailing byte', 'a trailing element', 'a long-form outer length']);

const hex = (n: bigint, size: number) => Buffer.from(n.toString(16).padStart(size * 2, '0'), 'hex');

function refusal(spki: Buffer): string | undefined {
  try {
    publicKeyFromSpki(spki);
    return undefined;
  } catch (e) {
    expect(isGitsealError(e)).toBe(true);
    expect((e as Error).message).toBe('unsupported or malformed public key');
    return (e as { code: string }).code;
  }
}

describe.each(Object.entries(CURVES))('%s', (crv, c) => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: c.name });
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const prefix = spki.subarray(0, spki.length - 1 - 2 * c.size);
  const x = spki.subarray(prefix.length + 1, prefix.length + 1 + c.size);
  const y = spki.subarray(prefix.length + 1 + c.size);
  const point = (X: Buffer, Y: Buffer, form = 4) => Buffer.concat([prefix, Buffer.from([form]), X, Y]);
  /** A point on the curve with a small x (so x + p still fits the field's width). */
  function smallXPoint(): { x: bigint; y: bigint } {
    for (let X = 1n; ; X++) {
      const rhs = (((X * X * X - 3n * X + c.b) % c.p) + c.p) % c.p;
      const Y = modPow(rhs, (c.p + 1n) / 4n, c.p); // p ≡ 3 (mod 4)
      if ((Y * Y) % c.p === rhs) return { x: X, y: Y };
    }
  }

  test('a good key is imported, verifies its signatures and is a usual key', () => {
    expect(refusal(spki)).toBeUndefined();
    const data = Buffer.from('data');
    const alg = crv === 'P-256' ? OID.ecdsaWithSha256 : OID.ecdsaWithSha384;
    const sig = sign(crv === 'P-256' ? 'sha256' : 'sha384', data, privateKey);
    expect(verifyWithSpki(spki, alg, data, sig)).toBe(true);
    expect(verifyWithSpki(spki, alg, Buffer.from('other'), sig)).toBe(false);
    expect(unusualKey(spki)).toBeUndefined();
    // The key imported is the key given, whichever path imported it.
    expect(publicKeyFromSpki(spki).export({ format: 'der', type: 'spki' }).equals(spki)).toBe(true);
  });

  test('a point with a small x is on the curve (the search below is right)', () => {
    const s = smallXPoint();
    expect(refusal(point(hex(s.x, c.size), hex(s.y, c.size)))).toBeUndefined();
  });

  test('x + p for an on-curve x is refused (a JWK import would reduce it to x)', () => {
    const s = smallXPoint();
    expect(refusal(point(hex(s.x + c.p, c.size), hex(s.y, c.size)))).toBe('BAD_CERTIFICATE');
    // And DER's own decoder refuses it too: both paths agree.
    expect(() => createPublicKey({ key: point(hex(s.x + c.p, c.size), hex(s.y, c.size)), format: 'der', type: 'spki' })).toThrow();
  });

  test.each([
    ['off the curve', () => point(x, Buffer.from(y.map((v, i) => (i === c.size - 1 ? v ^ 1 : v))))],
    ['x = p', () => point(hex(c.p, c.size), y)],
    ['y = p', () => point(x, hex(c.p, c.size))],
    ['y + p (all ones)', () => point(x, Buffer.alloc(c.size, 0xff))],
    ['x all ones', () => point(Buffer.alloc(c.size, 0xff), y)],
    ['the origin', () => point(Buffer.alloc(c.size), Buffer.alloc(c.size))],
    ['a compressed point', () => Buffer.concat([fixLen(prefix, -c.size), Buffer.from([2 + (y[c.size - 1]! & 1)]), x])],
    ['a hybrid point', () => point(x, y, 6 + (y[c.size - 1]! & 1))],
    ['a point with no form byte', () => Buffer.concat([fixLen(prefix, -1), x, y])],
    ['one byte short', () => fixLen(spki.subarray(0, spki.length - 1), 0, -1)],
    ['one byte more in the point', () => Buffer.concat([fixLen(prefix, 1), Buffer.from([4]), x, y, Buffer.from([0])])],
    ['a trailing byte', () => Buffer.concat([spki, Buffer.from([0])])],
    ['a trailing element', () => Buffer.concat([spki, Buffer.from([5, 0])])],
    ['unused bits in the BIT STRING', () => Buffer.from(spki).fill(1, prefix.length - 1, prefix.length)],
    ['a long-form outer length', () => Buffer.concat([Buffer.from([0x30, 0x81, spki[1]!]), spki.subarray(2)])],
    ['empty', () => Buffer.alloc(0)],
  ])('%s: refused as BAD_CERTIFICATE', (what, make) => {
    const bad = make();
    expect(refusal(bad)).toBe('BAD_CERTIFICATE');
    // These OpenSSL's own SPKI decoder takes (on 3.0 and 3.5 alike): gitseal's check refuses them.
    if (LAX.has(what)) expect(() => createPublicKey({ key: bad, format: 'der', type: 'spki' })).not.toThrow();
  });
});

/**
 * `prefix` (SEQUENCE { AlgorithmIdentifier, BIT STRING header }) with the outer and BIT STRING
 * lengths changed by `d` (single-byte lengths only: P-256/P-384), `dOuterOnly` more on the outer.
 */
function fixLen(prefix: Buffer, d: number, dOuterOnly = 0): Buffer {
  const b = Buffer.from(prefix);
  b[1] = b[1]! + d + dOuterOnly;
  if (d !== 0 || dOuterOnly === 0) {
    const bitLenAt = b.length - 2;
    if (b[bitLenAt - 1] === 0x03) b[bitLenAt] = b[bitLenAt]! + d;
  }
  return b;
}

test('Ed25519 and RSA keys take the DER path and are refused for trailing bytes the same way', () => {
  for (const [type, o] of [
    ['ed25519', {}],
    ['rsa', { modulusLength: 2048 }],
  ] as const) {
    const spki = generateKeyPairSync(type as 'rsa', o as { modulusLength: number }).publicKey.export({ format: 'der', type: 'spki' });
    expect(refusal(spki)).toBeUndefined();
    expect(refusal(Buffer.concat([spki, Buffer.from([0])]))).toBe('BAD_CERTIFICATE');
  }
});
