/**
 * `safe.bareRepository=explicit` (git ≥ 2.38) is git's defence against a bare repository
 * embedded in something you cloned or unpacked: its `config` can name programs and, for
 * gitseal, `gitseal.trustedRoot` — the attacker's own CA and log, under which their forged
 * signatures verify. With the setting in protected configuration (system, global, command
 * line), git refuses to use a bare repository found by walking up from the working directory
 * ("cannot use bare repository … (safe.bareRepository is 'explicit')") unless GIT_DIR /
 * --git-dir names it. gitseal ignored the setting: run inside such a directory, its --verify
 * call, `gitseal verify` and the library read the embedded config and said good. Now it is
 * treated as git treats it, from setup.c (is_implicit_bare_repo: the `.git` of a work tree,
 * `.git/worktrees/…` and `.git/modules/…` are not refused — git 2.45's rule).
 * Attacker: a hostile repository (the files it ships).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repositoryTrust } from '../../src/config/git-config-read.js';
import { loadConfig } from '../../src/config/load.js';
import * as lib from '../../src/lib.js';
import { ensureBuilt, forgedWorld, gitsealRepo, isolatedEnv, leaf, removeSnapshot, runGitseal, signedCommit, tempDir, type ForgedWorld } from './helpers.js';

let work: string;
let w: ForgedWorld;
let home: string;
let env: NodeJS.ProcessEnv;
let bare: string;
let sig: string;
let payload: string;

beforeAll(() => {
  ensureBuilt();
  work = tempDir('gitseal-adv-bare-');
  w = forgedWorld(work);
  home = join(work, 'home');
  env = isolatedEnv(home, { GITSEAL_OFFLINE: 'true' });
  // What the victim unpacked: a work tree holding a bare repository whose config trusts the attacker's root.
  const src = gitsealRepo(join(work, 'src'));
  signedCommit(src, w, leaf(w, { email: 'mallory@evil.example' }), { committer: 'Mallory <mallory@evil.example>' });
  bare = join(work, 'unpacked', 'embedded.git');
  execFileSync('git', ['clone', '-q', '--bare', src, bare], { env });
  execFileSync('git', ['-C', bare, 'config', 'gitseal.trustedRoot', w.trustFile], { env });
  mkdirSync(join(bare, 'refs', 'sub'), { recursive: true });
  // The signature and payload of its commit, for a direct --verify call there.
  const raw = execFileSync('git', ['-C', bare, 'cat-file', 'commit', 'HEAD'], { env, encoding: 'utf8' });
  sig = join(work, 'evil.sig');
  writeFileSync(sig, /^gpgsig (-----BEGIN SIGNED MESSAGE-----\n(?: .*\n)*? -----END SIGNED MESSAGE-----)$/m.exec(raw)![1]!.replace(/\n /g, '\n') + '\n');
  payload = raw.replace(/^gpgsig [\s\S]*?-----END SIGNED MESSAGE-----\n/m, '');
});
afterAll(() => removeSnapshot());

function global(text: string): void {
  writeFileSync(join(home, '.gitconfig'), text);
}

function gitAccepts(cwd: string, e: NodeJS.ProcessEnv): boolean {
  const r = spawnSync('git', ['rev-parse', '--git-dir'], { cwd, env: e, encoding: 'utf8' });
  if (r.status !== 0) expect(r.stderr).toMatch(/cannot use bare repository/);
  return r.status === 0;
}

function gitsealAccepts(cwd: string, e: NodeJS.ProcessEnv): boolean {
  const t = repositoryTrust({ cwd, env: e });
  const ok = t === undefined || t.trusted;
  const v = runGitseal(cwd, ['verify', 'HEAD', '--offline'], e);
  if (!ok) {
    expect(v.status, v.stderr).toBe(2);
    expect(v.stderr).toMatch(/^gitseal: cannot use bare repository '.*embedded\.git' \(safe\.bareRepository is 'explicit'\)/);
  }
  return ok;
}

describe('safe.bareRepository=explicit, as git decides', () => {
  it('unset or "all": the bare repository is used (git and gitseal)', () => {
    for (const text of ['', '[safe]\n\tbareRepository = all\n']) {
      global(text);
      expect(gitAccepts(bare, env)).toBe(true);
      expect(gitsealAccepts(bare, env)).toBe(true);
    }
  });

  it('"explicit" in global config, or on the command line: refused from it and below it; GIT_DIR names it and is used', () => {
    global('[safe]\n\tbareRepository = explicit\n');
    for (const cwd of [bare, join(bare, 'refs', 'sub')]) {
      expect(gitAccepts(cwd, env)).toBe(false);
      expect(gitsealAccepts(cwd, env)).toBe(false);
    }
    expect(gitAccepts(bare, { ...env, GIT_DIR: bare })).toBe(true);
    expect(gitsealAccepts(bare, { ...env, GIT_DIR: bare })).toBe(true);
    global('');
    const cl = { ...env, GIT_CONFIG_PARAMETERS: "'safe.bareRepository'='explicit'" };
    expect(gitAccepts(bare, cl)).toBe(false);
    expect(gitsealAccepts(bare, cl)).toBe(false);
  });

  it('a value git does not know ("ALL", or "bogus" before "all"): git dies, gitseal refuses the repository', () => {
    for (const text of ['[safe]\n\tbareRepository = ALL\n', '[safe]\n\tbareRepository = bogus\n\tbareRepository = all\n']) {
      global(text);
      expect(spawnSync('git', ['rev-parse', '--git-dir'], { cwd: bare, env, encoding: 'utf8' }).status).not.toBe(0);
      expect(repositoryTrust({ cwd: bare, env })?.trusted).toBe(false);
    }
  });

  it("never from the repository's own config (it would allow itself)", () => {
    global('[safe]\n\tbareRepository = explicit\n');
    execFileSync('git', ['-C', bare, 'config', 'safe.bareRepository', 'all'], { env: { ...env, GIT_DIR: bare } });
    try {
      expect(gitAccepts(bare, env)).toBe(false);
      expect(gitsealAccepts(bare, env)).toBe(false);
    } finally {
      execFileSync('git', ['config', '--unset', 'safe.bareRepository'], { env: { ...env, GIT_DIR: bare } });
    }
  });

  it('the .git directory of a work tree is not a refused bare repository (git 2.45 is_implicit_bare_repo)', () => {
    global('[safe]\n\tbareRepository = explicit\n');
    const r = gitsealRepo(join(work, 'normal'));
    expect(repositoryTrust({ cwd: join(r, '.git'), env })?.trusted).toBe(true);
    expect(repositoryTrust({ cwd: r, env })?.trusted).toBe(true);
  });

  it('a symlink named .git to the bare repository is not a work tree\'s .git: refused through the link as git refuses it', () => {
    global('[safe]\n\tbareRepository = explicit\n');
    const dir = join(work, 'linked');
    mkdirSync(dir, { recursive: true });
    symlinkSync(bare, join(dir, '.git'));
    const through = join(dir, '.git');
    // git works from the physical directory (getcwd): the bare repository, refused.
    expect(gitAccepts(through, env)).toBe(false);
    // The library is handed the logical path: it must judge the same directory.
    expect(repositoryTrust({ cwd: through, env })?.trusted).toBe(false);
  });

  it('a logical path through a symlink inside the bare repository does not find it: discovery walks the physical path, as git does', () => {
    global('');
    const target = join(work, 'elsewhere', 'plain');
    mkdirSync(target, { recursive: true });
    const link = join(bare, 'linked-out');
    symlinkSync(target, link);
    try {
      // git works from getcwd() (the target, in no repository): not a git repository.
      expect(spawnSync('git', ['rev-parse', '--git-dir'], { cwd: link, env, encoding: 'utf8' }).status).not.toBe(0);
      // The library handed the logical path must not read the bare repository's config either.
      expect(repositoryTrust({ cwd: link, env })).toBeUndefined();
    } finally {
      rmSync(link);
    }
  });

  it("git's --verify path ignores its config (the attacker's root) with a one-line warning; the library and loadConfig refuse or ignore it", async () => {
    global('[safe]\n\tbareRepository = explicit\n');
    const v = runGitseal(bare, ['--status-fd=1', '--verify', sig, '-'], env, payload);
    expect(v.stdout).not.toMatch(/GOODSIG/);
    expect(v.stdout).toMatch(/^\[GNUPG:\] ERRSIG /m);
    expect(v.stderr.split('\n').filter((l) => l.startsWith('gitseal: warning:'))).toEqual([
      expect.stringMatching(/^gitseal: warning: ignoring the repository's configuration: cannot use bare repository '.*embedded\.git' \(safe\.bareRepository is 'explicit'\)/),
    ]);
    const cfg = loadConfig({ cwd: bare, env });
    expect(cfg.trustedRoot).toBeUndefined();
    await expect(lib.verifyCommit({ dir: bare, env })).rejects.toThrow(/cannot use bare repository/);
    await expect(lib.verifyPayload({ cwd: bare, env, payload: Buffer.from(payload), signature: readFileSync(sig, 'utf8') })).rejects.toThrow(/cannot use bare repository/);
    const d = JSON.parse(runGitseal(bare, ['doctor', '--offline', '--json'], env).stdout) as { checks: Array<{ id: string; status: string; summary: string; fix?: string }> };
    expect(d.checks.find((c) => c.id === 'repository')).toMatchObject({ status: 'warn', summary: expect.stringMatching(/cannot use bare repository.*its configuration is ignored/), fix: expect.stringContaining('GIT_DIR') });
    // before the setting, the same call trusted the embedded root
    global('');
    expect(runGitseal(bare, ['--status-fd=1', '--verify', sig, '-'], env, payload).stdout).toMatch(/GOODSIG/);
  });
});
