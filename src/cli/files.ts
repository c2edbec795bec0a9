/**
 * Where the CLI keeps its own files (init's undo record), and how it writes them: 0600 files in
 * 0700 directories, written to a temporary name and renamed so a crash never
 * leaves half a file.
 */
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export function userConfigDir(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'gitseal');
}

/** mkdir -p with 0700 for the directories we create. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** Atomic write of a private file (0600) in a directory we own (0700 when we create it). */
export function writePrivateFile(path: string, data: string | Buffer, opts: { privateDir?: boolean } = {}): void {
  const dir = dirname(path);
  if (opts.privateDir !== false) {
    ensurePrivateDir(dir);
  } else {
    mkdirSync(dir, { recursive: true });
  }
  const tmp = join(dir, `.${randomBytes(6).toString('hex')}.tmp`);
  writeFileSync(tmp, data, { mode: 0o600, flag: 'wx' });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}
