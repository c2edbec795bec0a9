/**
 * The token cache key never lives beside what it encrypts (issue 14, item 12). Without an OS
 * keyring and without $XDG_RUNTIME_DIR (containers, cron, su) gitseal used to write
 * ~/.cache/gitseal/cache.key next to id-token-*.enc, so copying ~/.cache (a backup, a synced
 * home, a leaked container layer) was enough to read the token — contrary to what README and
 * docs/security.md promised. Now there is no disk cache at all without a safe place for the key
 * (a keyring, or a private runtime directory apart from the cache), `gitseal doctor` and
 * `gitseal login` say so, a key an older gitseal left beside the cache is deleted, and a
 * damaged cache says it was discarded instead of starting a login without a word.
 * Attacker: a hostile local user (or anyone) holding a copy of the cache directory.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintIdToken } from '../../packages/sandbox/src/oidc/index.js';
import { cacheDir, cacheSlot, readCachedToken, storeToken } from '../../src/oidc/token-cache.js';
import { ensureBuilt, isolatedEnv, removeSnapshot, runGitseal, tempDir } from './helpers.js';

// the public-good defaults, so the binary looks in the same slot
const key = { issuer: 'https://oauth2.sigstore.dev/auth', clientID: 'sigstore' };
let work: string;
let raw: string;

beforeAll(async () => {
  ensureBuilt();
  work = tempDir('gitseal-adv-cache-');
  const dir = mkdtempSync(join(tmpdir(), 'gitseal-mint-'));
  try {
    raw = await mintIdToken({ dir, issuer: key.issuer, audience: key.clientID, email: 'cache@example.test', ttl: 600 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
afterAll(() => removeSnapshot());

let n = 0;
/** A home with no keyring; a private runtime directory unless `runtime` says otherwise. */
function envWith(runtime: 'private' | 'none' | 'inside-cache' | 'open' | 'foreign'): NodeJS.ProcessEnv {
  const home = join(work, `h${n++}`);
  const env = isolatedEnv(home);
  const cache = join(home, '.cache');
  if (runtime === 'none') delete env.XDG_RUNTIME_DIR;
  else if (runtime === 'inside-cache') {
    mkdirSync(join(cache, 'run'), { recursive: true, mode: 0o700 });
    env.XDG_RUNTIME_DIR = join(cache, 'run');
  } else if (runtime === 'open') chmodSync(env.XDG_RUNTIME_DIR!, 0o755);
  else if (runtime === 'foreign') execFileSync('chown', ['12345', env.XDG_RUNTIME_DIR!]);
  return env;
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name));
}

describe('no safe place for the key: no disk cache at all', () => {
  it.each([
    ['none', /no OS keyring answers and \$XDG_RUNTIME_DIR is not set/],
    ['inside-cache', /overlap, so the key would sit with what it encrypts/],
    ['open', /is readable by others \(mode 755; it must be 0700\)/],
    ...(process.geteuid?.() === 0 ? [['foreign', /is owned by uid 12345, not by you/] as const] : []),
  ] as const)('runtime directory %s: storeToken writes nothing and says why', async (kind, why) => {
    const env = envWith(kind as 'none');
    await expect(storeToken(key, raw, { env, now: Date.now() })).rejects.toThrow(why);
    expect(filesUnder(env.HOME!)).toEqual([]);
    if (kind !== 'none') expect(filesUnder(env.XDG_RUNTIME_DIR!)).toEqual([]);
  });

  it('gitseal doctor says logins are not cached, and why; gitseal login refuses before asking anyone to log in', () => {
    const env = envWith('none');
    mkdirSync(env.HOME!, { recursive: true });
    const d = JSON.parse(runGitseal(env.HOME!, ['doctor', '--offline', '--json'], env).stdout) as { checks: Array<{ id: string; status: string; summary: string; fix?: string }> };
    expect(d.checks.find((c) => c.id === 'login')).toMatchObject({
      status: 'warn',
      summary: expect.stringMatching(/^logins are not cached: no OS keyring answers and \$XDG_RUNTIME_DIR is not set, and gitseal never keeps the token cache key beside the cache/),
      fix: expect.stringMatching(/XDG_RUNTIME_DIR/),
    });
    const l = runGitseal(env.HOME!, ['login'], env);
    expect(l.status).toBe(1);
    expect(l.stderr).toMatch(/^gitseal: a login cannot be kept here: no OS keyring answers and \$XDG_RUNTIME_DIR is not set/);
    expect(filesUnder(env.HOME!)).toEqual([]);
  });

  it('with a private runtime directory the key goes there, apart from the ciphertext', async () => {
    const env = envWith('private');
    expect(await storeToken(key, raw, { env, now: Date.now() })).toBe('file');
    expect(readdirSync(cacheDir(env))).toEqual([`id-token-${cacheSlot(key)}.enc`]);
    expect(filesUnder(env.XDG_RUNTIME_DIR!)).toEqual([join(env.XDG_RUNTIME_DIR!, 'gitseal', 'cache.key')]);
    // a copy of the whole home (cache included) holds no key and no token in clear
    for (const f of filesUnder(env.HOME!)) expect(readFileSync(f, 'latin1')).not.toContain(raw.split('.')[1]!.slice(0, 40));
    expect((await readCachedToken(key, { env, now: Date.now() }))?.raw).toBe(raw);
  });
});

