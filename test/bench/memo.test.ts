/**
 * The verify-path memos (issue "Speed"): certificate signatures by their issuer
 * (src/x509/signature.ts), embedded SCTs (src/verify/sct.ts) and parsed CA
 * certificates (src/verify/chain.ts). Real gitsign signatures from the vendored
 * corpus, real public-good trust root. A memo may only skip work it has seen
 * succeed on exactly the same bytes: never a pass for other bytes, never a
 * remembered failure, never unbounded.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, test } from 'vitest';
import { parseSignedData, findSignerCertificate } from '../../src/cms/parse.js';
import { embeddedTrustedRoot } from '../../src/trust/embedded.js';
import type { TrustedRoot } from '../../src/trust/trusted-root.js';
import { verifyChain } from '../../src/verify/chain.js';
import { verifySignature } from '../../src/verify/pipeline.js';
import { sctMemo, verifyEmbeddedSct } from '../../src/verify/sct.js';
import { embeddedScts, parseCertificate, parseCertificateCached, parsedCertificates as caParseCache, type Certificate } from '../../src/x509/certificate.js';
import { issuedByMemo, verifyIssuedBy } from '../../src/x509/signature.js';
import { clearMemos, memoKey, SuccessMemo } from '../../src/x509/verified-memo.js';
import { decodePem, encodePem } from '../../src/util/pem.js';

const CORPUS = join(__dirname, '../fixtures/gitsign-corpus');
const SAMPLES = ['sigstore_gitsign_commit_7550db4cf96b'];
const trust = embeddedTrustedRoot();

function load(dir: string) {
  const signature = readFileSync(join(CORPUS, dir, 'signature.pem'), 'utf8');
  const payload = readFileSync(join(CORPUS, dir, 'payload.bin'));
  const sd = parseSignedData(signature);
  const certs = sd.certificates.map((c) => parseCertificate(c));
  const leaf = findSignerCertificate(sd.signerInfos[0], certs)!;
  return { signature, payload, leaf };
}

/** A copy of `der` with the last byte of the first occurrence of `part` flipped (keeps the DER structure). */
function flipInside(der: Buffer, part: Buffer): Buffer {
  const at = der.indexOf(part);
  if (at < 0) throw new Error('part not found');
  const out = Buffer.from(der);
  out[at + part.length - 1] ^= 0x01;
  return out;
}

const sample = load(SAMPLES[0]);
const { leaf } = sample;
const integrated = new Date('2026-07-28T21:06:19Z');

function issuerOf(c: Certificate): Certificate {
  return verifyChain(c, [], trust, integrated, { checkLeafValidity: false }).certificates[1];
}

beforeEach(() => clearMemos());

describe('SuccessMemo', () => {
  test('is bounded and drops the least recently used first', () => {
    const m = new SuccessMemo(3);
    for (const k of ['a', 'b', 'c']) m.add(k);
    expect(m.has('a')).toBe(true); // a is now the most recent
    m.add('d');
    expect(m.size).toBe(3);
    expect(m.has('b')).toBe(false);
    expect(m.has('a')).toBe(true);
    expect(m.has('c')).toBe(true);
    expect(m.has('d')).toBe(true);
    for (let i = 0; i < 1000; i++) m.add(`k${i}`);
    expect(m.size).toBe(3);
    expect(() => new SuccessMemo(0)).toThrow(RangeError);
  });

  test('keys are length-prefixed: parts never collide by concatenation', () => {
    expect(memoKey('ab', 'c')).not.toBe(memoKey('a', 'bc'));
    expect(memoKey(Buffer.from('ab'), Buffer.alloc(0))).not.toBe(memoKey(Buffer.from('a'), Buffer.from('b')));
    expect(memoKey('x', Buffer.from([1, 2]))).toBe(memoKey(Buffer.from('x'), Buffer.from([1, 2])));
  });

  test('the production memos are bounded', () => {
    expect(issuedByMemo.max).toBeLessThanOrEqual(4096);
    expect(sctMemo.max).toBeLessThanOrEqual(4096);
  });
});

