/**
 * A repository owned by someone else must not configure the verifier (issue 14, item 6). Its
 * .git/config could name gitseal.trustedRoot (the attacker's own CA and log: every forged
 * signature verifies) or gitseal.allowedSignersFile. git itself refuses such a repository
 * ("detected dubious ownership", CVE-2022-24765) unless safe.directory in protected config
 * (system, global, command line) allows it. gitseal now applies the same rule, from git's
 * setup.c: real repositories chowned to another uid (the tests run as root, so the root and
 * SUDO_UID case is exercised too), every verdict compared with the real git's.
 * Attacker: a hostile repository (another local user's, a shared /tmp checkout, a mounted volume).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repositoryTrust } from '../../src/config/git-config-read.js';
import { loadConfig } from '../../src/config/load.js';
import * as lib from '../../src/lib.js';
import { ensureBuilt, forgedWorld, gitsealRepo, isolatedEnv, leaf, removeSnapshot, runGit, runGitseal, signedCommit, signWith, tempDir, type ForgedWorld } from './helpers.js';

const OTHER = 12345;
const isRoot = typeof process.geteuid === 'function' && process.geteuid() === 0;

let work: string;
let w: ForgedWorld;
let home: string;
let baseEnv: NodeJS.ProcessEnv;

beforeAll(() => {
  ensureBuilt();
  work = tempDir('gitseal-adv-own-');
  w = forgedWorld(work);
  home = join(work, 'home');
  baseEnv = isolatedEnv(home, { GITSEAL_OFFLINE: 'true' });
});
afterAll(() => removeSnapshot());

let n = 0;
/** A fresh repository (with a forged-world commit and the attacker's trusted root configured), owned by `uid`. */
function hostileRepo(uid = OTHER, opts: { bare?: boolean; chown?: 'all' | 'gitdir' | 'worktree' } = {}): string {
  const dir = join(work, `r${n++}`);
  if (opts.bare) {
    execFileSync('git', ['init', '-q', '--bare', dir]);
    execFileSync('git', ['-C', dir, 'config', 'gitseal.trustedRoot', w.trustFile]);
  } else {
    gitsealRepo(dir, [['gitseal.trustedRoot', w.trustFile]]);
    signedCommit(dir, w, leaf(w, { email: 'mallory@evil.example' }), { committer: 'Mallory <mallory@evil.example>' });
  }
  const target = opts.chown === 'gitdir' ? join(dir, '.git') : dir;
  if (opts.chown === 'worktree') execFileSync('chown', [String(uid), dir]);
  else execFileSync('chown', ['-R', String(uid), target]);
  return dir;
}

function writeGlobal(text: string): void {
  writeFileSync(join(home, '.gitconfig'), text);
}

/** git's verdict: does it accept the repository at `cwd`? */
function gitAccepts(cwd: string, env: NodeJS.ProcessEnv): boolean {
  const r = spawnSync('git', ['rev-parse', '--git-dir'], { cwd, env, encoding: 'utf8' });
  if (r.status !== 0) expect(r.stderr).toMatch(/dubious ownership/);
  return r.status === 0;
}

/** gitseal's verdict, in process and through the binary (gitseal verify refuses, as git does). */
function gitsealAccepts(cwd: string, env: NodeJS.ProcessEnv): boolean {
  const t = repositoryTrust({ cwd, env });
  const inProcess = t === undefined || t.trusted;
  const r = runGitseal(cwd, ['verify', 'HEAD', '--offline'], env);
  const refused = r.status === 2 && /^gitseal: detected dubious ownership in repository at /.test(r.stderr);
  expect(refused, r.stdout + r.stderr).toBe(!inProcess);
  return inProcess;
}

function agree(cwd: string, env: NodeJS.ProcessEnv, expected: boolean): void {
  expect(gitAccepts(cwd, env), 'git').toBe(expected);
  expect(gitsealAccepts(cwd, env), 'gitseal').toBe(expected);
}