describe('a key an older gitseal left beside the cache', () => {
  it('is deleted on sight, with a warning; the token it protected is discarded', async () => {
    const env = envWith('private');
    await storeToken(key, raw, { env, now: Date.now() });
    // the old layout: the key beside the ciphertext
    renameSync(join(env.XDG_RUNTIME_DIR!, 'gitseal', 'cache.key'), join(cacheDir(env), 'cache.key'));
    const warnings: string[] = [];
    expect(await readCachedToken(key, { env, now: Date.now(), warn: (m) => warnings.push(m) })).toBeUndefined();
    expect(existsSync(join(cacheDir(env), 'cache.key'))).toBe(false);
    expect(readdirSync(cacheDir(env))).toEqual([]);
    expect(warnings).toEqual([
      expect.stringMatching(/^removed .*cache\.key: an older gitseal kept the token cache key beside the cache it encrypts/),
      expect.stringMatching(/^the cached login .*\.enc cannot be decrypted: its key .* is gone.*; it was discarded$/),
    ]);
  });
});

describe('a damaged token cache says it was damaged and discarded', () => {
  it('in process: a flipped byte, a truncated file', async () => {
    for (const damage of [(t: string) => t.replace(/"data":"(.)/, (_m, c: string) => `"data":"${c === 'A' ? 'B' : 'A'}`), (t: string) => t.slice(0, 20)]) {
      const env = envWith('private');
      await storeToken(key, raw, { env, now: Date.now() });
      const f = join(cacheDir(env), `id-token-${cacheSlot(key)}.enc`);
      writeFileSync(f, damage(readFileSync(f, 'utf8')));
      const warnings: string[] = [];
      expect(await readCachedToken(key, { env, now: Date.now(), warn: (m) => warnings.push(m) })).toBeUndefined();
      expect(warnings).toEqual([expect.stringMatching(/^the cached login .*\.enc is damaged \((it does not decrypt with the cache key|not JSON)\); it was discarded$/)]);
      expect(existsSync(f)).toBe(false);
    }
  });

  it('through the binary: git\'s signing call and gitseal whoami/doctor say so before anything else', async () => {
    const env = envWith('private');
    await storeToken(key, raw, { env, now: Date.now() });
    const f = join(cacheDir(env), `id-token-${cacheSlot(key)}.enc`);
    const damaged = readFileSync(f, 'utf8').replace(/"tag":"(.)/, (_m, c: string) => `"tag":"${c === 'A' ? 'B' : 'A'}`);
    writeFileSync(f, damaged);
    const cwd = env.HOME!;
    // git's signing call with no terminal: the warning, then why it cannot log in (never silent)
    const s = runGitseal(cwd, ['--status-fd=2', '-bsau', 'x'], env, 'tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nm\n');
    expect(s.status).toBe(1);
    expect(s.stdout).toBe('');
    expect(s.stderr).toMatch(/gitseal: warning: the cached login .*\.enc is damaged \(it does not decrypt with the cache key\); it was discarded/);
    expect(s.stderr).toMatch(/gitseal: no identity token and no terminal to log in from/);

    writeFileSync(f, damaged);
    const w = runGitseal(cwd, ['whoami'], env);
    expect(w.status).toBe(1);
    expect(w.stderr).toMatch(/^gitseal: warning: the cached login .* is damaged .*; it was discarded$/m);

    writeFileSync(f, damaged);
    const d = JSON.parse(runGitseal(cwd, ['doctor', '--offline', '--json'], env).stdout) as { checks: Array<{ id: string; status: string; summary: string }> };
    expect(d.checks.find((c) => c.id === 'login')).toMatchObject({ status: 'warn', summary: expect.stringMatching(/is damaged .*; it was discarded/) });
  });
});
