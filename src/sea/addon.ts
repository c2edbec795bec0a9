/**
 * The keyring's native addon (@napi-rs/keyring) inside the single-file executable. Node loads a
 * native addon only from a file (process.dlopen), so the executable carries the addon's bytes as
 * an asset (scripts/build-sea.mjs) and writes them, once per build, to
 * `<cache>/native/keyring-<sha256>.node` in a directory only this user can write (0700, owned by
 * them, both it and the cache directory above it), then loads that file. The file's SHA-256 is
 * checked against the embedded bytes before every load, and a mismatch is rewritten: what is
 * loaded is always what the executable carries.
 *
 * Where that fails (no addon for this platform in the build, a noexec cache, a musl system with
 * the glibc build) the import fails as it would in a package without the addon, and the token
 * cache uses its encrypted file; `gitseal doctor` says so.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { checkPrivateDir, ensurePrivateDir } from '../agent/paths.js';
import { cacheDir } from '../oidc/token-cache.js';
import { embeddedBytes, embeddedText } from './embedded.js';

/** The asset name of the keyring addon. */
export const KEYRING_ADDON = 'keyring.node';

export function loadEmbeddedKeyring(env: NodeJS.ProcessEnv = process.env): unknown {
  let sum: string;
  try {
    sum = embeddedText(`${KEYRING_ADDON}.sha256`).trim();
  } catch {
    throw Object.assign(new Error('this executable carries no keyring addon for this platform'), { code: 'MODULE_NOT_FOUND' });
  }
  const dir = join(cacheDir(env), 'native');
  ensurePrivateDir(dir);
  checkPrivateDir(dirname(dir));
  const file = join(dir, `keyring-${sum.slice(0, 32)}.node`);
  const same = () => existsSync(file) && createHash('sha256').update(readFileSync(file)).digest('hex') === sum;
  if (!same()) {
    const bytes = embeddedBytes(KEYRING_ADDON);
    if (!bytes || createHash('sha256').update(bytes).digest('hex') !== sum) throw new Error('the embedded keyring addon is damaged');
    const tmp = `${file}.tmp-${process.pid}`;
    try {
      writeFileSync(tmp, bytes, { mode: 0o500, flag: 'wx' });
      renameSync(tmp, file);
    } finally {
      rmSync(tmp, { force: true });
    }
    if (!same()) throw new Error(`${file} does not hold the embedded keyring addon`);
  }
  const mod = { exports: {} as unknown };
  process.dlopen(mod, file);
  return mod.exports;
}
