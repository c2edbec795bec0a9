import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');
const CORPUS = join(ROOT, 'test/fixtures/gitsign-corpus');
let out: string;
let main: string;

beforeAll(() => {
  // The real build script, into a private directory (dist/ belongs to everyone).
  out = mkdtempSync(join(tmpdir(), 'gitseal-build-'));
  execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, env: { ...process.env, GITSEAL_OUTDIR: out } });
  main = readFileSync(join(out, 'main.js'), 'utf8');
}, 120_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

function imports(code: string): { statics: string[]; dynamics: string[] } {
  const statics = [...code.matchAll(/^\s*(?:import|export)\s[^;]*?from\s*"([^"]+)"/gm), ...code.matchAll(/^\s*import\s*"([^"]+)"/gm)].map((m) => m[1]);
  const dynamics = [...code.matchAll(/\bimport\("([^"]+)"\)/g)].map((m) => m[1]);
  return { statics, dynamics };
}

describe('dist/main.js, the entry git spawns per signature', () => {
  it('loads only node: built-ins and the shared errors module up front', () => {
    const { statics } = imports(main);
    expect(statics.length).toBeGreaterThan(0);
    for (const s of statics) expect(s === './errors.js' || s.startsWith('node:'), s).toBe(true);
  });

  it('keeps the CLI and interactive login lazy, as files that exist; the sign and verify paths are inside', () => {
    const { dynamics } = imports(main);
    expect(dynamics).toContain('./cli/run.js');
    expect(dynamics.some((d) => d.startsWith('./oidc/browser-flow'))).toBe(true);
    for (const d of dynamics) expect(existsSync(resolve(out, d)), d).toBe(true);
    // git's --verify calls run dist/fast-verify.cjs; main.js is the signing entry (one file, no chunks).
    expect(main).toContain('src/verify/pipeline.ts');
    expect(main).toContain('src/gpg/run.ts');
    expect(main).toContain('src/sign/sign-payload.ts');
    expect(dynamics.some((d) => d.startsWith('./sign/'))).toBe(false);
  });

  it('verifies a real gitsign signature from the built file', () => {
    const dir = join(CORPUS, 'sigstore_gitsign_commit_7550db4cf96b');
    const r = spawnSync(process.execPath, [join(out, 'main.js'), '--status-fd=1', '--verify', join(dir, 'signature.pem'), '-'], {
      input: readFileSync(join(dir, 'payload.bin')),
      env: { PATH: process.env.PATH, HOME: out, GIT_CONFIG_NOSYSTEM: '1' },
      cwd: out,
    });
    expect(r.status, r.stderr.toString()).toBe(0);
    expect('\n' + r.stdout.toString()).toMatch(/\n\[GNUPG:\] GOODSIG [0-9a-f]{40} /);
  });
});
