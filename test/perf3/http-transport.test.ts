/**
 * src/util/http.ts sends over node:http(s) instead of the global fetch (issue
 * "Speed", P3). Real loopback servers check what fetch used to give us: bodies,
 * headers, retries, one-line errors for each way a request can fail, no
 * redirects followed, size limits, content decoding — and that no connection
 * outlives the request, so the signing process can exit once its output is out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { GitsealError } from '../../src/errors.js';
import { request, type HttpOptions } from '../../src/util/http.js';
import { requestTimestamp } from '../../src/tsa/client.js';
import { deadPort } from '../helpers/dead-port.js';

type Route = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;
let server: Server;
let base: string;
let route: Route = (_q, res) => res.end();
let hits = 0;
const open = new Set<Socket>();

beforeAll(async () => {
  server = createServer((req, res) => {
    hits++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => route(req, res, Buffer.concat(chunks)));
  });
  // A server that would keep connections open for a minute if the client let it.
  server.keepAliveTimeout = 60_000;
  server.on('connection', (s: Socket) => {
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

const opts = (o: Partial<HttpOptions> = {}): HttpOptions => ({ service: 'Test', code: 'NETWORK', sleep: async () => {}, ...o });

async function failure(p: Promise<unknown>): Promise<GitsealError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(GitsealError);
  return e as GitsealError;
}

describe('node:http transport', () => {
  it('sends method, headers and body, and returns status, headers and body', async () => {
    let seen: { method?: string; headers?: IncomingMessage['headers']; body?: string } = {};
    route = (q, res, body) => {
      seen = { method: q.method, headers: q.headers, body: body.toString() };
      res.writeHead(201, { 'content-type': 'application/json', location: '/api/v1/log/entries/abc' });
      res.end('{"ok":true}');
    };
    const r = await request(`${base}/api/x?q=1`, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'gitseal' }, body: '{"a":"é"}' }, opts());
    expect(r.status).toBe(201);
    expect(r.body.toString()).toBe('{"ok":true}');
    expect(r.headers.get('Location')).toBe('/api/v1/log/entries/abc');
    expect(r.headers.get('x-absent')).toBeNull();
    expect(r.url).toBe(`${base}/api/x?q=1`);
    expect(seen.method).toBe('POST');
    expect(seen.body).toBe('{"a":"é"}');
    expect(seen.headers?.['content-length']).toBe(String(Buffer.byteLength('{"a":"é"}')));
    expect(seen.headers?.accept).toBe('application/json');
    expect(seen.headers?.['user-agent']).toBe('gitseal');
  });

  it('leaves no connection open once the answer is in, even with a keep-alive server', async () => {
    route = (_q, res) => res.end('{}');
    for (let i = 0; i < 3; i++) await request(`${base}/x`, { method: 'GET' }, opts());
    // The client asked for Connection: close; the server side sees every socket closed.
    for (let i = 0; i < 100 && open.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(open.size).toBe(0);
  });

  it('undoes a gzip content encoding', async () => {
    route = (_q, res) => {
      res.writeHead(200, { 'content-encoding': 'gzip' });
      res.end(gzipSync('{"message":"compressed"}'));
    };
    const r = await request(`${base}/x`, { method: 'GET' }, opts());
    expect(r.body.toString()).toBe('{"message":"compressed"}');
  });

  it('retries a response cut short, then says so in one line', async () => {
    hits = 0;
    route = (_q, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('{"partial":');
      setImmediate(() => res.socket?.destroy());
    };
    const e = await failure(request(`${base}/x`, { method: 'GET' }, opts({ retries: 2 })));
    expect(hits).toBe(3);
    expect(e.code).toBe('NETWORK');
    expect(e.message).toMatch(/^Test: the response from http:\/\/127\.0\.0\.1:\d+ was cut short \(.+\)$/);
  });

  it('gives up on a server that never answers: "cannot reach … (timed out)"', async () => {
    hits = 0;
    route = () => {
      /* never answer */
    };
    const e = await failure(request(`${base}/x`, { method: 'GET' }, opts({ retries: 1, timeoutMs: 200 })));
    expect(hits).toBe(2);
    expect(e.message).toMatch(/^Test: cannot reach http:\/\/127\.0\.0\.1:\d+ \(timed out\)$/);
  });

  it('stops retrying when the total time budget is spent, however many retries are allowed', async () => {
    hits = 0;
    route = () => {
      /* never answer */
    };
    const e = await failure(request(`${base}/x`, { method: 'GET' }, opts({ retries: 20, timeoutMs: 300, totalTimeoutMs: 1_500 })));
    expect(hits).toBeLessThanOrEqual(3); // bounded by the budget, not by the 21 attempts allowed
    expect(e.message).toMatch(/^Test: cannot reach http:\/\/127\.0\.0\.1:\d+ \(timed out\)$/);
  });

  it('reports a refused connection by its errno', async () => {
    const port = await deadPort();
    const e = await failure(request(`http://127.0.0.1:${port}/x`, { method: 'GET' }, opts({ retries: 1 })));
    expect(e.message).toBe(`Test: cannot reach http://127.0.0.1:${port} (connection refused)`);
  });

  it('turns a request Node refuses to send into the same one-line error', async () => {
    hits = 0;
    const e = await failure(request(`${base}/x`, { method: 'GET', headers: { 'user-agent': 'bad\nheader' } }, opts({ retries: 1 })));
    expect(hits).toBe(0);
    expect(e.message).toMatch(/^Test: cannot reach http:\/\/127\.0\.0\.1:\d+ \(Invalid character in header content \["user-agent"\]\)$/);
  });

  it('does not follow redirects', async () => {
    hits = 0;
    route = (_q, res) => {
      res.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' });
      res.end();
    };
    const e = await failure(request(`${base}/x`, { method: 'GET' }, opts({ retries: 1 })));
    expect(hits).toBe(2);
    expect(e.message).toMatch(/^Test: cannot reach http:\/\/127\.0\.0\.1:\d+ \(unexpected redirect\)$/);
  });

  it('refuses a declared oversized body at once, without retrying', async () => {
    hits = 0;
    route = (_q, res) => {
      res.writeHead(503, { 'content-length': '5000' });
      res.end('x'.repeat(5000));
    };
    const e = await failure(request(`${base}/x`, { method: 'GET' }, opts({ maxBytes: 1000 })));
    expect(hits).toBe(1);
    expect(e.message).toBe('Test: response too large (5000 bytes)');
  });

  it('refuses an oversized chunked body', async () => {
    route = (_q, res) => {
      res.write('x'.repeat(600));
      res.end('x'.repeat(600));
    };
    const e = await failure(request(`${base}/x`, { method: 'GET' }, opts({ maxBytes: 1000 })));
    expect(e.message).toBe('Test: response too large (over 1000 bytes)');
  });

  it('still sends through an injected fetch when one is given', async () => {
    route = (q, res) => res.end(JSON.stringify({ via: q.headers['user-agent'] }));
    const urls: string[] = [];
    const r = await request(`${base}/y`, { method: 'GET', headers: { 'user-agent': 'injected' } }, opts({ fetch: (u, i) => (urls.push(u), fetch(u, i)) }));
    expect(urls).toEqual([`${base}/y`]);
    expect(JSON.parse(r.body.toString())).toEqual({ via: 'injected' });
  });
});

