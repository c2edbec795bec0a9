/**
 * gitseal's token code as git runs it: a separate node process, bundled by
 * esbuild the way scripts/build.mjs does (npm packages left external). Checks
 * (1) the environment provider loads no npm package at all (openid-client and
 * the keyring only load for an interactive login), and (2) a whole browser
 * login plus a cached reuse never put the token on stdout, stderr or in any
 * file in clear.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { mintIdToken, type RunningOidcProvider } from '../../packages/sandbox/src/oidc/index.js';
import { readCachedToken } from '../../src/oidc/token-cache.js';
import { bundleScript, capturingOpener, config, isolatedEnv, leakCheck, signIn, startProviderAndBrowser } from './helpers.js';
import { needs } from '../helpers/tools.js';

let work: string;
let entry: string;
let register: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'gitseal-proc-'));
  entry = await bundleScript(`
import { getIdentityToken } from '@src/oidc/get-token.ts';

const cfg = JSON.parse(process.env.TEST_CFG!);
try {
  const t = await getIdentityToken(cfg, { env: process.env, say: (l) => process.stderr.write(l + '\\n'), terminal: process.env.TEST_TERMINAL === '1' });
  process.stdout.write(JSON.stringify({ email: t.email, issuer: t.issuer, subject: t.subject }) + '\\n');
} catch (e) {
  process.stderr.write('gitseal: ' + (e as Error).message + '\\n');
  process.exitCode = 1;
}
`);
  // A module resolve hook that records every specifier the process loads.
  writeFileSync(
    join(work, 'hooks.mjs'),
    `import { appendFileSync } from 'node:fs';
export async function resolve(spec, ctx, next) { if (process.env.RESOLVE_LOG) appendFileSync(process.env.RESOLVE_LOG, spec + '\\n'); return next(spec, ctx); }
`,
  );
  register = join(work, 'register.mjs');
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(`file://${join(work, 'hooks.mjs')}`)});\n`);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(env: NodeJS.ProcessEnv, cfg: object, terminal = false): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', register, entry], {
      env: { ...env, TEST_CFG: JSON.stringify(cfg), TEST_TERMINAL: terminal ? '1' : '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

const PACKAGES = /^(openid-client|oauth4webapi|jose|@napi-rs\/keyring|oidc-provider|playwright-core)(\/|$)/;

describe('lazy loading', () => {
  it('the environment provider loads no npm package; an interactive login loads openid-client', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gitseal-mint-'));
    const token = await mintIdToken({ dir, issuer: 'http://127.0.0.1:9', email: 'lazy@example.test' });
    rmSync(dir, { recursive: true, force: true });

    const log1 = join(work, 'resolve-env.log');
    const env = isolatedEnv({ SIGSTORE_ID_TOKEN: token, RESOLVE_LOG: log1 });
    const r1 = await run(env, config('http://127.0.0.1:9'));
    expect(r1.code).toBe(0);
    expect(JSON.parse(r1.stdout)).toEqual({ email: 'lazy@example.test', issuer: 'http://127.0.0.1:9', subject: 'lazy@example.test' });
    const specs1 = readFileSync(log1, 'utf8').split('\n').filter(Boolean);
    expect(specs1.length).toBeGreaterThan(0);
    expect(specs1.filter((s) => PACKAGES.test(s))).toEqual([]);
    leakCheck(r1.stdout + r1.stderr, token);

    // Control: the same bundle, asked for a browser login, does load openid-client.
    const log2 = join(work, 'resolve-browser.log');
    const r2 = await run(isolatedEnv({ RESOLVE_LOG: log2 }), config('http://127.0.0.1:9', { tokenProvider: 'browser' }), true);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/^gitseal: cannot reach the OIDC issuer http:\/\/127\.0\.0\.1:9: /);
    expect(readFileSync(log2, 'utf8').split('\n')).toContain('openid-client');
  });
});

needs('chromium').describe('no token in any output or file', () => {
  let dir: string;
  let op: RunningOidcProvider;
  let browser: BrowserContext;
  let close: (() => Promise<void>) | undefined;
  beforeAll(async () => void ({ dir, op, browser, close } = await startProviderAndBrowser()));
  afterAll(() => close?.());

  function allFiles(d: string): string[] {
    return readdirSync(d, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? allFiles(join(d, e.name)) : e.isFile() ? [join(d, e.name)] : [],
    );
  }

  it('a browser login in a gitseal process, then a cached reuse', async () => {
    const env = isolatedEnv();
    const opener = capturingOpener();
    const cfg = config(op.issuer, { urlOpener: opener.template });
    const first = run(env, cfg, true);
    const page = await browser.newPage();
    await signIn(page, await opener.next(), 'grace@example.test');
    const r1 = await first;
    await page.close();
    expect(r1.stderr).toContain(`Sign in at ${op.issuer}`);
    expect(r1.code).toBe(0);
    expect(JSON.parse(r1.stdout).email).toBe('grace@example.test');
    const logins = op.stats().logins;

    const r2 = await run(env, cfg, false);
    expect(r2.code).toBe(0);
    expect(r2.stderr).toBe('');
    expect(op.stats().logins).toBe(logins);

    // The test (same user, same key) can decrypt the cache: that is the token to look for.
    const hit = await readCachedToken({ issuer: op.issuer, clientID: 'sigstore' }, { env, now: Date.now() });
    expect(hit?.storedIn).toBe('file');
    const token = hit!.raw;
    leakCheck(r1.stdout + r1.stderr + r2.stdout + r2.stderr, token);
    const files = [...allFiles(env.HOME!), ...allFiles(env.XDG_RUNTIME_DIR!)];
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const f of files) {
      leakCheck(readFileSync(f, 'latin1'), token);
      expect(statSync(f).mode & 0o077).toBe(0);
    }
  });
});
