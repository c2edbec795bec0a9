/**
 * Signature verification over a precomputed digest, as Rekor does for
 * hashedrekord entries (it never sees the artifact, only its hash).
 *
 * Node's crypto.verify always hashes its input, so ECDSA (FIPS 186-5 §6.4.2,
 * SEC 1 §4.1.4) is computed here with BigInt on the NIST curves, and RSA
 * PKCS#1 v1.5 (RFC 8017 §8.2.2) compares the recovered DigestInfo.
 */
import { constants, publicDecrypt, type KeyObject } from 'node:crypto';
import { children, decodeInteger, parseDer, TAG } from '../gitseal/der.js';

export type DigestAlgorithm = 'sha256' | 'sha384' | 'sha512';

interface Curve {
  p: bigint;
  b: bigint; // a = -3 for every curve here
  n: bigint;
  gx: bigint;
  gy: bigint;
}

// FIPS 186-5 / SP 800-186 §3.2.1 domain parameters.
const CURVES: Record<string, Curve> = {
  'P-256': {
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
    n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
    gx: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
    gy: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
  },
  'P-384': {
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
    gx: 0xaa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7n,
    gy: 0x3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5fn,
  },
};

const DIGEST_LENGTH: Record<DigestAlgorithm, number> = { sha256: 32, sha384: 48, sha512: 64 };

// RFC 8017 §9.2 note 1: DER DigestInfo prefixes.
const DIGEST_INFO_PREFIX: Record<DigestAlgorithm, string> = {
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
};

function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

function modInverse(a: bigint, m: bigint): bigint {
  let [r0, r1] = [mod(a, m), m];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  if (r0 !== 1n) throw new RangeError('not invertible');
  return mod(s0, m);
}

/** Jacobian point (X/Z², Y/Z³); Z = 0 is the point at infinity. */
type Point = [bigint, bigint, bigint];
const INFINITY: Point = [1n, 1n, 0n];

// dbl-2001-b (a = -3), from the Explicit-Formulas Database.
function double(P: Point, p: bigint): Point {
  const [x, y, z] = P;
  if (z === 0n || y === 0n) return INFINITY;
  const delta = mod(z * z, p);
  const gamma = mod(y * y, p);
  const beta = mod(x * gamma, p);
  const alpha = mod(3n * (x - delta) * (x + delta), p);
  const x3 = mod(alpha * alpha - 8n * beta, p);
  const z3 = mod((y + z) * (y + z) - gamma - delta, p);
  const y3 = mod(alpha * (4n * beta - x3) - 8n * gamma * gamma, p);
  return [x3, y3, z3];
}

// add-2007-bl, with the doubling and inverse-point cases handled.
function add(P: Point, Q: Point, p: bigint): Point {
  if (P[2] === 0n) return Q;
  if (Q[2] === 0n) return P;
  const [x1, y1, z1] = P;
  const [x2, y2, z2] = Q;
  const z1z1 = mod(z1 * z1, p);
  const z2z2 = mod(z2 * z2, p);
  const u1 = mod(x1 * z2z2, p);
  const u2 = mod(x2 * z1z1, p);
  const s1 = mod(y1 * z2 * z2z2, p);
  const s2 = mod(y2 * z1 * z1z1, p);
  const h = mod(u2 - u1, p);
  const r = mod(2n * (s2 - s1), p);
  if (h === 0n) return r === 0n ? double(P, p) : INFINITY;
  const i = mod(4n * h * h, p);
  const j = mod(h * i, p);
  const v = mod(u1 * i, p);
  const x3 = mod(r * r - j - 2n * v, p);
  const y3 = mod(r * (v - x3) - 2n * s1 * j, p);
  const z3 = mod(((z1 + z2) * (z1 + z2) - z1z1 - z2z2) * h, p);
  return [x3, y3, z3];
}

function multiply(k: bigint, P: Point, p: bigint): Point {
  let acc = INFINITY;
  for (let i = BigInt(k.toString(2).length) - 1n; i >= 0n; i--) {
    acc = double(acc, p);
    if ((k >> i) & 1n) acc = add(acc, P, p);
  }
  return acc;
}

function b64urlInt(s: string): bigint {
  return BigInt('0x' + Buffer.from(s, 'base64url').toString('hex'));
}

/** SEC 1 §4.1.3 step 5 / Go's hashToInt: the leftmost bits of the digest, as many as the order has. */
function digestToInt(digest: Buffer, n: bigint): bigint {
  const orderBits = n.toString(2).length;
  let e = BigInt('0x' + (digest.toString('hex') || '0'));
  const excess = digest.length * 8 - orderBits;
  if (excess > 0) e >>= BigInt(excess);
  return e;
}

function parseEcdsaSignature(sig: Buffer): { r: bigint; s: bigint } | undefined {
  try {
    const seq = parseDer(sig);
    if (seq.tag !== TAG.SEQUENCE) return undefined;
    const parts = children(seq);
    if (parts.length !== 2 || parts.some((t) => t.tag !== TAG.INTEGER)) return undefined;
    return { r: decodeInteger(parts[0].value), s: decodeInteger(parts[1].value) };
  } catch {
    return undefined;
  }
}

function verifyEcdsa(key: KeyObject, digest: Buffer, signature: Buffer): boolean {
  const jwk = key.export({ format: 'jwk' });
  const curve = jwk.crv ? CURVES[jwk.crv] : undefined;
  if (!curve || !jwk.x || !jwk.y) throw new RangeError(`unsupported elliptic curve ${jwk.crv ?? '?'}`);
  const sig = parseEcdsaSignature(signature);
  if (!sig) return false;
  const { r, s } = sig;
  const { n, p } = curve;
  if (r <= 0n || r >= n || s <= 0n || s >= n) return false;
  const e = digestToInt(digest, n);
  const w = modInverse(s, n);
  const u1 = mod(e * w, n);
  const u2 = mod(r * w, n);
  const R = add(multiply(u1, [curve.gx, curve.gy, 1n], p), multiply(u2, [b64urlInt(jwk.x), b64urlInt(jwk.y), 1n], p), p);
  if (R[2] === 0n) return false;
  const zInv = modInverse(R[2], p);
  const x = mod(R[0] * zInv * zInv, p);
  return mod(x, n) === r;
}

function verifyRsaPkcs1(key: KeyObject, digest: Buffer, alg: DigestAlgorithm, signature: Buffer): boolean {
  let recovered: Buffer;
  try {
    recovered = publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, signature);
  } catch {
    return false;
  }
  const expected = Buffer.concat([Buffer.from(DIGEST_INFO_PREFIX[alg], 'hex'), digest]);
  return recovered.equals(expected);
}

/**
 * Whether `signature` is `key`'s signature over `digest` (computed with
 * `alg`). Throws RangeError for key types the sandbox does not support.
 */
export function verifyPrehashed(key: KeyObject, alg: DigestAlgorithm, digest: Buffer, signature: Buffer): boolean {
  if (digest.length !== DIGEST_LENGTH[alg]) return false;
  switch (key.asymmetricKeyType) {
    case 'ec':
      return verifyEcdsa(key, digest, signature);
    case 'rsa':
      return verifyRsaPkcs1(key, digest, alg, signature);
    default:
      throw new RangeError(`unsupported key type ${key.asymmetricKeyType ?? '?'}`);
  }
}
