// Fault specs, the fault table's counting, the fault wrapper in front of real
// http servers (including a handler in the style koa/oidc-provider uses:
// setHeader + statusCode + end), and the published env file as `sh` reads it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FaultSpecError, FaultTable, interposeOnServer, parseFaultSpec, RequestCounters, withFaults } from '../../packages/sandbox/src/faults.js';
import { envFile, shellQuote, signingConfigJson } from '../../packages/sandbox/src/runner-files.js';

describe('parseFaultSpec', () => {
  it('parses every fault kind, with and without a count', () => {
    expect(parseFaultSpec('rekor=503')).toEqual({ service: 'rekor', fault: { action: { kind: 'status', status: 503 }, remaining: undefined } });
    expect(parseFaultSpec('rekor=503x2')).toEqual({ service: 'rekor', fault: { action: { kind: 'status', status: 503 }, remaining: 2 } });
    expect(parseFaultSpec('fulcio=delay:3000')).toEqual({ service: 'fulcio', fault: { action: { kind: 'delay', ms: 3000 }, remaining: undefined } });
    expect(parseFaultSpec('oidc=drop')).toEqual({ service: 'oidc', fault: { action: { kind: 'drop' }, remaining: undefined } });
    expect(parseFaultSpec('rekor=malformedx1').fault).toEqual({ action: { kind: 'malformed' }, remaining: 1 });
    expect(parseFaultSpec('fulcio=truncate').fault?.action).toEqual({ kind: 'truncate' });
    expect(parseFaultSpec('rekor=clear')).toEqual({ service: 'rekor', fault: null });
    expect(parseFaultSpec('clear')).toEqual({ service: 'all', fault: null });
  });

  it('rejects what it does not understand, with a message naming the problem', () => {
    const cases: [string, RegExp][] = [
      ['rekor', /expected SERVICE=ACTION/],
      ['ct=503', /unknown service "ct"/],
      ['rekor=200', /not an HTTP error status/],
      ['rekor=slow', /unknown fault "slow"/],
      ['rekor=delay:999999', /longer than/],
      ['rekor=503x0', /at least 1/],
    ];
    for (const [spec] of cases) expect(() => parseFaultSpec(spec), spec).toThrow(FaultSpecError);
    for (const [spec, msg] of cases) expect(() => parseFaultSpec(spec), spec).toThrow(msg);
  });
});

describe('FaultTable', () => {
  it('counts down limited faults and keeps permanent ones until cleared', () => {
    const t = new FaultTable();
    t.apply(parseFaultSpec('rekor=503x2'));
    t.apply(parseFaultSpec('fulcio=drop'));
    expect(t.take('rekor')).toEqual({ kind: 'status', status: 503 });
    expect(t.snapshot().rekor?.remaining).toBe(1);
    expect(t.take('rekor')).toEqual({ kind: 'status', status: 503 });
    expect(t.take('rekor')).toBeUndefined();
    expect(t.take('oidc')).toBeUndefined();
    for (let i = 0; i < 5; i++) expect(t.take('fulcio')).toEqual({ kind: 'drop' });
    t.apply(parseFaultSpec('clear'));
    expect(t.take('fulcio')).toBeUndefined();
    expect(t.snapshot()).toEqual({});
  });
});

// --- the wrapper on real servers ---------------------------------------------

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => { s.close(() => r()); s.closeAllConnections(); })));
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** koa-style: headers via setHeader, status via statusCode, body via write + end. */
const koaStyle = (req: IncomingMessage, res: ServerResponse) => {
  res.statusCode = 201;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('X-Thing', 'kept');
  res.write('{"hello":');
  res.end('"world"}');
};

/** A raw HTTP GET that reports how the body ended. */
function rawGet(url: string): Promise<{ status?: number; headers?: Record<string, unknown>; body: string; error?: string }> {
  return new Promise((resolve) => {
    let body = '';
    const req = request(url, { agent: false }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
      res.on('aborted', () => resolve({ status: res.statusCode, headers: res.headers, body, error: 'aborted' }));
      res.on('error', (e) => resolve({ status: res.statusCode, headers: res.headers, body, error: e.message }));
    });
    req.on('error', (e) => resolve({ body, error: e.message }));
    req.end();
  });
}

