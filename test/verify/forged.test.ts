/**
 * Attacks and failures built from a self-made Sigstore world (test/verify/helpers/forge.ts):
 * each case breaks exactly one thing and must be rejected at the right check.
 */
import { createHash, sign } from 'node:crypto';
import { beforeAll, describe, expect, test } from 'vitest';
import { canonicalBody, hashedRekordV001 } from '../../src/rekor/body.js';
import { embeddedTrustedRoot } from '../../src/trust/embedded.js';
import { verifyChain } from '../../src/verify/chain.js';
import { verifySignature } from '../../src/verify/pipeline.js';
import { parseTrustedRoot } from '../../src/trust/trusted-root.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import {
  assembleCms,
  ecKey,
  EXT,
  logEntry,
  makeCert,
  makeLeaf,
  makeV2Log,
  makeWorld,
  PAYLOAD,
  signedAttributes,
  signPayload,
  trustWith,
  v2Entry,
  type World,
} from './helpers/forge.js';
import { encodePem } from '../../src/util/pem.js';
import { encodeTle } from '../../src/rekor/tle.js';

let w: World;
beforeAll(() => {
  w = makeWorld();
});

async function verify(pem: string, payload = PAYLOAD, trust = w.trust) {
  return verifySignature({ signature: pem, payload, trust, offline: true });
}

describe('forged world: baseline', () => {
  test('a correctly made signature verifies (the harness is sound)', async () => {
    const leaf = makeLeaf(w, { email: 'alice@example.com' });
    const r = await verify(signPayload(w, leaf, PAYLOAD).pem);
    expect(r.message).toMatch(/good signature/);
    expect(r).toMatchObject({ ok: true, kind: 'good', identity: 'alice@example.com', issuer: 'https://accounts.example.com', logIndex: 123456789n });
    expect(r.integratedTime?.toISOString()).toBe('2025-06-01T12:01:00.000Z');
    expect(r.fingerprint).toBe(createHash('sha1').update(leaf.der).digest('hex'));
  });

  test('the same signature is rejected against the public-good root', async () => {
    const leaf = makeLeaf(w);
    const r = await verify(signPayload(w, leaf, PAYLOAD).pem, PAYLOAD, embeddedTrustedRoot());
    expect(r).toMatchObject({ ok: false, kind: 'error', failedCheck: 'tlog' });
  });
});

