/** Where the installed gitseal lives: its package root and the bin/gitseal launcher. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isEmbedded } from '../sea/embedded.js';

let cached: string | undefined;

/** The directory holding gitseal's package.json (works from src/ under tests and from dist/ bundles). */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'gitseal') return (cached = dir);
      } catch {
        // not ours; keep walking
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the gitseal package root');
    dir = up;
  }
}

/** The version baked in at build time, else package.json's. */
export function gitsealVersion(): string {
  const baked = process.env.GITSEAL_BUILD_VERSION;
  if (baked && baked !== '0.0.0') return baked;
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/**
 * Absolute path of the program git should run: bin/gitseal of this installation, or the
 * single-file executable itself (its real path: Linux resolves a symlink on PATH to it).
 */
export function gitsealProgram(): string {
  if (isEmbedded()) return process.execPath;
  return join(packageRoot(), 'bin', 'gitseal');
}
