/**
 * Regular expressions that run in time linear in their input, whatever the pattern: V8's
 * experimental non-backtracking engine (the `l` flag). Policy regexps come from files and
 * config a repository or another person may write; on the backtracking engine `^(a+)+$`
 * against forty `a`s and a `b` never returns, so one allowed-signers line hung git's
 * `--verify` call, `gitseal verify`, the library and the pre-receive hook.
 *
 * The engine needs V8's `--enable-experimental-regexp-engine`, set here (process-wide, worker
 * threads included) before the first such regexp is compiled; it runs no backreferences, no
 * lookahead (lookbehind too on Node 20) and no case-insensitive flag: a pattern it cannot run is
 * refused, never run on the other engine. `node:v8` is loaded only then (it pulls in streams,
 * which git's `--verify` path does not otherwise need).
 */
let enabled = false;

function enable(): void {
  if (enabled) return;
  const v8 = process.getBuiltinModule('node:v8');
  v8.setFlagsFromString('--enable-experimental-regexp-engine');
  enabled = true;
}

/** Compile `src` for the linear engine; throws SyntaxError when it is no regexp or one the engine cannot run. */
export function linearRegExp(src: string): RegExp {
  enable();
  return new RegExp(src, 'l');
}

/** True when `re` runs on the linear engine (the `l` flag is set). */
export function isLinear(re: RegExp): boolean {
  return re.flags.includes('l');
}
