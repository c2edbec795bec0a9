/**
 * DER reader, PEM armour and certificate parsing on random bytes and on
 * mutations of real Fulcio leaf certificates (gitsign corpus) and CA
 * certificates (public-good trusted root): only GitsealError, never a crash.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { children, decodeInteger, decodeOid, decodeTime, parseDer, type Tlv } from '../../src/util/der.js';
import { decodePem, decodePemAll, encodePem } from '../../src/util/pem.js';
import {
  authorityKeyId,
  basicConstraints,
  embeddedScts,
  extKeyUsage,
  fingerprintSha1,
  fulcioClaims,
  fulcioIssuer,
  keyUsage,
  parseCertificate,
  signerIdentity,
  subjectAltNames,
  subjectKeyId,
} from '../../src/x509/certificate.js';
import { precertificateTbs } from '../../src/verify/sct.js';
import { embeddedTrustedRoot } from '../../src/trust/embedded.js';
import { mutated, mutatedText, onlyGitsealErrors, params, text } from './budget.js';
import { CORPUS, INDEX } from './corpus.js';
import { nodes, toTree } from './tlv.js';

const leaves = INDEX.map((e) => decodePem(readFileSync(join(CORPUS, e.dir, 'leaf.pem'), 'utf8'), 'CERTIFICATE'));
const cas = embeddedTrustedRoot().certificateAuthorities.flatMap((c) => c.certChain);
const certs = [...leaves, ...cas];

/** Walk a DER tree, decoding every primitive the way the parsers do. */
function walk(t: Tlv, depth = 0): void {
  expect(depth).toBeLessThan(200);
  if (t.tag & 0x20) for (const c of children(t)) walk(c, depth + 1);
  else if (t.tag === 0x02) decodeInteger(t.value);
  else if (t.tag === 0x06) onlyGitsealErrors(() => decodeOid(t.value));
  else if (t.tag === 0x17 || t.tag === 0x18) onlyGitsealErrors(() => decodeTime(t));
}

/** Everything gitseal reads from a certificate. */
function readAll(der: Buffer): void {
  const c = parseCertificate(der);
  fingerprintSha1(c);
  for (const f of [subjectAltNames, signerIdentity, fulcioIssuer, fulcioClaims, extKeyUsage, keyUsage, basicConstraints, subjectKeyId, authorityKeyId, embeddedScts, precertificateTbs]) {
    onlyGitsealErrors(() => f(c));
  }
}

describe('DER', () => {
  it('random bytes: parse and walk throw only GitsealError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (b) => {
        onlyGitsealErrors(() => walk(parseDer(Buffer.from(b))));
      }),
      params('der/random'),
    );
  });
  it('mutated real certificates: the DER walk throws only GitsealError', () => {
    fc.assert(
      fc.property(fc.nat(certs.length - 1).chain((i) => mutated(certs[i])), (m) => {
        onlyGitsealErrors(() => walk(parseDer(m)));
      }),
      params('der/mutated-cert'),
    );
  });
  it('mutated real certificates: parsing and reading every field throw only GitsealError', () => {
    fc.assert(
      fc.property(fc.nat(certs.length - 1).chain((i) => mutated(certs[i])), (m) => {
        onlyGitsealErrors(() => readAll(m));
      }),
      params('x509/mutated-leaf'),
    );
  });
  it('length fields: every length octet of a real certificate set to every special value', () => {
    const der = leaves[0];
    let n = 0;
    const visit = (t: Tlv, base: number): void => {
      const lenAt = base + 1;
      for (const v of [0x00, 0x01, 0x7f, 0x80, 0x81, 0x82, 0x84, 0x85, 0xff]) {
        const m = Buffer.from(der);
        m[lenAt] = v;
        n++;
        onlyGitsealErrors(() => readAll(m));
      }
      if (t.tag & 0x20) for (const c of children(t)) visit(c, base + c.start);
    };
    visit(parseDer(der), 0);
    expect(n).toBe(9 * nodes(toTree(der)).length);
  });
  it('deep nesting and huge declared lengths are refused, not followed', () => {
    const deep = Buffer.concat([...Array(5000)].map(() => Buffer.from([0x30, 0x80])));
    onlyGitsealErrors(() => walk(parseDer(deep)));
    expect(() => parseDer(Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]))).toThrow(/malformed DER/);
    expect(() => parseDer(Buffer.from([0x30, 0x85, 1, 0, 0, 0, 0]))).toThrow(/malformed DER/);
  });
});

describe('PEM', () => {
  it('random text: only GitsealError', () => {
    fc.assert(
      fc.property(text(400), (s) => {
        onlyGitsealErrors(() => decodePemAll(s));
        onlyGitsealErrors(() => decodePem(`-----BEGIN SIGNED MESSAGE-----\n${s}\n-----END SIGNED MESSAGE-----\n`, 'SIGNED MESSAGE'));
      }),
      params('pem/random'),
    );
  });
  it('mutated real PEM: decodes to the same DER or fails with GitsealError', () => {
    const pem = encodePem('CERTIFICATE', leaves[1]);
    fc.assert(
      fc.property(mutatedText(pem), (t) => {
        const der = onlyGitsealErrors(() => decodePem(t, 'CERTIFICATE'));
        if (der) onlyGitsealErrors(() => readAll(der));
      }),
      params('pem/mutated'),
    );
  });
});
