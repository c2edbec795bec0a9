/**
 * Signature checks with node:crypto: certificate signatures (RFC 5280 §4.1.1.3)
 * and the algorithms Sigstore uses (RFC 5758 ECDSA, RFC 8017 PKCS#1 v1.5, RFC 8032 Ed25519).
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { GitsealError } from '../errors.js';
import type { Certificate } from './certificate.js';
import { OID } from './oids.js';
import { memoKey, SuccessMemo } from './verified-memo.js';

const keyCache = new Map<string, KeyObject>();

/** A KeyObject for a DER SubjectPublicKeyInfo, built once per key (they are few and small). */
export function publicKeyFromSpki(spki: Buffer): KeyObject {
  const id = spki.toString('base64');
  let k = keyCache.get(id);
  if (!k) {
    try {
      k = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    } catch (e) {
      throw new GitsealError('BAD_CERTIFICATE', 'unsupported or malformed public key', e);
    }
    if (keyCache.size > 64) keyCache.clear();
    keyCache.set(id, k);
  }
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
