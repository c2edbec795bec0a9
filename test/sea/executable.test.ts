/**
 * The single-file executable (`npm run build:sea`, scripts/build-sea.mjs), built once for this
 * file into a temporary directory and used on a PATH that has no `node`: `gitseal init` writes
 * its path, git signs commits through it against the sandbox (without and with the signing
 * agent, which the executable starts as itself), `git verify-commit`, `git log --show-signature`
 * and `gitseal verify` (worker threads from the embedded worker) accept them; the keyring works
 * through the embedded addon, and `doctor` says where logins are cached and why.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needs } from '../helpers/tools.js';
import { ensureBuilt, GITSEAL, isolatedEnv, removeSnapshot, ROOT, run, startSandbox, tempDir, type Sandbox } from '../reliability/helpers.js';
import { serveTufRepo, tufRepo } from '../trust/tuf-repo.js';

const NAME = `gitseal-${process.platform}-${process.arch}`;
let work: string;
let exe: string;
let sb: Sandbox;
/** A PATH holding git and the executable (as `gitseal`, a symlink), and no node. */
let bin: string;
let home: string;

function env(over: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return isolatedEnv(home, { ...sb.env, PATH: bin, SIGSTORE_ID_TOKEN: sb.token('alice@example.com', ['--ttl', '3600']), NODE_OPTIONS: undefined, ...over });
}

function git(repo: string, args: string[], e: NodeJS.ProcessEnv): SpawnSyncReturns<string> {
  // git is found through the PATH under test, as a person's shell would find it.
  return spawnSync('git', ['-C', repo, ...args], { env: e, encoding: 'utf8', timeout: 120_000 });
}

function gitseal(args: string[], e: NodeJS.ProcessEnv, cwd?: string): SpawnSyncReturns<string> {
  return spawnSync('gitseal', args, { env: e, cwd, encoding: 'utf8', timeout: 120_000 });
}

function newRepo(name: string, e: NodeJS.ProcessEnv): string {
  const repo = join(work, name);
  mkdirSync(repo);
  expect(git(repo, ['init', '-q', '-b', 'main'], e).status).toBe(0);
  git(repo, ['config', 'user.name', 'Alice'], e);
  git(repo, ['config', 'user.email', 'alice@example.com'], e);
  return repo;
}

beforeAll(async () => {
  ensureBuilt();
  work = tempDir('gitseal-sea-');
  const out = join(work, 'out');
  // The test's private copy of dist/ (ensureBuilt) supplies the fast entries.
  const b = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-sea.mjs'), '--out', out, '--dist', join(dirname(dirname(GITSEAL)), 'dist')], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 300_000,
  });
  expect(b.status, b.stderr + b.stdout).toBe(0);
  exe = join(out, NAME);
  bin = join(work, 'bin');
  mkdirSync(bin);
  symlinkSync(exe, join(bin, 'gitseal'));
  symlinkSync(realpathSync('/usr/bin/git'), join(bin, 'git'));
  home = join(work, 'home');
  sb = await startSandbox(join(work, 'sandbox'));
}, 360_000);

afterAll(async () => {
  if (home) spawnSync('gitseal', ['agent', 'stop'], { env: env(), encoding: 'utf8' });
  await sb?.stop();
  removeSnapshot();
});

