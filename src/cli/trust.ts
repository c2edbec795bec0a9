/**
 * Which trusted root the CLI verifies with — exactly what git's verify path
 * uses (src/trust/load.ts: gitseal.trustedRoot / GITSEAL_TRUSTED_ROOT, PEM
 * overrides, the `gitseal initialize` cache, else the embedded public-good
 * root) — plus what `doctor` shows about it.
 */
import { statSync } from 'node:fs';
import type { GitsealConfig } from '../config/types.js';
import { trustForConfig, type LoadedTrustedRoot } from '../trust/load.js';

export interface ResolvedTrust extends LoadedTrustedRoot {
  /** Modification time of the file the root (or its base) came from, when it came from a file. */
  modified?: Date;
}

export function resolveTrustedRoot(cfg: GitsealConfig, env: NodeJS.ProcessEnv): ResolvedTrust {
  const loaded = trustForConfig(cfg, env);
  let modified: Date | undefined;
  const file = loaded.layer === 'file' || loaded.layer === 'cache' ? loaded.files[0] : undefined;
  if (file) {
    try {
      modified = statSync(file).mtime;
    } catch {
      modified = undefined;
    }
  }
  return { ...loaded, modified };
}
