// RFC 3161 end to end: the signing-side client asks the sandbox TSA (real
// HTTP on 127.0.0.1) to stamp a signature, and the hot-path verifier checks
// the token against a trusted root. Tokens made by OpenSSL's own TSA
// (`openssl ts -reply`) are verified too, so the verifier is not only
// checked against our own encoder.
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTsaService, type TsaService } from '../../packages/sandbox/src/tsa/service.js';
import { requestTimestamp } from '../../src/tsa/client.js';
import { parseTrustedRoot, type TrustedRoot } from '../../src/trust/trusted-root.js';
import { encodePem } from '../../src/util/pem.js';
import { parseTimeStampToken, verifyTimestampToken } from '../../src/verify/timestamp.js';
import { needs } from '../helpers/tools.js';

const MEDIA = 'application/vnd.dev.sigstore.trustedroot+json;version=0.1';
const dirs: string[] = [];
const servers: Server[] = [];
const tmp = (p: string) => {
  const d = mkdtempSync(join(tmpdir(), p));
  dirs.push(d);
  return d;
};

async function serve(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const s = createServer(handle);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

function rootWith(...tsas: object[]): TrustedRoot {
  return parseTrustedRoot(JSON.stringify({ mediaType: MEDIA, timestampAuthorities: tsas }));
}

/** A real ECDSA signature, as the CMS SignerInfo would carry. */
function cmsSignature(): Buffer {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return sign('sha256', Buffer.from('signed attributes'), privateKey);
}

let tsa: TsaService;
let base: string;
let trust: TrustedRoot;
let tsaDir: string;

beforeAll(async () => {
  tsaDir = tmp('gitseal-tst-');
  tsa = createTsaService({ dir: tsaDir });
  base = await serve((req, res) => tsa.handle(req, res));
  trust = rootWith(tsa.trustedRootFragment({ url: base }));
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

needs('openssl').describe('requestTimestamp + verifyTimestampToken', () => {
  it('stamps a signature and verifies the token against the trusted TSA', async () => {
    const sig = cmsSignature();
    const before = Date.now();
    const token = await requestTimestamp(`${base}/api/v1/timestamp`, sig);
    const { time, tsa: uri } = verifyTimestampToken(token, sig, trust);
    expect(uri).toBe(`${base}/api/v1/timestamp`);
    expect(time.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(time.getTime()).toBeLessThanOrEqual(Date.now());
    const { tstInfo, signedData } = parseTimeStampToken(token);
    expect(tstInfo.hashedMessage.equals(createHash('sha256').update(sig).digest())).toBe(true);
    expect(tstInfo.nonce).toBeDefined();
    expect(signedData.certificates.length).toBe(2); // certReq honoured
  });

  it('refuses a token for another signature', async () => {
    const sig = cmsSignature();
    const token = await requestTimestamp(`${base}/api/v1/timestamp`, sig);
    expect(() => verifyTimestampToken(token, cmsSignature(), trust)).toThrow(/different data/);
  });

  it('refuses a tampered token', async () => {
    const sig = cmsSignature();
    const token = await requestTimestamp(`${base}/api/v1/timestamp`, sig);
    // Move genTime by one (a digit inside the GeneralizedTime of the TSTInfo).
    const tampered = Buffer.from(token);
    const at = tampered.indexOf(Buffer.from(String(new Date().getUTCFullYear()), 'latin1'));
    expect(at).toBeGreaterThan(0);
    tampered[at + 3] = tampered[at + 3] === 0x39 ? 0x38 : tampered[at + 3] + 1;
    expect(() => verifyTimestampToken(tampered, sig, trust)).toThrow(/message digest does not match/);
  });

  it('refuses a TSA that is not in the trusted root, and one used outside its validFor', async () => {
    const sig = cmsSignature();
    // The window must end before the token's time however slowly the rest runs (making the
    // second TSA's keys can take seconds on a busy machine): anchor it before the request.
    const before = Date.now();
    const token = await requestTimestamp(`${base}/api/v1/timestamp`, sig);
    const other = createTsaService({ dir: tmp('gitseal-tst-other-') });
    expect(() => verifyTimestampToken(token, sig, rootWith(other.trustedRootFragment({ url: base })))).toThrow(/not signed by a trusted timestamp authority/);
    expect(() => verifyTimestampToken(token, sig, rootWith())).toThrow(/not signed by a trusted timestamp authority/);
    const ended = rootWith(tsa.trustedRootFragment({ url: base, end: new Date(before - 2000) }));
    expect(() => verifyTimestampToken(token, sig, ended)).toThrow(/was not trusted at/);
  });

  it('refuses a response whose nonce is not ours (a replayed or proxied answer)', async () => {
    // A real relay that forwards to the TSA but drops our nonce from the request.
    const relay = await serve(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const q = Buffer.concat(chunks);
      // The imprint is the only 32-byte OCTET STRING (04 20) in the TimeStampReq.
      const hashAt = q.indexOf(Buffer.from([0x04, 0x20]));
      const artifactHash = q.subarray(hashAt + 2, hashAt + 34).toString('base64');
      const r = await fetch(`${base}/api/v1/timestamp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ artifactHash, hashAlgorithm: 'sha256', certificates: true }) });
      const body = Buffer.from(await r.arrayBuffer());
      res.writeHead(200, { 'content-type': 'application/timestamp-reply' });
      res.end(body);
    });
    await expect(requestTimestamp(`${relay}/api/v1/timestamp`, cmsSignature(), { retries: 0 })).rejects.toThrow(/does not echo the request nonce/);
  });

  it('reports an unreachable TSA in one line', async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    await expect(requestTimestamp(`http://127.0.0.1:${port}/api/v1/timestamp`, cmsSignature(), { retries: 0 })).rejects.toThrow(/timestamp authority: cannot reach http:\/\/127\.0\.0\.1:\d+ \(connection refused\)/);
  });

  it('verifies tokens made by OpenSSL as the TSA (with and without embedded certificates)', () => {
    const w = tmp('gitseal-tst-openssl-');
    const cfg = join(w, 'tsa.cnf');
    writeFileSync(
      cfg,
      [
        '[ tsa ]',
        'default_tsa = t',
        '[ t ]',
        `serial = ${join(w, 'serial')}`,
        'crypto_device = builtin',
        'signer_digest = sha256',
        'default_policy = 1.2.3.4.1',
        'digests = sha256',
        'ess_cert_id_alg = sha256',
        'accuracy = secs:1',
        'ordering = no',
        'tsa_name = no',
        'ess_cert_id_chain = no',
        '',
      ].join('\n'),
    );
    writeFileSync(join(w, 'serial'), '01\n');
    writeFileSync(join(w, 'leaf.pem'), encodePem('CERTIFICATE', tsa.trust.certChain[0]));
    writeFileSync(join(w, 'root.pem'), encodePem('CERTIFICATE', tsa.trust.certChain[1]));
    const sig = cmsSignature();
    writeFileSync(join(w, 'sig.bin'), sig);
    for (const certReq of [true, false]) {
      const q = join(w, `q${certReq}.tsq`);
      execFileSync('openssl', ['ts', '-query', '-data', join(w, 'sig.bin'), '-sha256', ...(certReq ? ['-cert'] : []), '-out', q]);
      const tok = join(w, `t${certReq}.der`);
      execFileSync(
        'openssl',
        ['ts', '-reply', '-config', cfg, '-queryfile', q, '-signer', join(w, 'leaf.pem'), '-inkey', join(tsaDir, 'tsa', 'leaf.key'), '-chain', join(w, 'root.pem'), '-token_out', '-out', tok],
        { stdio: 'pipe' },
      );
      const token = readFileSync(tok);
      expect(parseTimeStampToken(token).signedData.certificates.length > 0).toBe(certReq);
      const r = verifyTimestampToken(token, sig, trust);
      expect(Math.abs(r.time.getTime() - Date.now())).toBeLessThan(60_000);
    }
  });
});
