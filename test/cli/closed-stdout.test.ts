/**
 * A reader that goes away (`gitseal verify --all | head`): gitseal stops at once with the
 * status a shell reports for SIGPIPE (141), as git does, and prints no stack trace. Before,
 * the range verifier waited for a 'drain' that a closed pipe never sends and hung, its
 * workers and git's cat-file still running. Through the real binary, on a real repository
 * whose output is larger than a pipe holds.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, Sandbox } from './helpers.js';

const sb = new Sandbox('gitseal-epipe-');
let repo: string;
let oids: string[];
const COPIES = 1500;

beforeAll(() => {
  repo = sb.repo('epipe');
  // 1,500 signed commits: a real gitsign commit (test/fixtures/gitsign-corpus) with a line added
  // to its message each time, so each is a distinct object whose signature goes through the
  // whole check (in worker threads, the results arriving asynchronously) and fails on the
  // content. Each prints a row or a JSON object: far more than a pipe holds.
  const raw = readFileSync(join(import.meta.dirname, '../fixtures/gitsign-corpus/sigstore_fulcio_commit_0a634f3951ae/object.raw'));
  const dir = join(sb.dir, 'objects');
  mkdirSync(dir);
  const paths: string[] = [];
  for (let i = 0; i < COPIES; i++) {
    const p = join(dir, String(i));
    writeFileSync(p, Buffer.concat([raw, Buffer.from(`copy ${i}\n`)]));
    paths.push(p);
  }
  oids = sb.git(['hash-object', '-t', 'commit', '-w', '--literally', '--stdin-paths'], repo, paths.join('\n') + '\n').trim().split('\n');
  sb.git(['update-ref', 'refs/heads/main', oids[0]!], repo);
});
afterAll(() => sb.cleanup());

/** Run gitseal, close its stdout after the first chunk, and report how it ended. */
function closeEarly(args: string[]): Promise<{ code: number | null; signal: string | null; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const cp = spawn(process.execPath, [BIN, ...args], { cwd: repo, env: sb.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    cp.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    cp.stdout.once('data', () => cp.stdout.destroy());
    const timer = setTimeout(() => {
      cp.kill('SIGKILL');
      reject(new Error(`gitseal ${args.join(' ')} still running 30 s after its reader went away`));
    }, 30_000);
    cp.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr, ms: Date.now() - t0 });
    });
  });
}

describe('gitseal verify when its reader goes away', () => {
  it.each([[[] as string[]], [['--json']], [['--json-lines']]])('verify <1,500 objects> %j ends with 141, no stack trace', async (fmt) => {
    const r = await closeEarly(['verify', ...oids, '--offline', '--no-cache', ...fmt]);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(141);
    expect(r.stderr).not.toMatch(/    at |Error:/);
  });
});
