// Helpers for tests that run packages/sandbox/bin/gitseal-sandbox as a child process.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PUBLIC_GOOD, type GitsealConfig } from '../../src/config/types.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SANDBOX_BIN = join(ROOT, 'packages', 'sandbox', 'bin', 'gitseal-sandbox');

export function assertBuilt(): void {
  if (!existsSync(join(ROOT, 'packages', 'sandbox', 'dist', 'main.js'))) throw new Error('packages/sandbox/dist/main.js is missing: run `npm run build` first');
}

export interface SandboxProcess {
  child: ChildProcess;
  readyLine: string;
  info: any;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Start `gitseal-sandbox start --dir DIR ...` and wait for its "ready" line. */
export async function startSandboxProcess(dir: string, extra: string[] = []): Promise<SandboxProcess> {
  assertBuilt();
  const child = spawn(process.execPath, [SANDBOX_BIN, 'start', '--dir', dir, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const readyLine = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('gitseal-sandbox ready'));
      if (line) resolve(line);
    });
    exited.then((code) => reject(new Error(`sandbox exited (${code}) before it was ready: ${err.trim()}`)));
  });
  const info = JSON.parse(readFileSync(join(dir, 'sandbox.json'), 'utf8'));
  return { child, readyLine, info, stderr: () => err, exited };
}

/** Run a gitseal-sandbox subcommand synchronously. */
export function sandboxCli(args: string[], env: NodeJS.ProcessEnv = process.env): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [SANDBOX_BIN, ...args], { encoding: 'utf8', env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Stop a sandbox started by this test: via the CLI, falling back to killing our own child. */
export async function stopSandboxProcess(dir: string, p: SandboxProcess | undefined): Promise<void> {
  if (!p || p.child.exitCode !== null) return;
  // Asynchronously, so this process keeps reaping its child while `stop` waits for it to exit.
  const status = await new Promise<number | null>((resolve) => {
    const c = spawn(process.execPath, [SANDBOX_BIN, 'stop', '--dir', dir], { stdio: 'ignore' });
    c.on('exit', (code) => resolve(code));
  });
  if (status !== 0) p.child.kill('SIGTERM');
  await p.exited;
}

/** A gitseal configuration that signs against a running sandbox (Rekor v1 unless overridden). */
export function sandboxConfig(p: SandboxProcess, dir: string, over: Partial<GitsealConfig> = {}): GitsealConfig {
  const urls = p.info.urls;
  return {
    ...PUBLIC_GOOD,
    fulcioURL: urls.fulcio,
    rekorURL: urls.rekor,
    issuer: urls.oidc,
    rekorVersion: 1,
    tokenProvider: 'env',
    trustedRoot: join(dir, 'trusted_root.json'),
    offline: true,
    matchCommitter: false,
    agent: 'off',
    sources: {},
    ...over,
  };
}
