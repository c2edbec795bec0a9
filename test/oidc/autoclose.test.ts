/**
 * gitsign's autoclose / autocloseTimeout on the browser-login success page, through the real
 * binary (`gitseal login --browser`), the sandbox's OpenID provider and real Chromium.
 *   - on (gitsign's default), in a window a script opened: the page counts down from
 *     autocloseTimeout and closes itself;
 *   - on, in a tab the person opened (history longer than one page): the browser refuses the
 *     close, and the page says to close it instead of showing a countdown that never ends;
 *   - off: no countdown and no script at all.
 */
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../cli/helpers.js';
import { startSandbox, type RunningSandbox } from '../cli/sandbox.js';
import { capturingOpener, launchChromium } from './helpers.js';
import { needs } from '../helpers/tools.js';

needs('chromium').describe('browser login page: autoclose and autocloseTimeout', () => {
  const sb = new Sandbox('gitseal-autoclose-');
  let sigstore: RunningSandbox;
  let browser: BrowserContext;
  let repo: string;

  beforeAll(async () => {
    sigstore = await startSandbox(join(sb.dir, 'sigstore'));
    sb.env = { ...sb.env, ...sigstore.env, GITSEAL_AGENT: 'off', GITSEAL_KEYRING: 'off', XDG_CACHE_HOME: join(sb.home, '.cache') };
    browser = await launchChromium();
    repo = sb.repo('r');
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await sigstore?.stop();
    sb.cleanup();
  });

  /** Run `gitseal login --browser` and sign in on `page` as a person would; the login's result. */
  async function loginOn(open: (url: string) => Promise<Page>, email: string): Promise<{ page: Page; status: number; stderr: string }> {
    const opener = capturingOpener();
    const pending = sb.gitsealAsync(['login', '--browser'], { cwd: repo, env: { GITSEAL_URL_OPENER: opener.template } });
    const url = await opener.next(30_000);
    // A fresh sign-in each time: no session left over from the previous one.
    await browser.clearCookies();
    const page = await open(url);
    await page.fill('#email', email);
    await page.click('#submit');
    await page.waitForSelector('#result', { timeout: 30_000 });
    const r = await pending;
    return { page, status: r.status, stderr: r.stderr };
  }

  /** The page a script opened, as window.open does. */
  async function popup(url: string): Promise<Page> {
    const opener = await browser.newPage();
    const [p] = await Promise.all([opener.waitForEvent('popup'), opener.evaluate((u) => void (globalThis as unknown as { open(url: string, target: string): unknown }).open(u, '_blank'), url)]);
    await p.waitForSelector('#email');
    return p;
  }
  async function tab(url: string): Promise<Page> {
    const p = await browser.newPage();
    await p.goto(url);
    return p;
  }

  it('on, with gitsign.autocloseTimeout: counts down from it and closes the window', async () => {
    sb.git(['config', 'gitsign.autoclose', 'true'], repo);
    sb.git(['config', 'gitsign.autocloseTimeout', '3'], repo);
    const { page, status, stderr } = await loginOn(popup, 'ann@example.test');
    expect(status, stderr).toBe(0);
    const closed = page.waitForEvent('close', { timeout: 20_000 });
    expect(await page.textContent('#result')).toBe('Signed in');
    // It starts from the configured value (at most one tick may have passed).
    expect(Number(await page.textContent('#countdown').catch(() => '0'))).toBeGreaterThanOrEqual(2);
    expect(await page.textContent('#closing')).toMatch(/^This window closes in [23] seconds?\.$/);
    await closed;
    expect(page.isClosed()).toBe(true);
  });

  it('on, but the browser refuses to close a tab the person opened: the page says to close it', async () => {
    sb.git(['config', 'gitsign.autocloseTimeout', '1'], repo);
    const { page, status } = await loginOn(tab, 'bob@example.test');
    expect(status).toBe(0);
    expect(await page.textContent('#closing')).toMatch(/^This window closes in 1 second\.$|^You can close this window\.$/);
    await page.locator('#closing', { hasText: /^You can close this window\.$/ }).waitFor({ timeout: 20_000 });
    expect(page.isClosed()).toBe(false);
    await page.close();
  });

  it('off (GITSIGN_AUTOCLOSE=false wins over the git key): no countdown, no script', async () => {
    const opener = capturingOpener();
    const pending = sb.gitsealAsync(['login', '--browser'], { cwd: repo, env: { GITSEAL_URL_OPENER: opener.template, GITSIGN_AUTOCLOSE: 'false' } });
    const url = await opener.next(30_000);
    await browser.clearCookies();
    const page = await popup(url);
    await page.fill('#email', 'cat@example.test');
    await page.click('#submit');
    await page.waitForSelector('#result', { timeout: 30_000 });
    expect((await pending).status).toBe(0);
    expect(await page.textContent('#closing')).toBe('You can close this window.');
    expect(await page.$('#countdown')).toBeNull();
    expect(await page.$$('script')).toHaveLength(0);
    expect(page.isClosed()).toBe(false);
    await page.close();
  });
});
