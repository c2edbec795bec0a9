/**
 * Secrets never leak. A full login (real Chromium against the sandbox's OpenID
 * provider) + sign through git with the agent + verify + version/doctor run
 * with known tokens; then ALL stdout/stderr, the agent log, the cache and
 * runtime directories and the agent's argv are searched for the raw tokens
 * (and their payload and signature parts), private keys (PEM, PKCS#8 DER
 * markers) and JWK `d` members. Files gitseal writes must be 0600 in 0700
 * directories. The browser callback listener binds 127.0.0.1 only and takes
 * exactly one callback with the right state.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import type { GitsealConfig } from '../../src/config/types.js';
import { getIdentityToken } from '../../src/oidc/get-token.js';
import { config as oidcTestConfig } from '../oidc/helpers.js';
import { ensureBuilt, errorLines, gitseal, isolatedEnv, makeRepo, removeSnapshot, startSandbox, tempDir, type Sandbox } from '../reliability/helpers.js';
import { missingTools, needs } from '../helpers/tools.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = missingTools(['chromium']).length === 0;
let work: string;
let sb: Sandbox;
let browser: BrowserContext | undefined;

beforeAll(async () => {
  ensureBuilt();
  work = tempDir('gitseal-secrets-');
  sb = await startSandbox(join(work, 'sb'));
  if (haveChromium) {
    const { chromium } = await import('playwright-core');
    browser = await chromium.launchPersistentContext(tempDir('gitseal-chromium-'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }
}, 120_000);

const agentEnvs: NodeJS.ProcessEnv[] = [];

afterAll(async () => {
  // Stop any agent a failed run left behind (only ours: private HOME/runtime dirs).
  for (const e of agentEnvs) gitseal(['agent', 'stop'], e);
  await browser?.close();
  await sb?.stop();
  removeSnapshot();
});

/** A urlOpener program that appends the login URL to a file, for the test to open in Chromium. */
function capturingOpener(dir: string): { template: string; next(): Promise<string> } {
  const script = join(dir, 'opener.mjs');
  const out = join(dir, 'urls.txt');
  writeFileSync(script, `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(out)}, process.argv[2] + '\\n');\n`);
  let seen = 0;
  return {
    template: `${process.execPath} ${script} {{.URL}}`,
    async next() {
      for (let i = 0; i < 400; i++) {
        const lines = existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean) : [];
        if (lines.length > seen) return lines[seen++];
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('the opener was never called');
    },
  };
}

async function signIn(url: string, email: string): Promise<void> {
  const page = await browser!.newPage();
  await page.context().clearCookies();
  await page.goto(url);
  await page.fill('#email', email);
  await page.click('#submit');
  await page.waitForSelector('#result', { timeout: 30_000 });
  await page.close();
}

function cfg(over: Partial<GitsealConfig>): GitsealConfig {
  return oidcTestConfig(sb.env.GITSEAL_OIDC_ISSUER, { fulcioURL: sb.env.GITSEAL_FULCIO_URL, rekorURL: sb.env.GITSEAL_REKOR_URL, ...over });
}

/** Every file under `dir` (sockets and FIFOs listed, not read). */
function files(dir: string): Array<{ path: string; mode: number; kind: 'file' | 'dir' | 'other' }> {
  const out: Array<{ path: string; mode: number; kind: 'file' | 'dir' | 'other' }> = [];
  if (!existsSync(dir)) return out;
  const walk = (d: string): void => {
    out.push({ path: d, mode: lstatSync(d).mode & 0o777, kind: 'dir' });
    for (const f of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, f.name);
      if (f.isDirectory()) walk(p);
      else out.push({ path: p, mode: lstatSync(p).mode & 0o777, kind: f.isFile() ? 'file' : 'other' });
    }
  };
  walk(dir);
  return out;
}

/** The secrets to look for, each with its parts (a JWT leaks if its payload or signature part does). */
function needles(tokens: string[]): string[] {
  return tokens.flatMap((t) => [t, ...t.split('.').slice(1)]).filter((n) => n.length >= 16);
}

