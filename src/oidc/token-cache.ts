/**
 * ID token cache, so one browser login serves every commit until the token is
 * about to expire (never beyond). Keyed by issuer + client id (+ connector).
 *
 * Where: the OS keyring when one answers; otherwise an AES-256-GCM encrypted
 * file in the user cache dir ($XDG_CACHE_HOME/gitseal, dir 0700, file 0600,
 * written to a temp file and renamed so it is never half-written). The file's
 * key is random and lives in the keyring when there is one (a token too large
 * for the keyring, e.g. Windows' 2.5 KB limit, still lands in the file), else
 * in a 0600 key file under $XDG_RUNTIME_DIR (a per-user tmpfs cleared at logout
 * and reboot) — never beside what it encrypts. Without a keyring and without a
 * private runtime directory apart from the cache (containers, cron, su) there is
 * no safe place for the key, so no token is kept on disk at all and `gitseal
 * doctor` says so: a key next to the ciphertext would make copying ~/.cache
 * enough to read the token. (Older gitseal versions did keep it there; such a
 * key is deleted on sight, and the tokens it encrypted with it.)
 *
 * A cached token that cannot be used because the cache is damaged (unreadable
 * JSON, a failed authentication tag, a key that is gone) is discarded and the
 * caller is told (`warn`), so a new login never starts without a word.
 *
 * What the key file protects against, honestly: a copied, synced or backed-up
 * cache directory, or a grep over the disk, shows no token. It does not protect
 * against a process running as the same user, which can read both files — no
 * more than the plain files of other tools (gh, gcloud, docker) do. The token
 * itself is short-lived (minutes) and only good for getting a Fulcio certificate.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { GitsealError, fsReason } from '../errors.js';
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
  /** Told (one line) when a damaged cached login, or a key kept beside the cache, is discarded. */
  warn?(message: string): void;
}

export function cacheDir(env: NodeJS.ProcessEnv): string {
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'gitseal');
  const home = env.HOME || env.USERPROFILE || homedir();
  if (process.platform === 'darwin') return join(home, 'Library', 'Caches', 'gitseal');
  if (process.platform === 'win32' && env.LOCALAPPDATA) return join(env.LOCALAPPDATA, 'gitseal');
  return join(home, '.cache', 'gitseal');
}

/** Where older gitseal versions kept the file key when there was no $XDG_RUNTIME_DIR: beside the ciphertext. */
function legacyKeyFile(env: NodeJS.ProcessEnv): string {
  return join(cacheDir(env), 'cache.key');
}

function inside(child: string, parent: string): boolean {
  const r = relative(parent, child);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
}

/**
 * Where the file key may live: a file in a private $XDG_RUNTIME_DIR (absolute, a directory we
 * own with no group or other permissions, or one we may create so), outside the cache
 * directory and not containing it. Else `none` says why there is no safe place.
 */
export function keyFilePlace(env: NodeJS.ProcessEnv): { file: string } | { none: string } {
  const run = env.XDG_RUNTIME_DIR;
  if (!run) return { none: 'no OS keyring answers and $XDG_RUNTIME_DIR is not set' };
  if (!isAbsolute(run)) return { none: `$XDG_RUNTIME_DIR (${run}) is not an absolute path` };
  // The whole user cache (~/.cache, $XDG_CACHE_HOME) is what gets copied, synced and backed up.
  const cache = dirname(resolve(cacheDir(env)));
  if (inside(resolve(run), cache) || inside(cache, resolve(run))) {
    return { none: `$XDG_RUNTIME_DIR (${run}) and the cache directory (${cache}) overlap, so the key would sit with what it encrypts` };
  }
  const st = statSync(run, { throwIfNoEntry: false }); // what it points to is what must be private
  if (st) {
    const me = typeof process.geteuid === 'function' ? process.geteuid() : undefined;
    if (!st.isDirectory()) return { none: `$XDG_RUNTIME_DIR (${run}) is not a directory` };
    if (me !== undefined && st.uid !== me) return { none: `$XDG_RUNTIME_DIR (${run}) is owned by uid ${st.uid}, not by you` };
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) return { none: `$XDG_RUNTIME_DIR (${run}) is readable by others (mode ${(st.mode & 0o777).toString(8)}; it must be 0700)` };
  }
  return { file: join(run, 'gitseal', 'cache.key') };
}

