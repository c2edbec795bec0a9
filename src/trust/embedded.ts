/**
 * The Sigstore public-good trusted root, shipped inside gitseal so that
 * verification works offline and without a TUF cache.
 *
 * Origin: `public-good/trusted_root.json` is byte-for-byte the target
 * `trusted_root.json` of the TUF repository https://tuf-repo-cdn.sigstore.dev
 * as embedded (base64) in `seeds.json` of the npm package @sigstore/tuf 4.0.2.
 * Refresh it from a newer @sigstore/tuf (or a TUF update) and update DIGEST;
 * test/trust/trusted-root.test.ts checks both.
 */
import publicGood from './public-good/trusted_root.json' with { type: 'json' };
// load.ts imports embeddedTrustedRoot back; both are used only inside functions, so the ESM cycle is safe.
import { loadTrustedRoot as loadTrustedRootWithSource } from './load.js';
import { trustedRootFromJson, type TrustedRoot } from './trusted-root.js';

/** SHA-256 of public-good/trusted_root.json (the bundler inlines the parsed JSON, not the bytes). */
export const EMBEDDED_DIGEST = '6494e21ea73fa7ee769f85f57d5a3e6a08725eae1e38c755fc3517c9e6bc0b66';

let embedded: TrustedRoot | undefined;

/** The embedded public-good trusted root (parsed once per process). */
export function embeddedTrustedRoot(): TrustedRoot {
  embedded ??= trustedRootFromJson(publicGood, EMBEDDED_DIGEST);
  return embedded;
}

/**
 * The old contract, kept for existing callers: the trusted root alone, by the
 * full precedence of ./load.ts (gitseal.trustedRoot / GITSEAL_TRUSTED_ROOT,
 * gitsign/cosign PEM overrides, TUF cache, embedded). Its `source` and
 * `warnings` are dropped here; callers that show them use load.ts directly.
 */
export function loadTrustedRoot(opts: { path?: string; env: NodeJS.ProcessEnv }): TrustedRoot {
  return loadTrustedRootWithSource(opts).root;
}