describe('certificate signature memo (verifyIssuedBy)', () => {
  test('a success is remembered and answers the same bytes again', () => {
    const issuer = issuerOf(leaf);
    clearMemos(); // issuerOf() ran the chain check, which remembered it
    expect(verifyIssuedBy(leaf, issuer)).toBe(true);
    expect(issuedByMemo.size).toBe(1);
    expect(issuedByMemo.hits).toBe(0);
    const hits = issuedByMemo.hits;
    expect(verifyIssuedBy(parseCertificate(Buffer.from(leaf.der)), issuer)).toBe(true);
    expect(issuedByMemo.hits).toBe(hits + 1);
  });

  test('a remembered success is never used for other bytes', () => {
    const issuer = issuerOf(leaf);
    expect(verifyIssuedBy(leaf, issuer)).toBe(true);
    // Same TBS, different signature value.
    const badSig = parseCertificate(flipInside(leaf.der, leaf.signature));
    expect(badSig.tbs.equals(leaf.tbs)).toBe(true);
    expect(verifyIssuedBy(badSig, issuer)).toBe(false);
    // Same signature, TBS changed (one byte of the subject public key).
    const badTbs = parseCertificate(flipInside(leaf.der, leaf.spki.subarray(-8)));
    expect(verifyIssuedBy(badTbs, issuer)).toBe(false);
    // Same certificate, another issuer key: the other public-good CA's root.
    const otherRoot = parseCertificate(trust.certificateAuthorities.find((ca) => ca.certChain.length === 1)!.certChain[0]);
    expect(verifyIssuedBy(leaf, otherRoot)).toBe(false);
  });

  test('a failure is not remembered', () => {
    const issuer = issuerOf(leaf);
    clearMemos();
    const badSig = parseCertificate(flipInside(leaf.der, leaf.signature));
    const size = issuedByMemo.size;
    expect(verifyIssuedBy(badSig, issuer)).toBe(false);
    expect(verifyIssuedBy(badSig, issuer)).toBe(false);
    expect(issuedByMemo.size).toBe(size);
    expect(issuedByMemo.hits).toBe(0);
  });
});

describe('SCT memo (verifyEmbeddedSct)', () => {
  test('a success is remembered; other SCT bytes are checked for real and fail', () => {
    const issuer = issuerOf(leaf);
    verifyEmbeddedSct(leaf, issuer, trust, integrated);
    expect(sctMemo.size).toBe(1);
    verifyEmbeddedSct(leaf, issuer, trust, integrated);
    expect(sctMemo.hits).toBe(1);
    const sct = embeddedScts(leaf)[0];
    const forged = parseCertificate(flipInside(leaf.der, sct.signature));
    expect(() => verifyEmbeddedSct(forged, issuer, trust, integrated)).toThrow(/SCT signature is invalid/);
    expect(sctMemo.size).toBe(1);
  });

  test('the CT log key and its validity window are not skipped by the memo', () => {
    const issuer = issuerOf(leaf);
    verifyEmbeddedSct(leaf, issuer, trust, integrated);
    // The same log id with another key (the Rekor key): the remembered success does not apply.
    const swapped: TrustedRoot = { ...trust, ctlogs: trust.ctlogs.map((l) => ({ ...l, publicKey: trust.tlogs[0].publicKey })) };
    expect(() => verifyEmbeddedSct(leaf, issuer, swapped, integrated)).toThrow(/SCT/);
    // A time when no trusted CT log key was valid.
    expect(() => verifyEmbeddedSct(leaf, issuer, trust, new Date('2000-01-01T00:00:00Z'))).toThrow(/not trusted at that time/);
    expect(sctMemo.size).toBe(1);
  });

  test('a failure is not remembered', () => {
    const issuer = issuerOf(leaf);
    const forged = parseCertificate(flipInside(leaf.der, embeddedScts(leaf)[0].signature));
    expect(() => verifyEmbeddedSct(forged, issuer, trust, integrated)).toThrow(/SCT/);
    expect(() => verifyEmbeddedSct(forged, issuer, trust, integrated)).toThrow(/SCT/);
    expect(sctMemo.size).toBe(0);
    expect(sctMemo.hits).toBe(0);
  });
});

