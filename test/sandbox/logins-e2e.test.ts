/**
 * End to end through real processes: the sandbox started as a child process
 * (packages/sandbox/bin/gitseal-sandbox), both logins through the real gitseal binary and real
 * Chromium (browser flow with PKCE; device flow approved from a "second
 * device"), then `git commit -S` signing with the cached login — and a second
 * commit within the token's life needing no login at all (counted on the
 * sandbox side). Finally the sandbox restarts on the same directory and the
 * first commit's log entry is proven against the new checkpoint.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, Sandbox } from '../cli/helpers.js';
import { startSandbox, type RunningSandbox } from '../cli/sandbox.js';
import { approveDevice, capturingOpener, launchChromium, signIn } from '../oidc/helpers.js';
import { needs } from '../helpers/tools.js';

const SANDBOX_BIN = join(ROOT, 'packages', 'sandbox', 'bin', 'gitseal-sandbox');

interface Stats {
  oidc: { logins: number; tokensIssued: number; deviceCodes: number };
  fulcio: { signingCert: number };
  rekor: { treeSize: number };
}

needs('chromium').describe('sandbox as a child process: browser and device logins, then git signs with the cached login', () => {
  const sb = new Sandbox('gitseal-logins-');
  const dir = join(sb.dir, 'sigstore');
  let sigstore: RunningSandbox;
  let browser: BrowserContext;
  let repo: string;

  const stats = (): Stats => {
    const r = spawnSync(process.execPath, [SANDBOX_BIN, 'stats', '--dir', dir], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Stats;
  };
  const git = (args: string[]) => spawnSync('git', args, { cwd: repo, env: sb.env, encoding: 'utf8' });
  /** `gitseal login --device` as a child process, approved as `email` from Chromium; its output and exit code. */
  const deviceLogin = async (env: NodeJS.ProcessEnv, email: string): Promise<{ uri: string; out: string; code: number }> => {
    const cp = spawn(process.execPath, [BIN, 'login', '--device'], { cwd: sb.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    cp.stdout.on('data', (d: Buffer) => (out += d.toString()));
    cp.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const done = new Promise<number>((resolve) => cp.on('close', (c) => resolve(c ?? -1)));
    let m: RegExpExecArray | null = null;
    for (let i = 0; i < 600 && !m; i++) {
      m = /open (\S+) and enter the code (\S+)/.exec(out);
      if (!m) await new Promise((r) => setTimeout(r, 50));
    }
    expect(m, out).not.toBeNull();
    await (await approveDevice(browser, m![1], m![2], email)).close();
    const code = await done;
    return { uri: m![1], out, code };
  };

  beforeAll(async () => {
    sigstore = await startSandbox(dir);
    // No token in the environment: every signature must come from a login or the cache.
    sb.env = { ...sb.env, ...sigstore.env, GITSEAL_AGENT: 'off' };
    browser = await launchChromium();
    repo = sb.repo('work');
    for (const [k, v] of [
      ['gpg.format', 'x509'],
      ['gpg.x509.program', BIN],
      ['user.email', 'erin@example.test'],
      ['user.name', 'Erin'],
    ]) git(['config', k, v]);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await sigstore?.stop();
    sb.cleanup();
  });

  it('device flow: gitseal shows a URL and code, a second device approves, gitseal caches the token', async () => {
    const before = stats();
    const { uri, out, code } = await deviceLogin(sb.env, 'frank@example.test');
    expect(uri).toBe(`${sigstore.issuer}/device`);
    expect(code, out).toBe(0);
    expect(out).toMatch(/logged in as frank@example\.test/);
    expect(out).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
    expect(stats().oidc.deviceCodes).toBe(before.oidc.deviceCodes + 1);
    expect(spawnSync(process.execPath, [BIN, 'logout'], { env: sb.env }).status).toBe(0);
  });

  it('browser flow: the test signs in in Chromium; git commit -S signs with that login, and a second commit needs none', async () => {
    const beforeLogin = stats();
    const opener = capturingOpener();
    const pending = sb.gitsealAsync(['login', '--browser'], { env: { GITSEAL_URL_OPENER: opener.template } });
    const url = await opener.next(30_000);
    expect(url.startsWith(`${sigstore.issuer}/`)).toBe(true);
    expect(new URL(url).searchParams.get('code_challenge_method')).toBe('S256');
    const page = await browser.newPage();
    expect(await signIn(page, url, 'erin@example.test')).toBe('Signed in');
    await page.close();
    const login = await pending;
    expect(login.status, login.stderr).toBe(0);

    const afterLogin = stats();
    expect(afterLogin.oidc.logins).toBe(beforeLogin.oidc.logins + 1); // the counter does count logins
    let r = git(['commit', '-S', '-q', '--allow-empty', '-m', 'first, with the browser login']);
    expect(r.status, r.stderr).toBe(0);
    r = git(['commit', '-S', '-q', '--allow-empty', '-m', 'second, same login']);
    expect(r.status, r.stderr).toBe(0);

    const after = stats();
    expect(after.oidc.logins).toBe(afterLogin.oidc.logins); // no new login for either commit
    expect(after.oidc.tokensIssued).toBe(afterLogin.oidc.tokensIssued);
    expect(after.fulcio.signingCert).toBe(afterLogin.fulcio.signingCert + 2);
    expect(after.rekor.treeSize).toBe(afterLogin.rekor.treeSize + 2);

    const log = git(['log', '--format=%G? %GS', '-2']);
    expect(log.stdout.trim().split('\n')).toEqual(['U erin@example.test', 'U erin@example.test']);
  });

  it('after a restart on the same directory, the first commit still verifies and its entry is proven against the new checkpoint', async () => {
    await sigstore.stop();
    sigstore = await startSandbox(dir);
    const first = git(['rev-parse', 'HEAD~1']).stdout.trim();
    // Append one more entry so the tree (and its checkpoint) moved on.
    expect(git(['commit', '-S', '-q', '--allow-empty', '-m', 'third, after the restart']).status).toBe(0);
    expect(git(['verify-commit', first]).status).toBe(0);

    // The entry embedded in the first commit, fetched again from the restarted log by its leaf:
    // its inclusion proof is against the current (larger) tree.
    const show = spawnSync(process.execPath, [BIN, 'show', first, '--json'], { cwd: repo, env: sb.env, encoding: 'utf8' });
    expect(show.status, show.stderr).toBe(0);
    const logIndex = Number(JSON.parse(show.stdout).tlog.logIndex);
    expect(Number.isInteger(logIndex)).toBe(true);
    const res = await fetch(`${sigstore.env.GITSEAL_REKOR_URL}/api/v1/log/entries?logIndex=${logIndex}`);
    expect(res.status).toBe(200);
    type Entry = { body: string; verification: { inclusionProof: { logIndex: number; treeSize: number; hashes: string[]; checkpoint: string } } };
    const entry = Object.values((await res.json()) as Record<string, Entry>)[0];
    const p = entry.verification.inclusionProof;
    expect(p.treeSize).toBe(stats().rekor.treeSize);
    expect(p.treeSize).toBeGreaterThan(logIndex + 1);

    const { verifyCheckpoint } = await import('../../src/verify/checkpoint.js');
    const { leafHash, verifyInclusion } = await import('../../src/verify/merkle.js');
    const { parseTrustedRoot } = await import('../../src/trust/trusted-root.js');
    const { readFileSync } = await import('node:fs');
    const trust = parseTrustedRoot(readFileSync(join(dir, 'trusted_root.json')));
    const v1 = trust.tlogs.find((t) => t.baseUrl === sigstore.env.GITSEAL_REKOR_URL)!;
    const cp = verifyCheckpoint(p.checkpoint, v1); // signed by the log key of the trusted root
    expect(cp.size).toBe(BigInt(p.treeSize));
    const leaf = leafHash(Buffer.from(entry.body, 'base64'));
    expect(() =>
      verifyInclusion(BigInt(p.logIndex), cp.size, leaf, p.hashes.map((h) => Buffer.from(h, 'hex')), cp.rootHash),
    ).not.toThrow();
  });
  it('confidential client: gitsign\'s clientSecretFile names the secret; the device login and git commit -S work with it', async () => {
    // What a private Dex with a confidential client needs, under gitsign's variable names.
    const conf = { ...sb.env, GITSIGN_OIDC_CLIENT_ID: 'sigstore-confidential', GITSEAL_OIDC_CLIENT_ID: 'sigstore-confidential', GITSIGN_OIDC_CLIENT_SECRET_FILE: join(dir, 'oidc', 'client-secret') };
    const secret = readFileSync(join(dir, 'oidc', 'client-secret'), 'utf8').trim();
    const before = stats();
    const { out, code } = await deviceLogin(conf, 'grace@example.test');
    expect(code, out).toBe(0);
    expect(out).toMatch(/logged in as grace@example\.test/);

    const r = spawnSync('git', ['commit', '-S', '-q', '--allow-empty', '-m', 'signed through the confidential client'], { cwd: repo, env: conf, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(spawnSync('git', ['log', '--format=%G? %GS', '-1'], { cwd: repo, env: conf, encoding: 'utf8' }).stdout.trim()).toBe('U grace@example.test');
    const after = stats();
    expect(after.oidc.tokensIssued).toBe(before.oidc.tokensIssued + 1); // the commit used the cached login
    expect(after.fulcio.signingCert).toBe(before.fulcio.signingCert + 1);
    // The secret appears nowhere a person or a log would see it.
    const version = spawnSync(process.execPath, [BIN, 'version'], { cwd: repo, env: conf, encoding: 'utf8' });
    expect(version.stdout).toContain('clientSecretFile');
    for (const text of [out, r.stderr, version.stdout, version.stderr]) expect(text).not.toContain(secret);
    expect(spawnSync(process.execPath, [BIN, 'logout'], { env: conf }).status).toBe(0);
  });
});
