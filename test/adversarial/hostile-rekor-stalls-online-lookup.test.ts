/**
 * Issue 14 item 5: a hostile or broken Rekor must not stall or flood the online lookup of a
 * gitsign online-mode signature. Before: no response size limit (an endless body reached
 * 1.1 GB in 5 s, then "internal error … aborted due to timeout"), and each of up to 21
 * sequential requests had its own 5 s timeout (96 s against a slow server). Now: one time
 * budget for the whole lookup (gitseal.rekorSearchTimeout), a size limit on every response,
 * and every failure one ERRSIG with one clear line.
 *
 * The servers are real HTTP servers on 127.0.0.1 started by this test; git and gitseal run as
 * child processes (asynchronously, so this process keeps serving). Work is bounded by counting
 * requests and bytes the server had to hand out, never by timing.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRekorSearch, MAX_ENTRIES, MAX_INDEX_BYTES } from '../../src/rekor/search.js';
import { verifySignature } from '../../src/verify/pipeline.js';
import { commitPayload, makeLeaf, makeWorld, signedCommit, signPayload, type World } from '../verify/helpers/forge.js';
import { BIN } from '../cli/helpers.js';
import { letterOf, useAllPaths } from './helpers/paths.js';

type Mode = 'endless' | 'drip' | 'slow-pages' | 'huge-entry' | 'many-entries' | 'redirect' | 'not-json';

interface Hostile {
  url: string;
  mode: Mode;
  requests: number;
  bytes: number;
  server: Server;
}

const uuid = (i: number) => 'ab'.repeat(8) + i.toString(16).padStart(64, '0');
/** A well-formed entry (it will not verify: it is for nobody's signature) and the UUID its body hashes to. */
const entry = (i: number) => {
  const body = Buffer.from(JSON.stringify({ page: i }));
  const id = 'ab'.repeat(8) + createHash('sha256').update(Buffer.from([0])).update(body).digest('hex');
  return { id, json: JSON.stringify({ [id]: { body: body.toString('base64'), logID: '00', integratedTime: 1, logIndex: i } }) };
};

/** Write `chunk` forever (with backpressure) until the client goes away. */
function forever(res: ServerResponse, h: Hostile, chunk: Buffer, everyMs = 0): void {
  let open = true;
  res.on('close', () => (open = false));
  const next = () => {
    if (!open) return;
    h.bytes += chunk.length;
    const ok = res.write(chunk);
    if (everyMs) setTimeout(next, everyMs);
    else if (ok) setImmediate(next);
    else res.once('drain', next);
  };
  next();
}

async function hostile(mode: Mode): Promise<Hostile> {
  const h = { mode, requests: 0, bytes: 0 } as Hostile;
  h.server = createServer((req, res) => {
    h.requests++;
    req.resume();
    const index = req.url === '/api/v1/index/retrieve';
    switch (h.mode) {
      case 'endless':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('["');
        return forever(res, h, Buffer.alloc(64 * 1024, 'a'));
      case 'drip':
        res.writeHead(200, { 'content-type': 'application/json' });
        return forever(res, h, Buffer.from(' '), 20);
      case 'slow-pages': {
        if (index) return res.end(JSON.stringify(Array.from({ length: 20 }, (_, i) => entry(i).id)));
        const i = Array.from({ length: 20 }, (_, k) => k).find((k) => req.url?.endsWith(entry(k).id)) ?? 0;
        return void setTimeout(() => res.end(entry(i).json), 300);
      }
      case 'huge-entry': {
        if (index) return res.end(JSON.stringify([uuid(1)]));
        const body = Buffer.alloc(10 * 1024 * 1024, ' ');
        h.bytes += body.length;
        return res.end(body);
      }
      case 'many-entries':
        if (index) return res.end(JSON.stringify([uuid(1)]));
        return res.end(JSON.stringify(Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [uuid(i), { body: 'e30=', logID: '00', integratedTime: 1, logIndex: i }]))));
      case 'redirect':
        res.writeHead(302, { location: 'http://127.0.0.1:9/' });
        return res.end();
      case 'not-json':
        return res.end('<html>hello</html>');
    }
  });
  await new Promise<void>((r) => h.server.listen(0, '127.0.0.1', r));
  h.url = `http://127.0.0.1:${(h.server.address() as AddressInfo).port}`;
  return h;
}

let w: World;
const servers: Hostile[] = [];
beforeAll(() => {
  w = makeWorld();
});
afterAll(async () => {
  for (const s of servers) {
    s.server.closeAllConnections();
    await new Promise((r) => s.server.close(r));
  }
});

async function server(mode: Mode): Promise<Hostile> {
  const h = await hostile(mode);
  servers.push(h);
  return h;
}

const payload = commitPayload(['author A <a@example.com> 1748779200 +0000', 'committer A <a@example.com> 1748779200 +0000']);
/** An online-mode signature (no embedded log entry): only a Rekor lookup could verify it. */
const online = () => signPayload(w, makeLeaf(w), payload, { noTlog: true }).pem;

