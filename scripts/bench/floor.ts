// The crypto floor of verifying one offline-mode signature: only the
// signature and hash checks the verdict depends on, with every byte they
// need prepared beforehand. Timing these alone gives the lower bound a
// verifier could reach per commit on one core.
//
// Counted per commit: SHA-256 of the payload (messageDigest), the leaf key
// import, ECDSA over the signed attributes (CMS), the leaf certificate's
// signature by its issuing CA, the SCT signature, the Rekor SET signature,
// SHA-256 of the signed attributes and of the log body (Merkle leaf), the
// Merkle audit path, and the checkpoint signature.
// Not counted: the CA→root links (identical for every commit; a verifier
// computes them once), and all parsing/encoding.
import { createHash, createPublicKey, verify } from 'node:crypto';
import { findSignerCertificate, parseSignedData, singleValue, CMS_OID } from '../../src/cms/parse.js';
import { canonicalBody, hashedRekordV001 } from '../../src/rekor/body.js';
import { decodeTle } from '../../src/rekor/tle.js';
import type { TrustedRoot } from '../../src/trust/trusted-root.js';
import { canonicalize } from '../../src/util/canonical-json.js';
import { embeddedScts, parseCertificate } from '../../src/x509/certificate.js';
import { publicKeyFromSpki, verifyIssuedBy, digestFor } from '../../src/x509/signature.js';
import { precertificateTbs } from '../../src/verify/sct.js';
import { parseCheckpoint } from '../../src/verify/checkpoint.js';

export interface FloorOp {
  name: string;
  run: () => boolean;
}

function must(ok: boolean, what: string): void {
  if (!ok) throw new Error(`crypto floor: ${what} does not verify on the sample signature`);
}

/** Everything the per-commit crypto operations need, prepared from `signature` over `payload`. */
function prepareFloor(signature: Buffer | string, payload: Buffer, trust: TrustedRoot) {
  const sd = parseSignedData(signature);
  const si = sd.signerInfos[0];
  const certs = sd.certificates.map((c) => parseCertificate(c));
  const leaf = findSignerCertificate(si, certs)!;
  const signedAttrs = si.signedAttrsSet!;
  const digest = singleValue(si.signedAttrs, CMS_OID.messageDigest, 'messageDigest')!.value;
  // The issuing CA certificate among the trusted chains.
  const issuer = trust.certificateAuthorities.flatMap((ca) => ca.certChain.map((d) => parseCertificate(d))).find((c) => verifyIssuedBy(leaf, c));
  if (!issuer) throw new Error('crypto floor: the sample leaf has no issuer in the trusted root');
  const leafHashAlg = digestFor(leaf.signatureAlgorithm)!;
  // SCT
  const sct = embeddedScts(leaf)[0];
  const ctSpki = trust.ctlogs.find((l) => l.logId.equals(sct.logId))!.publicKey;
  const ts = Buffer.alloc(8);
  ts.writeBigUInt64BE(sct.timestamp);
  const tbs = precertificateTbs(leaf);
  const issuerKeyHash = createHash('sha256').update(issuer.spki).digest();
  const len3 = Buffer.from([(tbs.length >> 16) & 0xff, (tbs.length >> 8) & 0xff, tbs.length & 0xff]);
  const ext2 = Buffer.from([(sct.extensions.length >> 8) & 0xff, sct.extensions.length & 0xff]);
  const sctSigned = Buffer.concat([Buffer.from([0, 0]), ts, Buffer.from([0, 1]), issuerKeyHash, len3, tbs, ext2, sct.extensions]);
  // Rekor entry
  const tleAttr = singleValue(si.unsignedAttrs, CMS_OID.rekorTle, 'tle');
  if (!tleAttr) throw new Error('crypto floor: the sample signature has no embedded log entry (offline mode needed)');
  const tle = decodeTle(tleAttr.value);
  const body = canonicalBody(hashedRekordV001(createHash('sha256').update(signedAttrs).digest(), si.signature, leaf.der));
  const tlog = trust.tlogs.find((t) => t.logId.equals(tle.logId))!;
  const setPayload = Buffer.from(
    canonicalize({ body: body.toString('base64'), integratedTime: tle.integratedTime, logID: tle.logId.toString('hex'), logIndex: tle.logIndex }),
    'utf8',
  );
  const proof = tle.inclusionProof!;
  const cp = parseCheckpoint(proof.checkpoint);
  const cpSig = cp.signatures[0].signature;
  return { payload, si, leaf, signedAttrs, digest, issuer, leafHashAlg, sct, ctSpki, sctSigned, tle, body, tlog, setPayload, proof, cp, cpSig };
}

