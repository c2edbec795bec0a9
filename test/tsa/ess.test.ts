// RFC 3161 §2.4.1 / §2.3 checks the current src/verify/timestamp.ts lacks
// (see timestamp.patch): the ESS signing-certificate binding and a critical,
// sole timeStamping EKU. Tokens come from the sandbox TSA encoder, signed with
// the real TSA key, with the ESS attribute naming another certificate.
import { createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTsaService } from '../../packages/sandbox/src/tsa/service.js';
import { encodeToken } from '../../packages/sandbox/src/tsa/token.js';
import { parseTrustedRoot, type TrustedRoot } from '../../src/trust/trusted-root.js';
import { verifyTimestampToken } from '../../src/verify/timestamp.js';
import { createHash } from 'node:crypto';

let dir: string;
let trust: TrustedRoot;
let chain: Buffer[];
let other: Buffer[];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gitseal-ess-'));
  const tsa = createTsaService({ dir: join(dir, 'a') });
  chain = tsa.trust.certChain;
  other = createTsaService({ dir: join(dir, 'b') }).trust.certChain;
  trust = parseTrustedRoot(JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', timestampAuthorities: [tsa.trustedRootFragment({ url: 'http://127.0.0.1:1' })] }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function token(sig: Buffer, essCert?: Buffer): Buffer {
  const leafKey = createPrivateKey(readFileSync(join(dir, 'a', 'tsa', 'leaf.key')));
  return encodeToken({ request: { hash: 'sha256', hashedMessage: createHash('sha256').update(sig).digest(), certReq: true }, genTime: new Date(), leaf: chain[0], chain, leafKey, essCert });
}

describe('ESS signing-certificate binding', () => {
  const sig = sign('sha256', Buffer.from('x'), generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
  it('accepts the honest token', () => {
    expect(verifyTimestampToken(token(sig), sig, trust).time).toBeInstanceOf(Date);
  });
  it('refuses a token whose ESS attribute names another certificate', () => {
    expect(() => verifyTimestampToken(token(sig, other[0]), sig, trust)).toThrow(/signing-certificate attribute names another/);
  });
});
