import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, Sandbox } from '../cli/helpers.js';
import { packAndInstall, runIn, type RunResult } from './helpers.js';

/**
 * gitseal-sandbox as published: packages/sandbox's files (its dist/ as `npm run build` made it,
 * plus the declarations its prepack adds) packed and installed with `npm install -g` into an
 * empty prefix, away from the repository. The installed copy must run on its own (its build
 * bundled the gitseal modules it shares), serve a Sigstore that gitseal signs against, and
 * type-check for a TypeScript user.
 */
const sb = new Sandbox('gitseal-sandbox-pack-');
const SRC = join(ROOT, 'packages', 'sandbox');
let files: string[];
let prefix: string;
let pkgDir: string;
let child: ChildProcess | undefined;

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): RunResult {
  return runIn(sb, cmd, args, opts);
}

beforeAll(() => {
  ({ files, prefix, pkgDir } = packAndInstall(sb, SRC));
}, 600_000);
afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
  }
  sb.cleanup();
});

describe('the gitseal-sandbox package', () => {
  it('ships its bin, its bundle, its declarations, README and LICENSE — no sources, no tests', () => {
    for (const f of files) expect(f, f).toMatch(/^(bin\/gitseal-sandbox$|dist\/|package\.json$|README\.md$|LICENSE$)/);
    const pj = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as Record<string, any>;
    for (const f of ['bin/gitseal-sandbox', 'dist/main.js', 'dist/index.js', pj.types.replace(/^\.\//, ''), 'README.md', 'LICENSE']) expect(files, f).toContain(f);
    expect(pj.name).toBe('gitseal-sandbox');
    expect(pj.license).toBe('Apache-2.0');
    expect(readFileSync(join(pkgDir, 'LICENSE'), 'utf8')).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
    expect(pj.repository).toMatchObject({ url: expect.stringMatching(/^git\+https:\/\/github\.com\//), directory: 'packages/sandbox' });
    expect(pj.homepage).toMatch(/^https:\/\//);
    expect(pj.bugs.url).toMatch(/\/issues$/);
    expect(Object.keys(pj.dependencies).sort()).toEqual(['asn1js', 'jose', 'oidc-provider', 'pkijs']);
    expect(pj.dependencies.gitseal).toBeUndefined();
    expect(readFileSync(join(pkgDir, 'README.md'), 'utf8')).toMatch(/not a production service/i);
  });

  it('its bundle is self-contained: every relative import resolves inside the package, and it never imports gitseal', () => {
    const js = files.filter((f) => f.endsWith('.js'));
    let relative = 0;
    for (const f of js) {
      const text = readFileSync(join(pkgDir, f), 'utf8');
      for (const m of text.matchAll(/(?:from\s*|import\(\s*|import\s+)["']([^"']+)["']/g)) {
        const spec = m[1]!;
        if (spec.startsWith('.')) {
          relative++;
          expect(files, `${f} imports ${spec}`).toContain(normalize(join(dirname(f), spec)));
        }
        else expect(spec, `${f} imports ${spec}`).toMatch(/^(node:|oidc-provider$|jose$|pkijs$|asn1js$)/);
      }
    }
    // the entries reach their chunks: the check above saw them
    expect(relative).toBeGreaterThan(js.length);
  });

  it('the installed gitseal-sandbox serves a Sigstore that gitseal signs against and git verifies', async () => {
    const dir = join(sb.dir, 'sigstore');
    const bin = join(prefix, 'bin', 'gitseal-sandbox');
    child = spawn(bin, ['start', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...sb.env, PATH: `${join(prefix, 'bin')}:${process.env.PATH}` } });
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`did not start: ${log}`)), 60_000);
      child!.stdout!.on('data', (d) => {
        log += d;
        if (log.includes('gitseal-sandbox ready')) {
          clearTimeout(t);
          resolve();
        }
      });
      child!.stderr!.on('data', (d) => (log += d));
      child!.once('exit', (c) => reject(new Error(`exited ${c}: ${log}`)));
    });
    const env: Record<string, string> = { GITSEAL_AGENT: 'off' };
    for (const m of readFileSync(join(dir, 'env'), 'utf8').matchAll(/^export (\w+)='([^']*)'$/gm)) env[m[1]!] = m[2]!;
    const token = run(bin, ['token', '--dir', dir, '--email', 'standalone@example.test']);
    expect(token.status, token.stderr).toBe(0);
    env.SIGSTORE_ID_TOKEN = token.stdout.trim();

    const repo = sb.repo('repo');
    for (const [k, v] of [['gpg.format', 'x509'], ['gpg.x509.program', BIN]]) sb.git(['config', k!, v!], repo);
    const c = run('git', ['-c', 'user.email=standalone@example.test', 'commit', '-q', '-S', '--allow-empty', '-m', 'signed against the installed sandbox'], { cwd: repo, env });
    expect(c.status, c.stderr).toBe(0);
    const v = run('git', ['verify-commit', 'HEAD'], { cwd: repo, env });
    expect(v.status, v.stderr).toBe(0);
    expect(v.stderr).toContain('standalone@example.test');
    const stats = JSON.parse(run(bin, ['stats', '--dir', dir]).stdout) as { requests: Record<string, Record<string, number>> };
    expect(Object.values(stats.requests.fulcio ?? {}).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    const stop = run(bin, ['stop', '--dir', dir]);
    expect(stop.status, stop.stderr).toBe(0);
    await new Promise((r) => (child!.exitCode !== null ? r(undefined) : child!.once('exit', r)));
  });

  it('its library loads from the installed copy and type-checks for a TypeScript user (no skipLibCheck)', () => {
    const consumer = join(sb.dir, 'consumer');
    mkdirSync(join(consumer, 'node_modules', '@types'), { recursive: true });
    symlinkSync(pkgDir, join(consumer, 'node_modules', 'gitseal-sandbox'));
    symlinkSync(join(ROOT, 'node_modules', '@types', 'node'), join(consumer, 'node_modules', '@types', 'node'));
    writeFileSync(join(consumer, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(
      join(consumer, 'use.ts'),
      `import { startSandbox, mintIdToken, parseFaultSpec, type RunningSandbox } from 'gitseal-sandbox';
       const dir = process.argv[2]!;
       const sb: RunningSandbox = await startSandbox({ dir });
       const token: string = await mintIdToken({ dir, issuer: sb.issuers.email, email: 'lib@example.test' });
       parseFaultSpec('rekor=503x2');
       console.log(JSON.stringify({ fulcio: sb.urls.fulcio, token: token.split('.').length }));
       await sb.close();\n`,
    );
    const tsc = run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--outDir', 'out', 'use.ts'], { cwd: consumer });
    expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
    const r = run(process.execPath, [join(consumer, 'out', 'use.js'), join(sb.dir, 'in-process')], { cwd: consumer });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ fulcio: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), token: 3 });
  });
});
