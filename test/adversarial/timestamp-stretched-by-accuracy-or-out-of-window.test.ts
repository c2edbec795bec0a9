/**
 * An RFC 3161 token says "this signature existed at genTime, give or take `accuracy`" (RFC 3161
 * §2.4.2). For a Rekor v2 signature it is the only evidence that the signature was made while
 * the ~10-minute certificate was valid (the key is forgotten after that; a signature made later
 * with a leaked key must not verify). gitseal compared genTime alone with the certificate's
 * validity: a token whose genTime is a second before notAfter but whose accuracy is an hour
 * proves only that the signature existed by genTime + 1 h, long after the certificate expired —
 * and was good. Now the latest instant the token allows, genTime + accuracy, must lie inside the
 * validity. (The earliest, genTime − accuracy, may fall before notBefore: the key exists before
 * its certificate, and real tokens come seconds after issuance.)
 *
 * Held, and pinned here: the TSA's trusted-root window and its certificate must cover genTime;
 * nonce and ordering change nothing.
 */
import { describe, expect, test } from 'vitest';
import { parseTstInfo } from '../../src/verify/timestamp.js';
import { verifySignature } from '../../src/verify/pipeline.js';
import { der, tlv } from '../../src/util/der.js';
import {
  commitPayload,
  EXT,
  ext,
  makeCert,
  makeLeaf,
  makeTsa,
  name,
  trustWith,
  type Tsa,
} from '../verify/helpers/forge.js';
import { rekorV2Signature, useRekorV2World } from './helpers/rekor-v2.js';

const world = useRekorV2World();

const payload = commitPayload(['author A <a@example.com> 1748779200 +0000', 'committer A <a@example.com> 1748779200 +0000']);
// The leaf is valid 12:00:00–12:10:00 (forge.ts makeLeaf).
const NOT_AFTER = new Date('2025-06-01T12:10:00Z');

/** Accuracy ::= SEQUENCE { seconds INTEGER OPTIONAL, millis [0] INTEGER OPTIONAL, micros [1] INTEGER OPTIONAL } */
function accuracy(o: { seconds?: number; millis?: number; micros?: number }): Buffer {
  return der.seq(
    ...(o.seconds !== undefined ? [der.int(o.seconds)] : []),
    ...(o.millis !== undefined ? [tlv(0x80, der.int(o.millis).subarray(2))] : []),
    ...(o.micros !== undefined ? [tlv(0x81, der.int(o.micros).subarray(2))] : []),
  );
}

/** A Rekor v2 signature whose time comes from a token by `t` at `genTime` with `tail` after genTime. */
async function v2Verdict(genTime: Date, tail: Buffer[] = [], t: Tsa = world.tsa, tr = world.trust) {
  const pem = rekorV2Signature(world, payload, { tsa: t, genTime, tail });
  return verifySignature({ signature: pem, payload, trust: tr, offline: true });
}

