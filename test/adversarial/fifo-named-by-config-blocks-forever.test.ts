/**
 * A file a configuration names may be a FIFO: `gitseal.allowedSignersFile=/tmp/signers`, where
 * another local user made `/tmp/signers` a named pipe (or a repository's config names one).
 * open(2) of a FIFO blocks until someone opens it for writing, so git's `--verify` call (`git
 * log --show-signature`), `gitseal verify` and the pre-receive hook hung for ever. Now files a
 * configuration names are opened without blocking (src/util/read-bounded.ts): a FIFO nobody
 * writes to reads as empty (an allowed-signers file that lists nobody: never good), and one
 * whose writer keeps it open and sends nothing is waited for 5 s in all, then one error line.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readBounded } from '../../src/util/read-bounded.js';
import { commitPayload, makeLeaf, makeWorld, signedCommit, signPayload, type World } from '../verify/helpers/forge.js';
import { BIN } from '../cli/helpers.js';
import { AllPaths } from './helpers/paths.js';

let w: World;
let paths: AllPaths;
let fifo: string;
beforeAll(() => {
  w = makeWorld();
  paths = new AllPaths(w.trustJson, 'gitseal-adv-fifo-');
  fifo = join(paths.sb.dir, 'signers.fifo');
  expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
});
afterAll(() => paths?.cleanup());

function aliceCommit(): string {
  const payload = commitPayload(['author A <alice@example.com> 1748779200 +0000', 'committer A <alice@example.com> 1748779200 +0000']);
  return paths.store(signedCommit(payload, signPayload(w, makeLeaf(w, { email: 'alice@example.com' }), payload).pem));
}

describe('an allowed-signers file that is a FIFO', () => {
  test('nobody writes to it: every path comes back, and nobody is allowed', () => {
    expect(readBounded(fifo, 1024)).toEqual(Buffer.alloc(0));
    paths.set('gitseal.allowedSignersFile', fifo);
    try {
      const oid = aliceCommit();
      const git = paths.git(oid);
      expect(git.statusLines).toMatch(/^\[GNUPG:\] (TRUST_NEVER|ERRSIG)/m);
      expect(git.letter).not.toBe('G');
      const cli = paths.cli(oid);
      expect(cli.status).not.toBe(0);
      expect(cli.letter).not.toBe('G');
      expect(paths.hook(oid, {}).accepted).toBe(false);
    } finally {
      for (const r of [paths.repo, paths.server]) paths.sb.git(['config', '--unset', 'gitseal.allowedSignersFile'], r);
    }
  });

  test('a writer holds it open and sends nothing: one error line, ERRSIG on git\'s path', () => {
    let writer: ChildProcess | undefined;
    paths.set('gitseal.allowedSignersFile', fifo);
    try {
      writer = spawn('sh', ['-c', `exec 3>"${fifo}"; sleep 60`], { stdio: 'ignore' });
      const oid = aliceCommit();
      const git = paths.git(oid);
      expect(git.letter).toBe('E');
      expect(git.stderr).toMatch(/cannot read the allowed signers file .*signers\.fifo .*: timed out/);
    } finally {
      writer?.kill();
      for (const r of [paths.repo, paths.server]) paths.sb.git(['config', '--unset', 'gitseal.allowedSignersFile'], r);
    }
  }, 60_000);

  test('a pipe whose writer delivers late is read as before (`--allowed-signers <(…)`)', () => {
    const oid = aliceCommit();
    const r = spawnSync('bash', ['-c', `(sleep 0.5; printf 'alice@example.com https://accounts.example.com\\n') | "${BIN}" verify --offline --no-cache --allowed-signers /dev/stdin ${oid}`], { cwd: paths.repo, env: paths.sb.env, encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout + r.stderr).toMatch(/allowed signers from \/dev\/stdin/);
    expect(r.status, r.stderr).toBe(0);
  });
});
