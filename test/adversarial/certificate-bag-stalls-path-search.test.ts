/**
 * Issue 14 item 1: certificate path search must be bounded whatever the signature carries.
 * The attack: the signature's certificates field holds the leaf plus N CA certificates that
 * share one key and one name, so each "issues" every other; a search over orderings costs
 * N! signature checks (N=9 took 90 s). Work is bounded by counting signature checks
 * (src/x509/signature.ts signatureCheckCount), never by timing.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { verifyChain } from '../../src/verify/chain.js';
import { verifySignature } from '../../src/verify/pipeline.js';
import { parseTrustedRoot } from '../../src/trust/trusted-root.js';
import { signatureCheckCount } from '../../src/x509/signature.js';
import { clearMemos } from '../../src/x509/verified-memo.js';
import { verifyTimestampToken } from '../../src/verify/timestamp.js';
import {
  commitPayload,
  ecKey,
  ext,
  EXT,
  makeCert,
  makeLeaf,
  makeTsa,
  makeWorld,
  name,
  PAYLOAD,
  sameKeyCas,
  signedCommit,
  signPayload,
  trustWith,
  tsaToken,
  type World,
} from '../verify/helpers/forge.js';
import { der } from '../../src/util/der.js';
import { useAllPaths } from './helpers/paths.js';

let w: World;
beforeAll(() => {
  w = makeWorld();
});

const AT = new Date('2025-06-01T12:01:00Z');

/** Signature checks `fn` causes (memos emptied first, so a remembered success cannot hide work). */
function checksOf(fn: () => unknown): { checks: number; error?: Error } {
  clearMemos();
  const before = signatureCheckCount();
  let error: Error | undefined;
  try {
    fn();
  } catch (e) {
    error = e as Error;
  }
  return { checks: signatureCheckCount() - before, error };
}

async function checksOfAsync<T>(fn: () => Promise<T>): Promise<{ checks: number; value: T }> {
  clearMemos();
  const before = signatureCheckCount();
  const value = await fn();
  return { checks: signatureCheckCount() - before, value };
}

