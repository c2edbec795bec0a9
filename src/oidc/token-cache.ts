/**
 * ID token cache, so one browser login serves every commit until the token is
 * about to expire (never beyond). Keyed by issuer + client id (+ connector).
 *
 * Where: the OS keyring when one answers; otherwise an AES-256-GCM encrypted
 * file in the user cache dir ($XDG_CACHE_HOME/gitseal, dir 0700, file 0600,
 * written to a temp file and renamed so it is never half-written). The file's
 * key is random and lives in the keyring when there is one (a token too large
 * for the keyring, e.g. Windows' 2.5 KB limit, still lands in the file), else
 * in a separate 0600 key file — under $XDG_RUNTIME_DIR (a per-user tmpfs
 * cleared at logout) when set, else next to the cache.
 *
 * What the key file protects against, honestly: a copied, synced or backed-up
 * cache file, or a grep over the disk, shows no token. It does not protect
 * against a process running as the same user, which can read both files — no
 * more than the plain files of other tools (gh, gcloud, docker) do. The token
 * itself is short-lived (minutes) and only good for getting a Fulcio certificate.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { GitsealError } from '../errors.js';
import { checkIdTokenClaims, parseJwtClaims } from './jwt.js';
import { openKeyring, type SecretStore } from './keyring.js';

/** Tokens this close to expiry are not handed out: Fulcio must still accept them. */
export const EXPIRY_MARGIN_MS = 30_000;
const TOKEN_PREFIX = 'id-token-';
const FILE_KEY_ACCOUNT = 'cache-file-key';

export interface CacheKey {
  issuer: string;
  clientID: string;
  connectorID?: string;
}

export interface CachedToken extends CacheKey {
  raw: string;
  storedIn: 'keyring' | 'file';
}

export interface CacheOptions {
  env: NodeJS.ProcessEnv;
  now: number;
  /** Injected by tests and by callers that already opened it; default: openKeyring(env). */
  keyring?: SecretStore | null;
}

export function cacheDir(env: NodeJS.ProcessEnv): string {
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'gitseal');
  const home = env.HOME || env.USERPROFILE || homedir();
  if (process.platform === 'darwin') return join(home, 'Library', 'Caches', 'gitseal');
  if (process.platform === 'win32' && env.LOCALAPPDATA) return join(env.LOCALAPPDATA, 'gitseal');
  return join(home, '.cache', 'gitseal');
}

export function keyFilePath(env: NodeJS.ProcessEnv): string {
  return env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, 'gitseal', 'cache.key') : join(cacheDir(env), 'cache.key');
}

export function cacheSlot(k: CacheKey): string {
  return createHash('sha256').update(`${k.issuer}\n${k.clientID}\n${k.connectorID ?? ''}`).digest('hex').slice(0, 32);
}

function tokenFile(env: NodeJS.ProcessEnv, slot: string): string {
  return join(cacheDir(env), `${TOKEN_PREFIX}${slot}.enc`);
}

async function keyringOf(o: CacheOptions): Promise<SecretStore | undefined> {
  if (o.keyring === null) return undefined;
  return o.keyring ?? (await openKeyring(o.env));
}

/** A cached token for this issuer/client that is valid for at least EXPIRY_MARGIN_MS more, or undefined. */
export async function readCachedToken(k: CacheKey, o: CacheOptions): Promise<CachedToken | undefined> {
  const slot = cacheSlot(k);
  const keyring = await keyringOf(o);
  let stored: string | undefined;
  let storedIn: CachedToken['storedIn'] = 'keyring';
  if (keyring) {
    try {
      stored = keyring.get(TOKEN_PREFIX + slot);
    } catch {
      stored = undefined;
    }
  }
  if (stored === undefined) {
    storedIn = 'file';
    stored = readEncrypted(o.env, slot, keyring);
  }
  if (stored === undefined) return undefined;
  const entry = parseEntry(stored);
  if (
    !entry ||
    entry.issuer !== k.issuer ||
    entry.clientID !== k.clientID ||
    (entry.connectorID ?? '') !== (k.connectorID ?? '') ||
    !usable(entry.raw, k, o.now)
  ) {
    removeSlot(o.env, slot, keyring);
    return undefined;
  }
  return { ...entry, storedIn };
}

/** Keep `raw` for later signing; returns where it went. */
export async function storeToken(k: CacheKey, raw: string, o: CacheOptions): Promise<'keyring' | 'file'> {
  const slot = cacheSlot(k);
  const keyring = await keyringOf(o);
  const entry = JSON.stringify({ v: 1, issuer: k.issuer, clientID: k.clientID, connectorID: k.connectorID, raw });
  if (keyring) {
    try {
      keyring.set(TOKEN_PREFIX + slot, entry);
      rmSync(tokenFile(o.env, slot), { force: true });
      return 'keyring';
    } catch {
      // Too large for this keyring, or it refused: the encrypted file takes it.
    }
  }
  writeEncrypted(o.env, slot, entry, keyring);
  return 'file';
}