describe('parsed certificate cache (CA chains, signature certificates)', () => {
  test('answers only identical bytes and never keeps a failed parse', () => {
    const a = parseCertificateCached(Buffer.from(leaf.der));
    expect(parseCertificateCached(Buffer.from(leaf.der))).toBe(a);
    const other = flipInside(leaf.der, leaf.signature);
    const b = parseCertificateCached(other);
    expect(b).not.toBe(a);
    expect(b.der.equals(other)).toBe(true);
    const n = caParseCache.size;
    const broken = Buffer.from(leaf.der.subarray(0, 100));
    expect(() => parseCertificateCached(broken)).toThrow();
    expect(() => parseCertificateCached(broken)).toThrow();
    expect(caParseCache.size).toBe(n);
  });

  test('is keyed by content: a changed CA certificate is parsed and checked anew', () => {
    verifyChain(leaf, [], trust, integrated, { checkLeafValidity: false });
    const n = caParseCache.size;
    expect(n).toBeGreaterThan(0);
    verifyChain(leaf, [], trust, integrated, { checkLeafValidity: false });
    expect(caParseCache.size).toBe(n);
    // The intermediate with one byte of its public key changed: the leaf no longer chains.
    const cas = trust.certificateAuthorities.map((ca) => {
      if (ca.certChain.length < 2) return ca;
      const inter = parseCertificate(ca.certChain[0]);
      return { ...ca, certChain: [flipInside(inter.der, inter.spki.subarray(-8)), ...ca.certChain.slice(1)] };
    });
    const changed: TrustedRoot = { ...trust, certificateAuthorities: cas };
    expect(() => verifyChain(leaf, [], changed, integrated, { checkLeafValidity: false })).toThrow(/does not chain/);
    expect(caParseCache.size).toBe(n + 1);
  });

  test('is bounded', () => {
    const inter = parseCertificate(trust.certificateAuthorities.find((ca) => ca.certChain.length > 1)!.certChain[0]);
    for (let i = 0; i < 600; i++) {
      // Distinct bytes each time (serial-free part of the signature), still parseable.
      const der = Buffer.from(inter.der);
      der[der.length - 1] = i & 0xff;
      der[der.length - 2] = (i >> 8) & 0xff;
      const t: TrustedRoot = { ...trust, certificateAuthorities: [{ ...trust.certificateAuthorities[0], certChain: [der] }] };
      expect(() => verifyChain(leaf, [], t, integrated, { checkLeafValidity: false })).toThrow();
    }
    expect(caParseCache.size).toBeLessThanOrEqual(512);
  });
});

describe('chains through the memos (verifyChain)', () => {
  const early = load('sigstore_fulcio_commit_1edb0f9b5dc2').leaf; // issued by the 2022 root itself, before the intermediate
  const earlyAt = new Date(early.notBefore.getTime() + 60_000);

  test('both kinds of public-good leaf chain, whatever the order the root lists its CAs in', () => {
    const reversed: TrustedRoot = { ...trust, certificateAuthorities: [...trust.certificateAuthorities].reverse() };
    for (const t of [trust, reversed]) {
      for (let i = 0; i < 2; i++) {
        const a = verifyChain(leaf, [], t, integrated, { checkLeafValidity: false });
        expect(a.certificates[1].subjectString).toBe('CN=sigstore-intermediate,O=sigstore.dev');
        expect(a.path).toHaveLength(3);
        const b = verifyChain(early, [], t, earlyAt);
        expect(b.path).toHaveLength(2);
        expect(b.certificates[1].subjectString).toBe('CN=sigstore,O=sigstore.dev');
      }
    }
  });

  test('a leaf costs one certificate signature check, and a repeat none', () => {
    clearMemos();
    verifyChain(leaf, [], trust, integrated, { checkLeafValidity: false });
    expect(issuedByMemo.size).toBe(1);
    expect(issuedByMemo.hits).toBe(0);
    verifyChain(leaf, [], trust, integrated, { checkLeafValidity: false });
    expect(issuedByMemo.hits).toBe(1);
  });
});

describe('verifySignature with warm memos', () => {
  test('a good signature, then forgeries of it over the same certificate, are judged as without memos', async () => {
    const good = await verifySignature({ signature: sample.signature, payload: sample.payload, trust, offline: true });
    expect(good.ok).toBe(true);
    expect(issuedByMemo.size).toBeGreaterThan(0);
    expect(sctMemo.size).toBeGreaterThan(0);
    const again = await verifySignature({ signature: sample.signature, payload: sample.payload, trust, offline: true });
    expect(again).toEqual(good);

    // The embedded leaf with its CA signature altered: the chain check must fail, memo or not.
    const der = decodePem(sample.signature, 'SIGNED MESSAGE');
    const forgedLeaf = encodePem('SIGNED MESSAGE', flipInside(der, leaf.signature));
    const r1 = await verifySignature({ signature: forgedLeaf, payload: sample.payload, trust, offline: true });
    expect(r1.ok).toBe(false);
    expect(r1.failedCheck).toBe('tlog'); // the log entry binds the exact leaf bytes first
    // Same, judged with memos cleared: the same verdict.
    clearMemos();
    const r2 = await verifySignature({ signature: forgedLeaf, payload: sample.payload, trust, offline: true });
    expect(r2).toEqual(r1);
  });
});
