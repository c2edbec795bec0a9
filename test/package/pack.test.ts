import { execFile } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS } from '../../src/cli/topics.js';
import { ROOT, Sandbox } from '../cli/helpers.js';
import { packAndInstall, runIn, type RunResult } from './helpers.js';
import { startSandbox, type RunningSandbox } from '../cli/sandbox.js';
import { serveTufRepo, tufRepo } from '../trust/tuf-repo.js';
import { needs } from '../helpers/tools.js';

/**
 * The published artefact, as `npm publish` would make it: the package's files (dist/ as
 * `npm run build` made it, plus the declarations prepack adds) packed with `npm pack` →
 * `npm install -g` into an empty prefix → the installed `gitseal` runs, refreshes its trusted root
 * through TUF (the client bundled in dist/vendor), configures git, signs a
 * commit against the sandbox Sigstore and verifies it; its library loads; `man gitseal` and
 * `gitseal help <topic>` work; and the install stays within the size target.
 */
const sb = new Sandbox('gitseal-pack-');
let files: string[];
let prefix: string;
let pkgDir: string;
let installed: string;
let sigstore: RunningSandbox | undefined;
const MAX_PACKAGES = 90;
const MAX_BYTES = 20_000_000;

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): RunResult {
  return runIn(sb, cmd, args, opts);
}

/** `run` without blocking the event loop (for a test that serves HTTP in this process). */
function runAsync(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: sb.dir, env: { ...sb.env, ...opts.env }, encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** Bytes of all files under `dir` (what npm calls the unpacked size) and the number of files. */
function apparentSize(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let n = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        bytes += lstatSync(p).size;
        n++;
      }
    }
  };
  walk(dir);
  return { bytes, files: n };
}

/** Installed packages: node_modules/<name>/package.json and node_modules/@scope/<name>/package.json with a version, at any depth. */
function installedPackages(dir: string): string[] {
  const found: string[] = [];
  const walkModules = (nm: string) => {
    for (const e of readdirSync(nm, { withFileTypes: true })) {
      if (!e.isDirectory() || e.name.startsWith('.')) continue;
      const dirs = e.name.startsWith('@') ? readdirSync(join(nm, e.name), { withFileTypes: true }).filter((s) => s.isDirectory()).map((s) => join(nm, e.name, s.name)) : [join(nm, e.name)];
      for (const p of dirs) {
        try {
          const pj = JSON.parse(readFileSync(join(p, 'package.json'), 'utf8')) as { name?: string; version?: string };
          if (pj.name && pj.version) found.push(`${pj.name}@${pj.version}`);
        } catch {
          /* not a package */
        }
        try {
          walkModules(join(p, 'node_modules'));
        } catch {
          /* none nested */
        }
      }
    }
  };
  walkModules(join(dir, 'node_modules'));
  return found;
}

beforeAll(() => {
  ({ files, prefix, pkgDir } = packAndInstall(sb, ROOT));
  installed = join(prefix, 'bin', 'gitseal');
}, 600_000);
afterAll(async () => {
  await sigstore?.stop();
  sb.cleanup();
});

