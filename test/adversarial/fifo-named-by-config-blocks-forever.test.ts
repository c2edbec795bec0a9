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
import { beforeAll, describe, expect, test } from 'vitest';
import { readBounded } from '../../src/util/read-bounded.js';
import { commitPayload, makeLeaf, signedCommit, signPayload } from '../verify/helpers/forge.js';
import { BIN } from '../cli/helpers.js';
import { useForgedWorld } from './helpers/paths.js';

const forged = useForgedWorld('gitseal-adv-fifo-');
let fifo: string;
beforeAll(() => {
  fifo = join(forged.paths.sb.dir, 'signers.fifo');
  expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
});

function aliceCommit(): string {
  const payload = commitPayload(['author A <alice@example.com> 1748779200 +0000', 'committer A <alice@example.com> 1748779200 +0000']);
  return forged.paths.store(signedCommit(payload, signPayload(forged.w, makeLeaf(forged.w, { email: 'alice@example.com' }), payload).pem));
}

describe('an allowed-signers file that is a FIFO', () => {
  test('nobody writes to it: every path comes back, and nobody is allowed', () => {
    expect(readBounded(fifo, 1024)).toEqual(Buffer.alloc(0));
    forged.paths.set('gitseal.allowedSignersFile', fifo);
    try {
      const oid = aliceCommit();
      const git = forged.paths.git(oid);
      expect(git.statusLines).toMatch(/^\[GNUPG:\] (TRUST_NEVER|ERRSIG)/m);
      expect(git.letter).not.toBe('G');
      const cli = forged.paths.cli(oid);
      expect(cli.status).not.toBe(0);
      expect(cli.letter).not.toBe('G');
      expect(forged.paths.hook(oid, {}).accepted).toBe(false);
    } finally {
      for (const r of [forged.paths.repo, forged.paths.server]) forged.paths.sb.git(['config', '--unset', 'gitseal.allowedSignersFile'], r);
    }
  });

  test('a writer holds it open and sends nothing: one error line, ERRSIG on git\'s path', () => {
    let writer: ChildProcess | undefined;
    forged.paths.set('gitseal.allowedSignersFile', fifo);
    try {
      writer = spawn('sh', ['-c', `exec 3>"${fifo}"; sleep 60`], { stdio: 'ignore' });
      const oid = aliceCommit();
      const git = forged.paths.git(oid);
      expect(git.letter).toBe('E');
      expect(git.stderr).toMatch(/cannot read the allowed signers file .*signers\.fifo .*: timed out/);
    } finally {
      writer?.kill();
      for (const r of [forged.paths.repo, forged.paths.server]) forged.paths.sb.git(['config', '--unset', 'gitseal.allowedSignersFile'], r);
    }
  }, 60_000);

  test('a pipe whose writer delivers late is read as before (`--allowed-signers <(…)`)', () => {
    const oid = aliceCommit();
    const r = spawnSync('bash', ['-c', `(sleep 0.5; printf 'alice@example.com https://accounts.example.com\\n') | "${BIN}" verify --offline --no-cache --allowed-signers /dev/stdin ${oid}`], { cwd: forged.paths.repo, env: forged.paths.sb.env, encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout + r.stderr).toMatch(/allowed signers from \/dev\/stdin/);
    expect(r.status, r.stderr).toBe(0);
  });
});
