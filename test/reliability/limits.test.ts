/**
 * Size limits, through the public entry points: every oversized input ends in
 * one clear `gitseal: …` line and a non-zero exit, never a crash, an unbounded
 * read or a hang. Signature file (git --verify), payload on stdin (git -bsau),
 * Fulcio and Rekor response bodies (declared and streamed without a length),
 * the OIDC issuer's discovery document, agent frames, git objects.
 */
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitsealError } from '../../src/errors.js';
import { uploadHashedRekord } from '../../src/rekor/client-v1.js';
import { getIdentityToken } from '../../src/oidc/get-token.js';
import type { GitsealConfig } from '../../src/config/types.js';
import { ensureBuilt, errorLines, gitseal, GITSEAL, isolatedEnv, removeSnapshot, run, tempDir } from './helpers.js';

let work: string;
let huge: Server;
let hugeUrl: string;
let served = 0;

/** A server answering every request with `mode`: a 3 MB JSON body with Content-Length, or an endless chunked stream. */
function mode(path: string): 'declared' | 'stream' {
  return path.startsWith('/stream') ? 'stream' : 'declared';
}

beforeAll(async () => {
  ensureBuilt();
  work = tempDir('gitseal-limits-');
  huge = createServer((req, res) => {
    req.resume();
    if (mode(req.url ?? '/') === 'declared') {
      const body = Buffer.from(JSON.stringify({ pad: 'x'.repeat(3 * 1024 * 1024) }));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) }).end(body);
      return;
    }
    // No Content-Length: the client must stop reading by itself.
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const pump = (): void => {
      while (!res.destroyed && served < 64 * 1024 * 1024) {
        served += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    res.write('{"pad":"');
    pump();
  });
  await new Promise<void>((r) => huge.listen(0, '127.0.0.1', () => r()));
  hugeUrl = `http://127.0.0.1:${(huge.address() as { port: number }).port}`;
}, 60_000);

afterAll(async () => {
  await new Promise<void>((r) => huge.close(() => r()));
  huge.closeAllConnections?.();
  removeSnapshot();
});