describe('forged world: transparency log', () => {
  test('altered integrated time: the SET no longer verifies', async () => {
    const leaf = makeLeaf(w);
    const r = await verify(signPayload(w, leaf, PAYLOAD, { alterTime: 1748779200n }).pem);
    expect(r).toMatchObject({ ok: false, kind: 'error', failedCheck: 'tlog', code: 'TLOG' });
    expect(r.message).toMatch(/signed entry timestamp/);
    expect(r.integratedTime).toBeUndefined();
  });

  test('altered global log index: the SET no longer verifies', async () => {
    const leaf = makeLeaf(w);
    const s = signPayload(w, leaf, PAYLOAD);
    const tle = { ...s.tle!, logIndex: s.tle!.logIndex + 1n };
    const cms = assembleCms({ signedAttrsSet: s.signedAttrsSet, signature: s.signature, leaf: leaf.der, tle: encodeTle(tle) });
    const r = await verify(encodePem('SIGNED MESSAGE', cms));
    expect(r).toMatchObject({ ok: false, failedCheck: 'tlog' });
  });

  test('log entry transplanted from another signature is rejected', async () => {
    const leafA = makeLeaf(w);
    const other = Buffer.from(PAYLOAD.toString().replace('a forged-world commit', 'another commit'));
    const a = signPayload(w, leafA, other);
    const leafB = makeLeaf(w);
    const b = signPayload(w, leafB, PAYLOAD, { tle: a.tle });
    const r = await verify(b.pem);
    expect(r).toMatchObject({ ok: false, kind: 'error', failedCheck: 'tlog' });
    // same key, other content: the rebuilt body differs, so the SET fails too
    const c = signPayload(w, leafA, PAYLOAD, { tle: a.tle });
    expect(await verify(c.pem)).toMatchObject({ ok: false, failedCheck: 'tlog' });
  });

  test('a valid SET for a different body (logged something else) is rejected', async () => {
    const leaf = makeLeaf(w);
    const r = await verify(signPayload(w, leaf, PAYLOAD, { bodyOverride: Buffer.from('{"something":"else"}') }).pem);
    expect(r).toMatchObject({ ok: false, failedCheck: 'tlog' });
  });

  test('checkpoint signed by the wrong key is rejected', async () => {
    const leaf = makeLeaf(w);
    const r = await verify(signPayload(w, leaf, PAYLOAD, { checkpointKey: ecKey() }).pem);
    expect(r).toMatchObject({ ok: false, failedCheck: 'tlog' });
    expect(r.message).toMatch(/checkpoint is not signed/);
  });

  test('inclusion proof with a flipped hash is rejected', async () => {
    const leaf = makeLeaf(w);
    const r = await verify(signPayload(w, leaf, PAYLOAD, { flipProofHash: true }).pem);
    expect(r).toMatchObject({ ok: false, failedCheck: 'tlog' });
    expect(r.message).toMatch(/inclusion proof/);
  });

  test('shard-local proof index differs from the global index and still verifies; a wrong local index fails', async () => {
    const leaf = makeLeaf(w);
    expect(await verify(signPayload(w, leaf, PAYLOAD, { treeIndex: 2, treeSize: 11, logIndex: 9_000_000_002n }).pem)).toMatchObject({ ok: true });
    const s = signPayload(w, leaf, PAYLOAD, { treeIndex: 2, treeSize: 11 });
    const tle = { ...s.tle!, inclusionProof: { ...s.tle!.inclusionProof!, logIndex: 3n } };
    const cms = assembleCms({ signedAttrsSet: s.signedAttrsSet, signature: s.signature, leaf: leaf.der, tle: encodeTle(tle) });
    expect(await verify(encodePem('SIGNED MESSAGE', cms))).toMatchObject({ ok: false, failedCheck: 'tlog' });
  });

  test('an entry without SET (Rekor v2 style, time from a TSA) is rejected cleanly', async () => {
    const leaf = makeLeaf(w);
    const s = signPayload(w, leaf, PAYLOAD);
    const tle = { ...s.tle!, signedEntryTimestamp: undefined, integratedTime: 0n };
    const cms = assembleCms({ signedAttrsSet: s.signedAttrsSet, signature: s.signature, leaf: leaf.der, tle: encodeTle(tle) });
    const r = await verify(encodePem('SIGNED MESSAGE', cms));
    expect(r).toMatchObject({ ok: false, kind: 'error', failedCheck: 'tlog' });
    expect(r.message).toMatch(/RFC 3161/);
  });

  test('a hashedrekord v0.0.2 entry is parsed and rejected for lack of a verifiable time', async () => {
    const leaf = makeLeaf(w);
    const s = signPayload(w, leaf, PAYLOAD, { noTlog: true });
    const { hashedRekordV002Body } = await import('../../src/verify/tlog.js');
    const body = hashedRekordV002Body(createHash('sha256').update(s.signedAttrsSet).digest(), s.signature, leaf.der);
    // A real v2 log (its own C2SP checkpoint, test/adversarial/checkpoint-of-another-log-proves-inclusion.test.ts) and no token.
    const v2 = makeV2Log();
    const tle = v2Entry(v2, body);
    const cms = assembleCms({ signedAttrsSet: s.signedAttrsSet, signature: s.signature, leaf: leaf.der, tle: encodeTle(tle) });
    const r = await verifySignature({ signature: encodePem('SIGNED MESSAGE', cms), payload: PAYLOAD, trust: trustWith(w, { tlogs: [v2.trustItem] }).trust, offline: true });
    expect(r).toMatchObject({ ok: false, kind: 'error', failedCheck: 'tlog' });
    expect(r.message).toMatch(/RFC 3161/);
  });

  test('no embedded entry (online mode) offline: error, not success', async () => {
    const leaf = makeLeaf(w);
    const r = await verify(signPayload(w, leaf, PAYLOAD, { noTlog: true }).pem);
    expect(r).toMatchObject({ ok: false, kind: 'error', failedCheck: 'tlog', code: 'TLOG_MISSING' });
    expect(r.message).toMatch(/not embedded/);
  });
});

