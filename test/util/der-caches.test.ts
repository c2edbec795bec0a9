/**
 * The decoded-OID and name-string caches (src/util/der.ts, src/x509/names.ts) answer only for
 * exactly the same bytes, never keep what failed to decode, and stay bounded.
 */
import { describe, expect, test } from 'vitest';
import { decodeOid, parseDer, tlv, TAG } from '../../src/util/der.js';
import { nameToString } from '../../src/x509/names.js';

const enc = (dotted: string): Buffer => {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const arcs = [a! * 40 + b!, ...rest];
  const out: number[] = [];
  for (const n of arcs) {
    const bytes = [n & 0x7f];
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) bytes.unshift((v & 0x7f) | 0x80);
    out.push(...bytes);
  }
  return Buffer.from(out);
};

describe('decoded OIDs', () => {
  test('the same bytes give the same string, other bytes their own', () => {
    expect(decodeOid(enc('2.5.4.3'))).toBe('2.5.4.3');
    expect(decodeOid(enc('2.5.4.3'))).toBe('2.5.4.3');
    expect(decodeOid(enc('2.5.4.4'))).toBe('2.5.4.4');
  });

  test('a bad encoding is refused every time, also beside a cached good one', () => {
    const good = enc('1.2.840.10045.4.3.3');
    expect(decodeOid(good)).toBe('1.2.840.10045.4.3.3');
    // Non-minimal arc (a leading 0x80) and a truncated one.
    const padded = Buffer.concat([good.subarray(0, 1), Buffer.from([0x80]), good.subarray(1)]);
    for (let i = 0; i < 2; i++) {
      expect(() => decodeOid(padded)).toThrow(/non-minimal/);
      expect(() => decodeOid(Buffer.from([0x2a, 0x86]))).toThrow(/truncated/);
    }
  });

  test('more distinct OIDs than the cache holds all decode right', () => {
    for (let i = 0; i < 2000; i++) expect(decodeOid(enc(`1.3.6.1.4.1.${i}.7`))).toBe(`1.3.6.1.4.1.${i}.7`);
    expect(decodeOid(enc('2.5.4.3'))).toBe('2.5.4.3');
  });
});

describe('name strings', () => {
  const cn = (v: string) =>
    parseDer(tlv(TAG.SEQUENCE, tlv(TAG.SET, tlv(TAG.SEQUENCE, tlv(TAG.OID, enc('2.5.4.3')), tlv(TAG.UTF8_STRING, Buffer.from(v, 'utf8'))))));

  test('names one byte apart get their own strings, each time', () => {
    for (let i = 0; i < 2; i++) {
      expect(nameToString(cn('sigstore-intermediate'))).toBe('CN=sigstore-intermediate');
      expect(nameToString(cn('sigstore-intermediatf'))).toBe('CN=sigstore-intermediatf');
    }
  });

  test('a malformed name is refused every time', () => {
    const bad = parseDer(tlv(TAG.SEQUENCE, tlv(TAG.SET, tlv(TAG.SEQUENCE, tlv(TAG.OID, enc('2.5.4.3'))))));
    for (let i = 0; i < 2; i++) expect(() => nameToString(bad)).toThrow(/type and a value/);
  });

  test('more distinct names than the cache holds all print right', () => {
    for (let i = 0; i < 600; i++) expect(nameToString(cn(`ca ${i}`))).toBe(`CN=ca ${i}`);
  });
});
