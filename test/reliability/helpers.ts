/**
 * Shared set-up for the reliability and security tests: the project's own
 * sandbox (packages/sandbox/bin/gitseal-sandbox) as a child process, throwaway git repositories
 * wired to bin/gitseal, and a signing-program wrapper that keeps what gitseal
 * printed on stderr (git swallows it: it is git's status fd).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../..');

/**
 * Other engineers rebuild dist/ while these tests run; a rebuild deletes the
 * chunks a running gitseal is about to import. So each test file runs a private
 * snapshot of bin/ + dist/ and of the sandbox package's bin/ + dist/ copied under the
 * build lock (npm packages through a node_modules symlink), built first if missing.
 */
const SNAPSHOT = mkdtempSync(join(tmpdir(), 'gitseal-rel-build-'));
export const GITSEAL = join(SNAPSHOT, 'bin', 'gitseal');
export const SANDBOX = join(SNAPSHOT, 'packages', 'sandbox', 'bin', 'gitseal-sandbox');

export function ensureBuilt(): void {
  if (existsSync(join(SNAPSHOT, 'dist', 'main.js'))) return;
  const script =
    `set -e; cd "${ROOT}"; [ -f dist/main.js ] && [ -f packages/sandbox/dist/main.js ] || npm run build >/dev/null; ` +
    `cp -r bin dist package.json "${SNAPSHOT}/"; mkdir -p "${SNAPSHOT}/packages/sandbox"; ` +
    `cp -r packages/sandbox/bin packages/sandbox/dist packages/sandbox/package.json "${SNAPSHOT}/packages/sandbox/"; ` +
    `ln -s "${ROOT}/node_modules" "${SNAPSHOT}/node_modules"`;
  execFileSync('flock', ['/tmp/build.lock', 'bash', '-c', script], { stdio: 'pipe' });
}

/** Remove the private build snapshot and every tempDir() of this test file (call from afterAll, after stopping what runs there). */
export function removeSnapshot(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true, maxRetries: 3 });
  rmSync(SNAPSHOT, { recursive: true, force: true });
}

const made: string[] = [];

/** A private temporary directory, removed by removeSnapshot() when the test file is done. */
export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(d, 0o700);
  made.push(d);
  return d;
}

export interface Sandbox {
  dir: string;
  env: Record<string, string>;
  token(email?: string, extra?: string[]): string;
  fault(...specs: string[]): void;
  stats(): Record<string, Record<string, number>> & { faultsInjected?: Record<string, number> };
  stop(): Promise<void>;
}

export async function startSandbox(dir: string): Promise<Sandbox> {
  const cp: ChildProcess = spawn(process.execPath, [SANDBOX, 'start', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`sandbox did not start: ${log}`)), 60_000);
    cp.stdout!.on('data', (d: Buffer) => {
      log += d.toString();
      if (/ready/.test(log)) {
        clearTimeout(timer);
        res();
      }
    });
    cp.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    cp.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`sandbox exited (${code}): ${log}`));
    });
  });
  const env: Record<string, string> = {};
  for (const m of readFileSync(join(dir, 'env'), 'utf8').matchAll(/^export (\w+)='([^']*)'$/gm)) env[m[1]] = m[2];
  const run = (args: string[]): string => {
    const r = spawnSync(process.execPath, [SANDBOX, ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`gitseal-sandbox ${args[0]}: ${r.stderr}`);
    return r.stdout;
  };
  return {
    dir,
    env,
    token: (email = 'alice@example.com', extra = []) => run(['token', '--dir', dir, '--email', email, ...extra]).trim(),
    fault: (...specs) => void run(['fault', '--dir', dir, ...specs]),
    stats: () => JSON.parse(run(['stats', '--dir', dir])),
    stop: () =>
      new Promise<void>((res) => {
        if (cp.exitCode !== null) return res();
        cp.once('exit', () => res());
        cp.kill('SIGTERM');
      }),
  };
}

export { deadPort } from '../helpers/dead-port.js';

