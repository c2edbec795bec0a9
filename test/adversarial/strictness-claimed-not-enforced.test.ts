/**
 * Issue 14 item 10: strictness docs/security.md claims, pinned down one decision at a time
 * ("refused" or "accepted, because …"). Each signature is otherwise perfect: every one of
 * these would verify if its single odd part were ignored, so a refusal here is the check
 * itself, not a side effect. Real gitsign output is the arbiter of what stays accepted
 * (test/verify/corpus.test.ts runs the whole vendored corpus).
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { parseCertificate } from '../../src/x509/certificate.js';
import { der, tlv, TAG } from '../../src/util/der.js';
import { encodePem } from '../../src/util/pem.js';
import { verifySignature } from '../../src/verify/pipeline.js';
import { decodeTime, parseDer } from '../../src/util/der.js';
import {
  childrenDer,
  ecKey,
  EXT,
  leafTbsFields,
  makeCert,
  makeLeaf,
  makeTsa,
  makeWorld,
  PAYLOAD,
  pemOf,
  signedAttributes,
  signedParts,
  trustWith,
  tsaToken,
  type CmsKnobs,
  type World,
} from '../verify/helpers/forge.js';

let w: World;
beforeAll(() => {
  w = makeWorld();
});

async function verdict(pem: string, trust = w.trust) {
  return verifySignature({ signature: pem, payload: PAYLOAD, trust, offline: true });
}

function parts(o: Parameters<typeof makeLeaf>[1] = {}): CmsKnobs {
  return signedParts(w, makeLeaf(w, o), PAYLOAD);
}

describe('the unmodified knobs verify (the harness is sound)', () => {
  test('assembleCmsWith with no knob turned is a good signature', async () => {
    expect(await verdict(pemOf(parts()))).toMatchObject({ ok: true, kind: 'good' });
  });
});

describe('DER only (X.690 §10), everywhere in the signature', () => {
  test('refused: the signer serial in sid padded with 00 (a non-minimal INTEGER)', async () => {
    const k = parts();
    const f = leafTbsFields(k.leaf);
    const r = await verdict(pemOf({ ...k, sidSerialOctets: Buffer.concat([Buffer.from([0]), f.serialOctets]) }));
    expect(r).toMatchObject({ ok: false, kind: 'error', failedCheck: 'parse', code: 'BAD_CMS' });
    expect(r.message).toMatch(/non-minimal INTEGER/);
  });

  test('refused: a non-minimal INTEGER where no parser reads it (SignedData.version as 00 01)', async () => {
    const r = await verdict(pemOf({ ...parts(), sdVersionOctets: Buffer.from([0, 1]) }));
    expect(r).toMatchObject({ ok: false, failedCheck: 'parse' });
    expect(r.message).toMatch(/non-minimal INTEGER/);
  });

  test('refused: a constructed OCTET STRING (BER) for the signature value', async () => {
    const k = parts();
    const ber = tlv(0x24, der.octets(k.signature.subarray(0, 10)), der.octets(k.signature.subarray(10)));
    const r = await verdict(pemOf({ ...k, signatureTlv: ber }));
    expect(r).toMatchObject({ ok: false, failedCheck: 'parse' });
    expect(r.message).toMatch(/constructed encoding/);
  });

  test('refused: elements nested 40 deep in an unsigned attribute', async () => {
    let deep = der.null();
    for (let i = 0; i < 40; i++) deep = der.seq(deep);
    const r = await verdict(pemOf({ ...parts(), unsigned: [['1.2.3.4', deep]] }));
    expect(r).toMatchObject({ ok: false, failedCheck: 'parse' });
    expect(r.message).toMatch(/nested more than 32 deep/);
  });

  test('refused, without a crash: 30,000 levels of nesting (the walk is iterative)', async () => {
    const deep = nested(30_000);
    const r = await verdict(encodePem('SIGNED MESSAGE', deep));
    expect(r).toMatchObject({ ok: false, kind: 'error', failedCheck: 'parse' });
    expect(r.code).not.toBe('INTERNAL');
  });

  test('times: out-of-range fields and trailing fraction zeros are not valid DER times', () => {
    expect(() => decodeTime(parseDer(tlv(TAG.UTC_TIME, Buffer.from('251301120000Z'))))).toThrow(/not a valid date/);
    expect(() => decodeTime(parseDer(tlv(TAG.UTC_TIME, Buffer.from('250231120000Z'))))).toThrow(/not a valid date/);
    expect(() => decodeTime(parseDer(tlv(TAG.UTC_TIME, Buffer.from('250601126000Z'))))).toThrow(/not a valid date/);
    expect(() => decodeTime(parseDer(tlv(TAG.GENERALIZED_TIME, Buffer.from('20250601120000.120Z'))))).toThrow(/trailing zero/);
    expect(decodeTime(parseDer(tlv(TAG.GENERALIZED_TIME, Buffer.from('20250601120000.12Z')))).toISOString()).toBe('2025-06-01T12:00:00.120Z');
  });

  test('refused: a certificate extension marked critical = FALSE explicitly (DEFAULT values are not encoded, X.690 §11.5)', () => {
    const explicitFalse = der.seq(der.oid('1.3.6.1.4.1.57264.1.1'), der.bool(false), der.octets(Buffer.from('https://x')));
    const leaf = makeLeaf(w, { extra: [explicitFalse], issuerV1Value: null });
    expect(() => parseCertificate(leaf.der)).toThrow(/critical flag/);
  });
});

describe('CMS fields gitsign never writes', () => {
  test('refused: a crls field (nothing would check it)', async () => {
    const r = await verdict(pemOf({ ...parts(), crls: der.seq(der.null()) }));
    expect(r).toMatchObject({ ok: false, failedCheck: 'parse', code: 'BAD_CMS' });
    expect(r.message).toMatch(/crls/);
  });

  test('refused: signatureAlgorithm id-ecPublicKey (a key type, RFC 5753 §2.1.1)', async () => {
    const r = await verdict(pemOf({ ...parts(), signatureAlgorithm: '1.2.840.10045.2.1' }));
    expect(r).toMatchObject({ ok: false, failedCheck: 'parse', code: 'BAD_CMS' });
    expect(r.message).toMatch(/id-ecPublicKey/);
  });

  test('refused: ecdsa-with-SHA384 over a SHA-256 digest algorithm', async () => {
    const k = parts();
    const r = await verdict(pemOf({ ...k, signatureAlgorithm: '1.2.840.10045.4.3.3' }));
    expect(r).toMatchObject({ ok: false, failedCheck: 'parse' });
    expect(r.message).toMatch(/hashes with sha384 but the digest algorithm is sha256/);
  });

  test('refused: parameters on ecdsa-with-SHA256 (RFC 5758 §3.2: absent), and a digest algorithm list that is not the signer\'s', async () => {
    const withParams = await verdict(pemOf({ ...parts(), signatureAlgorithmTlv: der.seq(der.oid('1.2.840.10045.4.3.2'), der.null()) }));
    expect(withParams).toMatchObject({ ok: false, failedCheck: 'parse' });
    expect(withParams.message).toMatch(/parameters/);
    const more = await verdict(pemOf({ ...parts(), digestAlgorithmsSet: [der.seq(der.oid('2.16.840.1.101.3.4.2.1')), der.seq(der.oid('2.16.840.1.101.3.4.2.2'))] }));
    expect(more.message).toMatch(/digestAlgorithms must name exactly/);
    const nullParams = await verdict(pemOf({ ...parts(), digestAlgorithmsSet: [der.seq(der.oid('2.16.840.1.101.3.4.2.1'), der.null())] }));
    expect(nullParams).toMatchObject({ ok: true }); // RFC 5754 §2: NULL parameters for SHA-2 must be accepted
  });

  test('refused: two different certificates with the signer\'s issuer and serial (which would the signer be?)', async () => {
    const real = makeLeaf(w);
    const f = leafTbsFields(real.der);
    const decoy = makeCert({
      issuer: w.interName,
      subject: der.seq(),
      spki: ecKey().spki,
      notBefore: new Date('2025-06-01T12:00:00Z'),
      notAfter: new Date('2025-06-01T12:10:00Z'),
      extensions: [EXT.leafKeyUsage(), EXT.codeSigning(), EXT.email('mallory@example.com'), EXT.issuerV1('https://accounts.example.com')],
      signer: w.inter.privateKey,
      serial: BigInt('0x' + f.serialOctets.toString('hex')),
      sha384: true,
    });
    const k = signedParts(w, real, PAYLOAD);
    const r = await verdict(pemOf({ ...k, certs: [decoy, real.der] }));
    expect(r).toMatchObject({ ok: false, failedCheck: 'parse' });
    expect(r.message).toMatch(/same issuer and serial/);
    expect(await verdict(pemOf({ ...k, certs: [real.der, real.der] }))).toMatchObject({ ok: true }); // a copy is no ambiguity
  });

  test('refused: SignedData version 3', async () => {
    const r = await verdict(pemOf({ ...parts(), sdVersion: 3 }));
    expect(r).toMatchObject({ ok: false, failedCheck: 'parse' });
    expect(r.message).toMatch(/SignedData version 3/);
  });

  test('refused: SignerInfo v3 naming the signer by subjectKeyIdentifier', async () => {
    const r = await verdict(pemOf({ ...parts(), sid: 'ski', sdVersion: 3 }));
    expect(r).toMatchObject({ ok: false, failedCheck: 'parse' });
    const r1 = await verdict(pemOf({ ...parts(), sid: 'ski' }));
    expect(r1).toMatchObject({ ok: false, failedCheck: 'parse' });
    expect(r1.message).toMatch(/issuer and serial number/);
  });

  test('refused: an unknown unsigned attribute', async () => {
    const r = await verdict(pemOf({ ...parts(), unsigned: [['1.2.840.113549.1.9.6', der.octets(Buffer.from('countersignature?'))]] }));
    expect(r).toMatchObject({ ok: false, failedCheck: 'parse' });
    expect(r.message).toMatch(/unknown unsigned attribute 1\.2\.840\.113549\.1\.9\.6/);
  });

  test("refused: the pre-release attributes (…57264.3.0, 3.2–3.8) beside a real log entry; accepted only as the pre-release set", async () => {
    const r = await verdict(pemOf({ ...parts(), unsigned: [['1.3.6.1.4.1.57264.3.2', der.utf8('0')]] }));
    expect(r).toMatchObject({ ok: false, failedCheck: 'parse' });
    expect(r.message).toMatch(/unknown unsigned attribute 1\.3\.6\.1\.4\.1\.57264\.3\.2/);
  });

  test('refused: an unknown signed attribute, and signed attributes out of DER order', async () => {
    const leaf = makeLeaf(w);
    const usual = childrenDer(signedAttributes(PAYLOAD, new Date('2025-06-01T12:00:30Z')));
    const cmsAlgorithmProtection = der.seq(der.oid('1.2.840.113549.1.9.52'), der.setOf(der.seq(der.oid('2.16.840.1.101.3.4.2.1'))));
    const extra = signedParts(w, leaf, PAYLOAD, { attrs: der.setOf(...usual, cmsAlgorithmProtection) });
    const r1 = await verdict(pemOf(extra));
    expect(r1).toMatchObject({ ok: false, failedCheck: 'parse' });
    expect(r1.message).toMatch(/unexpected signed attribute 1\.2\.840\.113549\.1\.9\.52/);
    const unsorted = signedParts(w, leaf, PAYLOAD, { attrs: tlv(0x31, usual[2], usual[0], usual[1]) });
    const r2 = await verdict(pemOf(unsorted));
    expect(r2).toMatchObject({ ok: false, failedCheck: 'parse' });
    expect(r2.message).toMatch(/not in DER order/);
  });
});

describe('certificate contents', () => {
  test('refused: a v2 issuer extension (…57264.1.8) that is not a UTF8String, instead of falling back to v1', async () => {
    const r = await verdict(pemOf(parts({ issuerV2Value: der.ia5('https://accounts.example.com') })));
    expect(r).toMatchObject({ ok: false, kind: 'error', failedCheck: 'parse' });
    expect(r.message).toMatch(/1\.3\.6\.1\.4\.1\.57264\.1\.8.*UTF8String/);
  });

  test('refused: v1 and v2 issuer extensions that disagree', async () => {
    const r = await verdict(pemOf(parts({ issuerV1Value: 'https://evil.example.com' })));
    expect(r).toMatchObject({ ok: false, failedCheck: 'parse' });
    expect(r.message).toMatch(/issuer extensions disagree/);
  });

  test('accepted: v1 only (older Fulcio) and v2 only (newer)', async () => {
    expect(await verdict(pemOf(parts({ issuerV2Value: null })))).toMatchObject({ ok: true, issuer: 'https://accounts.example.com' });
    expect(await verdict(pemOf(parts({ issuerV1Value: null })))).toMatchObject({ ok: true, issuer: 'https://accounts.example.com' });
  });

  test('refused: an SCT whose timestamp lies after the certificate expired, or well before it was issued', async () => {
    const nb = new Date('2025-06-01T12:00:00Z').getTime();
    const late = await verdict(pemOf(parts({ sctTimestampMs: BigInt(nb + 11 * 60_000) })));
    expect(late).toMatchObject({ ok: false, failedCheck: 'sct', code: 'SCT' });
    expect(late.message).toMatch(/outside the certificate's validity/);
    const early = await verdict(pemOf(parts({ sctTimestampMs: BigInt(nb - 3_600_000) })));
    expect(early).toMatchObject({ ok: false, failedCheck: 'sct' });
  });

  test('accepted: an SCT up to a minute before notBefore (notBefore is whole seconds; the CT log clock may differ a little)', async () => {
    const nb = new Date('2025-06-01T12:00:00Z').getTime();
    expect(await verdict(pemOf(parts({ sctTimestampMs: BigInt(nb - 30_000) })))).toMatchObject({ ok: true });
  });
});

describe('an RFC 3161 token on a Rekor v1 signature is checked, never ignored', () => {
  test('refused: a token over other data', async () => {
    const tsa = makeTsa();
    const { trust } = trustWith(w, { tsas: [tsa] });
    const k = parts();
    const foreign = tsaToken(tsa, Buffer.from('some other signature'), new Date('2025-06-01T12:00:40Z'));
    const r = await verdict(pemOf({ ...k, tst: foreign }), trust);
    expect(r).toMatchObject({ ok: false, kind: 'error', failedCheck: 'tlog', code: 'TSA' });
    expect(r.message).toMatch(/different data/);
  });

  test('refused: a token from a TSA the trusted root does not list', async () => {
    const k = parts();
    const r = await verdict(pemOf({ ...k, tst: tsaToken(makeTsa('stranger'), k.signature, new Date('2025-06-01T12:00:40Z')) }));
    expect(r).toMatchObject({ ok: false, failedCheck: 'tlog', code: 'TSA' });
  });

  test('refused: a genuine token whose time lies outside the certificate validity', async () => {
    const tsa = makeTsa();
    const { trust } = trustWith(w, { tsas: [tsa] });
    const k = parts();
    const r = await verdict(pemOf({ ...k, tst: tsaToken(tsa, k.signature, new Date('2025-06-01T13:00:00Z')) }), trust);
    expect(r).toMatchObject({ ok: false, failedCheck: 'time', code: 'TIME' });
  });

  test('accepted: a genuine token over this signature inside the validity (gitsign with a TSA and Rekor v1)', async () => {
    const tsa = makeTsa();
    const { trust } = trustWith(w, { tsas: [tsa] });
    const k = parts();
    const r = await verdict(pemOf({ ...k, tst: tsaToken(tsa, k.signature, new Date('2025-06-01T12:00:40Z')) }), trust);
    expect(r).toMatchObject({ ok: true, kind: 'good' });
    // the log's time stays the one reported
    expect(r.integratedTime?.toISOString()).toBe('2025-06-01T12:01:00.000Z');
  });
});

describe('claims of docs/security.md that had no test of their own', () => {
  test('refused: a BOOLEAN other than 00/FF, where no parser reads it (an unsigned attribute)', async () => {
    const r = await verdict(pemOf({ ...parts(), unsigned: [['1.2.3.4', tlv(TAG.BOOLEAN, Buffer.from([0x01]))]] }));
    expect(r).toMatchObject({ ok: false, failedCheck: 'parse', code: 'BAD_CMS' });
    expect(r.message).toMatch(/BOOLEAN must be one octet, 00 or FF/);
  });

  test('refused: basicConstraints with cA FALSE spelt out (a DEFAULT, X.690 §11.5)', async () => {
    const k = parts({ extra: [der.seq(der.oid('2.5.29.19'), der.octets(der.seq(der.bool(false))))] });
    const r = await verdict(pemOf(k));
    expect(r).toMatchObject({ ok: false });
    expect(r.message).toMatch(/cA FALSE/);
  });

  test('refused: a digest algorithm other than SHA-256/384/512 (SHA-1)', async () => {
    const r = await verdict(pemOf({ ...parts(), digestAlgorithm: '1.3.14.3.2.26' }));
    expect(r).toMatchObject({ ok: false, failedCheck: 'parse', code: 'BAD_CMS' });
    expect(r.message).toMatch(/unsupported digest algorithm 1\.3\.14\.3\.2\.26/);
  });

  test('refused: a v2 Fulcio claim (…57264.1.12 sourceRepositoryURI) that is not a UTF8String, or not valid UTF-8', async () => {
    const ia5 = await verdict(pemOf(parts({ extra: [der.seq(der.oid('1.3.6.1.4.1.57264.1.12'), der.octets(der.ia5('https://github.com/a/b')))] })));
    expect(ia5).toMatchObject({ ok: false, failedCheck: 'parse' });
    expect(ia5.message).toMatch(/1\.3\.6\.1\.4\.1\.57264\.1\.12 must be a UTF8String/);
    const badUtf8 = await verdict(pemOf(parts({ extra: [der.seq(der.oid('1.3.6.1.4.1.57264.1.12'), der.octets(tlv(TAG.UTF8_STRING, Buffer.from([0x61, 0xff]))))] })));
    expect(badUtf8).toMatchObject({ ok: false, failedCheck: 'parse' });
    expect(badUtf8.message).toMatch(/not valid UTF-8/);
  });

  test('accepted: an RSA signer named rsaEncryption (RFC 3370 §3.2: the digest algorithm says the hash) or sha256WithRSAEncryption', async () => {
    const { generateKeyPairSync, sign: rsaSign, createHash } = await import('node:crypto');
    const { canonicalBody, hashedRekordV001 } = await import('../../src/rekor/body.js');
    const { encodeTle } = await import('../../src/rekor/tle.js');
    const { logEntry, sctExtension, tbsOf, signTbs } = await import('../verify/helpers/forge.js');
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const spki = publicKey.export({ type: 'spki', format: 'der' }) as Buffer;
    const nb = new Date('2025-06-01T12:00:00Z');
    const spec = { issuer: w.interName, subject: der.seq(), spki, notBefore: nb, notAfter: new Date(nb.getTime() + 600_000), extensions: [], signer: w.inter.privateKey, sha384: true };
    const exts = [EXT.leafKeyUsage(), EXT.codeSigning(), EXT.ski(spki), EXT.aki(w.inter.spki), EXT.email('rsa@example.com'), EXT.issuerV1('https://accounts.example.com'), EXT.issuerV2('https://accounts.example.com')];
    const serial = 77_000_001n;
    const sct = sctExtension(tbsOf(spec, serial, exts), w.inter.spki, w.ct, w.ctLogId, BigInt(nb.getTime() + 1000));
    const leafDer = signTbs(tbsOf(spec, serial, [...exts, sct]), w.inter.privateKey, true);
    const attrs = signedAttributes(PAYLOAD, new Date('2025-06-01T12:00:30Z'));
    const signature = rsaSign('sha256', attrs, privateKey);
    const body = canonicalBody(hashedRekordV001(createHash('sha256').update(attrs).digest(), signature, leafDer));
    const k = { signedAttrsSet: attrs, signature, leaf: leafDer, tle: encodeTle(logEntry(w, body)) };
    for (const alg of ['1.2.840.113549.1.1.1', '1.2.840.113549.1.1.11']) {
      const r = await verdict(pemOf({ ...k, signatureAlgorithmTlv: der.seq(der.oid(alg), der.null()) }));
      expect(r, `${alg}: ${r.message}`).toMatchObject({ ok: true, identity: 'rsa@example.com' });
    }
    // …but not with a hash other than the digest algorithm's
    const r = await verdict(pemOf({ ...k, signatureAlgorithmTlv: der.seq(der.oid('1.2.840.113549.1.1.12'), der.null()) }));
    expect(r).toMatchObject({ ok: false, failedCheck: 'parse' });
  });
});

/** `levels` SEQUENCEs, each holding the next, written in one pass (concatenating would be quadratic). */
function nested(levels: number): Buffer {
  const headers: Buffer[] = [];
  let len = 0;
  for (let i = 0; i < levels; i++) {
    const h = len < 0x80 ? Buffer.from([0x30, len]) : len < 0x100 ? Buffer.from([0x30, 0x81, len]) : Buffer.from([0x30, 0x82, len >> 8, len & 0xff]);
    headers.push(h);
    len += h.length;
  }
  return Buffer.concat(headers.reverse());
}
