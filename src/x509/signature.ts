/**
 * Signature checks with node:crypto: certificate signatures (RFC 5280 §4.1.1.3)
 * and the algorithms Sigstore uses (RFC 5758 ECDSA, RFC 8017 PKCS#1 v1.5, RFC 8032 Ed25519).
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { GitsealError } from '../errors.js';
import { checkStrictDer, children, decodeOid, parseDer, TAG } from '../util/der.js';
import type { Certificate } from './certificate.js';
import { OID } from './oids.js';
import { memoKey, SuccessMemo } from './verified-memo.js';

/**
 * KeyObjects by SPKI bytes, least recently used first out. Range verification meets a new leaf
 * key per commit and the same few trusted keys (CA, CT log, Rekor) every commit: those stay,
 * the leaves pass through (a full clear would import the trusted keys again every 64 commits).
 */
const keyCache = new Map<string, KeyObject>();
const KEY_CACHE_MAX = 64;
let keyImports = 0;

/** How many public keys this thread has imported (parsed into a KeyObject); tests bound work with it. */
export function keyImportCount(): number {
  return keyImports;
}

/**
 * SPKI prefixes of the named-curve EC keys Sigstore uses (id-ecPublicKey + curve OID + an
 * uncompressed point), with the curve, its JWK name and the SPKI length.
 */
const EC_SPKI = [
  {
    prefix: Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'),
    crv: 'P-256',
    size: 32,
    p: Buffer.from('ffffffff00000001000000000000000000000000ffffffffffffffffffffffff', 'hex'),
  },
  {
    prefix: Buffer.from('3076301006072a8648ce3d020106052b81040022036200', 'hex'),
    crv: 'P-384',
    size: 48,
    p: Buffer.from('fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff', 'hex'),
  },
  {
    prefix: Buffer.from('30819b301006072a8648ce3d020106052b8104002303818600', 'hex'),
    crv: 'P-521',
    size: 66,
    p: Buffer.from('01' + 'ff'.repeat(65), 'hex'),
  },
];

/** The curve of a standard named-curve EC SPKI with an uncompressed point, read from its bytes; else undefined. */
function ecSpki(spki: Buffer): (typeof EC_SPKI)[number] | undefined {
  for (const e of EC_SPKI) {
    if (spki.length === e.prefix.length + 1 + 2 * e.size && spki[e.prefix.length] === 0x04 && spki.subarray(0, e.prefix.length).equals(e.prefix)) return e;
  }
  return undefined;
}

/**
 * OpenSSL 3.0 (Node 20) decodes a DER SPKI through its generic decoder framework, ~100 µs for a
 * P-256 key; the same point given as a JWK is imported in about two thirds of that, with the
 * same check that it lies on the curve. OpenSSL 3.5 (Node 24) decodes DER in ~15 µs, faster
 * than JWK. Either way the key is parsed and checked in full.
 */
const JWK_FASTER = /^3\.0\./.test(process.versions.openssl ?? '');

/**
 * What OpenSSL's SPKI decoder lets through but Go's crypto/x509 (gitsign) refuses, refused here
 * before either import path: trailing bytes, non-minimal lengths (strict DER throughout), a
 * BIT STRING with unused bits, and for EC keys any point that is not uncompressed (compressed
 * 02/03 and hybrid 06/07 points). So the JWK and DER paths see the same inputs, and every
 * refusal is the same BAD_CERTIFICATE on Node 20 and 24 (test/x509/spki-import.test.ts).
 */
function checkSpki(spki: Buffer): void {
  checkStrictDer(spki);
  const top = parseDer(spki);
  if (top.tag !== TAG.SEQUENCE) throw new Error('SubjectPublicKeyInfo is not a SEQUENCE');
  const [alg, bits, ...rest] = children(top);
  if (!alg || alg.tag !== TAG.SEQUENCE || !bits || bits.tag !== TAG.BIT_STRING || rest.length) throw new Error('SubjectPublicKeyInfo is not { algorithm, subjectPublicKey }');
  const b = bits.value;
  if (b.length < 2 || b[0] !== 0) throw new Error('subjectPublicKey has unused bits');
  const oid = children(alg)[0];
  if (oid?.tag === TAG.OID && decodeOid(oid.value) === OID.ecPublicKey && b[1] !== 0x04) throw new Error('EC point is not uncompressed');
}

function importSpki(spki: Buffer): KeyObject {
  keyImports++;
  checkSpki(spki);
  const ec = JWK_FASTER ? ecSpki(spki) : undefined;
  if (ec) {
    const at = ec.prefix.length + 1;
    const x = spki.subarray(at, at + ec.size);
    const y = spki.subarray(at + ec.size);
    // Coordinates must be field elements, as the DER decoder requires (a JWK import would
    // reduce x + p to x); anything else takes the DER path and fails there.
    if (x.compare(ec.p) < 0 && y.compare(ec.p) < 0) {
      return createPublicKey({ key: { kty: 'EC', crv: ec.crv, x: x.toString('base64url'), y: y.toString('base64url') }, format: 'jwk' });
    }
  }
  return createPublicKey({ key: spki, format: 'der', type: 'spki' });
}

