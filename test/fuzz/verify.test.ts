/**
 * verifySignature on hostile signatures: random byte mutations, and
 * structure-aware edits at every TLV of REAL offline-mode gitsign signatures
 * (test/fixtures/gitsign-corpus). Properties: never a crash (no INTERNAL verdict,
 * no throw), never a hang (per-case bound), and a `good` verdict only when
 * everything the verdict rests on is byte-identical to the genuine signature
 * (see signedParts in ./corpus.ts), for the same signer.
 *
 * The places a mutation may land and still verify — unsigned and not checked,
 * found by the exhaustive sweep below and asserted to be the only ones:
 *   - the PEM armour around the DER (line breaks, whitespace; not text around the block, which is refused);
 *   - extra copies of certificates in SignedData.certificates (the signer is found by issuer+serial);
 *   - inside the embedded Rekor entry (cms-tle.test.ts): canonicalized_body (the verifier rebuilds
 *     the body), unknown protobuf fields, and the key name on a Rekor v1 checkpoint's signature line
 *     ("— <name> <base64>"): the note is signed, the name is not, and checkpoint.ts picks a v1 key by
 *     its 4-byte hint (a Rekor v2 checkpoint's origin and name must be the log's);
 *   - edits that leave the bytes unchanged (e.g. shortening an empty subject).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signatureDer } from '../../src/cms/parse.js';
import { embeddedTrustedRoot } from '../../src/trust/embedded.js';
import { encodePem } from '../../src/util/pem.js';
import { verifySignature } from '../../src/verify/pipeline.js';
import { mutated, params } from './budget.js';
import { loadSample, OFFLINE, signedParts, type Sample } from './corpus.js';
import { applyEdit, EDITS, nodes, toTree } from './tlv.js';

const trust = embeddedTrustedRoot();
const samples = OFFLINE.map(loadSample);
const genuine = new Map(samples.map((s) => [s.dir, signedParts(s.der)]));

/** CMS paths (see tlv.ts) under which an edit may keep a good verdict. */
const UNSIGNED_PLACES: Array<[RegExp, string]> = [[/^0\.1\.0\.3\.\d+$/, 'a duplicated certificate in SignedData.certificates']];

async function check(s: Sample, input: string | Buffer, payload = s.payload): Promise<'good' | 'other'> {
  const r = await verifySignature({ signature: input, payload, trust, offline: true });
  expect(r.code, r.message).not.toBe('INTERNAL');
  expect(r.message).not.toMatch(/\n/);
  if (r.kind !== 'good') {
    expect(r.ok).toBe(false);
    return 'other';
  }
  // A good verdict stays tied to the genuine signature: same signed bytes, same signer, same payload.
  expect(payload.equals(s.payload)).toBe(true);
  expect(signedParts(signatureDer(input))).toBe(genuine.get(s.dir));
  expect(r.identity).toBe(s.identity);
  return 'good';
}

describe('verifySignature on mutated real signatures', () => {
  it('sanity: every offline-mode corpus signature verifies unmutated', async () => {
    expect(samples.length).toBe(12);
    for (const s of samples) expect(await check(s, s.der)).toBe('good');
  });

  it('random byte mutations (flip, cut, extend, insert, delete, overwrite) of the DER', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(samples.length - 1).chain((i) => fc.tuple(fc.constant(samples[i]), mutated(samples[i].der))),
        async ([s, m]) => {
          await check(s, m);
        },
      ),
      params('verify/mutated-signature'),
    );
  });

  it('structure-aware edits at a random TLV (tag, length, content, delete, duplicate), re-encoded', async () => {
    const trees = samples.map((s) => nodes(toTree(s.der)));
    await fc.assert(
      fc.asyncProperty(
        fc.nat(samples.length - 1).chain((i) => fc.tuple(fc.constant(i), fc.nat(trees[i].length - 1), fc.constantFrom(...EDITS))),
        async ([i, k, e]) => {
          const s = samples[i];
          const m = applyEdit(s.der, trees[i][k].path, e);
          if ((await check(s, m)) === 'good' && !m.equals(s.der)) {
            expect(UNSIGNED_PLACES.some(([re]) => re.test(trees[i][k].path)), `${trees[i][k].path} ${e}`).toBe(true);
          }
        },
      ),
      params('verify/tlv-edits'),
    );
  });

  it('exhaustive sweep: every edit at every TLV of two real signatures; good only in the documented unsigned places', async () => {
    const seen = new Set<string>();
    let cases = 0;
    for (const s of [samples[0], samples[samples.length - 1]]) {
      for (const n of nodes(toTree(s.der))) {
        for (const e of EDITS) {
          const m = applyEdit(s.der, n.path, e);
          cases++;
          if ((await check(s, m)) === 'good' && !m.equals(s.der)) {
            const place = UNSIGNED_PLACES.find(([re]) => re.test(n.path));
            expect(place, `good verdict after ${e} at ${n.path} (tag 0x${n.tag.toString(16)})`).toBeDefined();
            seen.add(place![1]);
          }
        }
      }
    }
    console.log(`fuzz: verify sweep ran ${cases} TLV edits; still good only in: ${[...seen].join('; ')}`);
    expect(cases).toBeGreaterThan(1000);
  }, 600_000);

  it('any change to the payload is never good', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(samples.length - 1).chain((i) => fc.tuple(fc.constant(samples[i]), mutated(samples[i].payload))),
        async ([s, p]) => {
          fc.pre(!p.equals(s.payload));
          expect(await check(s, s.der, p)).toBe('other');
        },
      ),
      params('verify/mutated-payload'),
    );
  });

  it('PEM armour: re-wrapping and whitespace keep the verdict, text around the block does not; the decoded DER decides', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(samples.length - 1),
        fc.integer({ min: 4, max: 200 }),
        fc.constantFrom('\n', '\r\n'),
        fc.boolean(),
        async (i, width, eol, junk) => {
          const s = samples[i];
          const b64 = s.der.toString('base64');
          const lines: string[] = [];
          for (let p = 0; p < b64.length; p += width) lines.push(b64.slice(p, p + width));
          const text = `${junk ? 'garbage before\n' : ''}-----BEGIN SIGNED MESSAGE-----${eol}${lines.join(eol)}${eol}-----END SIGNED MESSAGE-----${eol}`;
          // Text around the block is a part one reader sees and another skips: refused (issue 14 item 9).
          expect(await check(s, text)).toBe(junk ? 'other' : 'good');
          expect(await check(s, encodePem('SIGNED MESSAGE', s.der))).toBe('good');
        },
      ),
      params('verify/pem-armour'),
    );
  });
});
