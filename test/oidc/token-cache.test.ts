import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintIdToken } from '../../packages/sandbox/src/oidc/index.js';
import { cacheDir, cacheSlot, clearTokenCache, EXPIRY_MARGIN_MS, readCachedToken, storeToken } from '../../src/oidc/token-cache.js';
import { isolatedEnv, leakCheck } from './helpers.js';

const ISSUER = 'http://127.0.0.1:9/cache-test';
const key = { issuer: ISSUER, clientID: 'sigstore' };

async function token(ttl: number, extra: { audience?: string } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'gitseal-mint-'));
  try {
    return await mintIdToken({ dir, issuer: ISSUER, email: 'cache@example.test', ttl, ...extra });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('token cache (encrypted file, no keyring)', () => {
  it('round-trips, keeps nothing in clear and leaves no temp files', async () => {
    const env = isolatedEnv();
    const raw = await token(300);
    expect(await storeToken(key, raw, { env, now: Date.now() })).toBe('file');
    const hit = await readCachedToken(key, { env, now: Date.now() });
    expect(hit).toMatchObject({ raw, storedIn: 'file', ...key });
    const dir = cacheDir(env);
    expect(readdirSync(dir)).toEqual([`id-token-${cacheSlot(key)}.enc`]);
    const file = readFileSync(join(dir, readdirSync(dir)[0]), 'utf8');
    leakCheck(file, raw);
    expect(JSON.parse(file)).toMatchObject({ v: 1, alg: 'A256GCM' });
  });

  it('uses XDG_CACHE_HOME, else ~/.cache; without XDG_RUNTIME_DIR (and no keyring) it keeps nothing on disk', async () => {
    const env = isolatedEnv();
    delete env.XDG_CACHE_HOME;
    const raw = await token(300);
    expect(await storeToken(key, raw, { env, now: Date.now() })).toBe('file');
    const dir = join(env.HOME!, '.cache', 'gitseal');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readdirSync(dir)).toEqual([`id-token-${cacheSlot(key)}.enc`]);
    // the key is in the runtime directory, never beside the ciphertext
    expect(statSync(join(env.XDG_RUNTIME_DIR!, 'gitseal', 'cache.key')).mode & 0o777).toBe(0o600);

    const noRuntime = isolatedEnv();
    delete noRuntime.XDG_RUNTIME_DIR;
    await expect(storeToken(key, raw, { env: noRuntime, now: Date.now() })).rejects.toThrow(/no safe place for the token cache key.*XDG_RUNTIME_DIR is not set/);
    expect(readdirSync(noRuntime.HOME!)).toEqual([]);
  });

  it('never hands out a token within the expiry margin, and drops it', async () => {
    const env = isolatedEnv();
    const raw = await token(300);
    await storeToken(key, raw, { env, now: Date.now() });
    const exp = (JSON.parse(Buffer.from(raw.split('.')[1], 'base64url').toString()) as { exp: number }).exp * 1000;
    expect(await readCachedToken(key, { env, now: exp - EXPIRY_MARGIN_MS - 1000 })).toBeDefined();
    expect(await readCachedToken(key, { env, now: exp - EXPIRY_MARGIN_MS + 1000 })).toBeUndefined();
    expect(readdirSync(cacheDir(env)).filter((f) => f.endsWith('.enc'))).toEqual([]);
  });

  it('keeps issuers, clients and connectors apart', async () => {
    const env = isolatedEnv();
    await storeToken(key, await token(300), { env, now: Date.now() });
    expect(await readCachedToken({ ...key, clientID: 'other' }, { env, now: Date.now() })).toBeUndefined();
    expect(await readCachedToken({ ...key, connectorID: 'c' }, { env, now: Date.now() })).toBeUndefined();
    expect(await readCachedToken({ ...key, issuer: 'http://127.0.0.1:9/other' }, { env, now: Date.now() })).toBeUndefined();
    expect(await readCachedToken(key, { env, now: Date.now() })).toBeDefined();
  });

  it('does not serve a file moved into another slot, a damaged file, or a token for another audience', async () => {
    const env = isolatedEnv();
    const other = { ...key, clientID: 'other' };
    await storeToken(key, await token(300), { env, now: Date.now() });
    const dir = cacheDir(env);
    renameSync(join(dir, `id-token-${cacheSlot(key)}.enc`), join(dir, `id-token-${cacheSlot(other)}.enc`));
    expect(await readCachedToken(other, { env, now: Date.now() })).toBeUndefined();

    await storeToken(key, await token(300), { env, now: Date.now() });
    const f = join(dir, `id-token-${cacheSlot(key)}.enc`);
    const body = JSON.parse(readFileSync(f, 'utf8'));
    body.data = Buffer.from(Buffer.from(body.data, 'base64').map((b: number, i: number) => (i === 5 ? b ^ 1 : b))).toString('base64');
    writeFileSync(f, JSON.stringify(body));
    expect(await readCachedToken(key, { env, now: Date.now() })).toBeUndefined();

    await storeToken(key, await token(300, { audience: 'not-sigstore' }), { env, now: Date.now() });
    expect(await readCachedToken(key, { env, now: Date.now() })).toBeUndefined();
  });

  it('clears every cached token and the key', async () => {
    const env = isolatedEnv();
    await storeToken(key, await token(300), { env, now: Date.now() });
    await storeToken({ ...key, clientID: 'b' }, await token(300, { audience: 'b' }), { env, now: Date.now() });
    expect(await clearTokenCache({ env })).toBe(3);
    expect(readdirSync(cacheDir(env))).toEqual([]);
    expect(readdirSync(join(env.XDG_RUNTIME_DIR!, 'gitseal'))).toEqual([]);
    expect(await clearTokenCache({ env })).toBe(0);
  });
});
