// The sandbox RFC 3161 TSA over real HTTP on 127.0.0.1, checked with
// OpenSSL's own timestamp client (`openssl ts -query/-reply/-verify`), which
// shares no code with the service.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTsaService, type TsaService } from '../../packages/sandbox/src/tsa/service.js';
import { parseTrustedRoot } from '../../src/trust/trusted-root.js';
import { encodePem } from '../../src/util/pem.js';
import { needs } from '../helpers/tools.js';

let dir: string;
let work: string;
let server: Server;
let url: string;
let tsa: TsaService;

const openssl = (args: string[], input?: Buffer) => execFileSync('openssl', args, { input, stdio: ['pipe', 'pipe', 'pipe'] }).toString('utf8');

async function post(body: Buffer | string, type: string): Promise<{ status: number; type: string | null; body: Buffer }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': type }, body: typeof body === 'string' ? body : new Uint8Array(body) });
  return { status: res.status, type: res.headers.get('content-type'), body: Buffer.from(await res.arrayBuffer()) };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gitseal-tsa-'));
  work = mkdtempSync(join(tmpdir(), 'gitseal-tsa-work-'));
  tsa = createTsaService({ dir });
  server = createServer((req, res) => tsa.handle(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/timestamp`;
  writeFileSync(join(work, 'root.pem'), encodePem('CERTIFICATE', tsa.trust.certChain[1]));
  writeFileSync(join(work, 'leaf.pem'), encodePem('CERTIFICATE', tsa.trust.certChain[0]));
  writeFileSync(join(work, 'data.txt'), 'a git signature to timestamp\n');
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

needs('openssl').describe('sandbox TSA', () => {
  it('answers an RFC 3161 DER query with a token OpenSSL verifies against the TSA root', async () => {
    const tsq = join(work, 'q.tsq');
    openssl(['ts', '-query', '-data', join(work, 'data.txt'), '-sha256', '-cert', '-out', tsq]);
    const r = await post(readFileSync(tsq), 'application/timestamp-query');
    expect(r.status).toBe(200);
    expect(r.type).toBe('application/timestamp-reply');
    const tsr = join(work, 'r.tsr');
    writeFileSync(tsr, r.body);
    const text = openssl(['ts', '-reply', '-in', tsr, '-text']);
    expect(text).toMatch(/Status: Granted/);
    expect(text).toMatch(/Policy OID: 1\.3\.6\.1\.4\.1\.57264\.2/);
    // -queryfile also checks the nonce and imprint echo; the chain must end at the TSA root.
    const out = openssl(['ts', '-verify', '-queryfile', tsq, '-in', tsr, '-CAfile', join(work, 'root.pem')]);
    expect(out).toMatch(/Verification: OK/);
  });

  it('answers the sigstore JSON form, echoing the nonce and honouring certificates=false', async () => {
    const digest = createHash('sha256').update(readFileSync(join(work, 'data.txt'))).digest();
    const r = await post(JSON.stringify({ artifactHash: digest.toString('base64'), hashAlgorithm: 'sha256', nonce: 123456789, certificates: false }), 'application/json');
    expect(r.status).toBe(201);
    const tsr = join(work, 'j.tsr');
    writeFileSync(tsr, r.body);
    const text = openssl(['ts', '-reply', '-in', tsr, '-text']);
    expect(text).toMatch(/Nonce: 0x075BCD15/i);
    // Without embedded certificates the leaf must come from outside the token.
    expect(() => openssl(['ts', '-verify', '-digest', digest.toString('hex'), '-in', tsr, '-CAfile', join(work, 'root.pem')])).toThrow();
    const out = openssl(['ts', '-verify', '-digest', digest.toString('hex'), '-in', tsr, '-CAfile', join(work, 'root.pem'), '-untrusted', join(work, 'leaf.pem')]);
    expect(out).toMatch(/Verification: OK/);
    // And the digest is really bound: another digest fails.
    const other = createHash('sha256').update('something else').digest('hex');
    expect(() => openssl(['ts', '-verify', '-digest', other, '-in', tsr, '-CAfile', join(work, 'root.pem'), '-untrusted', join(work, 'leaf.pem')])).toThrow();
  });

  it('issues a leaf whose only EKU is timeStamping, critical (RFC 3161 §2.3)', () => {
    const text = openssl(['x509', '-in', join(work, 'leaf.pem'), '-noout', '-text']);
    expect(text).toMatch(/X509v3 Extended Key Usage: critical\s+Time Stamping\s/);
    openssl(['verify', '-CAfile', join(work, 'root.pem'), '-purpose', 'timestampsign', join(work, 'leaf.pem')]);
  });

  it('rejects weak or malformed requests', async () => {
    const tsq = join(work, 'sha1.tsq');
    openssl(['ts', '-query', '-data', join(work, 'data.txt'), '-sha1', '-out', tsq]);
    const r = await post(readFileSync(tsq), 'application/timestamp-query');
    expect(r.status).toBe(200);
    writeFileSync(join(work, 'sha1.tsr'), r.body);
    const text = openssl(['ts', '-reply', '-in', join(work, 'sha1.tsr'), '-text']);
    expect(text).toMatch(/Status: Rejected/);
    expect(text).toMatch(/unrecognized or unsupported algorithm/i);

    const bad = await post(JSON.stringify({ artifactHash: 'AAAA', hashAlgorithm: 'sha256' }), 'application/json');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body.toString()).message).toMatch(/32 bytes/);
    const proto = await post(JSON.stringify({ artifactHash: Buffer.alloc(32).toString('base64'), hashAlgorithm: 'toString' }), 'application/json');
    expect(proto.status).toBe(400);
    expect(JSON.parse(proto.body.toString()).message).toMatch(/unsupported hashAlgorithm/);
    const garbage = await post(Buffer.from('not der'), 'application/timestamp-query');
    writeFileSync(join(work, 'g.tsr'), garbage.body);
    expect(openssl(['ts', '-reply', '-in', join(work, 'g.tsr'), '-text'])).toMatch(/Status: Rejected/);
    expect((await fetch(url)).status).toBe(405);
  });

  it('keeps its keys private and stable across restarts', () => {
    expect(statSync(join(dir, 'tsa')).mode & 0o777).toBe(0o700);
    for (const f of ['root.key', 'leaf.key', 'leaf.pem', 'root.pem']) expect(statSync(join(dir, 'tsa', f)).mode & 0o777).toBe(0o600);
    const again = createTsaService({ dir });
    expect(again.trust.certChain[0].equals(tsa.trust.certChain[0])).toBe(true);
    expect(again.trust.certChain[1].equals(tsa.trust.certChain[1])).toBe(true);
  });

  it('describes itself as a trusted-root timestampAuthorities entry', () => {
    const root = parseTrustedRoot(
      JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', timestampAuthorities: [tsa.trustedRootFragment({ url: url.replace(/\/api.*/, '') })] }),
    );
    expect(root.timestampAuthorities).toHaveLength(1);
    expect(root.timestampAuthorities[0].uri).toBe(url);
    expect(root.timestampAuthorities[0].certChain.map((c) => c.toString('hex'))).toEqual(tsa.trust.certChain.map((c) => c.toString('hex')));
    expect(root.timestampAuthorities[0].validFor.start.getTime()).toBeLessThanOrEqual(Date.now());
  });
});
