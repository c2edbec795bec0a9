import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The login engineer's Chromium helpers (a URL-capturing opener, the sandbox sign-in page).
import { capturingOpener, launchChromium, signIn } from '../oidc/helpers.js';
import { Sandbox } from './helpers.js';
import { startSandbox, type RunningSandbox } from './sandbox.js';
import { needs } from '../helpers/tools.js';

const sb = new Sandbox('gitseal-session-');
let sigstore: RunningSandbox;
beforeAll(async () => {
  sigstore = await startSandbox(join(sb.dir, 'sigstore'));
  sb.env = { ...sb.env, ...sigstore.env };
}, 120_000);
afterAll(async () => {
  await sb.gitsealAsync(['agent', 'stop']);
  await sigstore?.stop();
  sb.cleanup();
});

needs('chromium').describe('gitseal login / whoami / logout', () => {
  let browser: BrowserContext;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => browser?.close());

  it('logs in through the browser, whoami shows the identity (never the token), logout forgets it', async () => {
    const before = await sb.gitsealAsync(['whoami', '--json']);
    expect(before.status).toBe(1);
    expect(JSON.parse(before.stdout)).toMatchObject({ loggedIn: false, issuer: sigstore.issuer });

    const opener = capturingOpener();
    const pending = sb.gitsealAsync(['login', '--browser'], { env: { GITSEAL_URL_OPENER: opener.template } });
    const url = await opener.next(30_000);
    const page = await browser.newPage();
    expect(await signIn(page, url, 'carol@example.test')).toBe('Signed in');
    await page.close();
    const r = await pending;
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/logged in as carol@example\.test/);

    const w = await sb.gitsealAsync(['whoami', '--json']);
    expect(w.status, w.stderr).toBe(0);
    const j = JSON.parse(w.stdout);
    expect(j).toMatchObject({ loggedIn: true, identity: 'carol@example.test', issuer: sigstore.issuer });
    expect(j.secondsLeft).toBeGreaterThan(0);
    const t = await sb.gitsealAsync(['whoami']);
    expect(t.stdout).toContain('carol@example.test');
    const d = await sb.gitsealAsync(['doctor', '--offline', '--json']);
    expect(JSON.parse(d.stdout).checks.find((c: { id: string }) => c.id === 'login').summary).toContain('carol@example.test');
    for (const out of [r.stdout, r.stderr, w.stdout, t.stdout, d.stdout]) expect(out).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);

    const lo = await sb.gitsealAsync(['logout']);
    expect(lo.status).toBe(0);
    expect(lo.stdout).toMatch(/logged out/);
    expect((await sb.gitsealAsync(['whoami'])).status).toBe(1);
  });
});

describe('gitseal agent start / status / stop', () => {
  it('starts, reports the identities it holds after a signature, and stops', async () => {
    expect(JSON.parse((await sb.gitsealAsync(['agent', 'status', '--json'])).stdout)).toMatchObject({ running: false, identities: [] });
    const s = await sb.gitsealAsync(['agent', 'start']);
    expect(s.status, s.stderr).toBe(0);
    expect(s.stdout).toMatch(/started signing agent on .*agent\.sock/);
    expect((await sb.gitsealAsync(['agent', 'start'])).stdout).toMatch(/already running/);

    // one signature through the agent
    const repo = sb.repo('agent-repo');
    expect(sb.gitseal(['init'], { cwd: repo }).status).toBe(0);
    const c = await new Promise<number>((resolve) => {
      import('node:child_process').then(({ spawn }) => {
        const cp = spawn('git', ['-c', 'user.email=dave@example.test', 'commit', '-q', '--allow-empty', '-m', 'via agent'], {
          cwd: repo,
          env: { ...sb.env, SIGSTORE_ID_TOKEN: sigstore.token('dave@example.test'), GITSEAL_AGENT: 'on' },
          stdio: 'ignore',
        });
        cp.on('close', (code) => resolve(code ?? -1));
      });
    });
    expect(c).toBe(0);

    const st = await sb.gitsealAsync(['agent', 'status', '--json']);
    expect(st.status).toBe(0);
    const j = JSON.parse(st.stdout);
    expect(j.running).toBe(true);
    expect(j.pid).toBeGreaterThan(0);
    expect(j.identities).toEqual([expect.objectContaining({ identity: 'dave@example.test', issuer: sigstore.issuer, signatures: 1 })]);
    expect(j.identities[0].secondsLeft).toBeGreaterThan(0);
    expect(st.stdout).not.toMatch(/PRIVATE KEY|"d":/);
    const text = await sb.gitsealAsync(['agent', 'status']);
    expect(text.stdout).toMatch(/running[\s\S]*dave@example\.test/);

    const stop = await sb.gitsealAsync(['agent', 'stop']);
    expect(stop.stdout).toMatch(/stopped/);
    expect(JSON.parse((await sb.gitsealAsync(['agent', 'status', '--json'])).stdout).running).toBe(false);
    expect((await sb.gitsealAsync(['agent', 'stop'])).stdout).toMatch(/no signing agent was running/);
  });
});
