/**
 * Robustness on hostile input: random byte mutations and truncations of a real
 * offline-mode signature never crash the verifier (no INTERNAL results, no
 * throws), and whatever still verifies still names the original signer.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { signatureDer } from '../../src/cms/parse.js';
import { embeddedTrustedRoot } from '../../src/trust/embedded.js';
import { verifySignature } from '../../src/verify/pipeline.js';

const DIR = join(__dirname, '../fixtures/gitsign-corpus/sigstore_gitsign_commit_7550db4cf96b');
const der = signatureDer(readFileSync(join(DIR, 'signature.pem'), 'utf8'));
const payload = readFileSync(join(DIR, 'payload.bin'));
const trust = embeddedTrustedRoot();

test('mutated signatures: no crash, no internal error, no change of signer', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.nat(der.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
      fc.option(fc.nat(der.length), { nil: undefined }),
      async (flips, cut) => {
        const m = Buffer.from(der);
        for (const [i, x] of flips) m[i] ^= x;
        const input = cut === undefined ? m : m.subarray(0, cut);
        const r = await verifySignature({ signature: input, payload, trust, offline: true });
        expect(r.code).not.toBe('INTERNAL');
        if (r.ok) expect(r.identity).toBe('billy@chainguard.dev');
      },
    ),
    { numRuns: Number(process.env.FUZZ_RUNS ?? 300) },
  );
});
