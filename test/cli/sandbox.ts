/**
 * The project's local Sigstore (packages/sandbox/bin/gitseal-sandbox) as a child process for
 * the CLI's end-to-end tests: start on a temp directory, wait for its ready
 * line, mint tokens, stop it (only the process we started).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers.js';

export const SANDBOX_BIN = join(ROOT, 'packages', 'sandbox', 'bin', 'gitseal-sandbox');

export interface RunningSandbox {
  dir: string;
  env: Record<string, string>;
  issuer: string;
  token(email: string): string;
  stop(): Promise<void>;
}

export async function startSandbox(dir: string): Promise<RunningSandbox> {
  const cp: ChildProcess = spawn(process.execPath, [SANDBOX_BIN, 'start', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sandbox did not start: ${log}`)), 60_000);
    cp.stdout!.on('data', (d: Buffer) => {
      log += d.toString();
      if (/ready/.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    });
    cp.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    cp.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sandbox exited (${code}): ${log}`));
    });
  });
  const env: Record<string, string> = {};
  for (const m of readFileSync(join(dir, 'env'), 'utf8').matchAll(/^export (\w+)='([^']*)'$/gm)) env[m[1]!] = m[2]!;
  return {
    dir,
    env,
    issuer: env.GITSEAL_OIDC_ISSUER!,
    token(email: string): string {
      const r = spawnSync(process.execPath, [SANDBOX_BIN, 'token', '--dir', dir, '--email', email], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`token: ${r.stderr}`);
      return r.stdout.trim();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (cp.exitCode !== null) return resolve();
        cp.once('exit', () => resolve());
        cp.kill('SIGTERM');
      }),
  };
}