describe.skipIf(!isRoot)('ownership and safe.directory, exactly as the real git decides', () => {
  it('our own repository (root-owned) is trusted; one owned by another uid is refused', () => {
    writeGlobal('');
    agree(hostileRepo(0), baseEnv, true);
    agree(hostileRepo(), baseEnv, false);
  });

  it('the refusal is also for a subdirectory, a bare repository, a foreign .git, a foreign work tree', () => {
    writeGlobal('');
    const r = hostileRepo();
    mkdirSync(join(r, 'sub'));
    agree(join(r, 'sub'), baseEnv, false);
    agree(hostileRepo(OTHER, { bare: true }), baseEnv, false);
    agree(hostileRepo(OTHER, { chown: 'gitdir' }), baseEnv, false);
    agree(hostileRepo(OTHER, { chown: 'worktree' }), baseEnv, false);
    // a linked work tree (a .git file) that someone else owns, of a repository we own
    const main = hostileRepo(0);
    const linked = join(work, `wt${n++}`);
    execFileSync('git', ['-C', main, 'worktree', 'add', '-q', '--detach', linked], { env: baseEnv });
    agree(linked, baseEnv, true);
    execFileSync('chown', ['-R', String(OTHER), linked]);
    agree(linked, baseEnv, false);
  });

  it('safe.directory in global config: the path, "*", and an empty value that resets the list', () => {
    const r = hostileRepo();
    writeGlobal(`[safe]\n\tdirectory = ${r}\n`);
    agree(r, baseEnv, true);
    writeGlobal(`[safe]\n\tdirectory = ${r}/\n`);
    // a trailing slash: git 2.46+ normalises it away (realpath), as gitseal does
    expect(gitsealAccepts(r, baseEnv)).toBe(true);
    writeGlobal('[safe]\n\tdirectory = *\n');
    agree(r, baseEnv, true);
    writeGlobal('[safe]\n\tdirectory = *\n\tdirectory =\n');
    agree(r, baseEnv, false);
    writeGlobal(`[safe]\n\tdirectory = ${join(work, 'elsewhere')}\n`);
    agree(r, baseEnv, false);
    writeGlobal('[safe]\n\tdirectory = relative/path\n');
    agree(r, baseEnv, false);
  });

  it('through include.path from global config, but not through includeIf gitdir: (no repository yet)', () => {
    const r = hostileRepo();
    writeFileSync(join(work, 'inc.gitconfig'), `[safe]\n\tdirectory = ${r}\n`);
    writeGlobal(`[include]\n\tpath = ${join(work, 'inc.gitconfig')}\n`);
    agree(r, baseEnv, true);
    writeGlobal(`[includeIf "gitdir:${r}/"]\n\tpath = ${join(work, 'inc.gitconfig')}\n`);
    agree(r, baseEnv, false);
  });

  it("never from the repository's own config", () => {
    writeGlobal('');
    const r = hostileRepo();
    writeFileSync(join(r, '.git', 'config'), readFileSync(join(r, '.git', 'config'), 'utf8') + '[safe]\n\tdirectory = *\n');
    agree(r, baseEnv, false);
  });

  it('from the command line (git -c / GIT_CONFIG_PARAMETERS, GIT_CONFIG_COUNT) and system config', () => {
    writeGlobal('');
    const r = hostileRepo();
    agree(r, { ...baseEnv, GIT_CONFIG_PARAMETERS: `'safe.directory'='${r}'` }, true);
    agree(r, { ...baseEnv, GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'safe.directory', GIT_CONFIG_VALUE_0: '*' }, true);
    const system = join(work, 'system.gitconfig');
    writeFileSync(system, `[safe]\n\tdirectory = ${r}\n`);
    const sysEnv: NodeJS.ProcessEnv = { ...baseEnv, GIT_CONFIG_SYSTEM: system };
    delete sysEnv.GIT_CONFIG_NOSYSTEM;
    agree(r, sysEnv, true);
    agree(r, { ...sysEnv, GIT_CONFIG_NOSYSTEM: '1' }, false);
  });

  it('root: a repository of $SUDO_UID is trusted (sudo git …), another uid is not', () => {
    writeGlobal('');
    const r = hostileRepo();
    agree(r, { ...baseEnv, SUDO_UID: String(OTHER) }, true);
    agree(r, { ...baseEnv, SUDO_UID: '999' }, false);
    agree(r, { ...baseEnv, SUDO_UID: `${OTHER}x` }, false);
    agree(r, { ...baseEnv, SUDO_UID: '' }, false);
  });

  it('an explicit GIT_DIR is trusted, as git trusts it', () => {
    writeGlobal('');
    const r = hostileRepo();
    const env = { ...baseEnv, GIT_DIR: join(r, '.git') };
    expect(spawnSync('git', ['rev-parse', '--git-dir'], { cwd: work, env }).status).toBe(0);
    expect(repositoryTrust({ cwd: work, env })?.trusted).toBe(true);
  });

  it('git ≥ 2.46 forms: "<dir>/*" allows everything below <dir>, paths compared after resolving symlinks', () => {
    const r = hostileRepo();
    writeGlobal(`[safe]\n\tdirectory = ${work}/*\n`);
    expect(repositoryTrust({ cwd: r, env: baseEnv })?.trusted).toBe(true);
    writeGlobal(`[safe]\n\tdirectory = ${join(work, 'nothing-here')}/*\n`);
    expect(repositoryTrust({ cwd: r, env: baseEnv })?.trusted).toBe(false);
    const link = join(work, `link${n++}`);
    symlinkSync(r, link);
    writeGlobal(`[safe]\n\tdirectory = ${link}\n`);
    expect(repositoryTrust({ cwd: r, env: baseEnv })?.trusted).toBe(true);
  });
});