describe('path building is bounded (counted signature checks)', () => {
  test('leaf + 9 same-key CAs in a signature: refused before any signature check', async () => {
    const bag = sameKeyCas(9);
    const leaf = makeLeaf(w, { caKey: bag.key, caName: bag.name });
    const pem = signPayload(w, leaf, PAYLOAD, { certs: [leaf.der, ...bag.certs] }).pem;
    const { checks, value: r } = await checksOfAsync(() => verifySignature({ signature: pem, payload: PAYLOAD, trust: w.trust, offline: true }));
    expect(r).toMatchObject({ ok: false, kind: 'error', failedCheck: 'parse', code: 'BAD_CMS' });
    expect(r.message).toMatch(/10 certificates; at most 4/);
    expect(checks).toBe(0);
  });

  test('the same bag without an embedded log entry (online mode) is refused the same way', async () => {
    const bag = sameKeyCas(9);
    const leaf = makeLeaf(w, { caKey: bag.key, caName: bag.name });
    const pem = signPayload(w, leaf, PAYLOAD, { certs: [leaf.der, ...bag.certs], noTlog: true }).pem;
    const { checks, value: r } = await checksOfAsync(() => verifySignature({ signature: pem, payload: PAYLOAD, trust: w.trust, offline: true }));
    expect(r).toMatchObject({ ok: false, failedCheck: 'parse' });
    expect(checks).toBe(0);
  });

  test('verifyChain itself refuses more than 4 untrusted certificates, without a check', () => {
    const bag = sameKeyCas(9);
    const leaf = makeLeaf(w, { caKey: bag.key, caName: bag.name });
    const { checks, error } = checksOf(() => verifyChain(leaf.der, bag.certs, w.trust, AT));
    expect(error?.message).toMatch(/more than 4 untrusted certificates; at most 4/);
    expect(checks).toBe(0);
  });

  test.each([
    ['with AKI/SKI', true],
    ['without AKI on the CAs', false],
  ])('the largest bag allowed (leaf + 3 same-key CAs, %s): a handful of checks', async (_n, aki) => {
    const bag = sameKeyCas(3, { aki });
    const leaf = makeLeaf(w, { caKey: bag.key, caName: bag.name });
    const pem = signPayload(w, leaf, PAYLOAD, { certs: [leaf.der, ...bag.certs] }).pem;
    const { checks, value: r } = await checksOfAsync(() => verifySignature({ signature: pem, payload: PAYLOAD, trust: w.trust, offline: true }));
    expect(r).toMatchObject({ ok: false, kind: 'error', failedCheck: 'chain', code: 'CHAIN' });
    // 1 for the CMS signature; the chain: leaf against each untrusted CA, each CA (at most one
    // untrusted level) against the trusted certificates whose key id does not rule them out.
    expect(checks).toBeLessThanOrEqual(1 + 3 + 3 * 2);
  });

  test('copies of certificates are one certificate: 3 copies of the same CA cost what one does', () => {
    const bag = sameKeyCas(1, { aki: false });
    const leaf = makeLeaf(w, { caKey: bag.key, caName: bag.name });
    const one = checksOf(() => verifyChain(leaf.der, bag.certs, w.trust, AT));
    const three = checksOf(() => verifyChain(leaf.der, [bag.certs[0], bag.certs[0], bag.certs[0]], w.trust, AT));
    expect(one.error?.message).toMatch(/does not chain/);
    expect(three.error?.message).toMatch(/does not chain/);
    expect(three.checks).toBe(one.checks);
  });

  test('a failed pair is never checked twice, even when several trusted CAs list the same certificates', () => {
    // A leaf naming the trusted intermediate's key id, signed by another key: its one real
    // candidate must be checked, and fails; six CA entries with the same chain do not repeat it.
    const rogue = ecKey('P-384');
    const nb = new Date('2025-06-01T12:00:00Z');
    const leafDer = makeCert({
      issuer: w.interName,
      subject: der.seq(),
      spki: ecKey().spki,
      notBefore: nb,
      notAfter: new Date(nb.getTime() + 600_000),
      extensions: [EXT.leafKeyUsage(), EXT.codeSigning(), EXT.email('mallory@example.com'), EXT.aki(w.inter.spki)],
      signer: rogue.privateKey,
      sha384: true,
    });
    const json = JSON.parse(w.trustJson);
    const ca = json.certificateAuthorities[0];
    json.certificateAuthorities = Array.from({ length: 6 }, (_, i) => ({ ...ca, uri: `${ca.uri}/${i}` }));
    const six = parseTrustedRoot(JSON.stringify(json));
    const r1 = checksOf(() => verifyChain(leafDer, [], w.trust, AT));
    const r6 = checksOf(() => verifyChain(leafDer, [], six, AT));
    expect(r1.error?.message).toMatch(/does not chain/);
    expect(r6.error?.message).toMatch(/does not chain/);
    expect(r1.checks).toBe(1);
    expect(r6.checks).toBe(1);
  });

  test('the real path still needs exactly one check per untrusted link (leaf → trusted intermediate)', () => {
    const leaf = makeLeaf(w);
    const r = checksOf(() => verifyChain(leaf.der, [leaf.der, w.interCert], w.trust, AT));
    expect(r.error).toBeUndefined();
    expect(r.checks).toBe(1);
  });

  test('an RFC 3161 token carrying a bag of same-key CAs is refused with a bounded number of checks', () => {
    const tsa = makeTsa();
    const { trust } = trustWith(w, { tsas: [tsa] });
    const data = Buffer.from('a signature value');
    const good = tsaToken(tsa, data, AT);
    expect(verifyTimestampToken(good, data, trust).time.toISOString()).toBe(AT.toISOString());
    // A TSA leaf issued by an attacker key, with 9 same-key CAs in the token's certificates.
    const bag = sameKeyCas(9, { name: name('forged-tsa-ca') });
    const rogueTsa = { ...tsa, leaf: ecKey() };
    rogueTsa.leafCert = makeCert({
      issuer: bag.name,
      subject: der.seq(),
      spki: rogueTsa.leaf.spki,
      notBefore: new Date('2020-01-01Z'),
      notAfter: new Date('2040-01-01Z'),
      extensions: [ext('2.5.29.37', true, der.seq(der.oid('1.3.6.1.5.5.7.3.8'))), EXT.ski(rogueTsa.leaf.spki), EXT.aki(bag.key.spki)],
      signer: bag.key.privateKey,
      sha384: true,
    });
    const token = tsaToken(rogueTsa, data, AT, bag.certs);
    const r = checksOf(() => verifyTimestampToken(token, data, trust));
    expect(r.error?.message).toMatch(/timestamp/);
    expect(r.checks).toBeLessThanOrEqual(2);
  });
});

describe('every path refuses the 9-CA bag, promptly', () => {
  const sandbox = useAllPaths(() => w.trustJson);

  test('git verify-commit, gitseal verify, the library and the pre-receive hook', async () => {
    const bag = sameKeyCas(9);
    const leaf = makeLeaf(w, { caKey: bag.key, caName: bag.name });
    const payload = commitPayload(['author A <a@example.com> 1748779200 +0000', 'committer A <a@example.com> 1748779200 +0000']);
    const raw = signedCommit(payload, signPayload(w, leaf, payload, { certs: [leaf.der, ...bag.certs] }).pem);
    const v = await sandbox.paths.all(raw);
    expect([v.git.letter, v.cli.letter, v.lib.letter]).toEqual(['E', 'E', 'E']);
    expect(v.git.stderr).toMatch(/at most 4/);
    expect(v.hook.accepted).toBe(false);
    expect(v.hook.stderr).toMatch(/at most 4/);
  });
});
