/**
 * What `gitseal init` writes as gpg.x509.program, and what `doctor` says about it, for the ways
 * people install gitseal: on PATH (plain "gitseal", which survives reinstalls and Node version
 * switches), run from a clone (absolute path, with a note), through npx (its cache path, which
 * npm clears: a warning) and from one Node version of nvm. The npx and nvm installations are
 * real copies of this package (bin/, dist/, package.json) laid out as npm lays them out.
 */
import { cpSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, Sandbox, binRealPath, type Run } from './helpers.js';

const sb = new Sandbox('gitseal-initprog-');
afterAll(() => sb.cleanup());

/** A copy of this package at `pkg` (…/node_modules/gitseal), with its launcher linked from `binDir`. */
function install(pkg: string, binDir: string): string {
  mkdirSync(pkg, { recursive: true });
  cpSync(join(ROOT, 'bin'), join(pkg, 'bin'), { recursive: true });
  cpSync(join(ROOT, 'dist'), join(pkg, 'dist'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
  mkdirSync(binDir, { recursive: true });
  symlinkSync(join(pkg, 'bin', 'gitseal'), join(binDir, 'gitseal'));
  return join(pkg, 'bin', 'gitseal');
}

/** Run a launcher (not necessarily this checkout's) with node, in a fresh HOME. */
function run(launcher: string, args: string[], home: string, path: string): Run {
  const r = spawnSync(process.execPath, [launcher, ...args], { cwd: sb.dir, env: { ...sb.env, HOME: home, PATH: path }, encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const basePath = `${join(process.execPath, '..')}:/usr/bin:/bin`;
const programOf = (home: string) => spawnSync('git', ['config', '--global', 'gpg.x509.program'], { env: { ...sb.env, HOME: home }, encoding: 'utf8' }).stdout.trim();
const doctorLine = (r: Run) => r.stdout.split('\n').find((l) => l.includes('git → gitseal'))! + '\n' + (r.stdout.split('\n')[r.stdout.split('\n').findIndex((l) => l.includes('git → gitseal')) + 1] ?? '');

describe('gpg.x509.program written by init, judged by doctor', () => {
  it('writes plain "gitseal" when PATH finds this program', () => {
    const home = join(sb.dir, 'h-path');
    const bin = join(sb.dir, 'pathbin');
    mkdirSync(home);
    mkdirSync(bin);
    symlinkSync(binRealPath(), join(bin, 'gitseal'));
    const r = run(binRealPath(), ['init', '--global'], home, `${bin}:${basePath}`);
    expect(r.status, r.stderr).toBe(0);
    expect(programOf(home)).toBe('gitseal');
    expect(r.stderr).toBe('');
    const d = run(binRealPath(), ['doctor', '--offline'], home, `${bin}:${basePath}`);
    expect(doctorLine(d)).toMatch(/✓ git → gitseal +git signs and verifies with this gitseal/);
  });

  it('writes the absolute path, with a note, when gitseal is not on PATH', () => {
    const home = join(sb.dir, 'h-clone');
    mkdirSync(home);
    const r = run(binRealPath(), ['init', '--global', '--json'], home, basePath);
    expect(r.status, r.stderr).toBe(0);
    expect(programOf(home)).toBe(binRealPath());
    expect(r.stderr).toMatch(/^note: gitseal is not on your PATH, so git will run it by its absolute path/);
    expect((JSON.parse(r.stdout) as { program: { value: string } }).program.value).toBe(binRealPath());
  });

  it('npx: warns that the cache path will vanish; doctor warns, then fails once it has', () => {
    const home = join(sb.dir, 'h-npx');
    const npx = join(home, '.npm', '_npx', '0a1b2c3d4e5f6a7b');
    const launcher = install(join(npx, 'node_modules', 'gitseal'), join(npx, 'node_modules', '.bin'));
    // npx puts its cache's .bin first on PATH while the command runs.
    const r = run(join(npx, 'node_modules', '.bin', 'gitseal'), ['init', '--global'], home, `${join(npx, 'node_modules', '.bin')}:${basePath}`);
    expect(r.status, r.stderr).toBe(0);
    expect(programOf(home)).toBe(launcher);
    expect(r.stderr).toMatch(/^warning: this gitseal runs from npx's cache, which npm clears, so git will fail to sign once it is gone\. Install it for good \(npm install -g gitseal/);

    const d = run(binRealPath(), ['doctor', '--offline'], home, basePath);
    expect(doctorLine(d)).toMatch(/! git → gitseal +git runs .*_npx.* which lies in npx's cache, which npm clears: signing breaks when it goes\n +fix: npm install -g gitseal && gitseal init --global/);

    rmSync(join(home, '.npm'), { recursive: true, force: true });
    const gone = run(binRealPath(), ['doctor', '--offline'], home, basePath);
    expect(gone.status).toBe(1);
    expect(doctorLine(gone)).toMatch(/✗ git → gitseal +gpg\.x509\.program=.*_npx.* no longer exists: it lay in npx's cache, which npm clears; git cannot sign or verify\n +fix: npm install -g gitseal && gitseal init --global/);
  });

  it('nvm: plain "gitseal" from that version\'s PATH; doctor fails after a switch to a version without it', () => {
    const home = join(sb.dir, 'h-nvm');
    const v = join(home, '.nvm', 'versions', 'node', 'v22.1.0');
    const launcher = install(join(v, 'lib', 'node_modules', 'gitseal'), join(v, 'bin'));
    const r = run(launcher, ['init', '--global'], home, `${join(v, 'bin')}:${basePath}`);
    expect(r.status, r.stderr).toBe(0);
    expect(programOf(home)).toBe('gitseal');
    // "nvm use 20": that version's bin directory has no gitseal.
    const switched = run(binRealPath(), ['doctor', '--offline'], home, `${join(home, '.nvm', 'versions', 'node', 'v20.0.0', 'bin')}:${basePath}`);
    expect(doctorLine(switched)).toMatch(/✗ git → gitseal +gpg\.x509\.program=gitseal .* is not on PATH; git cannot sign or verify\n +fix: gitseal init --global/);

    // Run by its absolute path, outside that version's PATH: the path would break on a switch.
    const home2 = join(sb.dir, 'h-nvm2');
    mkdirSync(home2);
    const abs = run(launcher, ['init', '--global'], home2, basePath);
    expect(abs.status, abs.stderr).toBe(0);
    expect(programOf(home2)).toBe(launcher);
    expect(abs.stderr).toMatch(/^warning: .* lies in one Node version of nvm \(.*\/\.nvm\/versions\/node\/v22\.1\.0\), which a version switch or upgrade leaves behind\. Put that version's bin directory on PATH/);
  });

  it('a local init in a repository names the local fix in doctor', () => {
    const home = join(sb.dir, 'h-local');
    mkdirSync(home);
    const repo = join(sb.dir, 'local-repo');
    spawnSync('git', ['init', '-q', repo]);
    spawnSync('git', ['config', 'gpg.format', 'x509'], { cwd: repo });
    spawnSync('git', ['config', 'gpg.x509.program', join(sb.dir, 'gone', 'bin', 'gitseal')], { cwd: repo });
    const r = spawnSync(process.execPath, [binRealPath(), 'doctor', '--offline'], { cwd: repo, env: { ...sb.env, HOME: home, PATH: basePath }, encoding: 'utf8' });
    expect(doctorLine({ status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr })).toMatch(/✗ git → gitseal +gpg\.x509\.program=.*\/gone\/bin\/gitseal \(file:\.git\/config\) no longer exists; git cannot sign or verify\n +fix: gitseal init$/);
  });
});
