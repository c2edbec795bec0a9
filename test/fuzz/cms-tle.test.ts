/**
 * CMS SignedData parsing and the embedded Rekor entry (protobuf
 * TransparencyLogEntry) and its checkpoint, on random bytes and on mutations
 * of the real entries inside the gitsign corpus. Only GitsealError; and a
 * re-embedded mutated entry never turns into a good verdict unless what the
 * log signed (SET, checkpoint) and the proof path are unchanged.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSignedData } from '../../src/cms/parse.js';
import { decodeTle, encodeTle } from '../../src/rekor/tle.js';
import { embeddedTrustedRoot } from '../../src/trust/embedded.js';
import { decodeFields } from '../../src/util/protobuf.js';
import { parseCheckpoint, verifyCheckpoint } from '../../src/verify/checkpoint.js';
import { verifySignature } from '../../src/verify/pipeline.js';
import { mutated, mutatedText, onlyGitsealErrors, params, text } from './budget.js';
import { loadSample, OFFLINE, signedParts } from './corpus.js';
import { encode, nodes, toTree } from './tlv.js';

const trust = embeddedTrustedRoot();
const samples = OFFLINE.map(loadSample);

/** The signature with its embedded entry replaced by `tle` (containers re-encoded). */
function withTle(der: Buffer, original: Buffer, tle: Buffer): Buffer {
  const root = toTree(der);
  const n = nodes(root).find((x) => x.tag === 0x04 && x.value.equals(original))!;
  n.value = tle;
  return encode(root);
}

describe('CMS parse', () => {
  it('random bytes: only GitsealError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (b) => {
        onlyGitsealErrors(() => parseSignedData(Buffer.concat([Buffer.from([0x30]), Buffer.from(b)])));
        onlyGitsealErrors(() => parseSignedData(Buffer.from(b).toString('latin1')));
      }),
      params('cms/random'),
    );
  });
  it('mutated real signatures: only GitsealError', () => {
    fc.assert(
      fc.property(fc.nat(samples.length - 1).chain((i) => mutated(samples[i].der)), (m) => {
        onlyGitsealErrors(() => parseSignedData(m));
      }),
      params('cms/mutated-parse'),
    );
  });
});

describe('embedded log entry (protobuf)', () => {
  it('random bytes: decodeFields/decodeTle only GitsealError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        onlyGitsealErrors(() => decodeFields(Buffer.from(b)));
        onlyGitsealErrors(() => decodeTle(Buffer.from(b)));
      }),
      params('tle/random'),
    );
  });
  it('real entries round-trip through the codec', () => {
    for (const s of samples) expect(encodeTle(decodeTle(s.tle)).equals(s.tle)).toBe(true);
  });
  it('mutated real entries, re-embedded: no crash; good only with the signed parts unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(samples.length - 1).chain((i) => fc.tuple(fc.constant(samples[i]), mutated(samples[i].tle))),
        async ([s, t]) => {
          onlyGitsealErrors(() => decodeTle(t));
          const sig = withTle(s.der, s.tle, t);
          const r = await verifySignature({ signature: sig, payload: s.payload, trust, offline: true });
          expect(r.code, r.message).not.toBe('INTERNAL');
          if (r.kind === 'good') expect(signedParts(sig)).toBe(signedParts(s.der));
        },
      ),
      params('tle/mutated'),
    );
  });
  it('the unsigned fields of the entry: canonicalized_body, proof root/size echoes, unknown fields', async () => {
    const s = samples[0];
    const e = decodeTle(s.tle);
    const r = (tle: Buffer) => verifySignature({ signature: withTle(s.der, s.tle, tle), payload: s.payload, trust, offline: true });
    // A wrong canonicalized_body is ignored: the verifier rebuilds the body from the signature.
    expect((await r(encodeTle({ ...e, canonicalizedBody: Buffer.from('{"forged":true}') }))).kind).toBe('good');
    // Unknown fields are skipped (protobuf rules).
    expect((await r(Buffer.concat([s.tle, Buffer.from([0xf8, 0x07, 0x01])]))).kind).toBe('good');
    // The proof's own root and size must agree with the signed checkpoint.
    const p = e.inclusionProof!;
    expect((await r(encodeTle({ ...e, inclusionProof: { ...p, treeSize: p.treeSize + 1n } }))).kind).not.toBe('good');
    expect((await r(encodeTle({ ...e, inclusionProof: { ...p, rootHash: Buffer.alloc(32, 1) } }))).kind).not.toBe('good');
    // Everything the SET covers changes the verdict.
    for (const bad of [{ logIndex: e.logIndex + 1n }, { integratedTime: e.integratedTime + 1n }, { logId: Buffer.alloc(32) }]) {
      expect((await r(encodeTle({ ...e, ...bad }))).kind).not.toBe('good');
    }
  });
});

describe('checkpoint (signed note)', () => {
  const checkpoints = samples.map((s) => decodeTle(s.tle).inclusionProof!.checkpoint);
  it('random text: only GitsealError', () => {
    fc.assert(
      fc.property(text(300), (t) => {
        onlyGitsealErrors(() => parseCheckpoint(t));
        onlyGitsealErrors(() => parseCheckpoint(`origin\n1\n${'A'.repeat(43)}=\n\n${t}`));
      }),
      params('checkpoint/random'),
    );
  });
  it('mutated real checkpoints: only GitsealError, and a changed note never verifies', () => {
    const log = trust.tlogs[0];
    const logs = trust.tlogs;
    fc.assert(
      fc.property(fc.nat(checkpoints.length - 1).chain((i) => fc.tuple(fc.constant(checkpoints[i]), mutatedText(checkpoints[i]))), ([orig, t]) => {
        onlyGitsealErrors(() => parseCheckpoint(t));
        for (const l of [log, ...logs]) {
          const ok = onlyGitsealErrors(() => verifyCheckpoint(t, l));
          if (ok) expect(ok.note.toString('utf8')).toBe(parseCheckpoint(orig).note.toString('utf8'));
        }
      }),
      params('checkpoint/mutated'),
    );
  });
});