/** A KeyObject for a DER SubjectPublicKeyInfo, built once per key while it is in use. */
export function publicKeyFromSpki(spki: Buffer): KeyObject {
  const id = spki.toString('latin1');
  let k = keyCache.get(id);
  if (k) {
    // Most recently used last.
    keyCache.delete(id);
    keyCache.set(id, k);
    return k;
  }
  try {
    k = importSpki(spki);
  } catch (e) {
    throw new GitsealError('BAD_CERTIFICATE', 'unsupported or malformed public key', e);
  }
  if (keyCache.size >= KEY_CACHE_MAX) keyCache.delete(keyCache.keys().next().value as string);
  keyCache.set(id, k);
  return k;
}

/**
 * Why a public key is not one a Sigstore signer uses, or undefined when it is: ECDSA on P-256,
 * P-384 or P-521, RSA of 2048 to 4096 bits with a public exponent below 2^32, or Ed25519 —
 * what Fulcio certifies. Checked before a key from a signature is used, because the key sets
 * the price of the check: an RSA key with a 3072-bit public exponent costs ~7 ms a signature,
 * a 16384-bit modulus ~5 ms, against ~0.1 ms for P-256.
 */
export function unusualKey(spki: Buffer): string | undefined {
  let key: KeyObject;
  try {
    key = publicKeyFromSpki(spki);
  } catch {
    return 'an unsupported or malformed public key';
  }
  // The usual case, from the bytes (the import above checked the point): asking the KeyObject
  // for its details costs as much as a Merkle path.
  if (ecSpki(spki)) return undefined;
  const d = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ec':
      return d.namedCurve && ['prime256v1', 'secp384r1', 'secp521r1'].includes(d.namedCurve) ? undefined : `an EC key on ${d.namedCurve ?? 'an unnamed curve'}`;
    case 'rsa': {
      const bits = d.modulusLength ?? 0;
      const e = d.publicExponent ?? 0n;
      if (bits < 2048 || bits > 4096) return `a ${bits}-bit RSA key`;
      if (e >= 1n << 32n) return 'an RSA key with a public exponent of 2^32 or more';
      return undefined;
    }
    case 'ed25519':
      return undefined;
    default:
      return `a ${key.asymmetricKeyType ?? 'unknown'} key`;
  }
}

/** Digest name for a signature algorithm OID; null for Ed25519 (no prehash); undefined if unsupported. */
export function digestFor(sigAlgOid: string): string | null | undefined {
  switch (sigAlgOid) {
    case OID.ecdsaWithSha256:
    case OID.sha256WithRsa:
      return 'sha256';
    case OID.ecdsaWithSha384:
    case OID.sha384WithRsa:
      return 'sha384';
    case OID.ecdsaWithSha512:
    case OID.sha512WithRsa:
      return 'sha512';
    case OID.ed25519:
      return null;
    default:
      return undefined;
  }
}

function keyMatchesAlgorithm(key: KeyObject, sigAlgOid: string): boolean {
  const t = key.asymmetricKeyType;
  if (sigAlgOid.startsWith('1.2.840.10045.4.3.')) return t === 'ec';
  if (sigAlgOid.startsWith('1.2.840.113549.1.1.')) return t === 'rsa';
  if (sigAlgOid === OID.ed25519) return t === 'ed25519';
  return false;
}

let checks = 0;

/**
 * How many public-key signature checks verifyWithSpki has run in this thread (memo hits
 * excluded). Tests bound the work an input can cause by counting these, never by timing.
 */
export function signatureCheckCount(): number {
  return checks;
}

/** Verify `signature` over `data` with the key in `spki` under algorithm `sigAlgOid`. Never throws for a bad signature. */
export function verifyWithSpki(spki: Buffer, sigAlgOid: string, data: Buffer, signature: Buffer): boolean {
  const digest = digestFor(sigAlgOid);
  if (digest === undefined) return false;
  let key: KeyObject;
  try {
    key = publicKeyFromSpki(spki);
  } catch {
    return false;
  }
  if (!keyMatchesAlgorithm(key, sigAlgOid)) return false;
  checks++;
  try {
    return verify(digest, data, key, signature);
  } catch {
    return false; // malformed signature encoding
  }
}

/**
 * Certificate signatures that verified, keyed by all four inputs (issuer key,
 * algorithm, TBS, signature); see verified-memo.ts. Exported for tests.
 */
export const issuedByMemo = new SuccessMemo(4096);

/** True when `issuer`'s key produced `cert`'s signature. Names are not compared here. */
export function verifyIssuedBy(cert: Certificate, issuer: Certificate): boolean {
  const key = memoKey('issued-by', issuer.spki, cert.signatureAlgorithm, cert.tbs, cert.signature);
  if (issuedByMemo.has(key)) return true;
  const ok = verifyWithSpki(issuer.spki, cert.signatureAlgorithm, cert.tbs, cert.signature);
  if (ok) issuedByMemo.add(key);
  return ok;
}
