/**
 * Work a range of unique-certificate signatures causes, counted (never timed): each leaf's key
 * is imported once and the trusted keys (CA, CT log, Rekor) once for the whole range, not again
 * every 64 leaves; the signature's certificates are deduplicated and capped in linear work; and
 * the trusted places kept between calls never answer for another trust root, nor for this one
 * changed in place.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { MAX_UNTRUSTED_CERTS, untrustedCertificateCount, verifyChain } from '../../src/verify/chain.js';
import { verifySignature } from '../../src/verify/pipeline.js';
import { parseTrustedRoot } from '../../src/trust/trusted-root.js';
import { keyImportCount, signatureCheckCount } from '../../src/x509/signature.js';
import { clearMemos } from '../../src/x509/verified-memo.js';
import { makeLeaf, makeWorld, PAYLOAD, sameKeyCas, signPayload, type World } from './helpers/forge.js';

let w: World;
beforeAll(() => {
  w = makeWorld();
});

const AT = new Date('2025-06-01T12:01:00Z');

describe('key imports over a range of unique leaves', () => {
  test('200 signatures, each with its own certificate: one import per leaf plus the trusted keys once', async () => {
    const N = 200;
    const sigs = Array.from({ length: N }, () => signPayload(w, makeLeaf(w), PAYLOAD).pem);
    // Warm: the trusted keys imported once here (whatever earlier tests left in the cache).
    expect(await verifySignature({ signature: sigs[0]!, payload: PAYLOAD, trust: w.trust, offline: true })).toMatchObject({ ok: true });
    clearMemos();
    const before = keyImportCount();
    for (const signature of sigs.slice(1)) {
      const r = await verifySignature({ signature, payload: PAYLOAD, trust: w.trust, offline: true });
      expect(r.ok, r.message).toBe(true);
    }
    const imports = keyImportCount() - before;
    // Exactly the new leaves: the intermediate, CT and Rekor keys stay (a cleared cache would
    // import those three again every 64 leaves: 3 × 3 more here).
    expect(imports).toBe(N - 1);
  });
});

describe('the signature\'s certificates: deduplicated and capped in linear work', () => {
  test('thousands of distinct certificates: refused at the fifth, the rest never parsed, no signature check', () => {
    const bag = sameKeyCas(MAX_UNTRUSTED_CERTS);
    const leaf = makeLeaf(w);
    // Past the four real certificates, bytes that are no certificate: parsing any would fail as BAD_DER.
    const junk = Array.from({ length: 5000 }, (_, i) => Buffer.from(`not a certificate ${i}`));
    clearMemos();
    const parses = untrustedCertificateCount();
    const checks = signatureCheckCount();
    let err: (Error & { code?: string }) | undefined;
    try {
      verifyChain(leaf.der, [...bag.certs, ...junk], w.trust, AT);
    } catch (e) {
      err = e as Error;
    }
    expect(err?.code).toBe('CHAIN');
    expect(err?.message).toMatch(/more than 4 untrusted certificates; at most 4/);
    expect(untrustedCertificateCount() - parses).toBe(MAX_UNTRUSTED_CERTS);
    expect(signatureCheckCount() - checks).toBe(0);
  });

  test('thousands of byte copies of the leaf, the trusted certificates and one CA: one parse, the chain found', () => {
    const bag = sameKeyCas(1);
    const leaf = makeLeaf(w);
    const copies = (b: Buffer) => Array.from({ length: 2000 }, () => Buffer.from(b));
    const parses = untrustedCertificateCount();
    const r = verifyChain(leaf.der, [...copies(leaf.der), ...copies(w.interCert), ...copies(w.rootCert), ...copies(bag.certs[0]!)], w.trust, AT);
    expect(r.path.map((b) => b.toString('hex'))).toEqual([leaf.der, w.interCert, w.rootCert].map((b) => b.toString('hex')));
    expect(untrustedCertificateCount() - parses).toBe(1);
  });
});

describe('trusted places never answer for another root', () => {
  test('alternating two worlds: each leaf chains only to its own root', () => {
    const other = makeWorld();
    const mine = makeLeaf(w);
    const theirs = makeLeaf(other);
    for (let i = 0; i < 3; i++) {
      expect(verifyChain(mine.der, [], w.trust, AT).ca.certChain[0]!.equals(w.interCert)).toBe(true);
      expect(() => verifyChain(mine.der, [], other.trust, AT)).toThrow(/does not chain to a trusted Fulcio CA/);
      expect(verifyChain(theirs.der, [], other.trust, AT).ca.certChain[0]!.equals(other.interCert)).toBe(true);
      expect(() => verifyChain(theirs.der, [], w.trust, AT)).toThrow(/does not chain to a trusted Fulcio CA/);
    }
  });

  test('the same root object changed in place (a chain replaced, a key overwritten in its bytes): asked anew', () => {
    const other = makeWorld();
    const trust = parseTrustedRoot(w.trustJson);
    const mine = makeLeaf(w);
    const theirs = makeLeaf(other);
    expect(verifyChain(mine.der, [], trust, AT)).toBeDefined();
    const ca = trust.certificateAuthorities[0]!;
    const saved = ca.certChain;
    // Same array of authorities, same authority object, another chain.
    ca.certChain = [other.interCert, other.rootCert];
    expect(() => verifyChain(mine.der, [], trust, AT)).toThrow(/does not chain/);
    expect(verifyChain(theirs.der, [], trust, AT)).toBeDefined();
    ca.certChain = saved;
    expect(verifyChain(mine.der, [], trust, AT)).toBeDefined();
    // The intermediate's public key, overwritten in its Buffer: that key issued the leaf no more.
    const at = saved[0]!.indexOf(w.inter.spki);
    expect(at).toBeGreaterThan(0);
    saved[0]![at + w.inter.spki.length - 1] ^= 1;
    expect(() => verifyChain(mine.der, [], trust, AT)).toThrow(/does not chain/);
    saved[0]![at + w.inter.spki.length - 1] ^= 1;
    expect(verifyChain(mine.der, [], trust, AT)).toBeDefined();
  });
});
