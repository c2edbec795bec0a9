/**
 * Buildkite ambient token: `buildkite-agent oidc request-token --audience <aud>`
 * prints the JWT on stdout (buildkite.com/docs/agent/v3/cli-oidc). Spawned with
 * an argv array, never through a shell.
 */
import type { spawn as SpawnFn } from 'node:child_process';
import { GitsealError } from '../errors.js';
import { redactTokens } from './jwt.js';

const TIMEOUT_MS = 30_000;
const MAX_OUTPUT = 64 * 1024;

export function buildkiteApplies(env: NodeJS.ProcessEnv): boolean {
  return env.BUILDKITE === 'true';
}

export function buildkiteToken(env: NodeJS.ProcessEnv, audience: string): Promise<string> {
  // Loaded here, not at the top: every signature imports this module, few run in Buildkite.
  const { spawn } = process.getBuiltinModule('node:child_process') as { spawn: typeof SpawnFn };
  return new Promise((resolve, reject) => {
    const child = spawn('buildkite-agent', ['oidc', 'request-token', '--audience', audience], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: false,
      timeout: TIMEOUT_MS,
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (out.length < MAX_OUTPUT) out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (err.length < MAX_OUTPUT) err += d;
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(
        new GitsealError(
          'OIDC',
          e.code === 'ENOENT'
            ? 'BUILDKITE=true but buildkite-agent is not on PATH'
            : `cannot run buildkite-agent: ${e.message}`,
        ),
      );
    });
    child.on('close', (code, signal) => {
      const token = out.trim();
      if (code === 0 && token) return resolve(token);
      const why = redactTokens(err.trim().split('\n')[0] || (signal ? `killed by ${signal}` : `exit status ${code}`));
      reject(new GitsealError('OIDC', `buildkite-agent oidc request-token failed: ${why}`));
    });
  });
}
