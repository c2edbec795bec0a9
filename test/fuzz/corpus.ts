/**
 * Real inputs for structure-aware fuzzing: the offline-mode objects of the
 * shared gitsign corpus (test/fixtures/gitsign-corpus, signed by gitsign with
 * public-good Fulcio certificates and Rekor entries), split into the parts a
 * good verdict depends on.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findSignerCertificate, parseSignedData, signatureDer, CMS_OID, singleValue } from '../../src/cms/parse.js';
import { decodeTle } from '../../src/rekor/tle.js';
import { parseCheckpoint } from '../../src/verify/checkpoint.js';
import { parseCertificate } from '../../src/x509/certificate.js';

export const CORPUS = join(__dirname, '../fixtures/gitsign-corpus');

interface IndexEntry {
  dir: string;
  type: string;
  signer_identity: string;
  oidc_issuer: string | null;
  has_embedded_tlog: boolean;
}
export const INDEX: IndexEntry[] = JSON.parse(readFileSync(join(CORPUS, 'index.json'), 'utf8'));

export interface Sample {
  dir: string;
  type: string;
  identity: string;
  pem: string;
  der: Buffer;
  payload: Buffer;
  object: Buffer;
  leaf: Buffer;
  /** The embedded Rekor entry (empty for online-mode signatures). */
  tle: Buffer;
}

export function loadSample(dir: string): Sample {
  const e = INDEX.find((x) => x.dir === dir)!;
  const pem = readFileSync(join(CORPUS, dir, 'signature.pem'), 'utf8');
  const der = signatureDer(pem);
  const sd = parseSignedData(der);
  const si = sd.signerInfos[0];
  const leaf = findSignerCertificate(si, sd.certificates.map((c) => parseCertificate(c)))!.der;
  const tle = singleValue(si.unsignedAttrs, CMS_OID.rekorTle, 'tle')?.value ?? Buffer.alloc(0);
  return {
    dir,
    type: e.type,
    identity: e.signer_identity,
    pem,
    der,
    payload: readFileSync(join(CORPUS, dir, 'payload.bin')),
    object: readFileSync(join(CORPUS, dir, 'object.raw')),
    leaf,
    tle,
  };
}

export const OFFLINE = INDEX.filter((e) => e.has_embedded_tlog).map((e) => e.dir);

/**
 * Everything a `good` verdict rests on, as one string: the DER signed
 * attributes (signed by the leaf key; they hold the payload digest), the
 * signature value, the signer's certificate (signed by the Fulcio CA), and the
 * parts of the embedded Rekor entry that the SET or the checkpoint signature
 * cover or that locate the entry in the proof (log id, index, integrated
 * time, SET, kind/version, inclusion proof path and checkpoint).
 */
function checkpointSigned(text: string): string {
  try {
    const c = parseCheckpoint(text);
    return JSON.stringify([c.note.toString('utf8'), c.signatures.map((x) => x.keyHint.toString('hex') + x.signature.toString('hex'))]);
  } catch {
    return `unparsable:${text}`;
  }
}

export function signedParts(der: Buffer): string {
  const sd = parseSignedData(der);
  const si = sd.signerInfos[0];
  const leaf = findSignerCertificate(si, sd.certificates.map((c) => parseCertificate(c)))!;
  const t = decodeTle(singleValue(si.unsignedAttrs, CMS_OID.rekorTle, 'tle')!.value);
  return JSON.stringify({
    signedAttrs: si.signedAttrsSet!.toString('hex'),
    signature: si.signature.toString('hex'),
    leaf: leaf.der.toString('hex'),
    logId: t.logId.toString('hex'),
    logIndex: String(t.logIndex),
    integratedTime: String(t.integratedTime),
    set: t.signedEntryTimestamp?.toString('hex'),
    kind: t.kind,
    version: t.version,
    proofIndex: String(t.inclusionProof?.logIndex),
    proofHashes: t.inclusionProof?.hashes.map((h) => h.toString('hex')),
    // The signed note and the signature bytes; the key name on a v1 signature line is not
    // signed and not compared with the log's name (see verify.test.ts, "unsigned places").
    checkpoint: checkpointSigned(t.inclusionProof?.checkpoint ?? ''),
  });
}