function assertClean(where: string, haystack: string | Buffer, tokens: string[]): void {
  const text = typeof haystack === 'string' ? haystack : haystack.toString('latin1');
  for (const n of needles(tokens)) expect(text.includes(n), `a token (part) leaked into ${where}`).toBe(false);
  expect(text, `a private key leaked into ${where}`).not.toMatch(/-----BEGIN (EC |ENCRYPTED )?PRIVATE KEY-----/);
  expect(text, `a JWK private member leaked into ${where}`).not.toMatch(/"d"\s*:\s*"[A-Za-z0-9_-]{20,}"/);
}

needs('chromium').describe('a full login + sign + verify leaves no secret behind', () => {
  it('tokens, keys and JWK d appear in no output, log, cache file or argv; files 0600 in 0700 dirs', { timeout: 240_000 }, async () => {
    const home = join(work, 'home');
    const env = isolatedEnv(home, { ...sb.env, GITSEAL_AGENT: 'on', GITSEAL_KEYRING: 'off' });
    agentEnvs.push(env);
    const opener = capturingOpener(work);
    const captured: Array<[string, string]> = [];

    // 1. Login through the browser, in-process, so the test knows the raw token it must not find.
    const pending = getIdentityToken(cfg({ urlOpener: opener.template }), { env, say: (l) => captured.push(['login say', l]), terminal: true });
    await signIn(await opener.next(), 'alice@example.com');
    const loginToken = (await pending).raw;
    // A second, known token through the environment (CI style).
    const envToken = sb.token('bob@example.com', ['--ttl', '600']);
    const tokens = [loginToken, envToken];

    // 2. Sign through git with the agent: first from the cached login, then with the env token.
    const repo = makeRepo(join(work, 'repo'));
    const c1 = await repo.gitAsync(['commit', '--allow-empty', '-m', 'signed from the cached login'], env);
    captured.push(['git commit (cache) stdout', c1.stdout], ['git commit (cache) stderr', c1.stderr]);
    expect(c1.status, readFileSync(repo.stderrLog, 'utf8')).toBe(0);

    // The agent runs now: its argv and environment carry no token.
    const st = gitseal(['agent', 'status', '--json'], env);
    captured.push(['agent status', st.stdout.toString() + st.stderr.toString()]);
    const status = JSON.parse(st.stdout.toString()) as { running?: boolean; pid?: number };
    expect(status.running).toBe(true);
    const procArgs = readFileSync(`/proc/${status.pid}/cmdline`, 'latin1');
    assertClean('the agent argv', procArgs, tokens);
    assertClean('the agent environment', readFileSync(`/proc/${status.pid}/environ`, 'latin1'), tokens);

    const envWithToken = { ...env, SIGSTORE_ID_TOKEN: envToken, GITSEAL_USER_EMAIL: undefined };
    repo.git(['config', 'user.email', 'bob@example.com'], env);
    const c2 = await repo.gitAsync(['commit', '--allow-empty', '-m', 'signed with the env token'], envWithToken as NodeJS.ProcessEnv);
    captured.push(['git commit (env) stdout', c2.stdout], ['git commit (env) stderr', c2.stderr]);
    expect(c2.status, readFileSync(repo.stderrLog, 'utf8')).toBe(0);
    // The agent started for the env-token signature may be a second one; check every agent we can see.
    const st2 = JSON.parse(gitseal(['agent', 'status', '--json'], envWithToken as NodeJS.ProcessEnv).stdout.toString()) as { pid?: number };
    if (st2.pid) assertClean('the agent argv (env token)', readFileSync(`/proc/${st2.pid}/cmdline`, 'latin1'), tokens);

    // 3. Verify, show, version, doctor — with the env token still in the environment.
    for (const args of [['verify', 'HEAD'], ['verify', 'HEAD~1'], ['version'], ['doctor'], ['agent', 'status']]) {
      const r = gitseal(args, envWithToken as NodeJS.ProcessEnv, undefined, repo.dir);
      captured.push([`gitseal ${args.join(' ')}`, r.stdout.toString() + r.stderr.toString()]);
    }
    const log = await repo.gitAsync(['log', '--show-signature', '-2'], envWithToken as NodeJS.ProcessEnv);
    expect(log.status).toBe(0);
    captured.push(['git log --show-signature', log.stdout + log.stderr]);
    expect(log.stdout + log.stderr).toContain('alice@example.com');

    // 4. Stop the agent (we started it) and collect everything it left.
    const stop = gitseal(['agent', 'stop'], env);
    captured.push(['agent stop', stop.stdout.toString() + stop.stderr.toString()]);
    captured.push(['gitseal stderr (every signature)', readFileSync(repo.stderrLog, 'utf8')], ['gitseal stdout (every signature)', readFileSync(repo.stdoutLog, 'utf8')]);

    for (const [where, text] of captured) assertClean(where, text, tokens);

    // 5. Every file under HOME (cache, config, the encrypted token file, agent log) and the runtime dir.
    const written = [...files(join(home, '.cache')), ...files(join(home, 'run'))];
    expect(written.some((f) => /agent\.log$/.test(f.path))).toBe(true);
    expect(written.some((f) => /\.enc$/.test(f.path))).toBe(true);
    for (const f of written) {
      if (f.kind === 'file') assertClean(f.path, readFileSync(f.path), tokens);
      // gitseal's own files and directories: 0600 files in 0700 directories.
      if (/\/gitseal(\/|$)/.test(f.path)) expect(f.mode, `${f.path} has mode ${f.mode.toString(8)}`).toBe(f.kind === 'dir' ? 0o700 : 0o600);
    }
    // And the e-mail of the login is not written in clear next to the token either.
    const enc = written.find((f) => /\.enc$/.test(f.path))!;
    expect(readFileSync(enc.path, 'latin1')).not.toContain('alice@example.com');
  });
});