describe('npm package', () => {
  it('ships the runtime and its documentation — no sources, tests, sandbox or install scripts', () => {
    for (const f of files) expect(f, f).toMatch(/^(bin\/gitseal$|bin\/package\.json$|dist\/|docs\/[\w-]+\.md$|hooks\/|package\.json$|README\.md$|LICENSE$)/);
    for (const f of ['bin/gitseal', 'dist/main.js', 'dist/cli/run.js', 'dist/lib.js', 'dist/types/lib.d.ts', 'dist/man/gitseal.1', 'hooks/pre-receive', 'LICENSE', 'README.md']) expect(files).toContain(f);
    for (const t of TOPICS) expect(files, t.file).toContain(t.file);
    expect(files.some((f) => /\.test\.|^test\/|^src\/|^scripts\/|^packages\//.test(f))).toBe(false);
    // no sandbox code in the bundle: none of its files, its packages or its markers
    expect(files.some((f) => /sandbox/i.test(f))).toBe(false);
    for (const f of files.filter((x) => /\.(c?js)$/.test(x))) {
      const text = readFileSync(join(pkgDir, f), 'utf8');
      expect(text, f).not.toMatch(/(?:from\s*|import\(\s*|require\(\s*)["'](?:oidc-provider|koa|pkijs|asn1js|jose|gitseal-sandbox)["']/);
      expect(text, f).not.toMatch(/gitseal-sandbox ready|createFulcioService|createRekorService|startOidcProvider/);
    }
    const pj = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as Record<string, any>;
    expect(pj.bin).toEqual({ gitseal: 'bin/gitseal' });
    expect(pj.engines.node).toMatch(/\^20/);
    for (const s of ['preinstall', 'install', 'postinstall']) expect(pj.scripts[s], s).toBeUndefined();
    expect(files).toContain(pj.oclif.commands.target.replace(/^\.\//, ''));
    expect(pj.license).toBe('Apache-2.0');
    expect(readFileSync(join(pkgDir, 'LICENSE'), 'utf8')).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
    expect(pj.repository.url).toMatch(/^git\+https:\/\/github\.com\//);
    expect(pj.homepage).toMatch(/^https:\/\//);
    expect(pj.bugs.url).toMatch(/^https:\/\/.*\/issues$/);
    expect(Object.keys(pj.dependencies)).not.toEqual(expect.arrayContaining(['isomorphic-git']));
    for (const d of ['oidc-provider', 'koa', 'jose', 'pkijs', 'asn1js', 'isomorphic-git']) expect(pj.dependencies[d], d).toBeUndefined();
    expect(pj.peerDependenciesMeta['isomorphic-git'].optional).toBe(true);
  });

  it(`installs at most ${MAX_PACKAGES} packages and ${MAX_BYTES / 1e6} MB`, () => {
    const ls = run('npm', ['ls', '--all', '--parseable', '--omit=dev'], { cwd: pkgDir, env: { HOME: process.env.HOME } });
    // one line per installed package, gitseal itself first
    const lines = ls.stdout.trim().split('\n').filter(Boolean);
    expect(lines[0]).toBe(pkgDir);
    const deps = installedPackages(pkgDir);
    expect(deps.length, 'npm ls and node_modules disagree').toBe(lines.length - 1);
    const { bytes, files: n } = apparentSize(pkgDir);
    const du = run('du', ['-sk', pkgDir]);
    const line = `installed gitseal: ${lines.length} packages (gitseal and ${deps.length} dependencies), ${(bytes / 1e6).toFixed(1)} MB in ${n} files (${(Number(du.stdout.split('\t')[0]) / 1024).toFixed(1)} MiB on disk)`;
    console.log(line);
    expect(lines.length, line).toBeLessThanOrEqual(MAX_PACKAGES);
    expect(bytes, line).toBeLessThanOrEqual(MAX_BYTES);
    // and on disk, file-system blocks included
    expect(Number(du.stdout.split('\t')[0]) * 1024, line).toBeLessThanOrEqual(MAX_BYTES);
    // the TUF client is bundled (dist/vendor), not installed as a package tree
    expect(deps.filter((d) => /^(tuf-js|@sigstore\/tuf|make-fetch-happen)@/.test(d))).toEqual([]);
    expect(readFileSync(join(pkgDir, 'dist', 'vendor', 'sigstore-tuf.LICENSES.txt'), 'utf8')).toMatch(/^tuf-js@\S+ \(MIT\)$/m);
  });

  it('the installed copy refreshes the trusted root through TUF with its bundled client', async () => {
    const trustedRoot = readFileSync(join(ROOT, 'test', 'fixtures', 'gitsign-corpus', 'trusted_root.json'));
    const repo = tufRepo(trustedRoot);
    const rootFile = join(sb.dir, 'tuf-root.json');
    writeFileSync(rootFile, repo.root);
    const mirror = await serveTufRepo(repo.files);
    try {
      const cache = join(sb.dir, 'tuf-cache');
      const r = await runAsync(installed, ['initialize', '--mirror', mirror.url, '--root', rootFile, '--json'], { env: { XDG_CACHE_HOME: cache } });
      expect(r.status, r.stderr + r.stdout).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ mirror: mirror.url, updated: true });
      expect(readFileSync(join(cache, 'gitseal', 'trusted_root.json')).equals(trustedRoot)).toBe(true);
    } finally {
      await mirror.close();
    }
  });

  it('the installed gitseal runs: version and help', () => {
    const v = run(installed, ['version', '--json']);
    expect(v.status, v.stderr).toBe(0);
    const j = JSON.parse(v.stdout) as { version: string; program: string };
    expect(j.version).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    expect(j.program.startsWith(pkgDir)).toBe(true);
    const h = run(installed, ['--help']);
    expect(h.status).toBe(0);
    expect(h.stdout).toContain('GET STARTED');
    const c = run(installed, ['verify', '--help']);
    expect(c.status).toBe(0);
    expect(c.stdout).toContain('--certificate-identity');
  });

  it('its documentation is reachable: gitseal help <topic> prints the shipped files', () => {
    for (const t of TOPICS) {
      const r = run(installed, ['help', t.name]);
      expect(r.status, `${t.name}: ${r.stderr}`).toBe(0);
      expect(readFileSync(join(pkgDir, t.file), 'utf8')).toContain(r.stdout.trim().split('\n').slice(0, 3).join('\n'));
    }
  });

  needs('man').it('man gitseal works after the install: npm linked the page under the prefix, found through PATH', () => {
    // man-db finds <prefix>/share/man from <prefix>/bin on PATH; no MANPATH
    const env = { PATH: `${join(prefix, 'bin')}:/usr/bin:/bin`, MANPATH: '', MANPAGER: 'cat', PAGER: 'cat', MANWIDTH: '100', LANG: 'C.UTF-8' };
    const w = run('man', ['-w', 'gitseal'], { env });
    expect(w.status, w.stderr).toBe(0);
    expect(w.stdout.trim()).toMatch(new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/`));
    const m = run('man', ['gitseal'], { env });
    expect(m.status, m.stderr).toBe(0);
    expect(m.stdout).toMatch(/^GITSEAL\(1\)/);
    expect(m.stdout).toContain('gitseal verify-tag');
    expect(m.stdout).toContain('--certificate-identity');
  });

  it('the installed copy signs a commit (sandbox Sigstore) that git and gitseal verify', async () => {
    sigstore = await startSandbox(join(sb.dir, 'sigstore'));
    const env = { ...sigstore.env, GITSEAL_AGENT: 'off', SIGSTORE_ID_TOKEN: sigstore.token('packer@example.test') };
    const repo = sb.repo('signed');
    expect(run(installed, ['init'], { cwd: repo }).status).toBe(0);
    expect(sb.gitConfig(['gpg.x509.program'], repo)?.startsWith(pkgDir)).toBe(true);
    const c = run('git', ['-c', 'user.email=packer@example.test', 'commit', '-q', '--allow-empty', '-m', 'from the package'], { cwd: repo, env });
    expect(c.status, c.stderr).toBe(0);
    const vc = run('git', ['verify-commit', 'HEAD'], { cwd: repo, env });
    expect(vc.status, vc.stderr).toBe(0);
    expect(vc.stderr).toContain('packer@example.test');
    const v = run(installed, ['verify', '--certificate-identity', 'packer@example.test', '--certificate-oidc-issuer', sigstore.issuer], { cwd: repo, env });
    expect(v.status, v.stdout + v.stderr).toBe(0);

    // the library entry point of the installed package; isomorphic-git is not installed with it
    const lib = join(pkgDir, 'dist', 'lib.js');
    const script = `const m = await import(${JSON.stringify(lib)});
      const r = await m.verifyCommit({ dir: ${JSON.stringify(repo)}, policy: { certificateIdentity: 'packer@example.test', certificateOidcIssuer: ${JSON.stringify(sigstore.issuer)} } });
      const iso = await m.onVerify({ fs: await import('node:fs'), dir: ${JSON.stringify(repo)} })('HEAD').then(() => 'resolved', (e) => e.code + ': ' + e.message);
      console.log(JSON.stringify({ exports: Object.keys(m).sort(), ok: r.ok, identity: r.identity, iso }));`;
    const l = run(process.execPath, ['--input-type=module', '-e', script], { cwd: repo, env });
    expect(l.status, l.stderr).toBe(0);
    const out = JSON.parse(l.stdout) as { exports: string[]; ok: boolean; identity: string; iso: string };
    expect(out.exports).toEqual(expect.arrayContaining(['signPayload', 'verifyPayload', 'verifyCommit', 'onSign', 'onVerify']));
    expect(out).toMatchObject({ ok: true, identity: 'packer@example.test' });
    expect(out.iso).toMatch(/^USAGE: .*npm install isomorphic-git/);
  });
});