describe('the accuracy of a token widens the time it proves', () => {
  test('control: a token a minute into the validity, accurate to a second, is good', async () => {
    const r = await v2Verdict(new Date('2025-06-01T12:00:40Z'), [accuracy({ seconds: 1 })]);
    expect(r, r.message).toMatchObject({ ok: true, integratedTime: new Date('2025-06-01T12:00:40Z') });
  });

  test('genTime a second before notAfter, accurate to an hour: not proven inside the validity', async () => {
    const r = await v2Verdict(new Date(NOT_AFTER.getTime() - 1000), [accuracy({ seconds: 3600 })]);
    expect(r).toMatchObject({ ok: false, kind: 'error', failedCheck: 'time', code: 'TIME' });
    expect(r.message).toMatch(/accuracy/);
  });

  test('millis and micros count too; right at notAfter is still inside', async () => {
    const edge = new Date(NOT_AFTER.getTime() - 1000); // the forge writes whole seconds
    expect(await v2Verdict(edge, [accuracy({ seconds: 1 })])).toMatchObject({ ok: true });
    expect(await v2Verdict(edge, [accuracy({ millis: 999, micros: 999 })])).toMatchObject({ ok: true });
    expect(await v2Verdict(edge, [accuracy({ seconds: 1, micros: 1 })])).toMatchObject({ ok: false, failedCheck: 'time' });
    expect(await v2Verdict(edge, [accuracy({ seconds: 1, millis: 1 })])).toMatchObject({ ok: false, failedCheck: 'time' });
  });

  test('a token seconds after notBefore with an accuracy reaching before it is good (the key predates its certificate)', async () => {
    expect(await v2Verdict(new Date('2025-06-01T12:00:01Z'), [accuracy({ seconds: 5 })])).toMatchObject({ ok: true });
  });

  test('the accuracy is parsed strictly: millis or micros outside 1..999, or fields out of order, are refused', () => {
    const tst = (tail: Buffer[]) =>
      der.seq(der.int(1), der.oid('1.2.3'), der.seq(der.seq(der.oid('2.16.840.1.101.3.4.2.1')), der.octets(Buffer.alloc(32))), der.int(1), der.generalizedTime(new Date()), ...tail);
    expect(parseTstInfo(tst([accuracy({ seconds: 2, millis: 5, micros: 7 })])).accuracyMs).toBeCloseTo(2005.007, 6);
    expect(() => parseTstInfo(tst([accuracy({ millis: 1000 })]))).toThrow(/accuracy/);
    expect(() => parseTstInfo(tst([accuracy({ micros: 0 })]))).toThrow(/accuracy/);
    expect(() => parseTstInfo(tst([der.seq(tlv(0x80, Buffer.from([5])), der.int(1))]))).toThrow(/accuracy/);
    expect(() => parseTstInfo(tst([der.seq(tlv(0x02, Buffer.from([0xff])))]))).toThrow(/accuracy/); // seconds −1
    expect(() => parseTstInfo(tst([der.int(5), accuracy({ seconds: 1 })]))).toThrow(/unexpected TSTInfo fields/); // nonce before accuracy
  });
});

describe('held: the TSA itself must be trusted at genTime', () => {
  test('a TSA whose trusted-root window ended before genTime', async () => {
    const old = makeTsa('retired-tsa');
    const { trust: t } = trustWith(world.w, { tsas: [{ ...old, trustItem: { ...old.trustItem, validFor: { start: '2020-01-01T00:00:00Z', end: '2024-12-31T00:00:00Z' } } }], tlogs: [world.log.trustItem] });
    const r = await v2Verdict(new Date('2025-06-01T12:00:40Z'), [], old, t);
    expect(r).toMatchObject({ ok: false, failedCheck: 'tlog', code: 'TSA' });
    expect(r.message).toMatch(/not trusted at/);
  });

  test('a TSA certificate that had expired at genTime', async () => {
    const expired = makeTsa('expired-tsa');
    const leafCert = makeCert({
      issuer: name('expired-tsa-root'),
      subject: name('expired-tsa'),
      spki: expired.leaf.spki,
      notBefore: new Date('2020-01-01Z'),
      notAfter: new Date('2024-01-01Z'),
      extensions: [ext('2.5.29.37', true, der.seq(der.oid('1.3.6.1.5.5.7.3.8'))), EXT.ski(expired.leaf.spki), EXT.aki(expired.root.spki)],
      signer: expired.root.privateKey,
    });
    const t2 = { ...expired, leafCert, trustItem: { ...expired.trustItem, certChain: { certificates: [{ rawBytes: leafCert.toString('base64') }, { rawBytes: expired.rootCert.toString('base64') }] } } };
    const { trust: t } = trustWith(world.w, { tsas: [t2], tlogs: [world.log.trustItem] });
    const r = await v2Verdict(new Date('2025-06-01T12:00:40Z'), [], t2, t);
    expect(r).toMatchObject({ ok: false, failedCheck: 'tlog', code: 'TSA' });
    expect(r.message).toMatch(/not valid at/);
  });

  test('nonce and ordering change nothing', async () => {
    const r = await v2Verdict(new Date('2025-06-01T12:00:40Z'), [accuracy({ seconds: 1 }), der.bool(true), der.int(123456789n)]);
    expect(r).toMatchObject({ ok: true });
  });
});
