/**
 * The fast entry for git's verify call (`gitseal --status-fd=1 --verify FILE -`),
 * which git spawns once per signature shown (`git log --show-signature`,
 * `verify-commit`, `verify-tag`).
 *
 * scripts/build.mjs bundles this file as CommonJS into dist/fast-verify.cjs and
 * stores a V8 code cache beside it; bin/gitseal compiles the bundle with that
 * cache through node:vm. Compared with dist/main.js this skips Node's ESM loader
 * and most of V8's parsing and compiling on every call (see the issue "Speed",
 * scripts/bench/latest.md). It runs exactly the same code (gpg/run.ts); it only
 * feeds stdin synchronously instead of through a stream.
 *
 * Anything that is not a gpg-style verify call returns undefined, and bin/gitseal
 * hands it to dist/main.js: signing and the human CLI load ESM modules that must
 * share one GitsealError class, which a separate CommonJS copy would break.
 */
import { parseGpgArgs } from './gpg/args.js';
import { isGpgInvocation } from './gpg/detect.js';
import { runGpg } from './gpg/run.js';
import { syncStdin } from './gpg/sync-stdin.js';

/** True for the argv of a gpg-style verify call, the only calls this entry takes. */
export function isFastVerifyCall(argv: string[]): boolean {
  if (!isGpgInvocation(argv)) return false;
  try {
    return parseGpgArgs(argv).mode === 'verify';
  } catch {
    return false; // usage errors are reported by the full entry
  }
}

/**
 * Run a verify call and resolve to its exit code, or undefined when `argv`
 * is not a verify call (the caller then runs dist/main.js).
 */
export async function runFastVerify(argv: string[]): Promise<number | undefined> {
  if (!isFastVerifyCall(argv)) return undefined;
  const stdin = syncStdin();
  // gpg/run.ts's defaultIo() reads the process.stdin getter even when stdin is
  // passed in, and that getter builds a stream; give it the synchronous reader.
  Object.defineProperty(process, 'stdin', { value: stdin, configurable: true, enumerable: true, writable: true });
  return runGpg(argv, { stdin });
}
