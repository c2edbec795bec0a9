/**
 * Refresh the trusted root through The Update Framework (TUF spec 1.0) with
 * @sigstore/tuf: root rotation, timestamp → snapshot → targets, thresholds,
 * expiry and target hashes are all checked by tuf-js before a byte of
 * trusted_root.json is accepted. The verified file goes to the user's cache
 * (0600 in a 0700 directory) by rename, so readers never see half a file; on
 * any failure the last good copy stays in place and the caller gets a warning.
 *
 * Trust material comes only from the TUF mirror, never from Fulcio or Rekor
 * (fetching keys from the service they vouch for is CVE-2023-47122's mistake).
 * Not on the hot path: @sigstore/tuf is imported only when a refresh runs.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeError, GitsealError } from '../errors.js';
import { notOwnedPrivately } from './sources.js';
import { parseTrustedRoot } from './trusted-root.js';

export interface RefreshOptions {
  /** TUF repository base URL (metadata at URL/N.root.json, targets at URL/targets/). */
  mirrorURL: string;
  /** Initial root.json to trust; needed for any mirror but the public-good one (built into @sigstore/tuf). */
  rootPath?: string;
  /** The user's gitseal cache directory (e.g. ~/.cache/gitseal): trusted_root.json and tuf/ go here. */
  cacheDir: string;
  /** Where TUF keeps its metadata (cosign's $TUF_ROOT); default cacheDir/tuf. */
  tufDir?: string;
  /** Per request, milliseconds (default 10 s). */
  fetchTimeout?: number;
}

export interface RefreshResult {
  /** Where the trusted root to use is (the refreshed copy, or the last good one). */
  trustedRootPath: string;
  /** True when the mirror was reached and a verified copy written (even if unchanged). */
  refreshed: boolean;
  /** The copy changed on disk. */
  changed?: boolean;
  /** Why the refresh failed and the last good copy is used. */
  warning?: string;
}

export const TRUSTED_ROOT_TARGET = 'trusted_root.json';

function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // The TUF root and the trusted root kept here decide what gitseal trusts: a directory another
  // user owns (chmod works for root, and would hide it) must not be used, nor its "last good copy".
  const why = notOwnedPrivately(dir);
  if (why && !/writable by others/.test(why)) throw new GitsealError('TUF', `the cache directory ${dir} cannot hold trust material: ${why}`);
  chmodSync(dir, 0o700);
}

/** tuf-js writes with the process umask; bring its cache to 0700/0600 like every gitseal file. */
function tightenTree(dir: string): void {
  if (!existsSync(dir)) return;
  chmodSync(dir, 0o700);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) tightenTree(p);
    else if (e.isFile()) chmodSync(p, 0o600);
  }
}

function writeAtomic(path: string, data: string): void {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, data, { mode: 0o600, flag: 'wx' });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** A tuf-js/@sigstore/tuf error as one line: the outer code plus the innermost reason. */
function reason(e: unknown): string {
  let inner: unknown = e;
  const seen = new Set<unknown>();
  while (inner && typeof inner === 'object' && 'cause' in inner && (inner as { cause?: unknown }).cause && !seen.has(inner)) {
    seen.add(inner);
    inner = (inner as { cause: unknown }).cause;
  }
  const outer = describeError(e);
  const root = describeError(inner);
  return inner !== e && root && !outer.includes(root) ? `${outer}: ${root}` : outer;
}

/**
 * Fetch and verify trusted_root.json from the TUF mirror into
 * `cacheDir/trusted_root.json`. Never throws when a last good copy exists;
 * throws GitsealError('TUF') when the refresh fails and there is none.
 */
export async function refreshTrustedRoot(o: RefreshOptions): Promise<RefreshResult> {
  let mirror: string;
  try {
    mirror = new URL(o.mirrorURL).href.replace(/\/+$/, '');
  } catch {
    throw new GitsealError('USAGE', `the TUF mirror must be a URL, not "${o.mirrorURL}"`);
  }
  if (o.rootPath && !existsSync(o.rootPath)) throw new GitsealError('USAGE', `the initial TUF root ${o.rootPath} does not exist`);
  ensurePrivateDir(o.cacheDir);
  const dest = join(o.cacheDir, TRUSTED_ROOT_TARGET);
  const tufDir = o.tufDir ?? join(o.cacheDir, 'tuf');
  ensurePrivateDir(tufDir);

  let text: string;
  try {
    const { initTUF } = await import('@sigstore/tuf');
    const tuf = await initTUF({ mirrorURL: mirror, rootPath: o.rootPath, cachePath: tufDir, timeout: o.fetchTimeout ?? 10_000, retry: { retries: 1 } });
    text = await tuf.getTarget(TRUSTED_ROOT_TARGET);
    // Parse before replacing the good copy: a TUF-valid but unusable file must not win.
    parseTrustedRoot(text);
  } catch (e) {
    tightenTree(tufDir);
    const why = reason(e);
    if (existsSync(dest) && !notOwnedPrivately(dest)) {
      const when = statSync(dest).mtime.toISOString();
      return { trustedRootPath: dest, refreshed: false, warning: `could not refresh the trusted root from ${mirror} (${why}); using the last good copy from ${when}` };
    }
    throw new GitsealError('TUF', `could not refresh the trusted root from ${mirror}: ${why}`, e);
  }
  tightenTree(tufDir);
  const before = existsSync(dest) ? readFileSync(dest, 'utf8') : undefined;
  const changed = before !== text;
  if (changed) writeAtomic(dest, text);
  return { trustedRootPath: dest, refreshed: true, changed };
}