export interface Repo {
  dir: string;
  /** Where the wrapper appends each gitseal stderr / stdout. */
  stderrLog: string;
  stdoutLog: string;
  git(args: string[], env: NodeJS.ProcessEnv, input?: string): SpawnSyncReturns<string>;
  /** Asynchronous, so in-process servers (test proxies) keep answering while git runs. */
  gitAsync(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }>;
}

export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string, input?: string | Buffer): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const cp = spawn(cmd, args, { env, cwd, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (input !== undefined) cp.stdin!.end(input);
    let stdout = '';
    let stderr = '';
    cp.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    cp.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    cp.on('error', rej);
    cp.on('close', (status) => res({ status, stdout, stderr }));
  });
}

/**
 * A repository signing with bin/gitseal through a tiny wrapper that appends
 * gitseal's stderr to a log file, so the test can read the line a person would
 * see on the terminal. The wrapper passes stdin, stdout and the exit status through.
 */
export function makeRepo(dir: string, opts: { objectFormat?: 'sha1' | 'sha256'; email?: string } = {}): Repo {
  mkdirSync(dir, { recursive: true });
  const stderrLog = join(dir, '..', `${dir.split('/').pop()}.gitseal-stderr.log`);
  const stdoutLog = join(dir, '..', `${dir.split('/').pop()}.gitseal-stdout.log`);
  const wrapper = join(dir, '..', `${dir.split('/').pop()}.wrap.sh`);
  // Temp files, not pipes: a process-substitution pipe would be inherited by the agent gitseal
  // starts (bash leaves /dev/fd/63 open in the command), and git would wait for its EOF forever.
  writeFileSync(
    wrapper,
    [
      '#!/bin/bash',
      'o=$(mktemp) e=$(mktemp)',
      `"${GITSEAL}" "$@" >"$o" 2>"$e"`,
      'rc=$?',
      `cat "$o"; cat "$e" >&2; cat "$o" >>"${stdoutLog}"; cat "$e" >>"${stderrLog}"; rm -f "$o" "$e"`,
      'exit $rc',
      '',
    ].join('\n'),
  );
  chmodSync(wrapper, 0o700);
  const base = ['-c', 'init.defaultBranch=main'];
  execFileSync('git', [...base, 'init', '-q', ...(opts.objectFormat ? [`--object-format=${opts.objectFormat}`] : []), dir]);
  const cfg: Array<[string, string]> = [
    ['user.name', 'Alice'],
    ['user.email', opts.email ?? 'alice@example.com'],
    ['gpg.format', 'x509'],
    ['gpg.x509.program', wrapper],
    ['commit.gpgsign', 'true'],
    ['tag.gpgsign', 'true'],
  ];
  for (const [k, v] of cfg) execFileSync('git', ['-C', dir, 'config', k, v]);
  return {
    dir,
    stderrLog,
    stdoutLog,
    git: (args, env, input) => spawnSync('git', ['-C', dir, ...args], { env, encoding: 'utf8', input, timeout: 240_000 }),
    gitAsync: (args, env) => run('git', ['-C', dir, ...args], env),
  };
}

/** An environment with nothing ambient: private HOME, cache and runtime dirs, no keyring, no agent unless asked. */
export function isolatedEnv(home: string, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  mkdirSync(join(home, 'run'), { recursive: true, mode: 0o700 });
  chmodSync(join(home, 'run'), 0o700);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_RUNTIME_DIR: join(home, 'run'),
    GIT_CONFIG_NOSYSTEM: '1',
    GITSEAL_KEYRING: 'off',
    GITSEAL_AGENT: 'off',
    LANG: 'C',
  };
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Run bin/gitseal directly. */
export function gitseal(args: string[], env: NodeJS.ProcessEnv, input?: string | Buffer, cwd?: string): SpawnSyncReturns<Buffer> {
  return spawnSync(process.execPath, [GITSEAL, ...args], { env, input, cwd, timeout: 240_000, maxBuffer: 64 * 1024 * 1024 });
}

/** Lines gitseal printed that are its verdict (`gitseal: …`), not progress. */
export function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('gitseal: '));
}
