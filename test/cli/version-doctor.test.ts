import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from './helpers.js';

const sb = new Sandbox();
afterAll(() => sb.cleanup());

// A token-looking secret: it must never be printed.
const SECRET = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzZWNyZXQtc3ViamVjdCJ9.c2lnbmF0dXJlLXNlY3JldA';

describe('gitseal version', () => {
  it('shows each configuration value with its source, and never a token', () => {
    const repo = sb.repo('version');
    sb.git(['config', 'gitseal.fulcio', 'http://127.0.0.1:1/fulcio'], repo);
    const env = { GITSEAL_REKOR_URL: 'http://127.0.0.1:2/rekor', SIGSTORE_ID_TOKEN: SECRET, GITSIGN_CONNECTOR_ID: 'https://github.com/login/oauth' };
    const r = sb.gitseal(['version', '--json'], { cwd: repo, env });
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { version: string; node: string; config: Array<{ key: string; value: unknown; source: string }>; env: Record<string, string> };
    expect(j.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(j.node).toBe(process.versions.node);
    const get = (k: string) => j.config.find((c) => c.key === k)!;
    expect(get('fulcioURL')).toMatchObject({ value: 'http://127.0.0.1:1/fulcio' });
    expect(get('fulcioURL').source).toMatch(/gitseal\.fulcio/);
    expect(get('rekorURL')).toMatchObject({ value: 'http://127.0.0.1:2/rekor' });
    expect(get('rekorURL').source).toMatch(/GITSEAL_REKOR_URL/);
    expect(get('issuer').source).toBe('default');
    expect(j.env.SIGSTORE_ID_TOKEN).toMatch(/^set \(\d+ characters, hidden\)$/);
    expect(j.env.GITSIGN_CONNECTOR_ID).toBe('https://github.com/login/oauth');

    const t = sb.gitseal(['version'], { cwd: repo, env });
    expect(t.status).toBe(0);
    expect(t.stdout).toMatch(/fulcioURL\s+http:\/\/127\.0\.0\.1:1\/fulcio\s+.*gitseal\.fulcio/);
    for (const out of [r.stdout, r.stderr, t.stdout, t.stderr]) {
      expect(out).not.toContain(SECRET);
      expect(out).not.toContain(SECRET.split('.')[1]);
    }
  });

  it('warns about misspelt gitseal.* keys', () => {
    const repo = sb.repo('version-typo');
    sb.git(['config', 'gitseal.fulcoi', 'x'], repo);
    const r = sb.gitseal(['version'], { cwd: repo });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/warning: unknown config key gitseal\.fulcoi.*gitseal\.fulcio/);
  });
});

describe('gitseal doctor', () => {
  let server: Server;
  let base: string;
  const seen: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  interface Doc {
    ok: boolean;
    checks: Array<{ id: string; status: string; summary: string; fix?: string }>;
  }
  const check = (d: Doc, id: string) => d.checks.find((c) => c.id === id)!;

  it('an unconfigured repository fails with the fix; after init it passes (offline)', () => {
    const repo = sb.repo('doctor');
    const r = sb.gitseal(['doctor', '--offline', '--json'], { cwd: repo });
    expect(r.status).toBe(1);
    const d = JSON.parse(r.stdout) as Doc;
    expect(d.ok).toBe(false);
    expect(check(d, 'git').status).toBe('ok');
    expect(check(d, 'git-format')).toMatchObject({ status: 'fail', fix: expect.stringContaining('gitseal init') });
    expect(check(d, 'network').status).toBe('skip');

    const t = sb.gitseal(['doctor', '--offline'], { cwd: repo });
    expect(t.status).toBe(1);
    expect(t.stdout).toMatch(/✗ git → gitseal\s+git signs with gpg\.format=openpgp/);
    expect(t.stdout).toMatch(/fix: gitseal init/);

    expect(sb.gitseal(['init'], { cwd: repo }).status).toBe(0);
    const ok = sb.gitseal(['doctor', '--offline', '--json'], { cwd: repo });
    expect(ok.status, ok.stdout).toBe(0);
    const d2 = JSON.parse(ok.stdout) as Doc;
    expect(check(d2, 'git-program').status).toBe('ok');
    expect(check(d2, 'auto-sign').status).toBe('ok');
    expect(check(d2, 'trust-root').summary).toContain('embedded public-good root');
    expect(check(d2, 'login').status).toBe('ok');
    expect(check(d2, 'agent').status).toBe('ok');
  });

  it('a gpg.x509.program that is another program is reported', () => {
    const repo = sb.repo('doctor-other');
    sb.git(['config', 'gpg.format', 'x509'], repo);
    sb.git(['config', 'gpg.x509.program', '/bin/true'], repo);
    const d = JSON.parse(sb.gitseal(['doctor', '--offline', '--json'], { cwd: repo }).stdout) as Doc;
    expect(check(d, 'git-program')).toMatchObject({ status: 'warn', summary: expect.stringContaining('not this gitseal') });
    sb.git(['config', 'gpg.x509.program', '/no/such/gitseal'], repo);
    const d2 = JSON.parse(sb.gitseal(['doctor', '--offline', '--json'], { cwd: repo }).stdout) as Doc;
    expect(check(d2, 'git-program')).toMatchObject({ status: 'fail', summary: expect.stringContaining('no longer exists') });
  });

  it('contacts Fulcio, Rekor and the issuer, and reports a dead one with a fix', async () => {
    const repo = sb.repo('doctor-net');
    sb.gitseal(['init'], { cwd: repo });
    sb.git(['config', 'gitseal.fulcio', `${base}/fulcio`], repo);
    sb.git(['config', 'gitseal.rekor', `${base}/rekor`], repo);
    sb.git(['config', 'gitseal.issuer', 'http://127.0.0.1:9/issuer'], repo); // port 9: nothing listens
    const r = await sb.gitsealAsync(['doctor', '--json', '--timeout', '2'], { cwd: repo });
    expect(r.status).toBe(1);
    const d = JSON.parse(r.stdout) as Doc;
    expect(check(d, 'net-fulcio').status).toBe('ok');
    expect(check(d, 'net-rekor').status).toBe('ok');
    expect(check(d, 'net-issuer')).toMatchObject({ status: 'fail', fix: expect.any(String) });
    expect(seen).toContain('/fulcio/api/v2/configuration');
    expect(seen).toContain('/rekor/api/v1/log');
    // the trusted root (public-good) does not list these services: said plainly
    expect(check(d, 'trust-root')).toMatchObject({ status: 'warn', summary: expect.stringContaining('will not verify') });
  });
});