describe('the lookup itself (createRekorSearch through verifySignature)', () => {
  test.each<[Mode, RegExp]>([
    ['endless', /larger than 256 KiB/],
    ['drip', /within the lookup's 1 s/],
    ['huge-entry', /larger than 256 KiB/],
    ['many-entries', /1000 entries for one UUID/],
    ['redirect', /cannot reach Rekor .*unexpected redirect/],
    ['not-json', /not JSON/],
  ])('%s: one clear error, no crash', async (mode, why) => {
    const h = await server(mode);
    const r = await verifySignature({ signature: online(), payload, trust: w.trust, offline: false, rekorSearch: createRekorSearch(h.url, { timeoutMs: 1000 }) });
    expect(r).toMatchObject({ ok: false, kind: 'error', failedCheck: 'tlog' });
    expect(r.code).not.toBe('INTERNAL');
    expect(r.message).toMatch(why);
    expect(r.message).toMatch(/^the Rekor proof is not embedded in this signature \(gitsign online mode\) and searching Rekor failed: /);
    expect(r.message).not.toMatch(/\n/);
  });

  test('an endless body: the server hands out a bounded number of bytes (it was 1.1 GB in 5 s)', async () => {
    const h = await server('endless');
    await createRekorSearch(h.url, { timeoutMs: 2000 }).entriesForCertificate('x').catch(() => undefined);
    // what the client read plus what the kernel buffers held when it hung up
    expect(h.bytes).toBeLessThan(MAX_INDEX_BYTES + 8 * 1024 * 1024);
  });

  test('slow pages: one budget for all requests, not one timeout each', async () => {
    const h = await server('slow-pages');
    const e = await createRekorSearch(h.url, { timeoutMs: 1000 })
      .entriesForCertificate('x')
      .then(() => undefined, (x: Error) => x);
    expect(e?.message).toMatch(/within the lookup's 1 s/);
    // 300 ms an entry, 1 s in all: a handful of requests, never the index plus MAX_ENTRIES.
    expect(h.requests).toBeLessThanOrEqual(6);
    expect(h.requests).toBeLessThan(1 + MAX_ENTRIES);
  });
});

/** A child process, asynchronously (this process must keep serving HTTP meanwhile). */
function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const cp = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    cp.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    cp.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    cp.on('close', (code) => resolve({ status: code ?? -1, stdout, stderr }));
  });
}

describe("git's path and gitseal verify against a hostile Rekor", () => {
  const sandbox = useAllPaths(() => w.trustJson);
  beforeAll(() => {
    sandbox.paths.set('gitseal.offline', 'false');
    sandbox.paths.set('gitseal.rekorSearchTimeout', '1');
  });

  test.each<Mode>(['endless', 'drip', 'slow-pages'])('%s: ERRSIG and one line on git verify-commit; gitseal verify says the same', async (mode) => {
    const h = await server(mode);
    sandbox.paths.set('gitseal.rekor', h.url);
    const oid = sandbox.paths.store(signedCommit(payload, online()));
    const raw = await run('git', ['verify-commit', '--raw', oid], sandbox.paths.repo, sandbox.paths.sb.env);
    expect(letterOf(raw.stderr), raw.stderr).toBe('E');
    const human = await run('git', ['verify-commit', oid], sandbox.paths.repo, sandbox.paths.sb.env);
    expect(human.status).toBe(1);
    // One line saying why; beside it only the "unverified context" line an online-mode
    // signature gets (who the certificate names, labelled NOT VERIFIED; never on the status fd).
    const lines = human.stderr.trim().split('\n').filter((l) => !l.startsWith('gitseal: unverified context: '));
    expect(lines, human.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^gitseal: signature not verified \(tlog check failed\): the Rekor proof is not embedded .* searching Rekor failed: Rekor: /);
    expect(lines[0]).not.toMatch(/internal error/);
    const cli = await run(process.execPath, [BIN, 'verify', '--json', '--no-cache', oid], sandbox.paths.repo, sandbox.paths.sb.env);
    const r = JSON.parse(cli.stdout).results[0];
    expect(r).toMatchObject({ ok: false, kind: 'error', failedCheck: 'tlog' });
    expect(r.message).toMatch(/searching Rekor failed: Rekor: /);
  });

  test('a malformed gitseal.rekorSearchTimeout is a config error, not a hang', () => {
    const r = sandbox.paths.sb.gitseal(['verify', 'HEAD'], { cwd: sandbox.paths.repo, env: { GITSEAL_REKOR_SEARCH_TIMEOUT: 'forever' } });
    expect(r.status).not.toBe(0);
    expect(r.stderr + r.stdout).toMatch(/GITSEAL_REKOR_SEARCH_TIMEOUT must be a number of seconds/);
  });
});