/** The per-commit crypto operations for `signature` over `payload`; each returns true when it verifies. */
export function cryptoFloorOps(signature: Buffer | string, payload: Buffer, trust: TrustedRoot): FloorOp[] {
  const { si, leaf, signedAttrs, digest, issuer, leafHashAlg, sct, ctSpki, sctSigned, tle, body, tlog, setPayload, proof, cp, cpSig } = prepareFloor(signature, payload, trust);
  const issuerKey = publicKeyFromSpki(issuer.spki);
  const ctKey = publicKeyFromSpki(ctSpki);
  const tlogKey = publicKeyFromSpki(tlog.publicKey);
  const ed = tlogKey.asymmetricKeyType === 'ed25519';

  const ops: FloorOp[] = [
    { name: 'sha256(payload) = messageDigest', run: () => createHash('sha256').update(payload).digest().equals(digest) },
    { name: 'ECDSA: signed attributes (leaf key import included)', run: () => verify('sha256', signedAttrs, createPublicKey({ key: leaf.spki, format: 'der', type: 'spki' }), si.signature) },
    { name: `leaf certificate by its CA (${leafHashAlg})`, run: () => verify(leafHashAlg, leaf.tbs, issuerKey, leaf.signature) },
    { name: 'SCT signature', run: () => verify('sha256', sctSigned, ctKey, sct.signature) },
    { name: 'Rekor SET signature', run: () => verify(ed ? null : 'sha256', setPayload, tlogKey, tle.signedEntryTimestamp!) },
    {
      name: 'Merkle leaf + audit path',
      run: () => {
        let h = createHash('sha256').update(Buffer.from([0])).update(body).digest();
        let idx = proof.logIndex;
        // Same hash count as the real walk; the path shape is checked by the verifier.
        for (const p of proof.hashes) {
          h = idx & 1n ? createHash('sha256').update(Buffer.from([1])).update(p).update(h).digest() : createHash('sha256').update(Buffer.from([1])).update(h).update(p).digest();
          idx >>= 1n;
        }
        return h.length === 32;
      },
    },
    { name: 'checkpoint signature', run: () => verify(ed ? null : 'sha256', cp.note, tlogKey, cpSig) },
  ];
  for (const op of ops) must(op.run(), op.name);
  return ops;
}

/**
 * The raw inputs of the same operations, as JSON-safe strings (base64, except `digest` in hex),
 * for a process that runs them with node:crypto alone (scripts/bench/instructions.mjs). Keys are
 * DER SPKI, so that process imports every key itself, as a verifier does.
 */
export function cryptoFloorInputs(signature: Buffer | string, payload: Buffer, trust: TrustedRoot) {
  const f = prepareFloor(signature, payload, trust);
  const b64 = (b: Buffer) => b.toString('base64');
  const tlogKey = publicKeyFromSpki(f.tlog.publicKey);
  return {
    payload: b64(payload),
    digest: f.digest.toString('hex'),
    signedAttrs: b64(f.signedAttrs),
    leafSpki: b64(f.leaf.spki),
    cmsSignature: b64(f.si.signature),
    leafTbs: b64(f.leaf.tbs),
    leafSignature: b64(f.leaf.signature),
    leafHashAlg: f.leafHashAlg,
    issuerSpki: b64(f.issuer.spki),
    sctSigned: b64(f.sctSigned),
    sctSignature: b64(f.sct.signature),
    ctSpki: b64(f.ctSpki),
    setPayload: b64(f.setPayload),
    setSignature: b64(f.tle.signedEntryTimestamp!),
    tlogSpki: b64(f.tlog.publicKey),
    tlogEd25519: tlogKey.asymmetricKeyType === 'ed25519',
    body: b64(f.body),
    logIndex: f.proof.logIndex.toString(),
    proofHashes: f.proof.hashes.map(b64),
    checkpointNote: b64(f.cp.note),
    checkpointSignature: b64(f.cpSig),
  };
}
