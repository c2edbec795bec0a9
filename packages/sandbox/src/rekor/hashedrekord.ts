/**
 * hashedrekord v0.0.1 proposed entries, checked the way Rekor v1 checks them
 * (rekor pkg/types/hashedrekord/v0.0.1/entry.go): well-formed fields, a
 * parsable certificate or public key, and a signature that verifies over the
 * digest. The canonical form keeps only the schema's fields, with base64
 * re-encoded, so the same entry always yields the same leaf.
 */
import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { canonicalize } from '../gitseal/canonical-json.js';
import { decodePemAll, type PemBlock } from '../gitseal/pem.js';
import { verifyPrehashed, type DigestAlgorithm } from './prehashed.js';

/** A rejected entry: HTTP status and the `message` Rekor would send. */
export class EntryError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'EntryError';
  }
}

export interface CanonicalEntry {
  /** RFC 8785 bytes: the Merkle leaf data. */
  body: Buffer;
  /** Lowercase hex digest, for the search index. */
  digest: string;
  algorithm: DigestAlgorithm;
  /** Search keys: `cert:<sha256 DER>`, `key:<sha256 SPKI>`, `email:<address>`. */
  indexKeys: string[];
}

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha384: 96, sha512: 128 };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function field(o: Record<string, unknown>, name: string, path: string): Record<string, unknown> {
  const v = o[name];
  if (!isObject(v)) throw new EntryError(400, `${path}.${name} is missing or not an object`);
  return v;
}

function strictBase64(s: unknown, what: string): Buffer {
  if (typeof s !== 'string' || s.length === 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) {
    throw new EntryError(400, `${what} is not valid base64`);
  }
  return Buffer.from(s, 'base64');
}

const sha256hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** The verification key and search keys from `publicKey.content` (base64 of a PEM certificate or public key). */
export function parseVerifier(pemBytes: Buffer): { key: KeyObject; indexKeys: string[] } {
  let blocks: PemBlock[];
  try {
    blocks = decodePemAll(pemBytes.toString('utf8'));
  } catch {
    blocks = [];
  }
  if (blocks.length !== 1) throw new EntryError(400, 'publicKey.content must hold exactly one PEM certificate or public key');
  const [block] = blocks;
  try {
    if (block.label === 'CERTIFICATE') {
      const cert = new X509Certificate(block.der);
      const key = cert.publicKey;
      const spki = key.export({ type: 'spki', format: 'der' });
      const emails = (cert.subjectAltName ?? '')
        .split(', ')
        .filter((s) => s.startsWith('email:'))
        .map((s) => 'email:' + s.slice(6).toLowerCase());
      return { key, indexKeys: [`cert:${sha256hex(block.der)}`, `key:${sha256hex(spki)}`, ...emails] };
    }
    if (block.label === 'PUBLIC KEY') {
      const key = createPublicKey({ key: block.der, format: 'der', type: 'spki' });
      return { key, indexKeys: [`key:${sha256hex(block.der)}`] };
    }
  } catch {
    throw new EntryError(400, `publicKey.content holds an unparsable ${block.label.toLowerCase()}`);
  }
  throw new EntryError(400, `publicKey.content holds a "${block.label}" PEM block, not a certificate or public key`);
}

/** Validate a proposed hashedrekord v0.0.1 entry and return its canonical form. */
export function canonicalizeHashedRekord(proposed: unknown): CanonicalEntry {
  if (!isObject(proposed)) throw new EntryError(400, 'the proposed entry must be a JSON object');
  if (proposed.kind !== 'hashedrekord') {
    throw new EntryError(400, `unsupported entry kind ${JSON.stringify(proposed.kind)}: the sandbox log accepts hashedrekord`);
  }
  if (proposed.apiVersion !== '0.0.1') {
    throw new EntryError(400, `unsupported hashedrekord version ${JSON.stringify(proposed.apiVersion)}: the sandbox log accepts 0.0.1`);
  }
  const spec = field(proposed, 'spec', 'entry');
  const hash = field(field(spec, 'data', 'spec'), 'hash', 'spec.data');
  const algorithm = hash.algorithm;
  if (algorithm !== 'sha256' && algorithm !== 'sha384' && algorithm !== 'sha512') {
    throw new EntryError(400, `unsupported hash algorithm ${JSON.stringify(algorithm)}`);
  }
  const value = hash.value;
  if (typeof value !== 'string' || !new RegExp(`^[0-9a-fA-F]{${HEX_LENGTH[algorithm]}}$`).test(value)) {
    throw new EntryError(400, `spec.data.hash.value must be ${HEX_LENGTH[algorithm]} hex characters for ${algorithm}`);
  }
  const signature = field(spec, 'signature', 'spec');
  const sig = strictBase64(signature.content, 'spec.signature.content');
  const pem = strictBase64(field(signature, 'publicKey', 'spec.signature').content, 'spec.signature.publicKey.content');
  const { key, indexKeys } = parseVerifier(pem);
  const digest = Buffer.from(value, 'hex');
  let ok: boolean;
  try {
    ok = verifyPrehashed(key, algorithm, digest, sig);
  } catch (e) {
    throw new EntryError(400, `verifying signature: ${(e as Error).message}`);
  }
  if (!ok) throw new EntryError(400, 'verifying signature: invalid signature when validating ASN.1 encoded signature');

  const canonical = {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm, value } },
      signature: { content: sig.toString('base64'), publicKey: { content: pem.toString('base64') } },
    },
  };
  const lower = value.toLowerCase();
  return {
    body: Buffer.from(canonicalize(canonical), 'utf8'),
    digest: lower,
    algorithm,
    indexKeys: [`hash:${algorithm}:${lower}`, ...indexKeys],
  };
}