/** An unsigned JWT with the claims gitseal reads locally (Fulcio would check the signature; we never get that far). */
function fakeToken(): string {
  const b = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b({ alg: 'RS256' })}.${b({ iss: 'http://127.0.0.1:9', aud: 'sigstore', sub: 'a', email: 'a@example.com', email_verified: true, exp: Math.floor(Date.now() / 1000) + 600, iat: Math.floor(Date.now() / 1000) })}.c2ln`;
}

describe('git --verify and -bsau inputs', () => {
  it('a 10 MB signature file: ERRSIG, one line, exit 1', () => {
    const sig = join(work, 'big.sig');
    writeFileSync(sig, Buffer.alloc(10 * 1024 * 1024, 'A'));
    const r = gitseal(['--status-fd=1', '--verify', sig, '-'], isolatedEnv(join(work, 'h1')), 'tree x\n\nmsg\n');
    expect(r.status).toBe(1);
    expect(r.stdout.toString()).toMatch(/^\[GNUPG:\] ERRSIG /m);
    expect(r.stdout.toString()).not.toMatch(/GOODSIG|VALIDSIG/);
    const lines = errorLines(r.stderr.toString());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/larger than|too large/);
  });

  it('a 10 MB signature given as PEM armour: same', () => {
    const sig = join(work, 'big.pem');
    writeFileSync(sig, `-----BEGIN SIGNED MESSAGE-----\n${Buffer.alloc(7 * 1024 * 1024, 1).toString('base64')}\n-----END SIGNED MESSAGE-----\n`);
    const r = gitseal(['--status-fd=1', '--verify', sig, '-'], isolatedEnv(join(work, 'h1b')), 'tree x\n\nmsg\n');
    expect(r.status).toBe(1);
    expect(r.stdout.toString()).toMatch(/^\[GNUPG:\] ERRSIG /m);
    expect(errorLines(r.stderr.toString())).toHaveLength(1);
  });

  it('a payload over 64 MiB to sign: one line, exit 1, nothing on stdout', () => {
    const env = isolatedEnv(join(work, 'h2'), { SIGSTORE_ID_TOKEN: fakeToken(), GITSEAL_FULCIO_URL: 'http://127.0.0.1:9', GITSEAL_REKOR_URL: 'http://127.0.0.1:9' });
    const r = gitseal(['--status-fd=2', '-bsau', 'x'], env, Buffer.alloc(64 * 1024 * 1024 + 1, 'a'));
    expect(r.status).toBe(1);
    expect(r.stdout.length).toBe(0);
    const lines = errorLines(r.stderr.toString());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/larger than/);
  });
});

describe('service response bodies', () => {
  for (const m of ['declared', 'stream'] as const) {
    it(`Fulcio answering with an oversized body (${m === 'declared' ? 'Content-Length 3 MB' : 'endless stream'}): one line naming Fulcio`, { timeout: 60_000 }, async () => {
      const env = isolatedEnv(join(work, `h3-${m}`), {
        SIGSTORE_ID_TOKEN: fakeToken(),
        GITSEAL_FULCIO_URL: m === 'stream' ? `${hugeUrl}/stream` : hugeUrl,
        GITSEAL_REKOR_URL: 'http://127.0.0.1:9',
        GITSEAL_TRUSTED_ROOT: join(__dirname, '../fixtures/gitsign-corpus/trusted_root.json'),
      });
      // Asynchronous: the oversized server lives in this process.
      const r = await run(process.execPath, [GITSEAL, '--status-fd=2', '-bsau', 'x'], env, undefined, 'tree x\n\nmsg\n');
      expect(r.status).toBe(1);
      expect(r.stdout.length).toBe(0);
      const lines = errorLines(r.stderr);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^gitseal: Fulcio: .*too large/);
    });
  }

  it('Rekor answering with an endless stream: the client stops at its limit', { timeout: 60_000 }, async () => {
    const before = served;
    let err: unknown;
    try {
      await uploadHashedRekord({ rekorURL: `${hugeUrl}/stream`, digest: Buffer.alloc(32), signature: Buffer.from([0x30, 0]), leaf: Buffer.from([0x30, 0]), http: { retries: 0 } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GitsealError);
    expect((err as GitsealError).message).toMatch(/^Rekor: .*too large/);
    // It stopped reading: far less than the 64 MB the server would send.
    expect(served - before).toBeLessThan(16 * 1024 * 1024);
  });

  it('OIDC discovery document of 3 MB (not a valid document): one clear error naming the issuer', { timeout: 60_000 }, async () => {
    const cfg: GitsealConfig = {
      fulcioURL: 'http://127.0.0.1:9',
      rekorURL: 'http://127.0.0.1:9',
      rekorVersion: 1,
      issuer: hugeUrl,
      clientID: 'sigstore',
      tokenProvider: 'auto',
      urlOpener: `${process.execPath} -e 0 {{.URL}}`,
      offline: true,
      matchCommitter: false,
      agent: 'off',
      sources: {},
    };
    let err: unknown;
    try {
      await getIdentityToken(cfg, { env: isolatedEnv(join(work, 'h4')), say: () => {}, terminal: true, loginTimeoutMs: 5_000 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GitsealError);
    expect((err as GitsealError).message).not.toMatch(/\n/);
    expect((err as GitsealError).message).toContain(new URL(hugeUrl).host);
  });

  // src/oidc/client.ts hands openid-client a size-limited fetch (discovery, JWKS, token answers).
  it('OIDC: the discovery document is size-limited like Fulcio/Rekor answers', { timeout: 60_000 }, async () => {
    const before = served;
    const cfg = { issuer: `${hugeUrl}/stream`, clientID: 'sigstore' };
    const { connect: oidcConnect } = await import('../../src/oidc/client.js');
    const done = oidcConnect(cfg).then(
      () => 'ok',
      (e: unknown) => (e instanceof Error ? e.message : String(e)),
    );
    const msg = await Promise.race([done, new Promise<string>((r) => setTimeout(() => r('still reading'), 20_000))]);
    expect(msg).toMatch(/too large/);
    expect(served - before).toBeLessThan(16 * 1024 * 1024);
  });
});

describe('agent frames', () => {
  it('an oversized frame is refused and the agent keeps serving', { timeout: 60_000 }, async () => {
    const env = isolatedEnv(join(work, 'h5'), { GITSEAL_AGENT: 'on' });
    const start = gitseal(['agent', 'start'], env);
    expect(start.status, start.stderr.toString()).toBe(0);
    try {
      const st = JSON.parse(gitseal(['agent', 'status', '--json'], env).stdout.toString()) as { socket: string; running: boolean };
      expect(st.running).toBe(true);
      // Declare a 2 GiB frame: the agent must answer or close without buffering it.
      const answer = await new Promise<string>((res) => {
        const s = connect(st.socket);
        let got = '';
        s.on('data', (d) => (got += d.toString('latin1')));
        s.on('close', () => res(got));
        s.on('error', () => res(got));
        s.write(Buffer.from([0x7f, 0xff, 0xff, 0xff]));
        s.write(Buffer.alloc(1024, 0x20));
        setTimeout(() => s.destroy(), 5_000);
      });
      expect(answer).not.toMatch(/"result"/);
      const again = JSON.parse(gitseal(['agent', 'status', '--json'], env).stdout.toString()) as { running: boolean };
      expect(again.running).toBe(true);
    } finally {
      gitseal(['agent', 'stop'], env);
    }
  });
});

describe('git objects', () => {
  it('a commit over the object size limit is refused by gitseal verify with one line', { timeout: 120_000 }, () => {
    const repo = join(work, 'repo');
    execFileSync('git', ['init', '-q', repo]);
    const tree = execFileSync('git', ['-C', repo, 'mktree'], { input: '' }).toString().trim();
    const body = `tree ${tree}\nauthor A <a@b> 0 +0000\ncommitter A <a@b> 0 +0000\n\n${'m'.repeat(33 * 1024 * 1024)}\n`;
    const oid = execFileSync('git', ['-C', repo, 'hash-object', '-t', 'commit', '-w', '--stdin'], { input: body, maxBuffer: 1 << 30 }).toString().trim();
    const r = gitseal(['verify', oid], isolatedEnv(join(work, 'h6')), undefined, repo);
    expect(r.status).not.toBe(0);
    const out = r.stdout.toString() + r.stderr.toString();
    expect(out).toMatch(/larger than|too large/);
    expect(out).not.toMatch(/TypeError|RangeError|\n\s+at /);
  });
});
