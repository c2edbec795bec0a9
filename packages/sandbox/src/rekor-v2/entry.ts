/**
 * hashedrekord v0.0.2 requests as rekor-tiles accepts them
 * (api/proto/rekor/v2 hashedrekord.proto, sigstore-services.md §2.5):
 * `{hashedRekordRequestV002: {digest, signature: {content, verifier:
 * {x509Certificate|publicKey: {rawBytes}, keyDetails}}}}`. The signature must
 * verify over the digest; the canonical body is what the Merkle leaf hashes.
 */
import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { canonicalize } from '../gitseal/canonical-json.js';
import { HttpError } from '../shared/http.js';
import { verifyPrehashed, type DigestAlgorithm } from '../rekor/prehashed.js';

/** keyDetails (sigstore_common.proto PublicKeyDetails) the sandbox accepts, with the digest each implies. */
const KEY_DETAILS: Record<string, { alg: DigestAlgorithm; type: 'ec' | 'rsa'; curve?: string; algorithm: string }> = {
  PKIX_ECDSA_P256_SHA_256: { alg: 'sha256', type: 'ec', curve: 'prime256v1', algorithm: 'SHA2_256' },
  PKIX_ECDSA_P384_SHA_384: { alg: 'sha384', type: 'ec', curve: 'secp384r1', algorithm: 'SHA2_384' },
  PKIX_ECDSA_P521_SHA_512: { alg: 'sha512', type: 'ec', curve: 'secp521r1', algorithm: 'SHA2_512' },
  PKIX_RSA_PKCS1V15_2048_SHA256: { alg: 'sha256', type: 'rsa', algorithm: 'SHA2_256' },
  PKIX_RSA_PKCS1V15_3072_SHA256: { alg: 'sha256', type: 'rsa', algorithm: 'SHA2_256' },
  PKIX_RSA_PKCS1V15_4096_SHA256: { alg: 'sha256', type: 'rsa', algorithm: 'SHA2_256' },
};

export interface V2Entry {
  body: Buffer;
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new HttpError(400, `${what} is missing or not an object`);
  return v as Record<string, unknown>;
}

function b64(v: unknown, what: string): Buffer {
  if (typeof v !== 'string' || v.length === 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 !== 0) {
    throw new HttpError(400, `${what} is not valid base64`);
  }
  return Buffer.from(v, 'base64');
}

/** Check a request and return the canonical v0.0.2 body to log. */
export function canonicalV2Entry(request: unknown): V2Entry {
  const top = obj(request, 'the request');
  if ('dsseRequestV002' in top) throw new HttpError(400, 'dsseRequestV002 is deprecated and not accepted; log a hashedrekord');
  const r = obj(top.hashedRekordRequestV002, 'hashedRekordRequestV002');
  const digest = b64(r.digest, 'hashedRekordRequestV002.digest');
  const sig = obj(r.signature, 'hashedRekordRequestV002.signature');
  const content = b64(sig.content, 'signature.content');
  const verifier = obj(sig.verifier, 'signature.verifier');
  const kd = verifier.keyDetails;
  const details = typeof kd === 'string' && Object.hasOwn(KEY_DETAILS, kd) ? KEY_DETAILS[kd] : undefined;
  if (!details) throw new HttpError(400, `unsupported keyDetails ${JSON.stringify(kd)}`);

  let key: KeyObject;
  let verifierJson: Record<string, unknown>;
  if (verifier.x509Certificate !== undefined) {
    const raw = b64(obj(verifier.x509Certificate, 'verifier.x509Certificate').rawBytes, 'x509Certificate.rawBytes');
    try {
      key = new X509Certificate(raw).publicKey;
    } catch {
      throw new HttpError(400, 'x509Certificate.rawBytes is not a DER certificate');
    }
    verifierJson = { keyDetails: kd, x509Certificate: { rawBytes: raw.toString('base64') } };
  } else if (verifier.publicKey !== undefined) {
    const raw = b64(obj(verifier.publicKey, 'verifier.publicKey').rawBytes, 'publicKey.rawBytes');
    try {
      key = createPublicKey({ key: raw, format: 'der', type: 'spki' });
    } catch {
      throw new HttpError(400, 'publicKey.rawBytes is not a DER SubjectPublicKeyInfo');
    }
    verifierJson = { keyDetails: kd, publicKey: { rawBytes: raw.toString('base64') } };
  } else {
    throw new HttpError(400, 'the verifier needs an x509Certificate or a publicKey');
  }
  if (key.asymmetricKeyType !== details.type || (details.curve && key.asymmetricKeyDetails?.namedCurve !== details.curve)) {
    throw new HttpError(400, `the verifier's key does not match keyDetails ${kd}`);
  }
  let ok: boolean;
  try {
    ok = verifyPrehashed(key, details.alg, digest, content);
  } catch (e) {
    throw new HttpError(400, (e as Error).message);
  }
  if (!ok) throw new HttpError(400, 'the signature does not verify over the digest with the given key');
  const body = {
    apiVersion: '0.0.2',
    kind: 'hashedrekord',
    spec: {
      hashedRekordV002: {
        data: { algorithm: details.algorithm, digest: digest.toString('base64') },
        signature: { content: content.toString('base64'), verifier: verifierJson },
      },
    },
  };
  return { body: Buffer.from(canonicalize(body), 'utf8') };
}
