/**
 * Where trust material comes from: the environment names gitseal honours
 * (its own, gitsign's and cosign's, so existing private-instance deployments
 * work unchanged — gitsign issue #320), the cache directory `gitseal
 * initialize` writes, and a per-process memo of parsed trust files.
 *
 * Hot path: node: built-ins only.
 */
import { lstatSync, statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GitsealError, fsReason } from '../errors.js';

/** Environment variables, in the order they are consulted within each piece. */
export const TRUST_ENV = {
  /** A whole TrustedRoot JSON (gitseal's own; same role as git config gitseal.trustedRoot). */
  trustedRoot: 'GITSEAL_TRUSTED_ROOT',
  /** PEM bundle of Fulcio CA certificates: gitsign's names first, then cosign/sigstore-go's. */
  fulcioRoots: ['GITSIGN_FULCIO_ROOT', 'SIGSTORE_FULCIO_ROOT', 'SIGSTORE_ROOT_FILE'],
  /** PEM public key(s) of Rekor v1 logs (cosign). */
  rekorKey: 'SIGSTORE_REKOR_PUBLIC_KEY',
  /** PEM public key(s) of CT logs (cosign). */
  ctlogKey: 'SIGSTORE_CT_LOG_PUBLIC_KEY_FILE',
  /** PEM chain of a timestamp authority, leaf to root (cosign). */
  tsaChain: 'SIGSTORE_TSA_CERTIFICATE_FILE',
  /** cosign's TUF metadata directory; gitseal initialize keeps its TUF state there when set. */
  tufRoot: 'TUF_ROOT',
} as const;

/** A set, non-empty environment value (an empty variable counts as unset, like cosign). */
export function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  return v ? v : undefined;
}

/**
 * gitseal's cache directory, $XDG_CACHE_HOME/gitseal or $HOME/.cache/gitseal
 * (the same place src/cli/files.ts userCacheDir names). Only the given
 * environment is consulted: with neither variable there is no cache.
 */
export function gitsealCacheDir(env: NodeJS.ProcessEnv): string | undefined {
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'gitseal');
  if (env.HOME) return join(env.HOME, '.cache', 'gitseal');
  return undefined;
}

/**
 * Why `path` (a directory or file of gitseal's cache) is not this user's own — another owner, a
 * symbolic link, writable by group or others — or undefined when it is. Trust material kept there
 * is used without being verified again: whoever can write it chooses what gitseal trusts.
 */
export function notOwnedPrivately(path: string): string | undefined {
  const uid = process.geteuid?.();
  if (uid === undefined) return undefined; // Windows: no owners to compare
  let st: import('node:fs').Stats;
  try {
    st = lstatSync(path);
  } catch (e) {
    return `cannot be examined (${errnoText(e)})`;
  }
  if (st.isSymbolicLink()) return 'it is a symbolic link';
  if (st.uid !== uid) return `it is owned by another user (uid ${st.uid})`;
  if (st.mode & 0o022) return 'it is writable by others';
  return undefined;
}

/** The trusted root `refreshTrustedRoot` / `gitseal initialize` leaves in `cacheDir`. */
export function cachedTrustedRootPath(cacheDir: string): string {
  return join(cacheDir, 'trusted_root.json');
}

/**
 * Where `gitseal initialize` keeps TUF metadata (root.json, timestamp.json, …):
 * $TUF_ROOT when set, as cosign does, else `<cacheDir>/tuf`. The verified
 * trusted_root.json itself always goes to `<cacheDir>/trusted_root.json`.
 */
export function tufMetadataDir(env: NodeJS.ProcessEnv, cacheDir: string | undefined = gitsealCacheDir(env)): string | undefined {
  const tufRoot = envValue(env, TRUST_ENV.tufRoot);
  if (tufRoot) return tufRoot;
  return cacheDir ? join(cacheDir, 'tuf') : undefined;
}

/** `path` with the home directory shown as ~, for messages. */
export function displayPath(path: string, env: NodeJS.ProcessEnv): string {
  const home = env.HOME;
  return home && home !== '/' && (path === home || path.startsWith(home.endsWith('/') ? home : home + '/')) ? '~' + path.slice(home.replace(/\/$/, '').length) : path;
}

/** Largest trust file read (PEM bundles and trusted roots are a few KB). */
const MAX_TRUST_FILE_BYTES = 1024 * 1024;

interface Memo {
  mtimeMs: number;
  size: number;
  ino: number;
  value: unknown;
}

const memo = new Map<string, Memo>();

export interface TrustFile<T> {
  value: T;
  modified: Date;
  /** Bytes read. */
  size: number;
}

/**
 * Read and parse one trust file, memoised in this process by path, kind,
 * mtime, size and inode, so repeated loads cost one stat. A missing,
 * unreadable, oversized or unparseable file throws GitsealError('TRUST_ROOT')
 * naming the file and where it was configured — never a silent fallback.
 */
export function readTrustFile<T>(path: string, kind: string, origin: string, parse: (bytes: Buffer) => T): TrustFile<T> {
  const key = `${kind}\0${path}`;
  let st: import('node:fs').Stats;
  try {
    st = statSync(path);
  } catch (e) {
    throw new GitsealError('TRUST_ROOT', `cannot read ${kind} ${path} (${origin}): ${errnoText(e)}`, e);
  }
  if (!st.isFile()) throw new GitsealError('TRUST_ROOT', `cannot read ${kind} ${path} (${origin}): not a regular file`);
  if (st.size > MAX_TRUST_FILE_BYTES) throw new GitsealError('TRUST_ROOT', `${kind} ${path} (${origin}) is larger than 1 MiB`);
  const hit = memo.get(key);
  if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size && hit.ino === st.ino) {
    return { value: hit.value as T, modified: st.mtime, size: st.size };
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new GitsealError('TRUST_ROOT', `cannot read ${kind} ${path} (${origin}): ${errnoText(e)}`, e);
  }
  let value: T;
  try {
    value = parse(bytes);
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new GitsealError('TRUST_ROOT', `${kind} ${path} (${origin}) is not usable: ${why}`, e);
  }
  if (memo.size > 32) memo.clear();
  memo.set(key, { mtimeMs: st.mtimeMs, size: bytes.length, ino: st.ino, value });
  return { value, modified: st.mtime, size: bytes.length };
}

function errnoText(e: unknown): string {
  return fsReason(e) ?? 'read error';
}
