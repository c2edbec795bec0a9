/**
 * A server that cannot be reached is said in words, with its URL: "cannot reach
 * http://127.0.0.1:9 (connection refused)", never "(ECONNREFUSED)", "fetch failed (connect
 * ECONNREFUSED …)" or an undici code. Before, every client passed the socket's code through
 * (Fulcio, Rekor v1 and v2, the TSA, the online Rekor lookup) and the OIDC client, TUF and
 * doctor quoted Node's own message. Each client is pointed at a port nothing listens on
 * (127.0.0.1 only); the codes that need a network (host not found, unreachable, TLS) are
 * checked on the errors Node and fetch build.
 */
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { probe } from '../../src/cli/doctor-checks.js';
import { describeError, networkReason } from '../../src/errors.js';
import { connect } from '../../src/oidc/client.js';
import { uploadHashedRekord } from '../../src/rekor/client-v1.js';
import { uploadV2 } from '../../src/rekor/client-v2.js';
import { createRekorSearch } from '../../src/rekor/search.js';
import { refreshTrustedRoot } from '../../src/trust/tuf.js';
import { requestTimestamp } from '../../src/tsa/client.js';
import { canonicalize } from '../../src/util/canonical-json.js';

/** No bare error code (ECONNREFUSED, EAI_AGAIN, UND_ERR_SOCKET, ERR_…) anywhere in a message. */
const CODE = /\b(E[A-Z]{3,}|EAI_[A-Z]+|UND_ERR_[A-Z_]+|ERR_[A-Z_]+)\b/;

let dead: string;
let tmp: string;
beforeAll(async () => {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  dead = `http://127.0.0.1:${port}`;
  tmp = mkdtempSync(join(tmpdir(), 'gitseal-adv-net-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function message(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return describeError(e);
  }
  throw new Error('expected a failure');
}

function inWords(m: string): void {
  expect(m).toContain(dead.replace('http://', ''));
  expect(m).toMatch(/connection refused/);
  expect(m).not.toMatch(CODE);
}

describe('every client says a refused connection in words, with the URL', () => {
  const signature = () => sign('sha256', Buffer.from('x'), generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);

  test('Rekor v1 upload', async () => {
    inWords(await message(uploadHashedRekord({ rekorURL: dead, digest: Buffer.alloc(32), signature: signature(), leaf: Buffer.from('leaf'), http: { retries: 0 } })));
  });

  test('Rekor v2 upload', async () => {
    inWords(await message(uploadV2(dead, { digest: Buffer.alloc(32), signature: signature(), leafDer: Buffer.from('leaf') }, { http: { retries: 0 } } as never)));
  });

  test('timestamp authority', async () => {
    inWords(await message(requestTimestamp(`${dead}/api/v1/timestamp`, signature(), { retries: 0 })));
  });

  test('online Rekor lookup', async () => {
    inWords(await message(createRekorSearch(dead, { timeoutMs: 5_000 }).entriesForCertificate('-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n')));
  });

  test('OIDC issuer discovery', async () => {
    inWords(await message(connect({ issuer: dead, clientID: 'sigstore' }, { timeoutSeconds: 5 })));
  });

  test('TUF mirror', async () => {
    // A signed initial root (one ECDSA key for every role), so the client asks the mirror for 2.root.json.
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const key = { keytype: 'ecdsa', scheme: 'ecdsa-sha2-nistp256', keyval: { public: publicKey.export({ type: 'spki', format: 'der' }).subarray(-65).toString('hex') } };
    const keyid = createHash('sha256').update(canonicalize(key)).digest('hex');
    const role = { keyids: [keyid], threshold: 1 };
    const body = { _type: 'root', spec_version: '1.0.31', version: 1, expires: '2100-01-01T00:00:00Z', consistent_snapshot: false, keys: { [keyid]: key }, roles: { root: role, targets: role, snapshot: role, timestamp: role } };
    const rootPath = join(tmp, 'root.json');
    writeFileSync(rootPath, JSON.stringify({ signed: body, signatures: [{ keyid, sig: sign('sha256', Buffer.from(canonicalize(body)), privateKey).toString('hex') }] }));
    const m = await message(refreshTrustedRoot({ mirrorURL: dead, rootPath, cacheDir: join(tmp, 'cache'), fetchTimeout: 5_000 }));
    expect(m).toMatch(/connection refused/);
    expect(m).not.toMatch(CODE);
  });

  test('doctor reachability probe', async () => {
    const c = await probe('Rekor', dead, 5_000);
    expect(c.status).toBe('fail');
    inWords(c.summary);
  });
});

describe('socket and fetch error codes in words', () => {
  const sys = (code: string) => Object.assign(new Error(`getaddrinfo ${code} sigstore.example`), { code, syscall: 'getaddrinfo' });
  test.each([
    ['ENOTFOUND', 'host not found'],
    ['EAI_AGAIN', 'host not found (the name server did not answer)'],
    ['ECONNREFUSED', 'connection refused'],
    ['ECONNRESET', 'connection reset'],
    ['ETIMEDOUT', 'timed out'],
    ['EHOSTUNREACH', 'host unreachable'],
    ['ENETUNREACH', 'network unreachable'],
    ['UND_ERR_CONNECT_TIMEOUT', 'timed out connecting'],
    ['UND_ERR_SOCKET', 'the connection closed unexpectedly'],
    ['CERT_HAS_EXPIRED', "the server's TLS certificate has expired"],
  ])('%s', (code, words) => {
    // as fetch throws it: TypeError("fetch failed") whose cause is the socket error
    const fetchFailed = new TypeError('fetch failed', { cause: sys(code) });
    expect(networkReason(fetchFailed)).toBe(words);
    expect(describeError(fetchFailed)).toBe(words);
    // a connection to each address of a host: an AggregateError of socket errors
    expect(networkReason(new TypeError('fetch failed', { cause: new AggregateError([sys(code), sys(code)]) }))).toBe(words);
  });
  test('an error without a known code keeps its message', () => {
    expect(networkReason(new Error('something else'))).toBeUndefined();
    expect(describeError(new Error('something else'))).toBe('something else');
  });
});