describe('the single-file executable', () => {
  it('is one executable file with its SHA-256 beside it, and PATH under test has no node', () => {
    expect(statSync(exe).mode & 0o111).not.toBe(0);
    const [sum, file] = readFileSync(`${exe}.sha256`, 'utf8').trim().split(/\s+/);
    expect(file).toBe(NAME);
    expect(sum).toBe(createHash('sha256').update(readFileSync(exe)).digest('hex'));
    const which = spawnSync('/bin/sh', ['-c', 'command -v node || echo none'], { env: { PATH: bin }, encoding: 'utf8' });
    expect(which.stdout.trim()).toBe('none');
    const v = gitseal(['version', '--json'], env());
    expect(v.status, v.stderr).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ version: JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version });
  });

  it('gitseal init writes the executable as git’s x509 program; git signs and verifies through it', () => {
    const e = env();
    const repo = newRepo('plain', e);
    const init = gitseal(['init'], e, repo);
    expect(init.status, init.stderr).toBe(0);
    // Found on PATH through a symlink: git is given the executable itself, by absolute path.
    expect(git(repo, ['config', 'gpg.x509.program'], e).stdout.trim()).toBe(realpathSync(exe));
    expect(git(repo, ['config', 'gpg.format'], e).stdout.trim()).toBe('x509');

    const c = git(repo, ['commit', '--allow-empty', '-m', 'signed by the executable'], e);
    expect(c.status, c.stderr).toBe(0);
    const raw = git(repo, ['cat-file', 'commit', 'HEAD'], e).stdout;
    expect(raw).toContain('gpgsig -----BEGIN SIGNED MESSAGE-----');
    const v = git(repo, ['verify-commit', '--raw', 'HEAD'], e);
    expect(v.status, v.stderr).toBe(0);
    expect(v.stderr).toMatch(/^\[GNUPG:\] GOODSIG [0-9a-f]{40} alice@example\.com$/m);
    const t = git(repo, ['tag', '-s', 'v1', '-m', 'a signed tag'], e);
    expect(t.status, t.stderr).toBe(0);
    expect(git(repo, ['verify-tag', 'v1'], e).status).toBe(0);
    const log = git(repo, ['log', '--show-signature', '-1'], e);
    expect(log.status).toBe(0);
    expect(log.stdout + log.stderr).toContain('alice@example.com');

    // The npm package's launcher, on a PATH with node, agrees.
    const npmEnv = { ...e, PATH: `${dirname(process.execPath)}:${process.env.PATH}` };
    const other = spawnSync('git', ['-C', repo, '-c', `gpg.x509.program=${GITSEAL}`, 'verify-commit', 'HEAD'], { env: npmEnv, encoding: 'utf8' });
    expect(other.status, other.stderr).toBe(0);
  });

  it('a signature whose payload changed is refused (BADSIG), as by bin/gitseal', () => {
    const e = env();
    const repo = newRepo('tampered', e);
    expect(gitseal(['init'], e, repo).status).toBe(0);
    expect(git(repo, ['commit', '--allow-empty', '-m', 'original'], e).status).toBe(0);
    const raw = git(repo, ['cat-file', 'commit', 'HEAD'], e).stdout.replace('original', 'forged!!');
    const h = spawnSync('git', ['-C', repo, 'hash-object', '-t', 'commit', '-w', '--stdin'], { env: e, input: raw, encoding: 'utf8' });
    const v = git(repo, ['verify-commit', '--raw', h.stdout.trim()], e);
    expect(v.status).not.toBe(0);
    expect(v.stderr).toMatch(/^\[GNUPG:\] BADSIG /m);
  });

  it('with the signing agent (the executable runs as its own agent), and gitseal verify over a range with worker threads', () => {
    const e = env({ GITSEAL_AGENT: 'on' });
    const repo = newRepo('agent', e);
    expect(gitseal(['init'], e, repo).status).toBe(0);
    const certsBefore = sb.stats().fulcio?.signingCert ?? 0;
    // 50 signatures: more than the 48 from which range verification starts worker threads.
    for (let i = 0; i < 50; i++) {
      const c = git(repo, ['commit', '--allow-empty', '-m', `commit ${i}`], e);
      expect(c.status, c.stderr).toBe(0);
    }
    const st = gitseal(['agent', 'status', '--json'], e);
    expect(st.status, st.stderr).toBe(0);
    const status = JSON.parse(st.stdout) as { running: boolean; pid: number };
    expect(status.running).toBe(true);
    // The agent process is this executable.
    expect(realpathSync(`/proc/${status.pid}/exe`)).toBe(realpathSync(exe));
    // One login, one certificate for all 50 (the agent kept it).
    expect(sb.stats().fulcio?.signingCert).toBe(certsBefore + 1);
    const v = gitseal(['verify', '--json', '--certificate-identity', 'alice@example.com', '--certificate-oidc-issuer', sb.env.GITSEAL_OIDC_ISSUER!, 'HEAD'], e, repo);
    expect(v.status, v.stderr).toBe(0);
    const range = gitseal(['verify', '--json', '--no-cache', '--all', '--certificate-identity', 'alice@example.com', '--certificate-oidc-issuer', sb.env.GITSEAL_OIDC_ISSUER!], e, repo);
    expect(range.status, range.stderr).toBe(0);
    const r = JSON.parse(range.stdout) as { ok: boolean; total: number; good: number; policy: boolean; results: Array<{ ok: boolean; kind: string; cached?: boolean }> };
    expect(r).toMatchObject({ ok: true, total: 50, good: 50, policy: true });
    expect(r.results.every((x) => x.ok && x.kind === 'good' && !x.cached)).toBe(true);
    expect(gitseal(['agent', 'stop'], e).status).toBe(0);
  });

  it('doctor: the program git runs is this executable; without a keyring service the token cache is the encrypted file, and it says why', () => {
    const e = env({ GITSEAL_KEYRING: undefined });
    const repo = newRepo('doctor', e);
    expect(gitseal(['init'], e, repo).status).toBe(0);
    const d = gitseal(['doctor', '--offline', '--json'], e, repo);
    const r = JSON.parse(d.stdout) as { checks: Array<{ id: string; status: string; summary: string; details?: Record<string, unknown> }> };
    const check = (id: string) => r.checks.find((c) => c.id === id);
    expect(check('git-program')?.status).toBe('ok');
    // The addon loaded (from the file the executable wrote); no Secret Service answers here.
    expect(check('token-store')).toMatchObject({ status: 'ok', details: { store: 'file', reason: 'no-service' } });
    const human = gitseal(['doctor', '--offline'], e, repo);
    expect(human.stdout).toMatch(/token cache +an AES-256-GCM encrypted file in .*\(no keyring service answers/);
  });

  needs('dbus', 'gnome-keyring').it('uses the OS keyring through the embedded addon, written to a private file that is checked before each load', () => {
    const e = env({ GITSEAL_KEYRING: undefined });
    const native = join(home, '.cache', 'gitseal', 'native');
    const doctor = () => {
      // A private D-Bus session with an unlocked GNOME Keyring (as test/oidc/keyring.test.ts).
      const script = `echo -n sea-pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; exec "$SEA" doctor --offline --json`;
      const r = spawnSync('/usr/bin/dbus-run-session', ['--', '/bin/bash', '-c', script], { env: { ...e, PATH: `${bin}:/usr/bin:/bin`, SEA: exe }, encoding: 'utf8', timeout: 60_000 });
      const checks = (JSON.parse(r.stdout) as { checks: Array<{ id: string; summary: string; details?: Record<string, unknown> }> }).checks;
      return checks.find((c) => c.id === 'token-store')!;
    };
    expect(doctor()).toMatchObject({ summary: 'the OS keyring (Secret Service)', details: { store: 'keyring' } });
    const [file] = readdirSync(native).filter((f) => f.endsWith('.node'));
    expect(file).toMatch(/^keyring-[0-9a-f]{32}\.node$/);
    expect(statSync(native).mode & 0o777).toBe(0o700);
    expect(statSync(join(native, file!)).mode & 0o777).toBe(0o500);
    // A file that is not the embedded addon is replaced before anything loads it.
    chmodSync(join(native, file!), 0o700);
    writeFileSync(join(native, file!), 'not the addon');
    expect(doctor().details).toMatchObject({ store: 'keyring' });
    expect(statSync(join(native, file!)).size).toBeGreaterThan(1_000_000);
  });

  it('where the addon cannot be loaded (here: a cache directory others may write), the token cache is the encrypted file and doctor says why', () => {
    const other = join(work, 'home-open');
    mkdirSync(join(other, '.cache', 'gitseal', 'native'), { recursive: true, mode: 0o755 });
    chmodSync(join(other, '.cache', 'gitseal', 'native'), 0o755);
    const e = isolatedEnv(other, { ...sb.env, PATH: bin, GITSEAL_KEYRING: undefined, NODE_OPTIONS: undefined });
    const d = gitseal(['doctor', '--offline', '--json'], e);
    const c = (JSON.parse(d.stdout) as { checks: Array<{ id: string; summary: string; details?: Record<string, unknown> }> }).checks.find((x) => x.id === 'token-store')!;
    expect(c.details).toEqual({ store: 'file', reason: 'no-addon' });
    expect(c.summary).toMatch(/encrypted file .*: this single-file executable cannot load the keyring's native addon here \(refusing to use .*native: its mode is 0755/);
    expect(readdirSync(join(other, '.cache', 'gitseal', 'native'))).toEqual([]);
  });

  it('gitseal help <topic> prints the documentation the executable carries', () => {
    const r = gitseal(['help', 'trust'], env());
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(readFileSync(join(ROOT, 'docs', 'trust.md'), 'utf8'));
    const c = gitseal(['help', 'configuration'], env());
    expect(c.stdout).toMatch(/^## Configuration\n/);
  });

  it('gitseal initialize refreshes the trusted root through TUF (the bundled TUF client)', async () => {
    const target = readFileSync(join(ROOT, 'test', 'fixtures', 'gitsign-corpus', 'trusted_root.json'));
    const repo = tufRepo(target);
    const rootFile = join(work, 'tuf-root.json');
    writeFileSync(rootFile, repo.root);
    const mirror = await serveTufRepo(repo.files);
    try {
      // Asynchronous: the mirror answers from this process meanwhile.
      const r = await run('gitseal', ['initialize', '--mirror', mirror.url, '--root', rootFile, '--json'], env());
      expect(r.status, r.stderr + r.stdout).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ mirror: mirror.url, updated: true, digest: createHash('sha256').update(target).digest('hex') });
      expect(readFileSync(join(home, '.cache', 'gitseal', 'trusted_root.json')).equals(target)).toBe(true);
    } finally {
      await mirror.close();
      rmSync(join(home, '.cache', 'gitseal', 'trusted_root.json'), { force: true });
    }
  });

  it('usage errors and unknown commands are one line, no stack trace', () => {
    const bad = gitseal(['verify', '--no-such-flag'], env());
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/^gitseal: /);
    const none = gitseal(['nosuch'], env());
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/^gitseal: "nosuch" is not a gitseal command/);
    expect(existsSync(join(home, '.cache', 'gitseal', 'agent.sock'))).toBe(false);
  });
});