describe('forged world: certificates', () => {
  test('leaf expired at log time is rejected at the time check', async () => {
    const leaf = makeLeaf(w, { notBefore: new Date('2025-06-01T11:00:00Z') }); // valid 11:00–11:10, logged 12:01
    const r = await verify(signPayload(w, leaf, PAYLOAD).pem);
    expect(r).toMatchObject({ ok: false, kind: 'error', failedCheck: 'time', code: 'TIME' });
  });

  test('leaf not yet valid at log time is rejected', async () => {
    const leaf = makeLeaf(w, { notBefore: new Date('2025-06-01T12:30:00Z') });
    const r = await verify(signPayload(w, leaf, PAYLOAD).pem);
    expect(r).toMatchObject({ ok: false, failedCheck: 'time' });
  });

  test('SCT signed by a CT key that is not trusted is rejected', async () => {
    const leaf = makeLeaf(w, { ctKey: ecKey() });
    const r = await verify(signPayload(w, leaf, PAYLOAD).pem);
    expect(r).toMatchObject({ ok: false, kind: 'error', failedCheck: 'sct', code: 'SCT' });
  });

  test('leaf without codeSigning EKU is rejected by the chain check', async () => {
    const leaf = makeLeaf(w, { noEku: true });
    const r = await verify(signPayload(w, leaf, PAYLOAD).pem);
    expect(r).toMatchObject({ ok: false, failedCheck: 'chain' });
    expect(r.message).toMatch(/code signing/);
  });

  test('leaf issued by a forged intermediate with the same names is rejected', async () => {
    const rogue = ecKey('P-384');
    const leaf = makeLeaf(w, { caKey: rogue, caName: w.interName });
    const rogueInter = makeCert({
      issuer: w.rootName,
      subject: w.interName,
      spki: rogue.spki,
      notBefore: new Date('2020-01-01Z'),
      notAfter: new Date('2040-01-01Z'),
      extensions: [EXT.caKeyUsage(), EXT.caBasic(), EXT.ski(rogue.spki), EXT.aki(w.root.spki)],
      signer: rogue.privateKey, // self-signed with the root's name: it cannot carry the root's signature
      sha384: true,
    });
    const r = await verify(signPayload(w, leaf, PAYLOAD, { certs: [rogueInter, leaf.der] }).pem);
    expect(r).toMatchObject({ ok: false, kind: 'error', failedCheck: 'chain', code: 'CHAIN' });
  });

  test('forged CA with the real public-good names and key ids fails against the embedded root', () => {
    const real = embeddedTrustedRoot();
    const realInter = parseCertificate(real.certificateAuthorities[1].certChain[0]);
    const realRoot = parseCertificate(real.certificateAuthorities[1].certChain[1]);
    const fakeRootKey = ecKey('P-384');
    const fakeInterKey = ecKey('P-384');
    const nb = new Date('2024-01-01Z');
    const na = new Date('2030-01-01Z');
    const fakeRoot = makeCert({
      issuer: realRoot.subject,
      subject: realRoot.subject,
      spki: fakeRootKey.spki,
      notBefore: nb,
      notAfter: na,
      extensions: [EXT.caKeyUsage(), EXT.caBasic()],
      signer: fakeRootKey.privateKey,
      sha384: true,
    });
    const fakeInter = makeCert({
      issuer: realRoot.subject,
      subject: realInter.subject,
      spki: fakeInterKey.spki,
      notBefore: nb,
      notAfter: na,
      extensions: [EXT.caKeyUsage(), EXT.caBasic()],
      signer: fakeRootKey.privateKey,
      sha384: true,
    });
    const leaf = makeLeaf(w, { caKey: fakeInterKey, caName: realInter.subject });
    expect(parseCertificate(leaf.der).issuerString).toBe('CN=sigstore-intermediate,O=sigstore.dev');
    expect(() => verifyChain(leaf.der, [fakeInter, fakeRoot], real, new Date('2025-06-01T12:01:00Z'))).toThrow(
      /does not chain to a trusted Fulcio CA/,
    );
  });

  test('a non-CA certificate cannot act as an intermediate', async () => {
    // The world's intermediate issues a "leaf-like" cert (no basicConstraints), which then issues the signer.
    const mid = ecKey();
    const midCert = makeCert({
      issuer: w.interName,
      subject: Buffer.from('3000', 'hex'),
      spki: mid.spki,
      notBefore: new Date('2020-01-01Z'),
      notAfter: new Date('2040-01-01Z'),
      extensions: [EXT.codeSigning()],
      signer: w.inter.privateKey,
      sha384: true,
    });
    const leaf = makeLeaf(w, { caKey: mid, caName: Buffer.from('3000', 'hex') });
    expect(() => verifyChain(leaf.der, [midCert], w.trust, new Date('2025-06-01T12:01:00Z'))).toThrow(/not a CA/);
  });

  test('CA outside its trusted-root validFor is refused', () => {
    const json = JSON.parse(w.trustJson);
    json.certificateAuthorities[0].validFor = { start: '2020-01-01T00:00:00Z', end: '2024-01-01T00:00:00Z' };
    const trust = parseTrustedRoot(JSON.stringify(json));
    const leaf = makeLeaf(w);
    expect(() => verifyChain(leaf.der, [], trust, new Date('2025-06-01T12:01:00Z'))).toThrow(/not trusted at/);
    // and the unmodified root accepts the same leaf at the same time
    expect(verifyChain(leaf.der, [], w.trust, new Date('2025-06-01T12:01:00Z')).path).toHaveLength(3);
  });
});

