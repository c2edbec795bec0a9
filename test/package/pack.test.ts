import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, Sandbox } from '../cli/helpers.js';
import { startSandbox, type RunningSandbox } from '../cli/sandbox.js';

/**
 * The published artefact: `npm pack` → `npm install -g` into an empty prefix →
 * the installed `gitseal` runs, configures git, signs a commit against the
 * sandbox Sigstore and verifies it; the library entry point loads.
 */
const sb = new Sandbox('gitseal-pack-');
let tgz: string;
let files: string[];
let prefix: string;
let installed: string;
let sigstore: RunningSandbox | undefined;

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? sb.dir, env: { ...sb.env, ...opts.env }, encoding: 'utf8', timeout: 300_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  const dest = join(sb.dir, 'pack');
  mkdirSync(dest);
  // The tarball holds dist/ as built by `npm run build`; a shared lock keeps a concurrent build from emptying it meanwhile.
  const p = run('flock', ['-s', '/tmp/build.lock', 'npm', 'pack', '--ignore-scripts', '--json', '--pack-destination', dest], { cwd: ROOT, env: { HOME: process.env.HOME } });
  expect(p.status, p.stderr).toBe(0);
  const info = JSON.parse(p.stdout.slice(p.stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tgz = join(dest, info[0]!.filename);
  files = info[0]!.files.map((f) => f.path);
  prefix = join(sb.dir, 'prefix');
  // a clean prefix; dependencies from the registry (or npm's cache)
  const i = run('npm', ['install', '-g', '--prefix', prefix, tgz, '--no-audit', '--no-fund', '--prefer-offline'], { env: { HOME: process.env.HOME } });
  expect(i.status, i.stderr).toBe(0);
  installed = join(prefix, 'bin', 'gitseal');
}, 600_000);
afterAll(async () => {
  await sigstore?.stop();
  sb.cleanup();
});

describe('npm package', () => {
  it('ships only the runtime: bin, dist, hooks, package.json, README — no sources, tests or install scripts', () => {
    for (const f of files) expect(f, f).toMatch(/^(bin\/|dist\/|hooks\/|package\.json$|README\.md$|LICENSE)/);
    expect(files).toContain('bin/gitseal');
    expect(files).toContain('dist/main.js');
    expect(files).toContain('dist/cli/run.js');
    expect(files).toContain('dist/lib.js');
    expect(files).toContain('hooks/pre-receive');
    expect(files.some((f) => /\.test\.|^test\/|^src\//.test(f))).toBe(false);
    const pj = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
      engines: { node: string };
      scripts: Record<string, string>;
      oclif: { commands: { target: string } };
    };
    expect(pj.bin.gitseal).toBe('bin/gitseal');
    expect(pj.engines.node).toMatch(/\^20/);
    for (const s of ['preinstall', 'install', 'postinstall']) expect(pj.scripts[s], s).toBeUndefined();
    expect(files).toContain(pj.oclif.commands.target.replace(/^\.\//, ''));
  });

  it('the installed gitseal runs: version and help', () => {
    const v = run(installed, ['version', '--json']);
    expect(v.status, v.stderr).toBe(0);
    const j = JSON.parse(v.stdout) as { version: string; program: string };
    expect(j.version).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    expect(j.program.startsWith(join(prefix, 'lib', 'node_modules', 'gitseal'))).toBe(true);
    const h = run(installed, ['--help']);
    expect(h.status).toBe(0);
    expect(h.stdout).toContain('GET STARTED');
    const c = run(installed, ['verify', '--help']);
    expect(c.status).toBe(0);
    expect(c.stdout).toContain('--certificate-identity');
  });

  it('the installed copy signs a commit (sandbox Sigstore) that git and gitseal verify', async () => {
    sigstore = await startSandbox(join(sb.dir, 'sigstore'));
    const env = { ...sigstore.env, GITSEAL_AGENT: 'off', SIGSTORE_ID_TOKEN: sigstore.token('packer@example.test') };
    const repo = sb.repo('signed');
    expect(run(installed, ['init'], { cwd: repo }).status).toBe(0);
    expect(sb.gitConfig(['gpg.x509.program'], repo)?.startsWith(join(prefix, 'lib', 'node_modules', 'gitseal'))).toBe(true);
    const c = run('git', ['-c', 'user.email=packer@example.test', 'commit', '-q', '--allow-empty', '-m', 'from the package'], { cwd: repo, env });
    expect(c.status, c.stderr).toBe(0);
    const vc = run('git', ['verify-commit', 'HEAD'], { cwd: repo, env });
    expect(vc.status, vc.stderr).toBe(0);
    expect(vc.stderr).toContain('packer@example.test');
    const v = run(installed, ['verify', '--certificate-identity', 'packer@example.test', '--certificate-oidc-issuer', sigstore.issuer], { cwd: repo, env });
    expect(v.status, v.stdout + v.stderr).toBe(0);

    // the library entry point of the installed package
    const lib = join(prefix, 'lib', 'node_modules', 'gitseal', 'dist', 'lib.js');
    const script = `const m = await import(${JSON.stringify(lib)});
      const r = await m.verifyCommit({ dir: ${JSON.stringify(repo)}, policy: { certificateIdentity: 'packer@example.test' } });
      console.log(JSON.stringify({ exports: Object.keys(m).sort(), ok: r.ok, identity: r.identity }));`;
    const l = run(process.execPath, ['--input-type=module', '-e', script], { cwd: repo, env });
    expect(l.status, l.stderr).toBe(0);
    const out = JSON.parse(l.stdout) as { exports: string[]; ok: boolean; identity: string };
    expect(out.exports).toEqual(expect.arrayContaining(['signPayload', 'verifyPayload', 'verifyCommit', 'onSign']));
    expect(out).toMatchObject({ ok: true, identity: 'packer@example.test' });
  });
});
