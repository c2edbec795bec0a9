/**
 * The Fulcio and Rekor clients and their HTTP layer over real loopback HTTP:
 * response forms, retry policy (Retry-After, permanent errors), size limits,
 * Rekor's 409 path and the conversion of a log entry into the embedded form.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GitsealError } from '../../src/errors.js';
import { challengeClaim, parseSigningCertResponse } from '../../src/fulcio/client.js';
import { canonicalBody, hashedRekordV001 } from '../../src/rekor/body.js';
import { entryFromResponse, uploadHashedRekord } from '../../src/rekor/client-v1.js';
import { errorText, request, retryAfterMs } from '../../src/util/http.js';
import { encodePem } from '../../src/util/pem.js';
import { startMockSigstore, type MockSigstore } from './mock-sigstore.js';

type Route = (req: IncomingMessage, res: ServerResponse, body: string) => void;
let server: Server;
let base: string;
let route: Route = (_q, res) => res.end();
let dir: string;
let mock: MockSigstore;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => route(req, res, Buffer.concat(chunks).toString()));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = mkdtempSync(join(tmpdir(), 'gitseal-clients-'));
  mock = await startMockSigstore(dir);
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  await mock.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('http layer', () => {
  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });

  it('unwraps {code,message} and text errors into one line', () => {
    expect(errorText(Buffer.from('{"code":3,"message":"There was an error processing the identity token","details":[]}'))).toBe(
      'There was an error processing the identity token',
    );
    expect(errorText(Buffer.from('<html><body>Bad gateway</body></html>\nmore'))).toBe('Bad gateway');
    expect(errorText(Buffer.alloc(0))).toBe('no details');
    // a server echoing the identity token does not get it printed
    expect(errorText(Buffer.from('{"message":"bad token eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0. here"}'))).toBe('bad token [token] here');
  });

  it('retries 429 honouring Retry-After, then returns the success', async () => {
    let n = 0;
    route = (_q, res) => {
      n++;
      if (n <= 2) {
        res.writeHead(429, { 'retry-after': '2' });
        res.end('{"message":"slow down"}');
      } else res.end('{"ok":true}');
    };
    const waits: number[] = [];
    const r = await request(`${base}/x`, { method: 'GET' }, { service: 'Test', code: 'NETWORK', sleep: async (ms) => void waits.push(ms) });
    expect(r.status).toBe(200);
    expect(n).toBe(3);
    expect(waits).toEqual([2000, 2000]);
  });

  it('backs off exponentially on 5xx and gives up after the retry budget', async () => {
    let n = 0;
    route = (_q, res) => {
      n++;
      res.writeHead(503);
      res.end();
    };
    const waits: number[] = [];
    const r = await request(`${base}/x`, { method: 'GET' }, { service: 'Test', code: 'NETWORK', retries: 3, backoffMs: 100, sleep: async (ms) => void waits.push(ms) });
    expect(r.status).toBe(503);
    expect(n).toBe(4);
    expect(waits).toHaveLength(3);
    // 100·2^i, each with ±50 % jitter
    waits.forEach((w, i) => {
      expect(w).toBeGreaterThanOrEqual(50 * 2 ** i);
      expect(w).toBeLessThanOrEqual(150 * 2 ** i);
    });
  });

  it('does not retry permanent errors', async () => {
    let n = 0;
    route = (_q, res) => {
      n++;
      res.writeHead(400);
      res.end('{"code":3,"message":"bad"}');
    };
    const r = await request(`${base}/x`, { method: 'GET' }, { service: 'Test', code: 'NETWORK', sleep: async () => {} });
    expect(r.status).toBe(400);
    expect(n).toBe(1);
  });

  it('refuses oversized responses', async () => {
    route = (_q, res) => res.end('x'.repeat(5000));
    const err = await request(`${base}/x`, { method: 'GET' }, { service: 'Test', code: 'NETWORK', maxBytes: 1000 }).catch((e) => e);
    expect(err).toBeInstanceOf(GitsealError);
    expect(err.message).toMatch(/^Test: response too large/);
  });
});

describe('Fulcio client', () => {
  it('signs the e-mail claim for proof of possession, else the subject', () => {
    const t = { raw: 'x', issuer: 'i', subject: 'sub-1', expiresAt: new Date() };
    expect(challengeClaim({ ...t, email: 'a@b' })).toBe('a@b');
    expect(challengeClaim(t)).toBe('sub-1');
  });

  it('reads both the embedded-SCT and the detached-SCT response forms', () => {
    const a = Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]);
    const b = Buffer.from([0x30, 0x03, 0x02, 0x01, 0x02]);
    const chain = { certificates: [encodePem('CERTIFICATE', a), encodePem('CERTIFICATE', b)] };
    expect(parseSigningCertResponse({ signedCertificateEmbeddedSct: { chain } })).toEqual({ chain: [a, b] });
    const d = parseSigningCertResponse({ signedCertificateDetachedSct: { chain, signedCertificateTimestamp: Buffer.from('{"sct":1}').toString('base64') } });
    expect(d.chain).toEqual([a, b]);
    expect(d.detachedSct?.toString()).toBe('{"sct":1}');
    expect(() => parseSigningCertResponse({})).toThrow('Fulcio: the response holds no certificate chain');
    expect(() => parseSigningCertResponse({ signedCertificateEmbeddedSct: { chain: { certificates: ['junk'] } } })).toThrow(/malformed certificate/);
  });
});

describe('Rekor client', () => {
  /** A real entry from the mock Rekor, for a throwaway key. */
  async function realEntry() {
    const leaf = Buffer.from(mock.rootPem.split('\n').slice(1, -2).join(''), 'base64');
    const digest = createHash('sha256').update('attrs').digest();
    const signature = Buffer.from([0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]);
    const res = await fetch(`${mock.url}/api/v1/log/entries`, { method: 'POST', body: JSON.stringify(hashedRekordV001(digest, signature, leaf)) });
    return { digest, signature, leaf, json: (await res.json()) as Record<string, Record<string, unknown>> };
  }

  it('converts a log entry: global index, log id bytes, SET and the shard-local proof', async () => {
    const { digest, signature, leaf, json } = await realEntry();
    const raw = Object.values(json)[0] as { logIndex: number; logID: string; integratedTime: number; verification: { inclusionProof: { logIndex: number; treeSize: number; hashes: string[]; rootHash: string } } };
    const e = entryFromResponse(json, canonicalBody(hashedRekordV001(digest, signature, leaf)));
    expect(e.logIndex).toBe(BigInt(raw.logIndex));
    expect(e.logId.toString('hex')).toBe(raw.logID);
    expect(e.integratedTime).toBe(BigInt(raw.integratedTime));
    expect(e.inclusionProof!.logIndex).toBe(BigInt(raw.verification.inclusionProof.logIndex));
    expect(e.inclusionProof!.treeSize).toBe(BigInt(raw.verification.inclusionProof.treeSize));
    expect(e.inclusionProof!.rootHash.toString('hex')).toBe(raw.verification.inclusionProof.rootHash);
    expect(e.kind).toBe('hashedrekord');
    expect(e.version).toBe('0.0.1');
    // a body other than the one we sent is refused
    expect(() => entryFromResponse(json, canonicalBody(hashedRekordV001(Buffer.alloc(32), signature, leaf)))).toThrow('Rekor: the logged entry is not the one we sent');
  });

  it('fetches the existing entry on 409 Conflict', async () => {
    const { digest, signature, leaf, json } = await realEntry();
    const seen: string[] = [];
    route = (req, res) => {
      seen.push(`${req.method} ${req.url}`);
      if (req.method === 'POST') {
        res.writeHead(409, { location: '/api/v1/log/entries/abc123', 'content-type': 'application/json' });
        res.end('{"code":409,"message":"an equivalent entry already exists in the transparency log"}');
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
      }
    };
    const e = await uploadHashedRekord({ rekorURL: base, digest, signature, leaf });
    expect(seen).toEqual(['POST /api/v1/log/entries', 'GET /api/v1/log/entries/abc123']);
    expect(e.logIndex).toBe(BigInt((Object.values(json)[0] as { logIndex: number }).logIndex));
  });

  it('surfaces Rekor errors as one line', async () => {
    route = (_q, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end('{"code":400,"message":"verifying signature: invalid signature when validating ASN.1 encoded signature"}');
    };
    const err = await uploadHashedRekord({ rekorURL: base, digest: Buffer.alloc(32), signature: Buffer.alloc(8), leaf: Buffer.from([0x30, 0]) }).catch((e) => e);
    expect(err).toBeInstanceOf(GitsealError);
    expect(err.message).toBe('Rekor: verifying signature: invalid signature when validating ASN.1 encoded signature (HTTP 400)');
  });
});
