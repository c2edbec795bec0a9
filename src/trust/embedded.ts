/**
 * The Sigstore public-good trusted root, shipped inside gitseal so that
 * verification works offline and without a TUF cache.
 *
 * Origin: `public-good/trusted_root.json` is byte-for-byte the target
 * `trusted_root.json` of the TUF repository https://tuf-repo-cdn.sigstore.dev
 * as embedded (base64) in `seeds.json` of the npm package @sigstore/tuf 4.0.2.
 * Refresh it from a newer @sigstore/tuf (or a TUF update) and update DIGEST;
 * test/trust/embedded.test.ts checks both.
 */
import { readFileSync } from 'node:fs';
import { GitsealError } from '../errors.js';
import publicGood from './public-good/trusted_root.json' with { type: 'json' };
import { parseTrustedRoot, trustedRootFromJson, type TrustedRoot } from './trusted-root.js';

/** SHA-256 of public-good/trusted_root.json (the bundler inlines the parsed JSON, not the bytes). */
export const EMBEDDED_DIGEST = '6494e21ea73fa7ee769f85f57d5a3e6a08725eae1e38c755fc3517c9e6bc0b66';

let embedded: TrustedRoot | undefined;

/** The embedded public-good trusted root (parsed once per process). */
export function embeddedTrustedRoot(): TrustedRoot {
  embedded ??= trustedRootFromJson(publicGood, EMBEDDED_DIGEST);
  return embedded;
}

/**
 * The trusted root to verify with: `path` when given, else the file named by
 * GITSEAL_TRUSTED_ROOT, else the embedded public-good root.
 */
export function loadTrustedRoot(opts: { path?: string; env: NodeJS.ProcessEnv }): TrustedRoot {
  const path = opts.path || opts.env.GITSEAL_TRUSTED_ROOT || undefined;
  if (!path) return embeddedTrustedRoot();
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new GitsealError('TRUST_ROOT', `cannot read the trusted root ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, e);
  }
  return parseTrustedRoot(bytes);
}
