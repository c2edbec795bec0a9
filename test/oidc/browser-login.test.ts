import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import type { RunningOidcProvider } from '../../packages/sandbox/src/oidc/index.js';
import { getIdentityToken } from '../../src/oidc/get-token.js';
import { login, logout, whoami } from '../../src/oidc/session.js';
import { GitsealError } from '../../src/errors.js';
import { capturingOpener, config, isolatedEnv, leakCheck, signIn, startProviderAndBrowser } from './helpers.js';
import { needs } from '../helpers/tools.js';

needs('chromium').describe('browser login in real Chromium', () => {
  let dir: string;
  let op: RunningOidcProvider;
  let browser: BrowserContext;
  let close: (() => Promise<void>) | undefined;
  beforeAll(async () => void ({ dir, op, browser, close } = await startProviderAndBrowser({ idTokenTTL: 300 })));
  afterAll(() => close?.());

  it('logs in through the browser, validates and caches the token, then reuses it without a login', async () => {
    const env = isolatedEnv();
    const opener = capturingOpener();
    const cfg = config(op.issuer, { urlOpener: opener.template });
    const said: string[] = [];
    const ctx = { env, say: (l: string) => said.push(l), terminal: true };
    const before = op.stats();

    const pending = getIdentityToken(cfg, ctx);
    const url = await opener.next();
    expect(url.startsWith(`${op.issuer}/auth?`)).toBe(true);
    const q = new URL(url).searchParams;
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('state')).toBeTruthy();
    expect(q.get('nonce')).toBeTruthy();
    expect(q.get('scope')).toBe('openid email');
    expect(q.get('redirect_uri')).toMatch(/^http:\/\/localhost:\d+\/auth\/callback$/);
    // The URL is also on the terminal, for when no browser opens.
    expect(said.join('\n')).toContain(url);

    const page = await browser.newPage();
    expect(await signIn(page, url, 'alice@example.test')).toBe('Signed in');
    const token = await pending;
    await page.close();

    expect(token.issuer).toBe(op.issuer);
    expect(token.email).toBe('alice@example.test');
    expect(token.expiresAt.getTime()).toBeGreaterThan(Date.now() + 200_000);
    const after = op.stats();
    expect(after.logins).toBe(before.logins + 1);
    expect(after.tokensIssued).toBe(before.tokensIssued + 1);

    // Second signature within the token's life: from the cache, no login, no token request.
    const again = await getIdentityToken(cfg, ctx);
    expect(again.raw).toBe(token.raw);
    expect(op.stats()).toEqual(after);

    // The cache: an encrypted 0600 file in a 0700 dir, key kept apart, no token in clear.
    const cacheDir = join(env.XDG_CACHE_HOME!, 'gitseal');
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    const files = readdirSync(cacheDir);
    expect(files.filter((f) => f.endsWith('.enc'))).toHaveLength(1);
    expect(files.filter((f) => f.endsWith('.tmp'))).toHaveLength(0);
    const file = join(cacheDir, files.find((f) => f.endsWith('.enc'))!);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const keyFile = join(env.XDG_RUNTIME_DIR!, 'gitseal', 'cache.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(env.XDG_RUNTIME_DIR!, 'gitseal')).mode & 0o777).toBe(0o700);
    const onDisk = readFileSync(file, 'utf8');
    leakCheck(onDisk, token.raw);
    expect(onDisk).not.toContain('alice@example.test');

    // whoami tells who, where and how long, never the token.
    const me = await whoami(cfg, { env });
    expect(me).toMatchObject({ identity: 'alice@example.test', issuer: op.issuer, clientID: 'sigstore', storedIn: 'file' });
    expect(me!.secondsLeft).toBeGreaterThan(200);
    expect(me!.secondsLeft).toBeLessThanOrEqual(300);
    leakCheck(JSON.stringify(me), token.raw);
    leakCheck(said.join('\n'), token.raw);

    // Another issuer or client id does not see this login.
    expect(await whoami({ ...cfg, clientID: 'other' }, { env })).toBeUndefined();
    expect(await whoami({ ...cfg, connectorID: 'https://github.com/login/oauth' }, { env })).toBeUndefined();

    // Without the key the file is worthless: a cache miss, not a crash — discarded, and said so.
    rmSync(keyFile);
    const warned: string[] = [];
    expect(await whoami(cfg, { env, warn: (m) => warned.push(m) })).toBeUndefined();
    expect(warned).toEqual([expect.stringMatching(/cannot be decrypted: its key .*cache\.key is gone.*; it was discarded$/)]);
    expect(readdirSync(cacheDir).filter((f) => f.endsWith('.enc'))).toHaveLength(0);

    expect(await logout({ env })).toBeGreaterThanOrEqual(0);
  });

  it('login() forces a new login, logout() forgets it', async () => {
    const env = isolatedEnv();
    const opener = capturingOpener();
    const cfg = config(op.issuer, { urlOpener: opener.template });
    const ctx = { env, say: () => {}, terminal: true };
    const pending = login(cfg, ctx, { flow: 'browser' });
    const page = await browser.newPage();
    await signIn(page, await opener.next(), 'carol@example.test');
    const info = await pending;
    await page.close();
    expect(info.identity).toBe('carol@example.test');
    expect(info.storedIn).toBe('file');
    expect((await whoami(cfg, { env }))?.identity).toBe('carol@example.test');
    expect(await logout({ env })).toBeGreaterThanOrEqual(2);
    expect(await whoami(cfg, { env })).toBeUndefined();
    expect(readdirSync(join(env.XDG_CACHE_HOME!, 'gitseal'))).toEqual([]);
  });

  it('answers only the callback with the right state, then closes', async () => {
    const env = isolatedEnv();
    const opener = capturingOpener();
    const cfg = config(op.issuer, { urlOpener: opener.template, redirectURL: 'http://127.0.0.1:0/auth/callback' });
    const pending = getIdentityToken(cfg, { env, say: () => {}, terminal: true, noCache: true });
    const url = await opener.next();
    const redirect = new URL(url).searchParams.get('redirect_uri')!;
    expect(redirect).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/auth\/callback$/);

    const forged = await fetch(`${redirect}?code=stolen&state=not-ours`);
    expect(forged.status).toBe(400);
    expect(await fetch(`${new URL(redirect).origin}/elsewhere`).then((r) => r.status)).toBe(404);

    const page = await browser.newPage();
    expect(await signIn(page, url, 'dave@example.test')).toBe('Signed in');
    const token = await pending;
    await page.close();
    expect(token.email).toBe('dave@example.test');
    // The listener is gone once the one good callback was answered.
    await expect(fetch(`${redirect}?code=x&state=y`)).rejects.toThrow();
  });

  it('passes connector_id when connectorID is set', async () => {
    const env = isolatedEnv();
    const opener = capturingOpener();
    const cfg = config(op.issuer, { urlOpener: opener.template, connectorID: 'https://github.com/login/oauth' });
    const pending = getIdentityToken(cfg, { env, say: () => {}, terminal: true, loginTimeoutMs: 60_000 });
    const url = await opener.next();
    expect(new URL(url).searchParams.get('connector_id')).toBe('https://github.com/login/oauth');
    const page = await browser.newPage();
    await signIn(page, url, 'erin@example.test');
    expect((await pending).email).toBe('erin@example.test');
    await page.close();
  });

  it('gives up with a clear message when nobody signs in', async () => {
    const env = isolatedEnv();
    const opener = capturingOpener();
    const cfg = config(op.issuer, { urlOpener: opener.template });
    const err = await getIdentityToken(cfg, { env, say: () => {}, terminal: true, loginTimeoutMs: 1500 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitsealError);
    expect((err as GitsealError).code).toBe('LOGIN_TIMEOUT');
    expect((err as GitsealError).message).toMatch(/no sign-in came back from the browser within 2 s/);
    expect((err as GitsealError).message).toMatch(/SIGSTORE_ID_TOKEN/);
  });
});
