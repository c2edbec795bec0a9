/**
 * The hashedrekord v0.0.1 body and the SET payload are written out directly on the range path
 * (src/rekor/body.ts canonicalHashedRekordV001, src/verify/set.ts setPayload). Both must equal
 * the generic RFC 8785 path (src/util/canonical-json.ts) byte for byte: on every offline-mode
 * entry of the real gitsign corpus (where they must also equal the body Rekor logged) and on
 * generated inputs of every length, including the edges of the integers.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CMS_OID, findSignerCertificate, parseSignedData, singleValue } from '../../src/cms/parse.js';
import { canonicalBody, canonicalHashedRekordV001, hashedRekordV001 } from '../../src/rekor/body.js';
import { decodeTle } from '../../src/rekor/tle.js';
import { canonicalize } from '../../src/util/canonical-json.js';
import { TAG } from '../../src/util/der.js';
import { setPayload, verifySet } from '../../src/verify/set.js';
import { embeddedTrustedRoot } from '../../src/trust/embedded.js';
import { parseCertificate } from '../../src/x509/certificate.js';

const CORPUS = join(__dirname, '../fixtures/gitsign-corpus');
const index: { dir: string; has_embedded_tlog: boolean }[] = JSON.parse(readFileSync(join(CORPUS, 'index.json'), 'utf8'));
const offlineMode = index.filter((e) => e.has_embedded_tlog);
const trust = embeddedTrustedRoot();

function genericSetPayload(e: { body: Buffer; integratedTime: bigint; logId: Buffer; logIndex: bigint }): Buffer {
  return Buffer.from(canonicalize({ body: e.body.toString('base64'), integratedTime: e.integratedTime, logID: e.logId.toString('hex'), logIndex: e.logIndex }), 'utf8');
}

describe('real corpus entries', () => {
  test('there are offline-mode entries to check', () => {
    expect(offlineMode.length).toBeGreaterThanOrEqual(12);
  });

  test.each(offlineMode.map((e) => [e.dir] as const))('%s: body and SET payload as the generic path and as logged', (dir) => {
    const sd = parseSignedData(readFileSync(join(CORPUS, dir, 'signature.pem'), 'utf8'));
    const si = sd.signerInfos[0]!;
    const leaf = findSignerCertificate(si, sd.certificates.map((c) => parseCertificate(c)))!;
    expect(leaf).toBeDefined();
    const digest = createHash('sha256').update(si.signedAttrsSet!).digest();
    const fast = canonicalHashedRekordV001(digest, si.signature, leaf.der);
    expect(fast.equals(canonicalBody(hashedRekordV001(digest, si.signature, leaf.der)))).toBe(true);
    const attr = singleValue(si.unsignedAttrs, CMS_OID.rekorTle, 'tle')!;
    expect(attr.tag).toBe(TAG.OCTET_STRING);
    const entry = decodeTle(attr.value);
    // gitsign leaves the body out of its entry; where one is there, it is what Rekor logged.
    if (entry.canonicalizedBody) expect(fast.equals(entry.canonicalizedBody)).toBe(true);
    const e = { body: fast, integratedTime: entry.integratedTime, logId: entry.logId, logIndex: entry.logIndex };
    expect(setPayload(e).equals(genericSetPayload(e))).toBe(true);
    // And what the public-good Rekor signed: its SET verifies over exactly these bytes.
    expect(() => verifySet({ ...e, signedEntryTimestamp: entry.signedEntryTimestamp! }, trust)).not.toThrow();
    const flipped = Buffer.from(fast);
    flipped[flipped.length - 3] ^= 1;
    expect(() => verifySet({ ...e, body: flipped, signedEntryTimestamp: entry.signedEntryTimestamp! }, trust)).toThrow();
  });
});

describe('generated inputs', () => {
  const sizes = [0, 1, 2, 3, 31, 32, 33, 70, 71, 72, 255, 256, 1000, 4096];
  test('hashedrekord bodies for digests, signatures and certificates of many lengths and every byte value', () => {
    let n = 0;
    for (const sigLen of sizes) {
      for (const leafLen of sizes) {
        const digest = randomBytes(32);
        const sig = randomBytes(sigLen);
        const leaf = randomBytes(leafLen);
        const fast = canonicalHashedRekordV001(digest, sig, leaf);
        expect(fast.equals(canonicalBody(hashedRekordV001(digest, sig, leaf))), `${sigLen}/${leafLen}`).toBe(true);
        n++;
      }
    }
    // Every byte value in each field.
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(canonicalHashedRekordV001(all.subarray(0, 32), all, all).equals(canonicalBody(hashedRekordV001(all.subarray(0, 32), all, all)))).toBe(true);
    expect(n).toBe(sizes.length ** 2);
  });

  test('SET payloads for bodies of many lengths and integers at their edges', () => {
    const ints = [0n, 1n, 9n, 10n, 1_700_000_000n, 2n ** 31n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 64n - 1n];
    for (const len of sizes) {
      for (const integratedTime of ints) {
        for (const logIndex of ints) {
          const e = { body: randomBytes(len), integratedTime, logId: randomBytes(32), logIndex };
          expect(setPayload(e).equals(genericSetPayload(e)), `${len}/${integratedTime}/${logIndex}`).toBe(true);
        }
      }
    }
    // A log id of another length is written as it is, like the generic path does.
    const odd = { body: Buffer.from('{}'), integratedTime: 5n, logId: randomBytes(7), logIndex: 6n };
    expect(setPayload(odd).equals(genericSetPayload(odd))).toBe(true);
  });
});
