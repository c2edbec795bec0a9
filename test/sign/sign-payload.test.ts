/**
 * signPayload end to end in-process against @sigstore/mock's Fulcio and Rekor
 * on 127.0.0.1: the CMS comes out verifiable by openssl, the embedded log
 * entry matches what Rekor logged, and service failures surface as one line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PUBLIC_GOOD, type GitsealConfig } from '../../src/config/types.js';
import { GitsealError } from '../../src/errors.js';
import { toIdentityToken } from '../../src/oidc/get-token.js';
import { decodeTle } from '../../src/rekor/tle.js';
import { signPayload } from '../../src/sign/sign-payload.js';
import { children, decodeOid, parseDer } from '../../src/util/der.js';
import { decodePem } from '../../src/util/pem.js';
import { deadPort, startMockSigstore, testToken, type MockSigstore } from './mock-sigstore.js';
import { needs } from '../helpers/tools.js';

let dir: string;
let mock: MockSigstore;

function config(over: Partial<GitsealConfig> = {}): GitsealConfig {
  return {
    ...PUBLIC_GOOD,
    fulcioURL: mock.url,
    rekorURL: mock.url,
    rekorVersion: 1,
    tokenProvider: 'env',
    trustedRoot: mock.trustedRootPath,
    offline: true,
    matchCommitter: false,
    agent: 'off',
    sources: {},
    ...over,
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gitseal-sign-'));
  mock = await startMockSigstore(dir);
});
afterAll(async () => {
  await mock.close();
  rmSync(dir, { recursive: true, force: true });
});

const payload = Buffer.from('tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor Dev <dev@example.test> 1700000000 +0000\ncommitter Dev <dev@example.test> 1700000000 +0000\n\nsigned by gitseal\n');

needs('openssl').describe('signPayload against @sigstore/mock', () => {
  it('produces a gitsign-layout CMS with a verified, embedded Rekor entry', async () => {
    const said: string[] = [];
    const r = await signPayload(payload, {
      config: config(),
      tokenSource: async () => toIdentityToken(testToken(mock.url), 'test'),
      ui: { say: (l) => said.push(l) },
      env: {},
    });
    expect(r.pem.startsWith('-----BEGIN SIGNED MESSAGE-----\n')).toBe(true);
    expect(r.pem.split('\n').every((l) => l.length <= 64)).toBe(true);
    expect(decodePem(r.pem, 'SIGNED MESSAGE').equals(r.der)).toBe(true);
    expect(said.some((l) => l === `Logged to Rekor at index ${r.logIndex}`)).toBe(true);

    // the embedded entry decodes and is the one Rekor returned (no body, as gitsign)
    const si = children(children(children(children(parseDer(r.der))[1])[0])[4])[0];
    const unsigned = children(children(si)[6]);
    expect(unsigned).toHaveLength(1);
    const [oid, values] = children(unsigned[0]);
    expect(decodeOid(oid.value)).toBe('1.3.6.1.4.1.57264.3.1');
    const tle = decodeTle(children(values)[0].value);
    expect(tle.logIndex).toBe(r.logIndex);
    expect(tle.kind).toBe('hashedrekord');
    expect(tle.canonicalizedBody).toBeUndefined();
    expect(tle.signedEntryTimestamp?.length).toBeGreaterThan(0);
    expect(tle.inclusionProof?.checkpoint).toContain(`127.0.0.1`);

    // openssl verifies the CMS against the mock root over the payload
    writeFileSync(join(dir, 'sig.der'), r.der);
    writeFileSync(join(dir, 'payload'), payload);
    writeFileSync(join(dir, 'root.pem'), mock.rootPem);
    execFileSync('openssl', ['cms', '-verify', '-inform', 'DER', '-in', 'sig.der', '-binary', '-content', 'payload', '-CAfile', 'root.pem', '-purpose', 'any', '-out', '/dev/null'], { cwd: dir, stdio: 'pipe' });
  });

  it('retries a 503 from Fulcio and succeeds', async () => {
    mock.failNext('/api/v2/signingCert', 503, 1, { 'retry-after': '0' });
    const before = mock.requests.length;
    const r = await signPayload(payload, { config: config(), tokenSource: async () => toIdentityToken(testToken(mock.url), 'test'), ui: { say() {} }, env: {} });
    expect(r.der.length).toBeGreaterThan(500);
    expect(mock.requests.slice(before).filter((p) => p === '/api/v2/signingCert')).toHaveLength(2);
  });

  it('fails at once with the service message on a permanent Fulcio error', async () => {
    mock.failNext('/api/v2/signingCert', 400, 1);
    const before = mock.requests.length;
    const err = await signPayload(payload, { config: config(), tokenSource: async () => toIdentityToken(testToken(mock.url), 'test'), ui: { say() {} }, env: {} }).catch((e) => e);
    expect(err).toBeInstanceOf(GitsealError);
    expect(err.message).toBe('Fulcio: injected failure 400 (HTTP 400)');
    expect(mock.requests.slice(before)).toEqual(['/api/v2/signingCert']);
  });

  it('fails when Rekor keeps failing, after bounded retries', async () => {
    mock.failNext('/api/v1/log/entries', 500, 10, { 'retry-after': '0' });
    const before = mock.requests.length;
    const err = await signPayload(payload, { config: config(), tokenSource: async () => toIdentityToken(testToken(mock.url), 'test'), ui: { say() {} }, env: {} }).catch((e) => e);
    expect(err).toBeInstanceOf(GitsealError);
    expect(err.code).toBe('REKOR');
    expect(err.message).toBe('Rekor: injected failure 500 (HTTP 500)');
    expect(mock.requests.slice(before).filter((p) => p === '/api/v1/log/entries')).toHaveLength(4);
    mock.failNext('/api/v1/log/entries', 500, 0);
  });

  it('refuses a chain that does not lead to the trusted root', async () => {
    const err = await signPayload(payload, {
      config: config({ trustedRoot: undefined }), // public-good root: the mock CA is not in it
      tokenSource: async () => toIdentityToken(testToken(mock.url), 'test'),
      ui: { say() {} },
      env: {},
    }).catch((e) => e);
    expect(err).toBeInstanceOf(GitsealError);
    expect(err.code).toBe('CHAIN');
  });

  it('says plainly when Fulcio cannot be reached', async () => {
    const port = await deadPort();
    const err = await signPayload(payload, {
      config: config({ fulcioURL: `http://127.0.0.1:${port}` }),
      tokenSource: async () => toIdentityToken(testToken(mock.url), 'test'),
      ui: { say() {} },
      env: {},
    }).catch((e) => e);
    expect(err).toBeInstanceOf(GitsealError);
    expect(err.message).toBe(`Fulcio: cannot reach http://127.0.0.1:${port} (connection refused)`);
  });
});
