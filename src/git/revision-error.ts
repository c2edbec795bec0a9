/**
 * A failed `git rev-list <revs>` in gitseal's words. git says "fatal: bad revision 'main..nosuch'"
 * for a range with an endpoint that does not exist; gitseal names the endpoint, as it does for a
 * single revision ("no such revision: \"nosuch\""), and calls it a usage error (exit 2). Runs
 * only after rev-list failed, so the extra `git rev-parse` costs nothing on the normal path.
 */
import { spawnSync } from 'node:child_process';
import { GitsealError } from '../errors.js';

/** The revisions a rev-list argument names: "A..B", "A...B", "^A", "A^@" → A, B. */
export function rangeEndpoints(arg: string): string[] {
  const s = arg.startsWith('^') ? arg.slice(1) : arg;
  return s
    .split(/\.{2,3}/)
    .map((p) => p.replace(/\^[@!-]\d*$/, ''))
    .filter((p) => p.length > 0 && !p.startsWith('-'));
}

function exists(repoDir: string, rev: string, env: NodeJS.ProcessEnv): boolean {
  const r = spawnSync('git', ['rev-parse', '--verify', '--quiet', `${rev}^{object}`], { cwd: repoDir, env, stdio: 'ignore' });
  return r.status === 0;
}

export function revListError(repoDir: string, revs: string[], stderrLine: string, code: number, env: NodeJS.ProcessEnv = process.env): GitsealError {
  const bad = /^fatal: (?:bad revision|ambiguous argument) '(.*?)'/.exec(stderrLine)?.[1];
  if (bad !== undefined) {
    const missing = rangeEndpoints(bad).find((r) => !exists(repoDir, r, env));
    if (missing !== undefined) return new GitsealError('USAGE', `no such revision: "${missing}"${missing !== bad ? ` (in "${bad}")` : ''}`);
    return new GitsealError('USAGE', `"${bad}" does not name commits git can list`);
  }
  return new GitsealError('GIT', `git rev-list ${revs.join(' ')} failed: ${stderrLine || `exit ${code}`}`);
}