describe('withFaults on a real server', () => {
  it('passes requests through untouched when no fault is set, and counts them by endpoint', async () => {
    const faults = new FaultTable();
    const counters = new RequestCounters();
    const { url } = await serve(withFaults(koaStyle, 'rekor', faults, counters));
    const r = await rawGet(url + `/api/v1/log/entries/${'ab'.repeat(40)}?x=1`);
    expect(r.status).toBe(201);
    expect(r.body).toBe('{"hello":"world"}');
    expect(counters.counts.rekor).toEqual({ 'GET /api/v1/log/entries/{id}': 1 });
  });

  it('malformed: keeps status and headers of a koa-style handler, replaces the body', async () => {
    const faults = new FaultTable();
    faults.apply(parseFaultSpec('oidc=malformedx1'));
    const { url } = await serve(withFaults(koaStyle, 'oidc', faults, new RequestCounters()));
    const r = await rawGet(url);
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(201);
    expect(r.headers!['x-thing']).toBe('kept');
    expect(r.headers!['content-type']).toBe('application/json; charset=utf-8');
    expect(() => JSON.parse(r.body)).toThrow(SyntaxError);
    expect(Number(r.headers!['content-length'])).toBe(Buffer.byteLength(r.body));
    expect((await rawGet(url)).body).toBe('{"hello":"world"}'); // x1: recovered
  });

  it('truncate: promises the whole body, delivers half, and cuts the connection', async () => {
    const faults = new FaultTable();
    faults.apply(parseFaultSpec('fulcio=truncate'));
    const { url } = await serve(withFaults(koaStyle, 'fulcio', faults, new RequestCounters()));
    const r = await rawGet(url);
    expect(r.status).toBe(201);
    expect(r.headers!['content-length']).toBe(String('{"hello":"world"}'.length));
    expect(r.error).toBeDefined();
    expect(r.body).toBe('{"hello"');
  });

  it('status and drop', async () => {
    const faults = new FaultTable();
    const { url } = await serve(withFaults(koaStyle, 'rekor', faults, new RequestCounters()));
    faults.apply(parseFaultSpec('rekor=502x1'));
    const r = await rawGet(url);
    expect(r.status).toBe(502);
    expect(JSON.parse(r.body)).toEqual({ code: 502, message: 'sandbox fault injected: rekor answers 502' });
    faults.apply(parseFaultSpec('rekor=dropx1'));
    const d = await rawGet(url);
    expect(d.status).toBeUndefined();
    expect(d.error).toMatch(/socket hang up|ECONNRESET/);
    expect((await rawGet(url)).status).toBe(201);
  });

  it('interposeOnServer puts faults in front of listeners a server already has', async () => {
    const { server, url } = await serve(koaStyle);
    const faults = new FaultTable();
    const counters = new RequestCounters();
    interposeOnServer(server, 'oidc', faults, counters);
    faults.apply(parseFaultSpec('oidc=418x1'));
    expect((await rawGet(url)).status).toBe(418);
    expect((await rawGet(url)).status).toBe(201);
    expect(counters.counts.oidc).toEqual({ 'GET /': 2 });
    expect(counters.faultsInjected.oidc).toBe(1);
  });
});

describe('published files', () => {
  it('env exports what sh reads back, even with quotes and spaces in paths', () => {
    const d = mkdtempSync(join(tmpdir(), "gitseal env 'q' "));
    const trusted = join(d, 'trusted_root.json');
    const env = join(d, 'env');
    writeFileSync(env, envFile({ oidc: 'http://127.0.0.1:1', fulcio: 'http://127.0.0.1:2', rekor: 'http://127.0.0.1:3' }, trusted));
    const out = execFileSync('sh', ['-c', '. "$1" && printf "%s\\n" "$GITSEAL_FULCIO_URL" "$GITSEAL_REKOR_URL" "$GITSEAL_OIDC_ISSUER" "$GITSEAL_OIDC_CLIENT_ID" "$GITSEAL_TRUSTED_ROOT"', 'sh', env], { encoding: 'utf8', env: {} });
    expect(out.split('\n').slice(0, 5)).toEqual(['http://127.0.0.1:2', 'http://127.0.0.1:3', 'http://127.0.0.1:1', 'sigstore', trusted]);
    rmSync(d, { recursive: true });
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });

  it('signing config lists every service with v1 APIs, readable by protobuf-specs', async () => {
    const { SigningConfig } = await import('@sigstore/protobuf-specs');
    const since = new Date('2026-01-01T00:00:00Z');
    const sc = SigningConfig.fromJSON(signingConfigJson({ oidc: 'http://o', fulcio: 'http://f', rekor: 'http://r' }, since));
    expect(sc.caUrls[0]).toMatchObject({ url: 'http://f', majorApiVersion: 1 });
    expect(sc.oidcUrls[0].url).toBe('http://o');
    expect(sc.rekorTlogUrls[0].url).toBe('http://r');
    expect(sc.caUrls[0].validFor?.start).toEqual(since);
  });
});
