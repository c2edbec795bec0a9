/**
 * Drive the real gitseal binary (bin/gitseal → dist/, built by `npm run build`)
 * in an isolated environment: a temporary HOME, no system git config, and no
 * GITSEAL_/GITSIGN_/SIGSTORE_ variables from the caller.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
/** GITSEAL_TEST_BIN lets a run point at another installation (e.g. a packed copy). */
export const BIN = process.env.GITSEAL_TEST_BIN ?? join(ROOT, 'bin', 'gitseal');

export interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

export function cleanEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    // CI's own markers too (CI, GITHUB_ACTIONS, GITLAB_CI, BUILDKITE…): gitseal reads them, and a
    // test must see the same program under `CI=true npm test` as locally.
    if (/^(GITSEAL_|GITSIGN_|SIGSTORE_|TUF_|GIT_|XDG_|ACTIONS_|GITHUB_|GITLAB_|BUILDKITE|CI$|CI_|NO_COLOR|FORCE_COLOR)/.test(k)) continue;
    env[k] = v;
  }
  return {
    ...env,
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Test Author',
    GIT_AUTHOR_EMAIL: 'author@example.test',
    GIT_COMMITTER_NAME: 'Test Committer',
    GIT_COMMITTER_EMAIL: 'committer@example.test',
    // keep the agent (if any command starts it) inside the test's home
    GITSEAL_AGENT_SOCK: join(home, 'agent', 'agent.sock'),
    ...extra,
  };
}

export class Sandbox {
  readonly dir: string;
  readonly home: string;
  env: NodeJS.ProcessEnv;

  constructor(prefix = 'gitseal-cli-') {
    this.dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
    this.home = join(this.dir, 'home');
    spawnSync('mkdir', ['-p', this.home]);
    // A private runtime directory, as a desktop session has (/run/user/UID): where the token
    // cache key may live apart from ~/.cache (no keyring here).
    const run = join(this.dir, 'run');
    mkdirSync(run, { mode: 0o700 });
    this.env = cleanEnv(this.home, { XDG_RUNTIME_DIR: run });
  }

  gitseal(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Run {
    const r = spawnSync(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? this.dir,
      env: { ...this.env, ...opts.env },
      input: opts.input ?? '',
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  /** Like gitseal(), without blocking this process (for tests that serve HTTP in-process). */
  gitsealAsync(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
    return new Promise((resolve) => {
      const cp = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? this.dir, env: { ...this.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      cp.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      cp.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      cp.on('close', (code) => resolve({ status: code ?? -1, stdout, stderr }));
    });
  }

  git(args: string[], cwd: string, input?: string | Buffer): string {
    const r = spawnSync('git', args, { cwd, env: this.env, input, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  }

  /** git config --get that returns undefined when unset. */
  gitConfig(args: string[], cwd: string): string | undefined {
    const r = spawnSync('git', ['config', ...args], { cwd, env: this.env, encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : undefined;
  }

  repo(name = 'repo', bare = false): string {
    const p = join(this.dir, name);
    this.git(['init', '-q', ...(bare ? ['--bare'] : []), p], this.dir);
    return p;
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The real path of the launcher the binary reports for itself (what init writes). */
export function binRealPath(): string {
  return realpathSync(BIN);
}
