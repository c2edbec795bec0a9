// The sandbox's shared server-side pieces: the route wrapper every Rekor-shaped service
// uses (over real HTTP on 127.0.0.1) and the private-file helpers behind all key files.
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request, type Server } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HttpError, readBody, requestPath, requireMethod, sendJson, serveRoute } from '../../packages/sandbox/src/shared/http.js';
import { loadOrCreateFiles, writeFileAtomic } from '../../packages/sandbox/src/shared/private-files.js';
import { close, listen, tempDirsRemovedAfterAll } from './fulcio-helpers.js';

const newDir = tempDirsRemovedAfterAll('gitseal-shared-');

async function withServer(fn: (url: string) => Promise<void>): Promise<void> {
  const handler = serveRoute(async (req, res) => {
    const path = requestPath(req);
    if (path === '/echo') {
      requireMethod(req, path, 'POST');
      return sendJson(res, 200, { got: (await readBody(req, 16)).toString('utf8') });
    }
    if (path === '/boom') throw new Error('first line\nsecond line');
    if (path === '/late') {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
      throw new Error('failed after the headers');
    }
    throw new HttpError(404, `nothing at ${path}`, { 'x-why': 'test' });
  });
  let server: Server | undefined;
  try {
    const s = await listen(handler);
    server = s.server;
    await fn(s.url);
  } finally {
    await close(server);
  }
}

describe('serveRoute', () => {
  it('answers HttpErrors with their status, headers and Rekor-shaped body; other errors with a one-line 500', async () => {
    await withServer(async (url) => {
      const ok = await fetch(`${url}/echo/`, { method: 'POST', body: 'hello' });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ got: 'hello' });

      const wrongMethod = await fetch(`${url}/echo`);
      expect(wrongMethod.status).toBe(405);
      expect(wrongMethod.headers.get('allow')).toBe('POST');
      expect(await wrongMethod.json()).toEqual({ code: 405, message: 'GET is not allowed on /echo' });

      const tooLarge = await fetch(`${url}/echo`, { method: 'POST', body: 'x'.repeat(17) });
      expect(tooLarge.status).toBe(413);
      expect(await tooLarge.json()).toEqual({ code: 413, message: 'request body is larger than 16 bytes' });

      const missing = await fetch(`${url}/nowhere?q=1`);
      expect(missing.status).toBe(404);
      expect(missing.headers.get('x-why')).toBe('test');
      expect(await missing.json()).toEqual({ code: 404, message: 'nothing at /nowhere' });

      const boom = await fetch(`${url}/boom`);
      expect(boom.status).toBe(500);
      expect(await boom.json()).toEqual({ code: 500, message: 'internal error: first line' });
    });
  });

  it('cuts the connection when the failure comes after the headers were sent', async () => {
    await withServer(async (url) => {
      const outcome = await new Promise<string>((resolve) => {
        const req = request(`${url}/late`, (res) => {
          res.on('data', () => {});
          res.on('end', () => resolve('complete'));
          res.on('error', () => resolve('cut'));
          res.on('aborted', () => resolve('cut'));
        });
        req.on('error', () => resolve('cut'));
        req.end();
      });
      expect(outcome).toBe('cut');
    });
  });
});

describe('private files', () => {
  it('writes 0600 files in a 0700 directory, leaving no temporary file behind', () => {
    const dir = join(newDir(), 'a', 'b');
    writeFileAtomic(join(dir, 'key.pem'), 'secret');
    writeFileAtomic(join(dir, 'key.pem'), 'replaced');
    expect(readFileSync(join(dir, 'key.pem'), 'utf8')).toBe('replaced');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'key.pem')).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['key.pem']);
  });

  it('creates a file set once, reads it back afterwards, and creates it again when one file is missing', () => {
    const dir = newDir();
    const names = { a: 'a.pem', b: 'b.pem' };
    let made = 0;
    const create = () => {
      made++;
      const out = { a: Buffer.from(`a${made}`), b: Buffer.from(`b${made}`) };
      writeFileSync(join(dir, names.a), out.a, { mode: 0o600 });
      writeFileSync(join(dir, names.b), out.b, { mode: 0o600 });
      return out;
    };
    expect(loadOrCreateFiles(dir, 'set', names, create)).toEqual({ a: Buffer.from('a1'), b: Buffer.from('b1') });
    expect(loadOrCreateFiles(dir, 'set', names, create)).toEqual({ a: Buffer.from('a1'), b: Buffer.from('b1') });
    expect(made).toBe(1);
    rmSync(join(dir, 'b.pem'));
    expect(loadOrCreateFiles(dir, 'set', names, create)).toEqual({ a: Buffer.from('a2'), b: Buffer.from('b2') });
    expect(made).toBe(2);
    // The lock (a directory) is released each time.
    expect(readdirSync(dir).sort()).toEqual(['a.pem', 'b.pem']);
  });
});