describe.skipIf(!isRoot)("a refused repository's configuration is ignored on every path", () => {
  it("git's --verify path: a one-line warning, and the repository's trusted root is not used", () => {
    writeGlobal('');
    const r = hostileRepo();
    // git itself will not even run here
    expect(runGit(r, ['log', '-1', '--format=%G?'], baseEnv).stderr).toMatch(/dubious ownership/);
    // a tool running gitseal's --verify there directly: the attacker's root would make it GOODSIG
    const raw = execFileSync('git', ['-C', r, '-c', `safe.directory=${r}`, 'cat-file', 'commit', 'HEAD'], { env: baseEnv, encoding: 'utf8' });
    const sig = join(work, 'evil.sig');
    const armour = /^gpgsig (-----BEGIN SIGNED MESSAGE-----\n(?: .*\n)*? -----END SIGNED MESSAGE-----)$/m.exec(raw)![1]!.replace(/\n /g, '\n');
    writeFileSync(sig, armour + '\n');
    const payload = raw.replace(/^gpgsig [\s\S]*?-----END SIGNED MESSAGE-----\n/m, '');
    const v = runGitseal(r, ['--status-fd=1', '--verify', sig, '-'], baseEnv, payload);
    expect(v.stdout).not.toMatch(/GOODSIG/);
    expect(v.stdout).toMatch(/^\[GNUPG:\] ERRSIG /m);
    const warnings = v.stderr.split('\n').filter((l) => l.startsWith('gitseal: warning:'));
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`^gitseal: warning: ignoring the repository's configuration: detected dubious ownership in repository at '${r}' \\(.* is owned by uid ${OTHER}, not by you\\); to trust it: git config --global --add safe.directory '${r}'$`))]);
    // once the user vouches for it (what git requires too), its configuration applies
    const trusted = runGitseal(r, ['--status-fd=1', '--verify', sig, '-'], { ...baseEnv, GIT_CONFIG_PARAMETERS: `'safe.directory'='${r}'` }, payload);
    expect(trusted.stdout).toMatch(/GOODSIG/);
    expect(runGit(r, ['-c', `safe.directory=${r}`, 'log', '-1', '--format=%G?'], baseEnv).stdout.trim()).toBe('U');
  });

  it('loadConfig ignores it; the library refuses it; show refuses it; doctor says so', async () => {
    writeGlobal('');
    const r = hostileRepo();
    const cfg = loadConfig({ cwd: r, env: baseEnv });
    expect(cfg.trustedRoot).toBeUndefined();
    expect(cfg.untrustedRepository?.path).toBe(r);
    await expect(lib.verifyCommit({ dir: r, env: baseEnv })).rejects.toThrow(/detected dubious ownership/);
    const payload = Buffer.from('tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor M <m@x> 1 +0000\ncommitter M <m@x> 1 +0000\n\nm\n');
    await expect(lib.verifyPayload({ cwd: r, env: baseEnv, payload, signature: signWith(w, leaf(w, { email: 'm@x' }), payload) })).rejects.toThrow(/detected dubious ownership/);
    // onVerify too, even when given a trusted root of its own (the repository's policy would still be read).
    const fs = await import('node:fs');
    await expect(lib.onVerify({ fs, dir: r, env: baseEnv, trust: w.trust })('HEAD')).rejects.toThrow(/detected dubious ownership/);
    const show = runGitseal(r, ['show'], baseEnv);
    expect(show.status).toBe(2);
    expect(show.stderr).toMatch(/^gitseal: detected dubious ownership/);
    const d = JSON.parse(runGitseal(r, ['doctor', '--offline', '--json'], baseEnv).stdout) as { checks: Array<{ id: string; status: string; summary: string; fix?: string }> };
    expect(d.checks.find((c) => c.id === 'repository')).toMatchObject({ status: 'warn', summary: expect.stringMatching(/owned by uid 12345.*its configuration is ignored/), fix: expect.stringContaining('safe.directory') });
  });
});
