/**
 * `npm test`'s runner (scripts/test.mjs + scripts/test-reporter.mjs), run for real on a small
 * project in a temporary directory: the runner and reporter copied from this repository, the
 * tool helper (test/helpers/tools.ts), this repository's node_modules, a build script that has
 * nothing to build, and test files made to fail in each way the summary must count.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..', '..');
const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A project with these test files; returns the runner's exit status and output. */
function runProject(files: Record<string, string>, env: Record<string, string | undefined> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'gitseal-runner-'));
  made.push(dir);
  mkdirSync(join(dir, 'scripts'));
  mkdirSync(join(dir, 'test', 'helpers'), { recursive: true });
  for (const f of ['test.mjs', 'test-reporter.mjs']) cpSync(join(ROOT, 'scripts', f), join(dir, 'scripts', f));
  cpSync(join(ROOT, 'test', 'helpers', 'tools.ts'), join(dir, 'test', 'helpers', 'tools.ts'));
  writeFileSync(join(dir, 'scripts', 'build.mjs'), '// this project has nothing to build\n');
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'runner-fixture', private: true, type: 'module' }));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', types: ['node'], strict: true, noEmit: true, skipLibCheck: true }, include: ['test/**/*.ts'] }),
  );
  writeFileSync(join(dir, 'vitest.config.ts'), "import { defineConfig } from 'vitest/config';\nexport default defineConfig({ test: { include: ['test/**/*.test.ts'] } });\n");
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, 'test', name), text);
  const e: NodeJS.ProcessEnv = { ...process.env, CI: undefined, ...env };
  for (const [k, v] of Object.entries(e)) if (v === undefined) delete e[k];
  const r = spawnSync(process.execPath, [join(dir, 'scripts', 'test.mjs')], { cwd: dir, env: e, encoding: 'utf8', timeout: 120_000 });
  const lines = r.stdout.trimEnd().split('\n');
  return { status: r.status, stdout: r.stdout, last: lines[lines.length - 1], all: r.stdout + r.stderr };
}

const OK = "import { it, expect } from 'vitest';\nit('adds', () => expect(1 + 1).toBe(2));\n";

describe('npm test counts what vitest alone would not', () => {
  it('a test file that fails to load is a failure in the summary line, named with its error', () => {
    const r = runProject({
      'ok.test.ts': OK,
      'broken.test.ts': "import { it } from 'vitest';\nthrow new Error('this file cannot load');\nit('never collected', () => {});\n",
    });
    expect(r.last).toBe('tests: 1 passed, 1 failed, 0 skipped');
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('test/broken.test.ts: failed to load: this file cannot load');
  });

  it('tests whose suite set-up failed are failures, not skips', () => {
    const r = runProject({
      'setup.test.ts':
        "import { beforeAll, describe, it } from 'vitest';\ndescribe('service', () => {\n  beforeAll(() => { throw new Error('service did not start'); });\n  it('a', () => {});\n  it('b', () => {});\n});\n",
    });
    expect(r.last).toBe('tests: 0 passed, 2 failed, 0 skipped');
    expect(r.stdout).toContain('test/setup.test.ts > service: did not run: service did not start');
    expect(r.status).toBe(1);
  });

  it('a type error fails the run even when every test passes', () => {
    const r = runProject({ 'typed.test.ts': "import { it } from 'vitest';\nconst n: number = 'not a number';\nit('runs', () => void n);\n" });
    expect(r.all).toMatch(/error TS2322/);
    expect(r.last).toBe('tests: 1 passed, 1 failed, 0 skipped');
    expect(r.stdout).toContain('type check (tsc -p tsconfig.json): 1 error');
    expect(r.status).toBe(1);
  });

  const NEEDS =
    "import { needs } from './helpers/tools.js';\nimport { it } from 'vitest';\n" +
    "needs('fish').describe('fish completion', () => { it('parses', () => {}); it('completes', () => {}); });\n" +
    "needs('zsh').it('zsh parses', () => {});\nit('plain', () => {});\n";

  it('locally, a test whose tool is missing is skipped and listed with the tool and its package', () => {
    const r = runProject({ 'needs.test.ts': NEEDS }, { PATH: '/nonexistent' });
    expect(r.last).toBe('tests: 1 passed, 0 failed, 3 skipped');
    expect(r.stdout).toContain('2 tests: needs fish (fish not found; apt-get install fish)');
    expect(r.stdout).toContain('1 test: needs zsh (zsh not found; apt-get install zsh)');
    expect(r.stdout).toContain('test/needs.test.ts > fish completion > parses');
    expect(r.status).toBe(0);
  });

  it('under CI=true the same tests fail, naming the missing tool', () => {
    const r = runProject({ 'needs.test.ts': NEEDS }, { PATH: '/nonexistent', CI: 'true' });
    expect(r.last).toBe('tests: 1 passed, 3 failed, 0 skipped');
    expect(r.stdout).toContain('test/needs.test.ts > fish completion: did not run: needs fish (fish not found; apt-get install fish): CI must install it (.ci/run)');
    expect(r.stdout).toContain('test/needs.test.ts > zsh parses: needs zsh (zsh not found; apt-get install zsh)');
    expect(r.status).toBe(1);
  });
});
