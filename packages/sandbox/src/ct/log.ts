/**
 * The sandbox Certificate Transparency log: an ECDSA P-256 key persisted in
 * DIR/ct/, log ID = sha256(DER SPKI) (RFC 6962 §3.2), issuing v1 SCTs for
 * precertificates. It keeps no Merkle tree: Sigstore clients only check the SCT
 * signature, never a CT inclusion proof.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { GitsealError } from '../gitseal/errors.js';
import { certificateParts, OID_CT_POISON, tbsWithoutExtension } from './precert.js';
import { precertSignatureInput, type Sct } from './sct.js';
import { loadOrCreateFiles, writePrivateFile } from '../shared/private-files.js';

export interface CtLog {
  /** DER SubjectPublicKeyInfo of the log key. */
  publicKey: Buffer;
  /** RFC 6962 §3.2 LogID: sha256 of the DER SPKI. */
  logId: Buffer;
  /** Sigstore TrustedRoot key details for the log key. */
  keyDetails: 'PKIX_ECDSA_P256_SHA_256';
  /** When the key was made (start of its validity in a trusted root). */
  createdAt: Date;
  /**
   * RFC 6962 §4.1 add-pre-chain, in process: check the precertificate (critical
   * poison, signed by `issuer`) and return an SCT over its TBS without the poison.
   */
  addPreChain(precert: Buffer, issuer: Buffer): Sct;
}

const CT_FILES = { keyPem: 'log.key', meta: 'log.json' };

/** Signature algorithm OID → hash for the issuer signatures a CA here produces. */
const HASH_BY_SIG_OID: Record<string, string> = {
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
};

/** Open the CT log in `dir`/ct, creating its key on first use. */
export function openCtLog(opts: { dir: string; now?: () => Date }): CtLog {
  const now = opts.now ?? (() => new Date());
  const ctDir = join(opts.dir, 'ct');
  const { keyPem, meta } = loadOrCreateFiles(ctDir, 'log', CT_FILES, () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const created = {
      keyPem: Buffer.from(privateKey.export({ type: 'pkcs8', format: 'pem' })),
      meta: Buffer.from(JSON.stringify({ createdAt: now().toISOString() }) + '\n'),
    };
    writePrivateFile(ctDir, CT_FILES.keyPem, created.keyPem);
    writePrivateFile(ctDir, CT_FILES.meta, created.meta);
    return created;
  });
  const privateKey = createPrivateKey(keyPem);
  const publicKey = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const createdAt = new Date(JSON.parse(meta.toString('utf8')).createdAt);
  return {
    publicKey,
    logId: createHash('sha256').update(publicKey).digest(),
    keyDetails: 'PKIX_ECDSA_P256_SHA_256',
    createdAt,
    addPreChain: (precert, issuer) => addPreChain(privateKey, publicKey, now, precert, issuer),
  };
}

function addPreChain(key: KeyObject, logKey: Buffer, now: () => Date, precert: Buffer, issuer: Buffer): Sct {
  const pre = certificateParts(precert);
  const poison = pre.extensions.find((e) => e.oid === OID_CT_POISON);
  if (!poison || !poison.critical) {
    throw new GitsealError('BAD_CERTIFICATE', 'the CT log accepts only precertificates (critical poison extension)');
  }
  const issuerSpki = certificateParts(issuer).spki;
  const hash = HASH_BY_SIG_OID[pre.signatureAlgorithm];
  if (!hash || !verify(hash, pre.tbs, createPublicKey({ key: issuerSpki, format: 'der', type: 'spki' }), pre.signature)) {
    throw new GitsealError('BAD_CERTIFICATE', 'the precertificate is not signed by the submitted issuer');
  }
  const timestamp = BigInt(now().getTime());
  // RFC 6962 §3.2: issuer_key_hash is sha256 of the issuer's DER SPKI; the TBS is the precert's without the poison.
  const input = precertSignatureInput({
    timestamp,
    issuerKeyHash: createHash('sha256').update(issuerSpki).digest(),
    tbs: tbsWithoutExtension(precert, OID_CT_POISON),
  });
  return {
    logId: createHash('sha256').update(logKey).digest(),
    timestamp,
    extensions: Buffer.alloc(0),
    signature: sign('sha256', input, key),
  };
}
