/**
 * hashedrekord entry bodies as Rekor stores them. gitsign (offline mode)
 * logs sha256(DER signed attributes) with the CMS signature and the leaf PEM;
 * verifiers rebuild this exact body because the embedded entry omits it.
 */
import { createHash } from 'node:crypto';
import { canonicalize } from '../util/canonical-json.js';
import { encodePem } from '../util/pem.js';

export interface HashedRekordV001 {
  apiVersion: '0.0.1';
  kind: 'hashedrekord';
  spec: {
    data: { hash: { algorithm: 'sha256'; value: string } };
    signature: { content: string; publicKey: { content: string } };
  };
}

/** The proposed/canonical hashedrekord v0.0.1 entry for a digest, signature and leaf. */
export function hashedRekordV001(digest: Buffer, signature: Buffer, leafDer: Buffer): HashedRekordV001 {
  return {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: 'sha256', value: digest.toString('hex') } },
      signature: {
        content: signature.toString('base64'),
        // Go-style PEM (64 columns, trailing newline): the body hash depends on it.
        publicKey: { content: Buffer.from(encodePem('CERTIFICATE', leafDer)).toString('base64') },
      },
    },
  };
}

/**
 * canonicalBody(hashedRekordV001(digest, signature, leafDer)), written out directly: the keys
 * in RFC 8785 order and every value hex or base64, which JSON never escapes. Range
 * verification rebuilds one body per commit (test/verify/canonical-fast.test.ts pins it to
 * the generic path byte for byte).
 */
export function canonicalHashedRekordV001(digest: Buffer, signature: Buffer, leafDer: Buffer): Buffer {
  const pem = Buffer.from(encodePem('CERTIFICATE', leafDer), 'latin1').toString('base64');
  return Buffer.from(
    `{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash":{"algorithm":"sha256","value":"${digest.toString('hex')}"}},` +
      `"signature":{"content":"${signature.toString('base64')}","publicKey":{"content":"${pem}"}}}}`,
    'latin1',
  );
}

/** Canonical bytes of a body, as hashed into the Merkle leaf. */
export function canonicalBody(body: unknown): Buffer {
  return Buffer.from(canonicalize(body), 'utf8');
}

export function sha256(...parts: Buffer[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}