needs('chromium').describe('browser callback listener', () => {
  it('binds 127.0.0.1 only and accepts exactly one callback, with our state', { timeout: 120_000 }, async () => {
    const home = join(work, 'home-cb');
    const env = isolatedEnv(home);
    const opener = capturingOpener(tempDir('gitseal-opener-'));
    const pending = getIdentityToken(cfg({ urlOpener: opener.template, redirectURL: 'http://localhost:0/auth/callback' }), { env, say: () => {}, terminal: true, noCache: true });
    pending.catch(() => {});
    const url = await opener.next();
    const redirect = new URL(new URL(url).searchParams.get('redirect_uri')!);
    const port = Number(redirect.port);

    // Not reachable on any non-loopback address of this machine, nor on IPv6 loopback.
    const others = Object.values(networkInterfaces()).flat().filter((a) => a && !a.internal).map((a) => a!.address);
    for (const host of [...others, '::1']) {
      const reached = await new Promise<boolean>((res) => {
        const s = connect({ host, port }, () => (s.destroy(), res(true)));
        s.on('error', () => res(false));
      });
      expect(reached, `callback listener reachable on ${host}`).toBe(false);
    }
    // A callback with another state is refused and does not end the login.
    const forged = await fetch(`http://127.0.0.1:${port}${redirect.pathname}?code=stolen&state=not-ours`);
    expect(forged.status).toBe(400);
    // The real sign-in completes it.
    await signIn(url, 'carol@example.com');
    expect((await pending).email).toBe('carol@example.com');
    // Exactly one: the listener is gone afterwards.
    await expect(fetch(`http://127.0.0.1:${port}${redirect.pathname}?code=x&state=y`)).rejects.toThrow();
  });
});

describe('error lines never carry a token', () => {
  it('a rejected token (expired, or not a JWT) is reported without echoing it', { timeout: 60_000 }, async () => {
    const home = join(work, 'home-bad');
    const env = isolatedEnv(home, { ...sb.env });
    const repo = makeRepo(join(work, 'repo-bad'));
    // A real token of the sandbox, but expired: Fulcio and gitseal refuse it.
    const expired = sb.token('alice@example.com', ['--ttl=-60']);
    const r = await repo.gitAsync(['commit', '--allow-empty', '-m', 'x'], { ...env, SIGSTORE_ID_TOKEN: expired });
    expect(r.status).not.toBe(0);
    const err = readFileSync(repo.stderrLog, 'utf8');
    expect(errorLines(err)).toHaveLength(1);
    assertClean('the error output', err + r.stderr + r.stdout, [expired]);
    // Also a garbage token that is not a JWT: the message must not echo it.
    const junk = 'x'.repeat(40) + '.' + 'y'.repeat(40) + '.' + 'z'.repeat(40);
    const r2 = gitseal(['--status-fd=2', '-bsau', 'x'], { ...env, SIGSTORE_ID_TOKEN: junk }, 'tree x\n\nmsg\n');
    expect(r2.status).toBe(1);
    expect(r2.stdout.length).toBe(0);
    assertClean('the error output (junk token)', r2.stderr.toString(), [junk]);
  });
});
