/**
 * Reading and writing git configuration through `git config` subprocesses, for
 * `gitseal init` (not the hot path: signing and verifying read config
 * in-process, src/config/). Going through git itself keeps file syntax,
 * includes and locking exactly as git wants them.
 */
import { execFileSync } from 'node:child_process';
import { GitsealError } from '../errors.js';

export type ConfigScope = 'local' | 'global';

export interface GitEnv {
  cwd: string;
  env: NodeJS.ProcessEnv;
}

interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

function git(args: string[], g: GitEnv): RunResult {
  try {
    const stdout = execFileSync('git', args, { cwd: g.cwd, env: g.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { status: 0, stdout, stderr: '' };
  } catch (e) {
    const x = e as { status?: number | null; stdout?: string; stderr?: string; code?: string };
    if (x.code === 'ENOENT') throw new GitsealError('CONFIG', 'git is not installed or not on PATH');
    return { status: x.status ?? 1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

function firstLine(s: string): string {
  return s.split('\n').find((l) => l.trim() !== '')?.replace(/^(fatal|error): /, '') ?? 'unknown error';
}

/** The repository's .git directory (absolute), or undefined outside a repository. */
export function findGitDir(g: GitEnv): string | undefined {
  const r = git(['rev-parse', '--absolute-git-dir'], g);
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Current value of `key` in one scope; undefined when unset. Multi-valued keys: the last value (what git uses). */
export function configGet(key: string, scope: ConfigScope, g: GitEnv): string | undefined {
  const r = git(['config', `--${scope}`, '--get-all', key], g);
  // exit 1 = key not set (git-config(1) EXIT STATUS)
  if (r.status === 1) return undefined;
  if (r.status !== 0) throw new GitsealError('CONFIG', `git config --${scope} ${key}: ${firstLine(r.stderr)}`);
  const values = r.stdout.replace(/\n$/, '').split('\n');
  return values[values.length - 1];
}

/** The value git would use (all scopes), and the file it comes from. */
export function configGetEffective(key: string, g: GitEnv): { value: string; origin: string } | undefined {
  const r = git(['config', '--show-origin', '--get', key], g);
  if (r.status === 1) return undefined;
  if (r.status !== 0) return undefined;
  const line = r.stdout.replace(/\n$/, '');
  const tab = line.indexOf('\t');
  return tab === -1 ? { value: line, origin: 'unknown' } : { origin: line.slice(0, tab), value: line.slice(tab + 1) };
}

export function configSet(key: string, value: string, scope: ConfigScope, g: GitEnv): void {
  const r = git(['config', `--${scope}`, '--replace-all', key, value], g);
  if (r.status !== 0) throw new GitsealError('CONFIG', `could not set ${key} (git config --${scope}): ${firstLine(r.stderr)}`);
}

export function configUnset(key: string, scope: ConfigScope, g: GitEnv): void {
  const r = git(['config', `--${scope}`, '--unset-all', key], g);
  // exit 5 = nothing to unset; fine
  if (r.status !== 0 && r.status !== 5) throw new GitsealError('CONFIG', `could not unset ${key} (git config --${scope}): ${firstLine(r.stderr)}`);
}

/** `git --version` → "2.39.5", or undefined without git. */
export function gitVersion(g: GitEnv): string | undefined {
  const r = git(['--version'], g);
  return r.status === 0 ? r.stdout.trim().replace(/^git version /, '') : undefined;
}
