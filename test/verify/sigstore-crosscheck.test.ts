/**
 * Independent cross-check: for every offline-mode corpus object, rebuild a
 * Sigstore bundle (v0.3, message signature over the DER signed attributes)
 * from the CMS pieces and let @sigstore/verify 3.1.1 judge it against the same
 * public-good trusted root. It must agree with verifySignature on verdict,
 * identity and issuer.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { describe, expect, test } from 'vitest';
import { CMS_OID, parseSignedData } from '../../src/cms/parse.js';
import { canonicalBody, hashedRekordV001 } from '../../src/rekor/body.js';
import { decodeTle, encodeTle } from '../../src/rekor/tle.js';
import { assembleCms } from './helpers/forge.js';
import { embeddedTrustedRoot } from '../../src/trust/embedded.js';
import { verifySignature } from '../../src/verify/pipeline.js';
import { bundleTlogEntry } from '../e2e/sign-helpers.js';

const CORPUS = join(__dirname, '../fixtures/gitsign-corpus');
const index: { dir: string; has_embedded_tlog: boolean; signer_identity: string; oidc_issuer: string }[] = JSON.parse(
  readFileSync(join(CORPUS, 'index.json'), 'utf8'),
);
const trustJson = JSON.parse(readFileSync(join(__dirname, '../../src/trust/public-good/trusted_root.json'), 'utf8'));
const verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(trustJson)));

function bundleFor(pem: string) {
  const sd = parseSignedData(pem);
  const si = sd.signerInfos[0];
  const leaf = sd.certificates[0];
  const attrs = si.signedAttrsSet!;
  const tleAttr = si.unsignedAttrs.get(CMS_OID.rekorTle)!.values[0].value;
  const tle = decodeTle(tleAttr);
  const digest = createHash('sha256').update(attrs).digest();
  const body = canonicalBody(hashedRekordV001(digest, si.signature, leaf));
  const json = {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: {
      certificate: { rawBytes: leaf.toString('base64') },
      tlogEntries: [bundleTlogEntry(tle, body)],
      timestampVerificationData: { rfc3161Timestamps: [] },
    },
    messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest: digest.toString('base64') }, signature: si.signature.toString('base64') },
  };
  return { bundle: bundleFromJSON(json), artifact: attrs };
}

describe('@sigstore/verify agrees on the offline-mode corpus', () => {
  const objs = index.filter((e) => e.has_embedded_tlog);
  test.each(objs.map((e) => [e.dir, e] as const))('%s', async (_d, e) => {
    const pem = readFileSync(join(CORPUS, e.dir, 'signature.pem'), 'utf8');
    const { bundle, artifact } = bundleFor(pem);
    const signer = verifier.verify(toSignedEntity(bundle, artifact));
    const ours = await verifySignature({ signature: pem, payload: readFileSync(join(CORPUS, e.dir, 'payload.bin')), trust: embeddedTrustedRoot(), offline: true });
    expect(ours.ok).toBe(true);
    expect(signer.identity?.subjectAlternativeName).toBe(ours.identity);
    expect(signer.identity?.extensions?.issuer).toBe(ours.issuer);
  });

  test('and both reject the same entry with an altered integrated time', async () => {
    const e = objs[0];
    const pem = readFileSync(join(CORPUS, e.dir, 'signature.pem'), 'utf8');
    const { bundle, artifact } = bundleFor(pem);
    const entry = bundle.verificationMaterial.tlogEntries[0];
    entry.integratedTime = String(BigInt(entry.integratedTime) + 1n);
    // drop the proof so the SET alone has to carry the entry, as a downgrade attacker would
    entry.inclusionProof = undefined;
    expect(() => verifier.verify(toSignedEntity(bundle, artifact))).toThrow();

    const sd = parseSignedData(pem);
    const si = sd.signerInfos[0];
    const tle = decodeTle(si.unsignedAttrs.get(CMS_OID.rekorTle)!.values[0].value);
    const cms = assembleCms({
      signedAttrsSet: si.signedAttrsSet!,
      signature: si.signature,
      leaf: sd.certificates[0],
      tle: encodeTle({ ...tle, integratedTime: tle.integratedTime + 1n }),
    });
    const payload = readFileSync(join(CORPUS, e.dir, 'payload.bin'));
    // the re-assembled CMS is faithful: unaltered, it still verifies…
    const same = assembleCms({ signedAttrsSet: si.signedAttrsSet!, signature: si.signature, leaf: sd.certificates[0], tle: encodeTle(tle) });
    expect((await verifySignature({ signature: same, payload, trust: embeddedTrustedRoot(), offline: true })).ok).toBe(true);
    // …and with the altered time it does not
    const ours = await verifySignature({ signature: cms, payload, trust: embeddedTrustedRoot(), offline: true });
    expect(ours).toMatchObject({ ok: false, failedCheck: 'tlog' });
  });
});