/** Remove every cached token (all issuers) and the file key; returns how many items were removed. */
export async function clearTokenCache(o: Omit<CacheOptions, 'now'>): Promise<number> {
  let removed = 0;
  const keyring = await keyringOf({ ...o, now: 0 });
  if (keyring) {
    for (const account of keyring.accounts()) {
      if ((account.startsWith(TOKEN_PREFIX) || account === FILE_KEY_ACCOUNT) && keyring.delete(account)) removed++;
    }
  }
  const dir = cacheDir(o.env);
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    names = [];
  }
  for (const name of names) {
    if (name.startsWith(TOKEN_PREFIX) && name.endsWith('.enc')) {
      rmSync(join(dir, name), { force: true });
      removed++;
    }
  }
  for (const f of new Set([keyFilePath(o.env), join(dir, 'cache.key')])) {
    try {
      rmSync(f);
      removed++;
    } catch {
      // not there
    }
  }
  return removed;
}

function usable(raw: string, k: CacheKey, now: number): boolean {
  try {
    const claims = parseJwtClaims(raw, 'the token cache');
    checkIdTokenClaims(claims, { issuer: k.issuer, audience: k.clientID, now, skew: 0 }, 'the token cache');
    return (claims.exp as number) * 1000 - now >= EXPIRY_MARGIN_MS;
  } catch {
    return false;
  }
}

function parseEntry(text: string): (CacheKey & { raw: string }) | undefined {
  try {
    const e = JSON.parse(text) as { v?: number; issuer?: unknown; clientID?: unknown; connectorID?: unknown; raw?: unknown };
    if (e.v !== 1 || typeof e.issuer !== 'string' || typeof e.clientID !== 'string' || typeof e.raw !== 'string') return undefined;
    return { issuer: e.issuer, clientID: e.clientID, connectorID: typeof e.connectorID === 'string' ? e.connectorID : undefined, raw: e.raw };
  } catch {
    return undefined;
  }
}

function removeSlot(env: NodeJS.ProcessEnv, slot: string, keyring: SecretStore | undefined): void {
  keyring?.delete(TOKEN_PREFIX + slot);
  rmSync(tokenFile(env, slot), { force: true });
}

function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/** Write `data` to `file` atomically with mode 0600: a temp file in the same directory, then rename(2). */
function writeAtomic(file: string, data: string | Buffer): void {
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, data, { mode: 0o600, flag: 'wx' });
    renameSync(tmp, file);
  } finally {
    rmSync(tmp, { force: true });
  }
}

// AES-256-GCM (NIST SP 800-38D): 96-bit random IV, 128-bit tag; the slot is
// additional data so a file renamed into another slot does not decrypt.
function aad(slot: string): Buffer {
  return Buffer.from(`gitseal token cache v1 ${slot}`);
}

function writeEncrypted(env: NodeJS.ProcessEnv, slot: string, plain: string, keyring: SecretStore | undefined): void {
  const key = fileKey(env, keyring, true);
  if (!key) throw new GitsealError('CONFIG', `the token cache key ${keyFilePath(env)} is damaged; run "gitseal logout"`);
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(aad(slot));
  const data = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  const body = JSON.stringify({ v: 1, alg: 'A256GCM', iv: iv.toString('base64'), tag: c.getAuthTag().toString('base64'), data: data.toString('base64') });
  ensureDir(cacheDir(env));
  writeAtomic(tokenFile(env, slot), body);
}

function readEncrypted(env: NodeJS.ProcessEnv, slot: string, keyring: SecretStore | undefined): string | undefined {
  let body: { v?: number; iv?: string; tag?: string; data?: string };
  try {
    body = JSON.parse(readFileSync(tokenFile(env, slot), 'utf8'));
  } catch {
    return undefined;
  }
  const key = fileKey(env, keyring, false);
  if (!key || body.v !== 1 || !body.iv || !body.tag || !body.data) return undefined;
  try {
    const d = createDecipheriv('aes-256-gcm', key, Buffer.from(body.iv, 'base64'));
    d.setAAD(aad(slot));
    d.setAuthTag(Buffer.from(body.tag, 'base64'));
    return Buffer.concat([d.update(Buffer.from(body.data, 'base64')), d.final()]).toString('utf8');
  } catch {
    // Wrong key (it was removed or replaced) or a damaged file: a cache miss.
    return undefined;
  }
}

function fileKey(env: NodeJS.ProcessEnv, keyring: SecretStore | undefined, create: boolean): Buffer | undefined {
  if (keyring) {
    try {
      const k = keyring.get(FILE_KEY_ACCOUNT);
      if (k) return Buffer.from(k, 'base64');
      if (create) {
        const fresh = randomBytes(32);
        keyring.set(FILE_KEY_ACCOUNT, fresh.toString('base64'));
        return fresh;
      }
      return undefined;
    } catch {
      // fall through to the key file
    }
  }
  const file = keyFilePath(env);
  const read = (): Buffer | undefined => {
    try {
      const k = readFileSync(file);
      return k.length === 32 ? k : undefined;
    } catch {
      return undefined;
    }
  };
  const existing = read();
  if (existing || !create) return existing;
  ensureDir(join(file, '..'));
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, randomBytes(32), { mode: 0o600, flag: 'wx' });
    // link(2) never replaces an existing key: two first logins racing agree on one key.
    linkSync(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    rmSync(tmp, { force: true });
  }
  return read();
}