describe('TSA client over the same transport', () => {
  it('keeps its own one-line errors', async () => {
    route = (_q, res) => {
      res.writeHead(400);
      res.end('bad request: not a TimeStampReq\nsecond line');
    };
    const e = await failure(requestTimestamp(`${base}/api/v1/timestamp`, Buffer.from('sig')));
    expect(e.code).toBe('TSA');
    expect(e.message).toBe('timestamp authority: bad request: not a TimeStampReq (HTTP 400)');

    hits = 0;
    route = (_q, res) => {
      res.writeHead(200, { 'content-length': String(70 * 1024) });
      res.end(Buffer.alloc(70 * 1024));
    };
    const big = await failure(requestTimestamp(`${base}/api/v1/timestamp`, Buffer.from('sig')));
    expect(big.message).toBe('timestamp authority: the response is too large');
    expect(hits).toBe(1);

    hits = 0;
    route = () => {
      /* never answer */
    };
    const slow = await failure(requestTimestamp(`${base}/api/v1/timestamp`, Buffer.from('sig'), { timeout: 200, retries: 1 }));
    expect(hits).toBe(2);
    expect(slow.message).toMatch(/^timestamp authority: cannot reach http:\/\/127\.0\.0\.1:\d+ \(timed out\)$/);
  });

  it('sends a DER timestamp query', async () => {
    let seen: { type?: string; body?: Buffer } = {};
    route = (q, res, body) => {
      seen = { type: q.headers['content-type'], body };
      res.writeHead(500);
      res.end('down');
    };
    await failure(requestTimestamp(`${base}/api/v1/timestamp`, Buffer.from('sig'), { retries: 0 }));
    expect(seen.type).toBe('application/timestamp-query');
    expect(seen.body?.[0]).toBe(0x30);
  });
});
