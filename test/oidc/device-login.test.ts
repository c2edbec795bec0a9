import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { clientSecretPath, SANDBOX_CONFIDENTIAL_CLIENT_ID, type RunningOidcProvider } from '../../packages/sandbox/src/oidc/index.js';
import { getIdentityToken } from '../../src/oidc/get-token.js';
import { whoami } from '../../src/oidc/session.js';
import { GitsealError } from '../../src/errors.js';
import { approveDevice, config, isolatedEnv, leakCheck, startProviderAndBrowser } from './helpers.js';
import { needs } from '../helpers/tools.js';

/** Wait until gitseal has printed the verification URL and user code (RFC 8628 §3.3). */
async function prompt(said: string[]): Promise<{ uri: string; code: string }> {
  for (let i = 0; i < 400; i++) {
    const m = said.map((l) => /open (\S+) and enter the code (\S+)/.exec(l)).find(Boolean);
    if (m) return { uri: m[1], code: m[2] };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no device prompt in: ${said.join(' | ')}`);
}

needs('chromium').describe('device login (RFC 8628) approved from a second browser', () => {
  let dir: string;
  let op: RunningOidcProvider;
  let browser: BrowserContext;
  let close: (() => Promise<void>) | undefined;
  beforeAll(async () => void ({ dir, op, browser, close } = await startProviderAndBrowser()));
  afterAll(() => close?.());

  it('shows URL and code on the terminal, polls until approved, caches the token', async () => {
    const env = isolatedEnv();
    const cfg = config(op.issuer, { tokenProvider: 'device' });
    const said: string[] = [];
    const before = op.stats();
    const pending = getIdentityToken(cfg, { env, say: (l) => said.push(l), terminal: true });

    const { uri, code } = await prompt(said);
    expect(uri).toBe(`${op.issuer}/device`);
    expect(code).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);

    // Someone on another device: open the URL, type the code, confirm, sign in.
    const page = await approveDevice(browser, uri, code, 'frank@example.test');

    const token = await pending;
    await page.close();
    expect(token.email).toBe('frank@example.test');
    expect(token.issuer).toBe(op.issuer);
    const after = op.stats();
    expect(after.deviceCodes).toBe(before.deviceCodes + 1);
    expect(after.logins).toBe(before.logins + 1);
    expect(after.tokensIssued).toBe(before.tokensIssued + 1);
    leakCheck(said.join('\n'), token.raw);

    // Cached: the next call neither asks for a code nor logs in.
    const again = await getIdentityToken(cfg, { env, say: (l) => said.push(l), terminal: true });
    expect(again.raw).toBe(token.raw);
    expect(op.stats()).toEqual(after);
    expect((await whoami(cfg, { env }))?.identity).toBe('frank@example.test');
  });

  it('logs in with a confidential client (gitseal.clientSecretFile), and says so in one line when the secret is wrong', async () => {
    const env = isolatedEnv();
    const secretFile = clientSecretPath(dir);
    const secret = readFileSync(secretFile, 'utf8').trim();
    const cfg = config(op.issuer, { tokenProvider: 'device', clientID: SANDBOX_CONFIDENTIAL_CLIENT_ID, clientSecretFile: secretFile });
    const said: string[] = [];
    const pending = getIdentityToken(cfg, { env, say: (l) => said.push(l), terminal: true });
    const { uri, code } = await prompt(said);
    const page = await approveDevice(browser, uri, code, 'grace@example.test');
    const token = await pending;
    await page.close();
    expect(token.email).toBe('grace@example.test');
    expect(JSON.parse(Buffer.from(token.raw.split('.')[1], 'base64url').toString()).aud).toBe(SANDBOX_CONFIDENTIAL_CLIENT_ID);
    leakCheck(said.join('\n'), secret);

    // A wrong secret: the issuer refuses the client before any code is shown.
    const wrongFile = join(dir, 'wrong-secret');
    writeFileSync(wrongFile, 'not-the-secret\n', { mode: 0o600 });
    const wrong = (await getIdentityToken({ ...cfg, clientSecretFile: wrongFile }, { env: isolatedEnv(), say: (l) => said.push(l), terminal: true }).catch((e: unknown) => e)) as GitsealError;
    expect(wrong).toBeInstanceOf(GitsealError);
    expect(wrong.message.split('\n')).toHaveLength(1);
    expect(wrong.message).toMatch(/invalid_client|client authentication failed/i);
    expect(wrong.message).not.toContain('not-the-secret');
    // The same client without its secret is refused too; a missing file is named.
    const none = (await getIdentityToken({ ...cfg, clientSecretFile: undefined }, { env: isolatedEnv(), say: () => {}, terminal: true }).catch((e: unknown) => e)) as GitsealError;
    expect(none).toBeInstanceOf(GitsealError);
    expect(none.message).toMatch(/invalid_client|client authentication failed/i);
    const missing = (await getIdentityToken({ ...cfg, clientSecretFile: join(dir, 'nope') }, { env: isolatedEnv(), say: () => {}, terminal: true }).catch((e: unknown) => e)) as GitsealError;
    expect(missing.code).toBe('CONFIG');
    expect(missing.message).toBe(`cannot read the OIDC client secret file ${join(dir, 'nope')}: no such file or directory`);
  });

  it('reports a refused device code clearly', async () => {
    const env = isolatedEnv();
    const cfg = config(op.issuer, { tokenProvider: 'device' });
    const said: string[] = [];
    const pending = getIdentityToken(cfg, { env, say: (l) => said.push(l), terminal: true }).catch((e: unknown) => e);
    const { uri, code } = await prompt(said);
    const page = await browser.newPage();
    await page.context().clearCookies();
    await page.goto(uri);
    await page.fill('input[name="user_code"]', code);
    await page.click('#submit');
    await page.click('button[name="abort"]');
    const err = await pending;
    await page.close();
    expect(err).toBeInstanceOf(GitsealError);
    expect((err as GitsealError).code).toBe('LOGIN_FAILED');
    expect((err as GitsealError).message).toBe('the device login was refused in the browser');
  });

  it('falls back to the device flow when no browser can be shown, and needs a terminal', async () => {
    const env = isolatedEnv();
    const cfg = config(op.issuer);
    const said: string[] = [];
    const pending = getIdentityToken(cfg, { env, say: (l) => said.push(l), terminal: true, loginTimeoutMs: 1000 }).catch((e: unknown) => e);
    const { code } = await prompt(said);
    expect(code).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
    const err = (await pending) as GitsealError;
    expect(err.code).toBe('LOGIN_TIMEOUT');
    expect(err.message).toMatch(/device code was not approved within 1 s/);

    const noTty = (await getIdentityToken(cfg, { env, say: () => {}, terminal: false }).catch((e: unknown) => e)) as GitsealError;
    expect(noTty.code).toBe('NO_TOKEN');
    expect(noTty.message).toMatch(/no terminal/);
    expect(noTty.message).toMatch(/SIGSTORE_ID_TOKEN/);
    expect(noTty.message).toMatch(/GitHub Actions/);
  });
});