/** The key file's path when there is a safe place for it (see keyFilePlace); undefined otherwise. */
export function keyFilePath(env: NodeJS.ProcessEnv): string | undefined {
  const p = keyFilePlace(env);
  return 'file' in p ? p.file : undefined;
}

/**
 * Where a login would be kept: the keyring, an encrypted file whose key is in a private runtime
 * directory, or nowhere (and why) — for `gitseal doctor` and `gitseal login`.
 */
export async function tokenCachePlace(o: Pick<CacheOptions, 'env' | 'keyring'>): Promise<{ where: 'keyring'; name: string } | { where: 'file'; keyFile: string } | { where: 'none'; why: string }> {
  const keyring = await keyringOf({ ...o, now: 0 });
  if (keyring) return { where: 'keyring', name: keyring.name };
  const p = keyFilePlace(o.env);
  return 'file' in p ? { where: 'file', keyFile: p.file } : { where: 'none', why: p.none };
}

/** A key an older gitseal left beside the ciphertext defeats the encryption: delete it, and say so. */
function dropLegacyKey(o: Pick<CacheOptions, 'env' | 'warn'>): void {
  const legacy = legacyKeyFile(o.env);
  if (!existsSync(legacy) || legacy === keyFilePath(o.env)) return;
  rmSync(legacy, { force: true });
  o.warn?.(`removed ${legacy}: an older gitseal kept the token cache key beside the cache it encrypts; log in again if asked`);
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
  dropLegacyKey(o);
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
    const r = readEncrypted(o.env, slot, keyring);
    if ('damaged' in r) {
      removeSlot(o.env, slot, keyring);
      o.warn?.(`the cached login ${tokenFile(o.env, slot)} ${r.damaged}; it was discarded`);
      return undefined;
    }
    stored = r.plain;
  }
  if (stored === undefined) return undefined;
  const entry = parseEntry(stored);
  if (!entry) {
    removeSlot(o.env, slot, keyring);
    o.warn?.(`the cached login (${storedIn === 'file' ? tokenFile(o.env, slot) : `${keyring?.name ?? 'keyring'} entry ${TOKEN_PREFIX + slot}`}) is damaged; it was discarded`);
    return undefined;
  }
  if (
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
  dropLegacyKey(o);
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
  for (const f of new Set([keyFilePath(o.env), legacyKeyFile(o.env)].filter((x): x is string => x !== undefined))) {
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

/** The decrypted entry of a slot; `plain: undefined` when there is none; `damaged` says why one could not be used. */
function readEncrypted(env: NodeJS.ProcessEnv, slot: string, keyring: SecretStore | undefined): { plain: string | undefined } | { damaged: string } {
  let text: string;
  try {
    text = readFileSync(tokenFile(env, slot), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { plain: undefined };
    return { damaged: `cannot be read (${fsReason(e) ?? 'error'})` };
  }
  let body: { v?: number; iv?: string; tag?: string; data?: string };
  try {
    body = JSON.parse(text);
  } catch {
    return { damaged: 'is damaged (not JSON)' };
  }
  if (!body || typeof body !== 'object' || body.v !== 1 || typeof body.iv !== 'string' || typeof body.tag !== 'string' || typeof body.data !== 'string') {
    return { damaged: 'is damaged (not a gitseal token cache file)' };
  }
  const key = fileKey(env, keyring, false);
  if (!key) {
    if (keyring) return { damaged: `cannot be decrypted: its key is gone from the ${keyring.name}` };
    const place = keyFilePlace(env);
    return { damaged: 'file' in place ? `cannot be decrypted: its key ${place.file} is gone (the runtime directory is cleared at logout and reboot)` : `cannot be decrypted: ${place.none}` };
  }
  try {
    const d = createDecipheriv('aes-256-gcm', key, Buffer.from(body.iv, 'base64'));
    d.setAAD(aad(slot));
    d.setAuthTag(Buffer.from(body.tag, 'base64'));
    return { plain: Buffer.concat([d.update(Buffer.from(body.data, 'base64')), d.final()]).toString('utf8') };
  } catch {
    // AES-GCM authentication failed: the file was changed, moved into another slot, or encrypted with another key.
    return { damaged: 'is damaged (it does not decrypt with the cache key)' };
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
  const place = keyFilePlace(env);
  if (!('file' in place)) {
    if (!create) return undefined;
    throw new GitsealError('CONFIG', `there is no safe place for the token cache key (${place.none}), so logins are not kept on disk`);
  }
  const file = place.file;
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