describe('forged world: content', () => {
  test('payload changed after signing: bad (message digest)', async () => {
    const leaf = makeLeaf(w);
    const r = await verify(signPayload(w, leaf, PAYLOAD).pem, Buffer.concat([PAYLOAD, Buffer.from('x')]));
    expect(r).toMatchObject({ ok: false, kind: 'bad', failedCheck: 'message-digest' });
    expect(r.fingerprint).toMatch(/^[0-9a-f]{40}$/);
  });

  test('signature by another key over the same attributes: bad (signature)', async () => {
    const leaf = makeLeaf(w);
    const attrs = signedAttributes(PAYLOAD, new Date('2025-06-01T12:00:30Z'));
    const sig = sign('sha256', attrs, ecKey().privateKey);
    const body = canonicalBody(hashedRekordV001(createHash('sha256').update(attrs).digest(), sig, leaf.der));
    const cms = assembleCms({ signedAttrsSet: attrs, signature: sig, leaf: leaf.der, tle: encodeTle(logEntry(w, body)) });
    const r = await verify(encodePem('SIGNED MESSAGE', cms));
    expect(r).toMatchObject({ ok: false, kind: 'bad', failedCheck: 'signature' });
  });

  test('signer found by issuer and serial even when the leaf is not first', async () => {
    const leaf = makeLeaf(w);
    const r = await verify(signPayload(w, leaf, PAYLOAD, { certs: [w.interCert, leaf.der] }).pem);
    expect(r).toMatchObject({ ok: true, kind: 'good' });
  });

  test('raw DER signature input is accepted like PEM', async () => {
    const leaf = makeLeaf(w);
    const s = signPayload(w, leaf, PAYLOAD);
    const r = await verifySignature({ signature: s.der, payload: PAYLOAD, trust: w.trust, offline: true });
    expect(r.ok).toBe(true);
  });
});
