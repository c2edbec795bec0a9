/**
 * src/cms/build.ts encodes with src/util/der.ts since asn1js was taken off the
 * signing path (issue "Speed", P3). Here an independent encoder — asn1js, doing
 * what the builder did before — builds the same SignedData from random inputs:
 * real gitsign leaf certificates (test/fixtures/gitsign-corpus), random payloads,
 * signing times across the whole UTCTime range, signatures, log entries and
 * timestamp tokens of every length class (short and long DER lengths). Both must
 * produce the same bytes, and both must refuse the same malformed embeds.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as asn1js from 'asn1js';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assembleSignedData, buildSignedAttributes, OID } from '../../src/cms/build.js';
import { GitsealError } from '../../src/errors.js';
import { children, der, parseDer } from '../../src/util/der.js';
import { decodePem } from '../../src/util/pem.js';

const CORPUS = join(__dirname, '..', 'fixtures', 'gitsign-corpus');
const leaves: Buffer[] = readdirSync(CORPUS)
  .filter((d) => {
    try {
      return readFileSync(join(CORPUS, d, 'signature.pem'), 'utf8').length > 0;
    } catch {
      return false;
    }
  })
  .map((d) => {
    const cms = decodePem(readFileSync(join(CORPUS, d, 'signature.pem'), 'utf8'), 'SIGNED MESSAGE');
    const sd = children(children(children(parseDer(cms))[1])[0]);
    return children(sd[3])[0].raw;
  });

// ------------------------------------------------------------ the reference: asn1js
const buf = (ab: ArrayBuffer) => Buffer.from(new Uint8Array(ab));
function ref_raw(d: Buffer): asn1js.AsnType {
  const r = asn1js.fromBER(new Uint8Array(d));
  if (r.offset !== d.length || !buf(r.result.toBER()).equals(d)) throw new GitsealError('BAD_DER', 'not DER');
  return r.result;
}
const ref_oid = (v: string) => new asn1js.ObjectIdentifier({ value: v });
const ref_alg = (v: string) => new asn1js.Sequence({ value: [ref_oid(v)] });
const ref_attr = (t: string, v: asn1js.AsnType) => buf(new asn1js.Sequence({ value: [ref_oid(t), new asn1js.Set({ value: [v] })] }).toBER());

function refSignedAttributes(payload: Buffer, t: Date): Buffer {
  const digest = createHash('sha256').update(payload).digest();
  const attrs = [
    ref_attr(OID.contentType, ref_oid(OID.data)),
    ref_attr(OID.signingTime, new asn1js.UTCTime({ valueDate: new Date(Math.floor(t.getTime() / 1000) * 1000) })),
    ref_attr(OID.messageDigest, new asn1js.OctetString({ valueHex: new Uint8Array(digest) })),
  ].sort(Buffer.compare);
  return buf(new asn1js.Set({ value: attrs.map(ref_raw) }).toBER());
}

function refSignedData(p: { signedAttrs: Buffer; signature: Buffer; leaf: Buffer; tle?: Buffer; tst?: Buffer }): Buffer {
  const tbs = children(children(parseDer(p.leaf))[0]);
  const i = tbs[0].tag === 0xa0 ? 1 : 0;
  const unsigned: Buffer[] = [];
  if (p.tle) unsigned.push(ref_attr(OID.rekorTle, new asn1js.OctetString({ valueHex: new Uint8Array(p.tle) })));
  if (p.tst) unsigned.push(ref_attr(OID.timeStampToken, ref_raw(p.tst)));
  const si: asn1js.AsnType[] = [
    new asn1js.Integer({ value: 1 }),
    new asn1js.Sequence({ value: [ref_raw(tbs[i + 2].raw), ref_raw(tbs[i].raw)] }),
    ref_alg(OID.sha256),
    new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: children(parseDer(p.signedAttrs)).map((a) => ref_raw(a.raw)) }),
    ref_alg(OID.ecdsaWithSha256),
    new asn1js.OctetString({ valueHex: new Uint8Array(p.signature) }),
  ];
  if (unsigned.length) si.push(new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 1 }, value: unsigned.sort(Buffer.compare).map(ref_raw) }));
  const sd = new asn1js.Sequence({
    value: [
      new asn1js.Integer({ value: 1 }),
      new asn1js.Set({ value: [ref_alg(OID.sha256)] }),
      new asn1js.Sequence({ value: [ref_oid(OID.data)] }),
      new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [ref_raw(p.leaf)] }),
      new asn1js.Set({ value: [new asn1js.Sequence({ value: si })] }),
    ],
  });
  return buf(new asn1js.Sequence({ value: [ref_oid(OID.signedData), new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [sd] })] }).toBER());
}

// ------------------------------------------------------------ inputs
/** Byte strings around the DER length-form boundaries (127/128, 255/256, 65535/65536). */
const bytesOfAnyLength = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 300 }),
  fc.integer({ min: 120, max: 135 }).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
  fc.integer({ min: 250, max: 260 }).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
  fc.constantFrom(65_530, 65_535, 65_536, 70_000).map((n) => new Uint8Array(n).fill(7)),
).map((u) => Buffer.from(u));

