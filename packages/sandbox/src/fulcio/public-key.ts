/**
 * The requested key and its proof of possession (Fulcio v2 CreateSigningCertificate):
 * either a public key plus a signature over the challenge claim, or a PKCS#10
 * CSR (RFC 2986) whose self-signature is the proof. Keys are checked like
 * Fulcio's cryptoutils.ValidatePubKey: ECDSA P-256/384/521, RSA 2048–4096, Ed25519.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { decodePemAll } from '../gitseal/pem.js';
import { FulcioMessage, FulcioServiceError, GrpcCode } from './grpc-error.js';

export interface RequestedKey {
  key: KeyObject;
  /** Canonical DER SubjectPublicKeyInfo (as OpenSSL re-encodes it). */
  spki: Buffer;
}

const invalid = (message: string, reason: string) => new FulcioServiceError(GrpcCode.InvalidArgument, message, reason);

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

function keyFromSpki(der: Buffer): KeyObject {
  return createPublicKey({ key: der, format: 'der', type: 'spki' });
}

/** Parse `content` of PublicKeyRequest.publicKey: PEM "PUBLIC KEY", or DER (base64 or raw). */
export function parsePublicKey(content: unknown): RequestedKey {
  if (typeof content !== 'string' || content.trim() === '') {
    throw invalid(FulcioMessage.invalidPublicKey, 'no public key in the request');
  }
  let der: Buffer | undefined;
  try {
    if (content.includes('-----BEGIN')) {
      const blocks = decodePemAll(content).filter((b) => b.label === 'PUBLIC KEY');
      if (blocks.length !== 1) throw new Error('expected one PUBLIC KEY PEM block');
      der = blocks[0].der;
    } else {
      const compact = content.replace(/\s+/g, '');
      der = BASE64_RE.test(compact) && compact.length % 4 === 0 ? Buffer.from(compact, 'base64') : Buffer.from(content, 'latin1');
    }
    const key = keyFromSpki(der);
    return { key, spki: key.export({ type: 'spki', format: 'der' }) };
  } catch {
    throw invalid(FulcioMessage.invalidPublicKey, 'expected a PEM or DER SubjectPublicKeyInfo');
  }
}

/** Refuse keys Fulcio's goodkey checks refuse. */
export function checkKeyStrength(key: KeyObject): void {
  const d = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ec':
      if (d.namedCurve === 'prime256v1' || d.namedCurve === 'secp384r1' || d.namedCurve === 'secp521r1') return;
      throw invalid(FulcioMessage.insecurePublicKey, `unsupported elliptic curve ${d.namedCurve ?? '(unknown)'}`);
    case 'rsa': {
      const bits = d.modulusLength ?? 0;
      if (bits < 2048) throw invalid(FulcioMessage.insecurePublicKey, `RSA key of ${bits} bits is too small (minimum 2048)`);
      if (bits > 4096) throw invalid(FulcioMessage.insecurePublicKey, `RSA key of ${bits} bits is too large (maximum 4096)`);
      if (d.publicExponent !== 65537n) throw invalid(FulcioMessage.insecurePublicKey, 'RSA public exponent must be 65537');
      return;
    }
    case 'ed25519':
      return;
    default:
      throw invalid(FulcioMessage.insecurePublicKey, `unsupported key type ${key.asymmetricKeyType ?? '(unknown)'}`);
  }
}

/** The digest Fulcio's default verifier pairs with a key (sigstore LoadVerifier). */
function defaultHash(key: KeyObject): string | null {
  if (key.asymmetricKeyType === 'ed25519') return null;
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    return curve === 'secp384r1' ? 'sha384' : curve === 'secp521r1' ? 'sha512' : 'sha256';
  }
  return 'sha256'; // RSA PKCS#1 v1.5 with SHA-256
}

/** Check a base64 proof of possession: a signature with `key` over the raw bytes of `challenge`. */
export function checkProofOfPossession(key: KeyObject, proof: Buffer, challenge: string): void {
  let ok = false;
  try {
    ok = proof.length > 0 && verify(defaultHash(key), Buffer.from(challenge, 'utf8'), key, proof);
  } catch {
    ok = false;
  }
  if (!ok) throw invalid(FulcioMessage.invalidSignature, 'the proof of possession does not verify with the supplied key');
}

/** Signature algorithm OID → node digest name (null: the algorithm has its own, Ed25519). */
const CSR_SIG_HASH: Record<string, string | null> = {
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.3.101.112': null,
};

/**
 * Parse a CSR given as the bytes of the proto field (PEM text, or DER) and
 * check its self-signature, in Fulcio's order: parse, key strength, signature.
 */
export function parseAndCheckCsr(bytes: Buffer): RequestedKey {
  let csr: pkijs.CertificationRequest;
  let key: KeyObject;
  try {
    const text = bytes.toString('latin1');
    let der = bytes;
    if (text.includes('-----BEGIN')) {
      const blocks = decodePemAll(text).filter((b) => b.label === 'CERTIFICATE REQUEST' || b.label === 'NEW CERTIFICATE REQUEST');
      if (blocks.length !== 1) throw new Error('expected one CERTIFICATE REQUEST PEM block');
      der = blocks[0].der;
    }
    const parsed = asn1js.fromBER(new Uint8Array(der));
    if (parsed.offset === -1 || parsed.offset !== der.length) throw new Error('not DER');
    csr = new pkijs.CertificationRequest({ schema: parsed.result });
    key = keyFromSpki(Buffer.from(csr.subjectPublicKeyInfo.toSchema().toBER(false)));
  } catch {
    throw invalid(FulcioMessage.invalidCSR, 'expected a PEM or DER PKCS#10 certificate request');
  }
  checkKeyStrength(key);
  const alg = csr.signatureAlgorithm.algorithmId;
  const hash = CSR_SIG_HASH[alg];
  let ok = false;
  try {
    ok =
      hash !== undefined &&
      verify(hash, Buffer.from(csr.tbsView), key, Buffer.from(csr.signatureValue.valueBlock.valueHexView));
  } catch {
    ok = false;
  }
  if (!ok) throw invalid(FulcioMessage.invalidSignature, 'the certificate request signature does not verify with its key');
  return { key, spki: key.export({ type: 'spki', format: 'der' }) };
}
