/**
 * A repository's config may include other files (`include.path`), and gitseal reads them on
 * every path, git's `--verify` call included. A character device has no size to check before
 * reading, so `include.path = /dev/zero` in a repository you were handed made `git log
 * --show-signature` (and `gitseal verify`, and the library) read zeros until memory ran out —
 * git itself stops at "bad config line 1 in file /dev/zero". Now every config file is read with
 * a bound (4 MiB, what docs/security.md states) whatever it is, and the oversized one is one
 * clear error (ERRSIG on git's path).
 *
 * The runs are held to 3 GB of address space so that, before the fix, the test failed instead
 * of taking the machine's memory.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BIN } from '../cli/helpers.js';
import { letterOf } from './helpers/paths.js';

let dir: string;
let repo: string;
let env: NodeJS.ProcessEnv;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gitseal-include-'));
  repo = join(dir, 'repo');
  env = { PATH: process.env.PATH, HOME: dir, GIT_CONFIG_NOSYSTEM: '1' };
  spawnSync('git', ['init', '-q', repo], { env });
  spawnSync('git', ['-C', repo, 'config', 'include.path', '/dev/zero'], { env });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** bin/gitseal with `args` in the repository, under a 3 GB address-space limit. */
function bounded(args: string[], input = '') {
  const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return spawnSync('bash', ['-c', `ulimit -v 3000000; exec ${quoted}`], { cwd: repo, env, input, encoding: 'utf8', timeout: 60_000 });
}

describe('include.path = /dev/zero in a repository', () => {
  test('git itself refuses it at once (the baseline)', () => {
    const r = spawnSync('git', ['-C', repo, 'config', '-l'], { env, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/bad config line 1 in file \/dev\/zero/);
  });

  test("git's --verify call: ERRSIG and one line, not a process that eats memory", () => {
    const r = bounded(['--status-fd=1', '--verify', '/dev/null', '-']);
    expect(r.signal).toBeNull();
    expect(letterOf(r.stdout)).toBe('E');
    expect(r.stderr.trim()).toBe('gitseal: signature not verified: config file /dev/zero is too large');
  });

  test('gitseal verify: one line, exit non-zero', () => {
    const r = bounded(['verify', 'HEAD']);
    expect(r.signal).toBeNull();
    expect(r.status).not.toBe(0);
    // git refuses the repository first here (gitseal asks git where it is), or gitseal's reader does.
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/config file \/dev\/zero is too large|not inside a git repository/);
  });
});

describe('other files a configuration names, read with a bound too', () => {
  let other: string;
  beforeAll(() => {
    other = join(dir, 'other');
    spawnSync('git', ['init', '-q', other], { env });
  });
  const at = (key: string, value: string, args: string[]) => {
    spawnSync('git', ['-C', other, 'config', key, value], { env });
    try {
      const quoted = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(' ');
      return spawnSync('bash', ['-c', `ulimit -v 3000000; exec ${quoted}`], { cwd: other, env, input: '', encoding: 'utf8', timeout: 60_000 });
    } finally {
      spawnSync('git', ['-C', other, 'config', '--unset', key], { env });
    }
  };

  test("gitseal.signingConfig = /dev/zero: git's --verify call answers ERRSIG with one line (it read until memory ran out)", () => {
    const r = at('gitseal.signingConfig', '/dev/zero', ['--status-fd=1', '--verify', '/dev/null', '-']);
    expect(r.signal).toBeNull();
    expect(letterOf(r.stdout)).toBe('E');
    expect(r.stderr.trim()).toBe('gitseal: signature not verified: the signing config /dev/zero (git config gitseal.signingConfig) is larger than 1 MiB');
  });

  test('gitseal.allowedSignersFile = /dev/zero: doctor reports it (it read until memory ran out)', () => {
    const r = at('gitseal.allowedSignersFile', '/dev/zero', ['doctor', '--offline']);
    expect(r.signal).toBeNull();
    expect(r.stdout).toMatch(/the allowed signers file \/dev\/zero .* cannot be used: larger than 1 MiB/);
  });

  test('gitseal.clientSecretFile = /dev/zero: refused before a login starts', async () => {
    const { readClientSecret } = await import('../../src/oidc/client.js');
    expect(() => readClientSecret('/dev/zero')).toThrow(/larger than 4096 bytes/);
  });
});