/** Random DER trees standing in for a TimeStampToken (the builder embeds it as it is). */
const derTree: fc.Arbitrary<Buffer> = fc.letrec<{ node: Buffer }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    bytesOfAnyLength.map((b) => der.octets(b)),
    fc.bigInt({ min: 0n, max: (1n << 200n) - 1n }).map((n) => der.int(n)),
    fc.constantFrom('1.2.840.113549.1.9.16.1.4', '2.16.840.1.101.3.4.2.1', '1.3.6.1.4.1.57264.3.1').map((o) => der.oid(o)),
    fc.string({ maxLength: 200 }).map((s) => der.utf8(s)),
    fc.array(tie('node'), { maxLength: 4 }).map((xs) => der.seq(...xs)),
    fc.array(tie('node'), { maxLength: 3 }).map((xs) => der.setOf(...xs)),
    tie('node').map((x) => der.explicit(0, x)),
  ),
})).node;

const signingTime = fc.date({ min: new Date('1950-01-01T00:00:00Z'), max: new Date('2049-12-31T23:59:59.999Z'), noInvalidDate: true });

describe('CMS builder (util/der) = the asn1js encoding it replaced', () => {
  it('has leaf certificates to build with', () => {
    expect(leaves.length).toBeGreaterThanOrEqual(5);
  });

  it('builds identical signed attributes for any payload and signing time', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), signingTime, (payload, t) => {
        const p = Buffer.from(payload);
        expect(buildSignedAttributes(p, t).toString('hex')).toBe(refSignedAttributes(p, t).toString('hex'));
      }),
      { numRuns: 300 },
    );
  });

  it('assembles identical SignedData with and without a log entry and a timestamp token', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...leaves),
        fc.uint8Array({ maxLength: 500 }),
        signingTime,
        bytesOfAnyLength,
        fc.option(bytesOfAnyLength, { nil: undefined }),
        fc.option(derTree, { nil: undefined }),
        (leaf, payload, t, signature, tle, tst) => {
          const signedAttrs = buildSignedAttributes(Buffer.from(payload), t);
          const ours = assembleSignedData({ signedAttrs, signature, leaf, tle, tst });
          expect(ours.toString('hex')).toBe(refSignedData({ signedAttrs, signature, leaf, tle, tst }).toString('hex'));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses malformed embedded elements (BAD_DER) and takes a well-formed one', () => {
    const signedAttrs = buildSignedAttributes(Buffer.from('x'), new Date('2026-01-01T00:00:00Z'));
    const good = der.seq(der.octets(Buffer.from('token')));
    const build = (tst: Buffer) => assembleSignedData({ signedAttrs, signature: Buffer.from([1]), leaf: leaves[0], tst });
    const badDer = (tst: Buffer, what: string) => {
      let err: unknown;
      try {
        build(tst);
      } catch (e) {
        err = e;
      }
      expect(err, what).toBeInstanceOf(GitsealError);
      expect((err as GitsealError).code, what).toBe('BAD_DER');
    };
    expect(build(good).includes(good)).toBe(true);
    const refusedByBoth: Record<string, Buffer> = {
      'trailing bytes': Buffer.concat([good, Buffer.from([0x00])]),
      truncated: good.subarray(0, good.length - 1),
      'length past the end': Buffer.from([0x30, 0x09, 0x04, 0x01, 0x00]),
    };
    for (const [what, tst] of Object.entries(refusedByBoth)) {
      expect(() => refSignedData({ signedAttrs, signature: Buffer.from([1]), leaf: leaves[0], tst }), what).toThrow();
      badDer(tst, what);
    }
    // asn1js re-encoded these BER forms as they were and let them through. They are refused now:
    // gitseal's verifier (util/der) rejects them, so such a signature could never verify.
    const berOnly: Record<string, Buffer> = {
      'indefinite length': Buffer.from([0x30, 0x80, 0x04, 0x01, 0x00, 0x00, 0x00]),
      'non-minimal length': Buffer.from([0x30, 0x81, 0x03, 0x04, 0x01, 0x00]),
      'non-minimal length inside': Buffer.from([0x30, 0x04, 0x04, 0x81, 0x01, 0x00]),
      'high tag number inside': Buffer.from([0x30, 0x03, 0x1f, 0x21, 0x00]),
    };
    for (const [what, tst] of Object.entries(berOnly)) {
      expect(() => refSignedData({ signedAttrs, signature: Buffer.from([1]), leaf: leaves[0], tst }), what).not.toThrow();
      badDer(tst, what);
    }
  });

  it('refuses signing times UTCTime cannot hold', () => {
    expect(() => buildSignedAttributes(Buffer.from('x'), new Date('2050-01-01T00:00:00Z'))).toThrow(/cannot be a UTCTime/);
    expect(() => buildSignedAttributes(Buffer.from('x'), new Date('1949-12-31T23:59:59Z'))).toThrow(/cannot be a UTCTime/);
  });
});
