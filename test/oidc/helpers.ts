/** Shared set-up for the login tests: config, isolated environment, a URL-capturing opener, Chromium. */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { afterAll } from 'vitest';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import type { BrowserContext, Page } from 'playwright-core';
import type { GitsealConfig } from '../../src/config/types.js';
import { startOidcProvider, type RunningOidcProvider } from '../../packages/sandbox/src/oidc/index.js';

// Every temporary directory a test file made through these helpers goes when that file is done.
const made: string[] = [];
function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}
afterAll(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

export const CHROMIUM = '/usr/bin/chromium';

export function config(issuer: string, over: Partial<GitsealConfig> = {}): GitsealConfig {
  return {
    fulcioURL: 'http://127.0.0.1:1',
    rekorURL: 'http://127.0.0.1:1',
    rekorVersion: 1,
    issuer,
    clientID: 'sigstore',
    tokenProvider: 'auto',
    offline: true,
    matchCommitter: false,
    agent: 'off',
    sources: {},
    ...over,
  };
}

/** An environment with nothing ambient, a private HOME/cache/runtime dir, and no OS keyring. */
export function isolatedEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const home = tempDir('gitseal-home-');
  const runtime = tempDir('gitseal-run-');
  chmodSync(runtime, 0o700);
  return {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_RUNTIME_DIR: runtime,
    GITSEAL_KEYRING: 'off',
    GITSEAL_TOKEN_FILE: join(home, 'no-token-file'),
    ...extra,
  };
}

/**
 * A urlOpener (a real program, spawned by gitseal without a shell) that hands
 * the login URL to the test by appending it to a file.
 */
export function capturingOpener(): { template: string; next(timeoutMs?: number): Promise<string> } {
  const dir = tempDir('gitseal-opener-');
  const script = join(dir, 'opener.mjs');
  const out = join(dir, 'urls.txt');
  writeFileSync(script, `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(out)}, process.argv[2] + '\\n');\n`);
  let seen = 0;
  return {
    template: `${process.execPath} ${script} {{.URL}}`,
    async next(timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const lines = existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean) : [];
        if (lines.length > seen) return lines[seen++];
        if (Date.now() > until) throw new Error('the opener was never called');
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

export async function launchChromium(): Promise<BrowserContext> {
  const { chromium } = await import('playwright-core');
  const userDataDir = tempDir('gitseal-chromium-');
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * What a person does on the sandbox sign-in page: type the e-mail, press the
 * one button; then wait for gitseal's answer page (or report where it stopped).
 */
export async function signIn(page: Page, url: string, email: string): Promise<string> {
  // A fresh sign-in each time: no session left over from an earlier test.
  await page.context().clearCookies();
  await page.goto(url);
  await page.fill('#email', email);
  await page.click('#submit');
  try {
    await page.waitForSelector('#result', { timeout: 30_000 });
  } catch {
    const body = await page.textContent('body').catch(() => '(no page)');
    throw new Error(`sign-in stopped at ${page.url()}: ${body}`);
  }
  return (await page.textContent('#result')) ?? '';
}

/**
 * What a person does with a device code (RFC 8628 §3.3) on another device: open the
 * verification URL, type the code, confirm, sign in; returns the page (still open).
 */
export async function approveDevice(browser: BrowserContext, uri: string, code: string, email: string): Promise<Page> {
  const page = await browser.newPage();
  await page.context().clearCookies();
  await page.goto(uri);
  await page.fill('input[name="user_code"]', code);
  await page.click('#submit');
  await page.waitForSelector('text=Confirm device');
  await page.click('#submit');
  await page.fill('#email', email);
  await page.click('#submit');
  await page.waitForSelector('#done');
  return page;
}

/** Every place a token could leak to, as one string to grep. */
export function leakCheck(haystack: string, token: string): void {
  const [, payload, signature] = token.split('.');
  for (const needle of [token, payload, signature]) {
    if (needle && haystack.includes(needle)) throw new Error('the token (or part of it) leaked');
  }
}

export const ROOT = resolve(__dirname, '../..');

/**
 * Bundle `source` (TypeScript; `@src/` stands for the project's src/) the way
 * scripts/build.mjs does — npm packages external, resolved from the project's
 * node_modules — and return the path of the .mjs to run with node.
 */
export async function bundleScript(source: string): Promise<string> {
  const work = tempDir('gitseal-bundle-');
  symlinkSync(join(ROOT, 'node_modules'), join(work, 'node_modules'));
  writeFileSync(join(work, 'entry.ts'), source.split('@src/').join(`${join(ROOT, 'src')}/`));
  await build({
    entryPoints: [join(work, 'entry.ts')],
    outfile: join(work, 'entry.mjs'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'silent',
  });
  return join(work, 'entry.mjs');
}

/** A sandbox OpenID provider (state in a fresh temporary directory) and a Chromium, for one describe block. */
export interface ProviderAndBrowser {
  dir: string;
  op: RunningOidcProvider;
  browser: BrowserContext;
  close(): Promise<void>;
}

export async function startProviderAndBrowser(opts: { idTokenTTL?: number } = {}): Promise<ProviderAndBrowser> {
  const dir = mkdtempSync(join(tmpdir(), 'gitseal-op-'));
  const op = await startOidcProvider({ dir, ...opts });
  const browser = await launchChromium();
  return {
    dir,
    op,
    browser,
    async close() {
      await browser.close();
      await op.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
